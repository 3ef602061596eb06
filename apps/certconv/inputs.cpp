#include "inputs.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/core/text.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/report/json.hpp"

namespace certconv::app {

void InputArgs::add_to(CLI::App& cmd, bool files_required, bool directions) {
  cmd.add_option("--spec", spec,
                 "problem as a benchdnn descriptor, e.g. mb1ic3ih224oc64oh112kh7sh2ph3 (default: read off the "
                 "shapes of --x and --w with --stride, --padding, --dilation, --groups)");
  cmd.add_option("--mb", mb, "override the descriptor's minibatch (with --spec)");
  auto* xo = cmd.add_option("--x", x, "input activations, NCHW .npy (<f4 or <f8); NCW or NCDHW for 1-D, 3-D");
  auto* wo = cmd.add_option("--w", w, "weights, OIHW .npy, same dtype as x (OIW, OIDHW for 1-D, 3-D)");
  if (directions) {
    cmd.add_option("--dir", dir,
                   "direction, as benchdnn: FWD_D, FWD_B (forward with --bias), BWD_D (dx from --w, --dy), BWD_W "
                   "(dw from --x, --dy), BWD_WB (dw and db) (default FWD_D, FWD_B with --bias)");
    cmd.add_option("--dy", dy, "diff_dst for the backward directions, [mb, oc, o...] .npy, same dtype as x");
  } else if (files_required) {
    xo->required();
    wo->required();
  }
  cmd.add_option("--bias", bias, "bias, 1-D .npy of length oc, same dtype as x");
  cmd.add_option("--stride", stride, "as torch's conv2d: an int or H,W (default 1)");
  cmd.add_option("--padding", padding, "as torch's conv2d: an int or H,W (default 0)");
  cmd.add_option("--dilation", dilation, "as torch's conv2d, 1 = none: an int or H,W (default 1)");
  cmd.add_option("--groups", groups, "as torch's conv2d: an int (default 1)");
}

namespace {

// A PyTorch-style option: an int for both dimensions or "H,W"; nullopt when not
// given. Three values are for a 3-D problem, which takes the general loader.
std::optional<std::array<std::int64_t, 2>> hw_option(const std::string& text, const std::string& option,
                                                     std::int64_t least, bool pair_allowed = true) {
  if (text.empty()) return std::nullopt;
  std::vector<std::int64_t> v;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::int64_t n = 0;
    const char *first = text.data() + start, *last = text.data() + comma;
    const auto [end, ec] = std::from_chars(first, last, n);
    require(ec == std::errc{} && end == last && first != last,
            option + ": expected " + (pair_allowed ? "an int or H,W" : "an int") + ", got '" + text + "'");
    require(n >= least, option + ": " + std::to_string(n) + " must be >= " + std::to_string(least) +
                            (option == "--dilation" ? " (1 means no dilation)" : ""));
    v.push_back(n);
    if (comma == text.size()) break;
    start = comma + 1;
  }
  require(v.size() != 3 || !pair_allowed,
          option + ": '" + text + "' has three values; the 2-D problem takes an int or H,W (a 3-D one: give 5-D "
                   "x and w)");
  require(v.size() == 1 || (pair_allowed && v.size() == 2),
          option + ": expected " + (pair_allowed ? "an int or H,W" : "an int") + ", got '" + text + "'");
  return std::array{v[0], v.back()};
}

// Given both, the PyTorch option must say what the descriptor says; `offset` maps
// PyTorch's value to oneDNN's (dilation: 1 = none there, 0 here).
void check_agrees(const std::optional<std::array<std::int64_t, 2>>& given, const std::string& option,
                  std::int64_t offset, std::array<std::int64_t, 2> in_spec, std::array<const char*, 2> fields,
                  const std::string& spec) {
  if (!given) return;
  for (int d = 0; d < 2; ++d)
    require((*given)[d] - offset == in_spec[d],
            option + ": " + std::to_string((*given)[d]) + " for the " + (d == 0 ? "height" : "width") +
                " disagrees with --spec " + spec + ", whose " + fields[d] + "=" + std::to_string(in_spec[d]) +
                (offset ? " (oneDNN counts dilation from 0: " + std::to_string(in_spec[d] + offset) + " in torch terms)"
                        : ""));
}

}  // namespace

ConvSpec InputArgs::resolve_spec(const std::vector<std::int64_t>& x_shape,
                                 const std::vector<std::int64_t>& w_shape) const {
  const auto st = hw_option(stride, "--stride", 1), pd = hw_option(padding, "--padding", 0),
             dl = hw_option(dilation, "--dilation", 1), gr = hw_option(groups, "--groups", 1, false);
  if (!spec.empty()) {
    ConvSpec s = parse_benchdnn(spec, mb);
    check_agrees(st, "--stride", 0, {s.sh, s.sw}, {"sh", "sw"}, spec);
    check_agrees(pd, "--padding", 0, {s.ph, s.pw}, {"ph", "pw"}, spec);
    check_agrees(dl, "--dilation", 1, {s.dh, s.dw}, {"dh", "dw"}, spec);
    require(!gr || (*gr)[0] == s.g, "--groups: " + groups + " disagrees with --spec " + spec + ", whose g=" +
                                        std::to_string(s.g));
    return s;  // the operand shapes are checked against it with the values (check_problem)
  }
  require(!mb, "--mb: only with --spec (without it the minibatch is x's first dimension)");
  require(x_shape.size() == 4, x + ": x must be 4-D NCHW to read the problem off its shape, got " +
                                   shape_text(x_shape) + " (or give --spec)");
  require(w_shape.size() == 4, w + ": w must be 4-D OIHW to read the problem off its shape, got " +
                                   shape_text(w_shape) + " (or give --spec)");
  const std::int64_t g = gr ? (*gr)[0] : 1;
  require(w_shape[1] * g == x_shape[1],
          w + ": " + std::to_string(w_shape[1]) + " input channels per group (dimension 1) × groups " +
              std::to_string(g) + " != " + std::to_string(x_shape[1]) + ", the channels of x (" + x +
              ", dimension 1)");
  const auto s1 = st.value_or(std::array<std::int64_t, 2>{1, 1}), p0 = pd.value_or(std::array<std::int64_t, 2>{0, 0}),
             d1 = dl.value_or(std::array<std::int64_t, 2>{1, 1});
  return from_pytorch(x_shape[0], x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[2], w_shape[3], s1[0],
                      s1[1], p0[0], p0[1], d1[0], d1[1], g);
}

nlohmann::json InputArgs::files_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (!x.empty()) j["x"] = file_json(x);
  if (!w.empty()) j["w"] = file_json(w);
  if (!bias.empty()) j["bias"] = file_json(bias);
  if (!dy.empty()) j["dy"] = file_json(dy);
  return j;
}

bool InputArgs::general() const {
  if (!dir.empty() || !dy.empty()) return true;
  if (!spec.empty()) return parse_conv_desc(spec, mb).rank != 2;
  if (x.empty()) return false;
  return std::visit([](const auto& t) { return t.ndim() != 4; }, read_npy(x));
}

namespace {

const char* dtype_name(const AnyTensor& t) { return t.index() == 0 ? "float32" : "float64"; }

template <class T>
OwnedProblem<T> assemble(ConvSpec spec, AnyTensor x, AnyTensor w, std::optional<AnyTensor> bias) {
  OwnedProblem<T> in{std::move(spec), std::get<Tensor<T>>(std::move(x)), std::get<Tensor<T>>(std::move(w)), {}};
  if (bias) in.bias = std::get<Tensor<T>>(std::move(*bias));
  check_problem(in.view());
  return in;
}

}  // namespace

AnyInputs load_inputs(const InputArgs& a) {
  require(!a.x.empty(), "--x is required (the input activations)");
  require(!a.w.empty(), "--w is required (the weights)");
  AnyTensor x = read_npy(a.x), w = read_npy(a.w);
  const auto shape = [](const AnyTensor& t) { return std::visit([](const auto& v) { return v.shape; }, t); };
  ConvSpec spec = a.resolve_spec(shape(x), shape(w));
  require(x.index() == w.index(), a.w + ": dtype " + dtype_name(w) + " differs from x (" + a.x + ": " +
                                      dtype_name(x) + "); x and w must share one dtype");
  std::optional<AnyTensor> bias;
  if (!a.bias.empty()) {
    bias = read_npy(a.bias);
    require(bias->index() == x.index(), a.bias + ": dtype " + dtype_name(*bias) + " differs from x (" +
                                            dtype_name(x) + "); bias must share x's dtype");
  }
  const std::string files = " (x: " + a.x + ", w: " + a.w + (a.bias.empty() ? "" : ", bias: " + a.bias) + ")";
  try {
    if (x.index() == 0) return assemble<float>(std::move(spec), std::move(x), std::move(w), std::move(bias));
    return assemble<double>(std::move(spec), std::move(x), std::move(w), std::move(bias));
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + files);
  }
}

namespace {

constexpr std::array<const char*, 3> axis_letter = {"d", "h", "w"};
constexpr std::array<const char*, 3> axis_extent = {"depth", "height", "width"};

// A PyTorch-style option for a rank-r problem: one int for every spatial axis
// or r of them; empty when not given.
std::vector<std::int64_t> axes_option(const std::string& text, const std::string& option, std::int64_t least,
                                      int rank) {
  if (text.empty()) return {};
  std::vector<std::int64_t> v;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::int64_t n = 0;
    const char *first = text.data() + start, *last = text.data() + comma;
    const auto [end, ec] = std::from_chars(first, last, n);
    require(ec == std::errc{} && end == last && first != last,
            option + ": expected an int or " + std::to_string(rank) + " of them, got '" + text + "'");
    require(n >= least, option + ": " + std::to_string(n) + " must be >= " + std::to_string(least) +
                            (option == "--dilation" ? " (1 means no dilation)" : ""));
    v.push_back(n);
    if (comma == text.size()) break;
    start = comma + 1;
  }
  require(v.size() == 1 || static_cast<int>(v.size()) == rank,
          option + ": '" + text + "' has " + std::to_string(v.size()) + " values; the " + std::to_string(rank) +
              "-D problem takes an int or " + std::to_string(rank) + " of them");
  if (v.size() == 1) v.assign(static_cast<std::size_t>(rank), v[0]);
  return v;
}

// The option, if given, must say what the descriptor says on every axis.
void check_axes_agree(const std::vector<std::int64_t>& given, const std::string& option, std::int64_t offset,
                      const ConvDesc& d, std::int64_t ConvAxis::*field, const char* prefix, const std::string& spec) {
  for (std::size_t j = 0; j < given.size(); ++j) {
    const int a = 3 - d.rank + static_cast<int>(j);
    const std::int64_t v = d.axis[a].*field;
    require(given[j] - offset == v, option + ": " + std::to_string(given[j]) + " for the " + axis_extent[a] +
                                        " disagrees with --spec " + spec + ", whose " + prefix + axis_letter[a] +
                                        "=" + std::to_string(v));
  }
}

template <class T>
GeneralInputs<T> assemble_general(const InputArgs& a, Direction dir, std::map<std::string, AnyTensor>& files) {
  GeneralInputs<T> in;
  in.dir = dir;
  const auto take = [&](const char* name, std::optional<Tensor<T>>& slot) {
    if (auto it = files.find(name); it != files.end()) slot = std::get<Tensor<T>>(std::move(it->second));
  };
  take("x", in.x);
  take("w", in.w);
  take("bias", in.bias);
  take("dy", in.dy);
  const auto st = [&](int r) { return axes_option(a.stride, "--stride", 1, r); };
  const auto pd = [&](int r) { return axes_option(a.padding, "--padding", 0, r); };
  const auto dl = [&](int r) { return axes_option(a.dilation, "--dilation", 1, r); };
  const std::vector<std::int64_t> gr = axes_option(a.groups, "--groups", 1, 1);
  if (!a.spec.empty()) {
    in.desc = parse_conv_desc(a.spec, a.mb);
    check_axes_agree(st(in.desc.rank), "--stride", 0, in.desc, &ConvAxis::s, "s", a.spec);
    check_axes_agree(pd(in.desc.rank), "--padding", 0, in.desc, &ConvAxis::p, "p", a.spec);
    check_axes_agree(dl(in.desc.rank), "--dilation", 1, in.desc, &ConvAxis::d, "d", a.spec);
    require(gr.empty() || gr[0] == in.desc.g,
            "--groups: " + a.groups + " disagrees with --spec " + a.spec + ", whose g=" + std::to_string(in.desc.g));
  } else {
    require(is_forward(dir), std::string("--dir ") + direction_name(dir) +
                                 ": give --spec (the problem of a backward direction cannot be read off its operands' "
                                 "shapes: the kernel or input size is not determined)");
    require(!a.mb, "--mb: only with --spec (without it the minibatch is x's first dimension)");
    const int rank = in.x->ndim() - 2;
    require(rank >= 1 && rank <= 3, a.x + ": x must be 3-D (NCW), 4-D (NCHW) or 5-D (NCDHW), got " +
                                        shape_text(in.x->shape) + " (or give --spec)");
    require(in.w->ndim() == in.x->ndim(), a.w + ": w is " + std::to_string(in.w->ndim()) + "-D " +
                                              shape_text(in.w->shape) + " but x (" + a.x + ") is " +
                                              std::to_string(in.x->ndim()) + "-D: both must have " +
                                              std::to_string(rank) + " spatial dimensions");
    ConvDesc& d = in.desc;
    d.rank = rank;
    d.g = gr.empty() ? 1 : gr[0];
    d.mb = in.x->shape[0];
    d.ic = in.x->shape[1];
    d.oc = in.w->shape[0];
    require(in.w->shape[1] * d.g == d.ic,
            a.w + ": " + std::to_string(in.w->shape[1]) + " input channels per group (dimension 1) × groups " +
                std::to_string(d.g) + " != " + std::to_string(d.ic) + ", the channels of x (" + a.x + ", dimension 1)");
    const auto s = st(rank), p = pd(rank), dd = dl(rank);
    for (int j = 0; j < rank; ++j) {
      const int ax = 3 - rank + j;
      const auto u = static_cast<std::size_t>(j);
      d.axis[ax] = {in.x->shape[2 + u], 0, in.w->shape[2 + u], s.empty() ? 1 : s[u], p.empty() ? 0 : p[u],
                    dd.empty() ? 0 : dd[u] - 1};
    }
    validate(d);  // o = floor((i + 2p - dil(k-1) - 1)/s) + 1, as in PyTorch
  }
  check_operands(in.desc, dir, in.operands());
  return in;
}

}  // namespace

Direction direction_of(const InputArgs& a) {
  if (a.dir.empty()) return a.bias.empty() ? Direction::fwd_d : Direction::fwd_b;
  const auto d = parse_direction(a.dir);
  require(d.has_value(), "--dir: unknown direction '" + a.dir + "' (use FWD_D, FWD_B, BWD_D, BWD_W or BWD_WB)");
  return *d;
}

template <class T>
GeneralInputs<T> generate_general(const InputArgs& a, const std::string& dist, std::uint64_t seed) {
  GeneralInputs<T> in;
  in.dir = direction_of(a);
  require(in.dir != Direction::fwd_b, "--gen: generates no bias (use FWD_D)");
  in.desc = parse_conv_desc(a.spec, a.mb);
  GeneratedOperands<T> g = generate_operands<T>(in.desc, dist, seed);
  for (const std::string& name : operand_names(in.dir)) {
    if (name == "x") in.x = std::move(g.x);
    if (name == "w") in.w = std::move(g.w);
    if (name == "dy") in.dy = std::move(g.dy);
  }
  check_operands(in.desc, in.dir, in.operands());
  return in;
}

template GeneralInputs<float> generate_general(const InputArgs&, const std::string&, std::uint64_t);
template GeneralInputs<double> generate_general(const InputArgs&, const std::string&, std::uint64_t);

AnyGeneral load_general(const InputArgs& a) {
  const Direction dir = direction_of(a);
  const std::map<std::string, std::string> flag = {{"x", "--x"}, {"w", "--w"}, {"bias", "--bias"}, {"dy", "--dy"}};
  const std::map<std::string, const std::string*> path = {{"x", &a.x}, {"w", &a.w}, {"bias", &a.bias}, {"dy", &a.dy}};
  const std::vector<std::string> need = operand_names(dir);
  std::string listed;
  for (const auto& n : need) listed += (listed.empty() ? "" : ", ") + flag.at(n);
  std::map<std::string, AnyTensor> files;
  std::string first;  // the first file read, whose dtype the others must share
  for (const auto& [name, p] : path) {
    const bool wanted = std::find(need.begin(), need.end(), name) != need.end();
    if (p->empty()) {
      require(!wanted, std::string("--dir ") + direction_name(dir) + " needs " + flag.at(name) + " (it reads " +
                           listed + ")");
      continue;
    }
    require(wanted, flag.at(name) + ": direction " + direction_name(dir) + " does not read " + name + " (it reads " +
                        listed + (name == "bias" ? "; a bias makes FWD_B, BWD_WB computes db" : "") + ")");
    files[name] = read_npy(*p);
  }
  for (const auto& [name, t] : files) {
    if (first.empty()) first = name;
    const AnyTensor& f = files.at(first);
    require(t.index() == f.index(), *path.at(name) + ": dtype " + dtype_name(t) + " differs from " + first + " (" +
                                        *path.at(first) + ": " + dtype_name(f) + "); the operands must share one dtype");
  }
  std::string names;
  for (const auto& [name, t] : files) names += (names.empty() ? " (" : ", ") + name + ": " + *path.at(name);
  names += ")";
  try {
    if (files.at(first).index() == 0) return assemble_general<float>(a, dir, files);
    return assemble_general<double>(a, dir, files);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + names);
  }
}

Dtype parse_dtype(const std::string& dtype, const std::string& option) {
  if (dtype == "f32" || dtype == "float32") return Dtype::f32;
  if (dtype == "f64" || dtype == "float64") return Dtype::f64;
  throw InputError(option + ": unknown dtype '" + dtype + "' (use f32 or f64)");
}

}  // namespace certconv::app
