// Lowering of every direction and rank to the 2-D forward engine (lower.hpp).
// Each step is written out as index arithmetic on 5-D views [N][C][D][H][W]:
// a rank-r tensor has the same memory as its 5-D view with leading size-1 axes.
#include "certconv/core/lower.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "certconv/core/error.hpp"
#include "certconv/core/text.hpp"

namespace certconv {

namespace {

using Shape5 = std::array<std::int64_t, 5>;

std::int64_t off5(const Shape5& s, std::int64_t n, std::int64_t c, std::int64_t z, std::int64_t y, std::int64_t x) {
  return (((n * s[1] + c) * s[2] + z) * s[3] + y) * s[4] + x;
}

// A forward problem of rank 3 (some axes may be trivial) with 5-D tensors, and
// where its outputs go in the result (empty: same layout).
template <class T>
struct Fwd3 {
  ConvDesc f;
  Tensor<T> x, w;
  std::optional<Tensor<T>> bias;
  std::vector<std::int64_t> map;
};

template <class T>
Tensor<T> as_5d(const Tensor<T>& t, const Shape5& s) {
  Tensor<T> r;
  r.shape.assign(s.begin(), s.end());
  r.data = t.data;
  return r;
}

Shape5 spatial5(std::int64_t a, std::int64_t b, const ConvDesc& d, std::int64_t ConvAxis::*f) {
  return {a, b, d.axis[0].*f, d.axis[1].*f, d.axis[2].*f};
}

ConvDesc rank3(const ConvDesc& d) {
  ConvDesc f = d;
  f.rank = 3;
  return f;
}

template <class T>
Fwd3<T> forward(const ConvDesc& d, const Operands<T>& ops) {
  Fwd3<T> r{rank3(d), as_5d(*ops.x, spatial5(d.mb, d.ic, d, &ConvAxis::i)),
            as_5d(*ops.w, spatial5(d.oc, d.ic / d.g, d, &ConvAxis::k)), std::nullopt, {}};
  if (ops.bias) r.bias = *ops.bias;
  return r;
}

// dx: dy spread by the stride and shifted by (k-1)(d+1) - p in each axis, then
// a stride-1 forward convolution with w flipped and transposed per group.
template <class T>
Fwd3<T> backward_data(const ConvDesc& d, const Operands<T>& ops) {
  ConvDesc f = rank3(d);
  f.ic = d.oc;
  f.oc = d.ic;
  for (int a = 0; a < 3; ++a) {
    const ConvAxis& A = d.axis[a];
    f.axis[a] = {A.i + (A.k - 1) * (A.d + 1), A.i, A.k, 1, 0, A.d};
  }
  const Shape5 ds = spatial5(d.mb, d.oc, d, &ConvAxis::o), xs = spatial5(d.mb, d.oc, f, &ConvAxis::i);
  Tensor<T> x(std::vector<std::int64_t>(xs.begin(), xs.end()));
  const auto at = [&](int a, std::int64_t o) { return o * d.axis[a].s + (d.axis[a].k - 1) * (d.axis[a].d + 1) - d.axis[a].p; };
  for (std::int64_t n = 0; n < ds[0]; ++n)
    for (std::int64_t c = 0; c < ds[1]; ++c)
      for (std::int64_t z = 0; z < ds[2]; ++z)
        for (std::int64_t y = 0; y < ds[3]; ++y)
          for (std::int64_t v = 0; v < ds[4]; ++v) {
            const std::int64_t jz = at(0, z), jy = at(1, y), jx = at(2, v);
            // A dy value whose every tap lies in the padding reaches no dx.
            if (jz < 0 || jy < 0 || jx < 0 || jz >= xs[2] || jy >= xs[3] || jx >= xs[4]) continue;
            x.data[off5(xs, n, c, jz, jy, jx)] = ops.dy->data[off5(ds, n, c, z, y, v)];
          }
  const std::int64_t icg = d.ic / d.g, ocg = d.oc / d.g;
  const Shape5 ws = spatial5(d.oc, icg, d, &ConvAxis::k), fs = spatial5(d.ic, ocg, d, &ConvAxis::k);
  Tensor<T> w(std::vector<std::int64_t>(fs.begin(), fs.end()));
  for (std::int64_t gi = 0; gi < d.g; ++gi)
    for (std::int64_t c = 0; c < icg; ++c)
      for (std::int64_t o = 0; o < ocg; ++o)
        for (std::int64_t z = 0; z < ws[2]; ++z)
          for (std::int64_t y = 0; y < ws[3]; ++y)
            for (std::int64_t v = 0; v < ws[4]; ++v)
              w.data[off5(fs, gi * icg + c, o, z, y, v)] =
                  ops.w->data[off5(ws, gi * ocg + o, c, ws[2] - 1 - z, ws[3] - 1 - y, ws[4] - 1 - v)];
  return {f, std::move(x), std::move(w), std::nullopt, {}};
}

// dw: minibatch c (input channel within the group), channels (group, n), kernel
// dy, output the kernel position; stride and dilation trade places.
template <class T>
Fwd3<T> backward_weights(const ConvDesc& d, const Operands<T>& ops) {
  const std::int64_t icg = d.ic / d.g;
  ConvDesc f = rank3(d);
  f.mb = icg;
  f.ic = d.g * d.mb;
  for (int a = 0; a < 3; ++a) {
    const ConvAxis& A = d.axis[a];
    f.axis[a] = {A.i, A.k, A.o, A.d + 1, A.p, A.s - 1};
  }
  const Shape5 xs = spatial5(d.mb, d.ic, d, &ConvAxis::i), fx = spatial5(icg, f.ic, d, &ConvAxis::i);
  const std::int64_t plane = xs[2] * xs[3] * xs[4];
  Tensor<T> x(std::vector<std::int64_t>(fx.begin(), fx.end()));
  for (std::int64_t n = 0; n < d.mb; ++n)
    for (std::int64_t gi = 0; gi < d.g; ++gi)
      for (std::int64_t c = 0; c < icg; ++c)
        std::copy_n(ops.x->data.begin() + off5(xs, n, gi * icg + c, 0, 0, 0), plane,
                    x.data.begin() + off5(fx, c, gi * d.mb + n, 0, 0, 0));
  const Shape5 ds = spatial5(d.mb, d.oc, d, &ConvAxis::o), fw = spatial5(d.oc, d.mb, d, &ConvAxis::o);
  const std::int64_t oplane = ds[2] * ds[3] * ds[4];
  Tensor<T> w(std::vector<std::int64_t>(fw.begin(), fw.end()));
  for (std::int64_t n = 0; n < d.mb; ++n)
    for (std::int64_t o = 0; o < d.oc; ++o)
      std::copy_n(ops.dy->data.begin() + off5(ds, n, o, 0, 0, 0), oplane, w.data.begin() + off5(fw, o, n, 0, 0, 0));
  // Output [c][oc][k...] → dw [oc][c][k...].
  const std::int64_t kplane = d.axis[0].k * d.axis[1].k * d.axis[2].k;
  std::vector<std::int64_t> map(static_cast<std::size_t>(icg * d.oc * kplane));
  for (std::int64_t c = 0; c < icg; ++c)
    for (std::int64_t o = 0; o < d.oc; ++o)
      for (std::int64_t k = 0; k < kplane; ++k) map[(c * d.oc + o) * kplane + k] = (o * icg + c) * kplane + k;
  return {f, std::move(x), std::move(w), std::nullopt, std::move(map)};
}

// db: one output per output channel, over a group of mb channels of dy, times 1.
template <class T>
Fwd3<T> backward_bias(const ConvDesc& d, const Operands<T>& ops) {
  ConvDesc f = rank3(d);
  f.g = d.oc;
  f.mb = 1;
  f.ic = d.oc * d.mb;
  for (int a = 0; a < 3; ++a) f.axis[a] = {d.axis[a].o, 1, d.axis[a].o, 1, 0, 0};
  const Shape5 ds = spatial5(d.mb, d.oc, d, &ConvAxis::o), fx = spatial5(1, f.ic, d, &ConvAxis::o),
               fw = spatial5(d.oc, d.mb, d, &ConvAxis::o);
  const std::int64_t plane = ds[2] * ds[3] * ds[4];
  Tensor<T> x(std::vector<std::int64_t>(fx.begin(), fx.end()));
  for (std::int64_t n = 0; n < d.mb; ++n)
    for (std::int64_t o = 0; o < d.oc; ++o)
      std::copy_n(ops.dy->data.begin() + off5(ds, n, o, 0, 0, 0), plane, x.data.begin() + off5(fx, 0, o * d.mb + n, 0, 0, 0));
  Tensor<T> w(std::vector<std::int64_t>(fw.begin(), fw.end()), T(1));
  return {f, std::move(x), std::move(w), std::nullopt, {}};
}

// Folds the depth into the channels: x'[n·od + z][c·kd + t] = x[n][c][z·sd - pd + t(dd+1)].
template <class T>
Lowered<T> fold_depth(Fwd3<T> p, std::string result, std::vector<std::int64_t> shape) {
  const ConvDesc& f = p.f;
  const ConvAxis& D = f.axis[0];
  ConvSpec s;
  s.g = f.g, s.mb = f.mb, s.ic = f.ic, s.oc = f.oc;
  const ConvAxis &h = f.axis[1], &w = f.axis[2];
  s.ih = h.i, s.oh = h.o, s.kh = h.k, s.sh = h.s, s.ph = h.p, s.dh = h.d;
  s.iw = w.i, s.ow = w.o, s.kw = w.k, s.sw = w.s, s.pw = w.p, s.dw = w.d;
  s.name = f.name;
  const std::vector<std::int64_t> w4 = {f.oc, f.ic / f.g * D.k, h.k, w.k};
  p.w.shape = w4;  // [oc][icg][kd][kh][kw] is [oc][icg·kd][kh][kw] in memory
  std::vector<std::int64_t> fold_map;
  if (D.i == 1 && D.o == 1 && D.k == 1 && D.p == 0) {
    p.x.shape = {f.mb, f.ic, h.i, w.i};
  } else {
    s.mb = f.mb * D.o;
    s.ic = f.ic * D.k;
    const Shape5 xs = {f.mb, f.ic, D.i, h.i, w.i};
    const std::int64_t plane = h.i * w.i;
    Tensor<T> x({s.mb, s.ic, h.i, w.i});
    for (std::int64_t n = 0; n < f.mb; ++n)
      for (std::int64_t z = 0; z < D.o; ++z)
        for (std::int64_t c = 0; c < f.ic; ++c)
          for (std::int64_t t = 0; t < D.k; ++t) {
            const std::int64_t zi = z * D.s - D.p + t * (D.d + 1);
            if (zi < 0 || zi >= D.i) continue;  // depth padding: the plane stays zero
            std::copy_n(p.x.data.begin() + off5(xs, n, c, zi, 0, 0), plane,
                        x.data.begin() + ((n * D.o + z) * s.ic + c * D.k + t) * plane);
          }
    p.x = std::move(x);
    const std::int64_t oplane = h.o * w.o;
    fold_map.resize(static_cast<std::size_t>(f.mb * D.o * f.oc * oplane));
    for (std::int64_t n = 0; n < f.mb; ++n)
      for (std::int64_t z = 0; z < D.o; ++z)
        for (std::int64_t o = 0; o < f.oc; ++o)
          for (std::int64_t q = 0; q < oplane; ++q)
            fold_map[((n * D.o + z) * f.oc + o) * oplane + q] = ((n * f.oc + o) * D.o + z) * oplane + q;
  }
  Lowered<T> l{std::move(result), std::move(shape), OwnedProblem<T>{s, std::move(p.x), std::move(p.w), std::move(p.bias)},
               {}};
  if (!p.map.empty())
    for (auto& i : fold_map) i = p.map[static_cast<std::size_t>(i)];
  l.to_natural = fold_map.empty() ? std::move(p.map) : std::move(fold_map);
  return l;
}

std::vector<std::string> spatial_fields(const ConvDesc& d, const char* prefix) {
  static constexpr std::array<const char*, 3> letter = {"d", "h", "w"};
  std::vector<std::string> v;
  for (int a = 3 - d.rank; a < 3; ++a) v.push_back(prefix + std::string(letter[a]));
  return v;
}

std::vector<std::string> fields_of(const ConvDesc& d, const std::string& name) {
  std::vector<std::string> v;
  std::vector<std::string> sp;
  if (name == "x" || name == "dx") v = {"mb", "ic"}, sp = spatial_fields(d, "i");
  if (name == "w" || name == "dw") v = {"oc", "ic/g"}, sp = spatial_fields(d, "k");
  if (name == "dy" || name == "y") v = {"mb", "oc"}, sp = spatial_fields(d, "o");
  if (name == "bias" || name == "db") v = {"oc"};
  v.insert(v.end(), sp.begin(), sp.end());
  return v;
}

template <class T>
void check_tensor(const Tensor<T>& t, const ConvDesc& d, const std::string& name) {
  const std::vector<std::int64_t> want = operand_shape(d, name);
  const std::vector<std::string> fields = fields_of(d, name);
  if (t.shape.size() != want.size())
    throw InputError(name + ": " + std::to_string(t.shape.size()) + "-D array of shape " + shape_text(t.shape) +
                     ", but the " + std::to_string(d.rank) + "-D problem " + to_benchdnn(d) + " needs " +
                     std::to_string(want.size()) + "-D " + shape_text(want));
  for (std::size_t i = 0; i < want.size(); ++i)
    require(t.shape[i] == want[i], name + ": shape " + shape_text(t.shape) + " does not match the problem " +
                                       to_benchdnn(d) + ", which needs " + shape_text(want) + " (dimension " +
                                       std::to_string(i) + " is " + std::to_string(t.shape[i]) + ", the problem's " +
                                       fields[i] + " is " + std::to_string(want[i]) + ")");
  for (std::int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data[static_cast<std::size_t>(i)]))
      throw InputError(name + ": non-finite value at index " + index_text(t.shape, i));
}

}  // namespace

std::vector<std::string> operand_names(Direction dir) {
  switch (dir) {
    case Direction::fwd_d: return {"x", "w"};
    case Direction::fwd_b: return {"x", "w", "bias"};
    case Direction::bwd_d: return {"w", "dy"};
    case Direction::bwd_w:
    case Direction::bwd_wb: return {"x", "dy"};
  }
  return {};
}

std::vector<std::string> result_names(Direction dir) {
  switch (dir) {
    case Direction::fwd_d:
    case Direction::fwd_b: return {"y"};
    case Direction::bwd_d: return {"dx"};
    case Direction::bwd_w: return {"dw"};
    case Direction::bwd_wb: return {"dw", "db"};
  }
  return {};
}

std::vector<std::int64_t> operand_shape(const ConvDesc& d, const std::string& name) {
  if (name == "x" || name == "dx") return d.x_shape();
  if (name == "w" || name == "dw") return d.w_shape();
  if (name == "y" || name == "dy") return d.y_shape();
  if (name == "bias" || name == "db") return {d.oc};
  throw InputError("unknown operand '" + name + "'");
}

std::vector<std::int64_t> result_shape(const ConvDesc& d, const std::string& result) {
  return operand_shape(d, result);
}

template <class T>
void check_operands(const ConvDesc& d, Direction dir, const Operands<T>& ops) {
  const std::vector<std::string> need = operand_names(dir);
  const std::array<std::pair<const char*, const Tensor<T>*>, 4> all = {
      {{"x", ops.x}, {"w", ops.w}, {"bias", ops.bias}, {"dy", ops.dy}}};
  for (const auto& [name, t] : all) {
    const bool wanted = std::find(need.begin(), need.end(), name) != need.end();
    if (wanted && !t) {
      std::string list;
      for (const auto& n : need) list += (list.empty() ? "" : ", ") + n;
      throw InputError(std::string("direction ") + direction_name(dir) + " needs " + name + " (it reads " + list +
                       ")");
    }
    if (!wanted && t)
      throw InputError(std::string("direction ") + direction_name(dir) + " does not read " + name +
                       (std::string(name) == "bias" ? " (a bias makes FWD_B; BWD_WB computes db)" : ""));
    if (t) check_tensor(*t, d, name);
  }
}

template <class T>
std::vector<Lowered<T>> lower(const ConvDesc& d, Direction dir, const Operands<T>& ops) {
  check_operands(d, dir, ops);
  std::vector<Lowered<T>> r;
  switch (dir) {
    case Direction::fwd_d:
    case Direction::fwd_b: r.push_back(fold_depth(forward(d, ops), "y", d.y_shape())); break;
    case Direction::bwd_d: r.push_back(fold_depth(backward_data(d, ops), "dx", d.x_shape())); break;
    case Direction::bwd_w:
    case Direction::bwd_wb:
      r.push_back(fold_depth(backward_weights(d, ops), "dw", d.w_shape()));
      if (dir == Direction::bwd_wb) r.push_back(fold_depth(backward_bias(d, ops), "db", {d.oc}));
      break;
  }
  if (!is_forward(dir) || d.rank == 3)
    for (Lowered<T>& l : r) l.problem.spec.origin = d;
  return r;
}

template <class U, class T>
Tensor<U> to_result_layout(const Lowered<T>& l, const Tensor<U>& lowered) {
  Tensor<U> r;
  r.shape = l.shape;
  if (l.to_natural.empty()) {
    r.data = lowered.data;
    return r;
  }
  r.data.resize(lowered.data.size());
  for (std::size_t i = 0; i < lowered.data.size(); ++i) r.data[static_cast<std::size_t>(l.to_natural[i])] = lowered.data[i];
  return r;
}

template <class U, class T>
Tensor<U> to_lowered_layout(const Lowered<T>& l, const Tensor<U>& result) {
  Tensor<U> r;
  r.shape = l.problem.spec.y_shape();
  if (l.to_natural.empty()) {
    r.data = result.data;
    return r;
  }
  r.data.resize(result.data.size());
  for (std::size_t i = 0; i < r.data.size(); ++i) r.data[i] = result.data[static_cast<std::size_t>(l.to_natural[i])];
  return r;
}

template <class T>
const Lowered<T>& result_with_shape(const std::vector<Lowered<T>>& ls, const ConvDesc& d, Direction dir,
                                    const std::vector<std::int64_t>& shape, const std::string& what) {
  std::string shapes;
  for (const Lowered<T>& l : ls) {
    if (l.shape == shape) return l;
    shapes += (shapes.empty() ? "" : " or ") + l.result + " " + shape_text(l.shape);
  }
  throw InputError(what + ": shape " + shape_text(shape) + " does not match the " + direction_name(dir) +
                   " result of " + to_benchdnn(d) + ", which is " + shapes);
}

#define CERTCONV_LOWER(T)                                                                  \
  template const Lowered<T>& result_with_shape(const std::vector<Lowered<T>>&, const ConvDesc&, Direction, \
                                               const std::vector<std::int64_t>&, const std::string&); \
  template void check_operands(const ConvDesc&, Direction, const Operands<T>&);            \
  template std::vector<Lowered<T>> lower(const ConvDesc&, Direction, const Operands<T>&);  \
  template Tensor<float> to_result_layout(const Lowered<T>&, const Tensor<float>&);        \
  template Tensor<double> to_result_layout(const Lowered<T>&, const Tensor<double>&);      \
  template Tensor<float> to_lowered_layout(const Lowered<T>&, const Tensor<float>&);       \
  template Tensor<double> to_lowered_layout(const Lowered<T>&, const Tensor<double>&);
CERTCONV_LOWER(float)
CERTCONV_LOWER(double)

}  // namespace certconv
