// Per-layer certified truth. Method `exact`: every output's products (and the
// bias) go into an ExactAccumulator; the only roundings are the final, explicit
// ones (RN binary64, RN binary32, RD/RU for the enclosure, RU for absdot).
// Threads split outputs, never a sum, so results are identical for any count.
//
// Method auto (the default): exact/fast_truth.hpp decides the outputs it can from
// binary64 enclosures; the outputs it leaves undecided go through the exact path
// below. Both write identical values, so the mix is invisible in the results.
//
// Fast exact path for binary32 inputs (the common case): when every x and every
// w is an integer multiple of 2^ex (resp. 2^ew) below 2^(ex+62) (resp. 2^(ew+62)),
// and all n products plus carries fit in 127 bits, each output is an exact sum
// of int64×int64 products in one __int128 — integer arithmetic, nothing rounded —
// handed to the ExactAccumulator only for the bias and the final roundings.
// Otherwise (huge exponent spread, binary64 inputs) every product goes through
// the ExactAccumulator. Both give identical results; tests exercise both.
#include "certconv/exact/truth.hpp"

#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/fast_truth.hpp"
#include "certconv/exact/integer_truth.hpp"
#include "certconv/exact/mpfi_conv.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/progress.hpp"
#include "certconv/core/taps.hpp"

namespace certconv {

double cond_of(double absdot, double y) {
  if (y == 0) return std::numeric_limits<double>::infinity();
  return absdot / std::fabs(y);
}

namespace {

// x_i = X_i·2^exp2 with integer X_i, |X_i| < 2^62 (if the spread allows).
struct FixedPoint {
  std::vector<std::int64_t> v;
  int exp2 = 0;
  int bits = 0;  // every |X_i| < 2^bits
};

std::optional<FixedPoint> to_fixed_point(const std::vector<float>& a) {
  int lsb = std::numeric_limits<int>::max(), top = std::numeric_limits<int>::min();
  for (float f : a) {
    if (f == 0) continue;
    const auto bits = std::bit_cast<std::uint32_t>(f);
    const int ex = static_cast<int>((bits >> 23) & 0xff);
    const std::uint32_t mant = ex ? (bits & 0x7fffff) | 0x800000 : bits & 0x7fffff;
    const int e = ex ? ex - 150 : -149;  // f = ±mant·2^e
    lsb = std::min(lsb, e + std::countr_zero(mant));
    top = std::max(top, e + 32 - std::countl_zero(mant));  // |f| < 2^top
  }
  FixedPoint fp;
  if (lsb > top) {  // all zeros
    fp.v.assign(a.size(), 0);
    return fp;
  }
  if (top - lsb > 62) return std::nullopt;
  fp.exp2 = lsb;
  fp.bits = top - lsb;
  fp.v.resize(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) fp.v[i] = static_cast<std::int64_t>(std::ldexp(double(a[i]), -lsb));
  return fp;
}

// The fixed-point window: X, W, and whether n products fit in an __int128.
struct Window {
  FixedPoint x, w;
};

std::optional<Window> fixed_point_window(const ConvProblem<float>& p) {
  auto x = to_fixed_point(p.x.data), w = to_fixed_point(p.w.data);
  if (!x || !w) return std::nullopt;
  // Σ of n products, each < 2^(bx+bw), in absolute value < 2^(bx+bw+⌈log2 n⌉) ≤ 2^127.
  const int log2n = std::bit_width(static_cast<std::uint64_t>(p.spec.n_terms()));
  if (x->bits + w->bits + log2n > 126) return std::nullopt;
  return Window{std::move(*x), std::move(*w)};
}

// The exact path for the outputs listed in `only` (every output when null).
template <class T>
void exact_truth(const ConvProblem<T>& p, const TruthOptions& opt, const std::vector<std::int64_t>* only, Truth& t) {
  const ConvSpec& s = p.spec;
  const T* x = p.x.data.data();
  const T* w = p.w.data.data();
  const std::int64_t count = only ? static_cast<std::int64_t>(only->size()) : s.y_size();
  if (count == 0) return;
  Progress progress("truth", count, opt.progress);
  std::atomic<std::int64_t> zeros{0};
  std::optional<Window> window;
  if constexpr (std::is_same_v<T, float>) window = fixed_point_window(p);
  parallel_for(count, resolve_threads(opt.threads), [&](std::int64_t b, std::int64_t e) {
    ExactAccumulator sum, abs;
    std::int64_t local_zeros = 0;
    for (std::int64_t j = b; j < e; ++j) {
      const std::int64_t i = only ? (*only)[static_cast<std::size_t>(j)] : j;
      const OutputIndex o = output_index(s, i);
      sum.clear();
      abs.clear();
      if (window) {
        const std::int64_t* X = window->x.v.data();
        const std::int64_t* W = window->w.v.data();
        __int128 acc = 0, acc_abs = 0;
        for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
          const __int128 prod = static_cast<__int128>(W[wo]) * X[xo];
          acc += prod;
          acc_abs += prod < 0 ? -prod : prod;
        });
        const int exp2 = window->x.exp2 + window->w.exp2;
        sum.add_integer(acc, exp2);
        abs.add_integer(acc_abs, exp2);
      } else {
        for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
          add_product_and_abs(w[wo], x[xo], sum, abs);
        });
      }
      if (p.bias) {
        const double bv = p.bias->data[static_cast<std::size_t>(o.oc)];
        sum.add(bv);
        abs.add(std::fabs(bv));
      }
      const auto k = static_cast<std::size_t>(i);
      const Roundings r = sum.round_all();
      t.y.data[k] = r.nearest;
      t.y32.data[k] = r.nearest_f32;
      t.lo.data[k] = r.down;
      t.hi.data[k] = r.up;
      if (!t.absdot.data.empty()) t.absdot.data[k] = abs.round(Rounding::up);
      local_zeros += r.sign == 0;
      if ((j - b) % 4096 == 4095) progress.add(4096);
    }
    zeros += local_zeros;
  });
  t.exact_zeros += zeros;
  t.fallback += count;
}

template <class T>
Tensor<T> abs_tensor(const Tensor<T>& t) {
  Tensor<T> a = t;
  for (auto& v : a.data) v = std::fabs(v);
  return a;
}

template <class T>
void mpfi_absdot(const ConvProblem<T>& p, const TruthOptions& opt, Truth& t) {
  // absdot is the same sum over |x|, |w|, |bias|: its enclosure's upper end bounds it.
  const Tensor<T> ax = abs_tensor(p.x), aw = abs_tensor(p.w);
  std::optional<Tensor<T>> ab;
  if (p.bias) ab = abs_tensor(*p.bias);
  Tensor<double> abs_lo(p.spec.y_shape());
  mpfi_conv_enclosure(ConvProblem<T>{p.spec, ax, aw, ab ? &*ab : nullptr}, static_cast<unsigned>(opt.precision),
                      opt.threads, abs_lo, t.absdot);
}

template <class T>
void mpfi_truth(const ConvProblem<T>& p, const TruthOptions& opt, Truth& t) {
  mpfi_conv_enclosure(p, static_cast<unsigned>(opt.precision), opt.threads, t.lo, t.hi);
  if (opt.absdot) mpfi_absdot(p, opt, t);
  for (std::size_t i = 0; i < t.y.data.size(); ++i) {
    const double lo = t.lo.data[i], hi = t.hi.data[i];
    t.y.data[i] = lo == hi ? lo : lo / 2 + hi / 2;
    t.y32.data[i] = static_cast<float>(t.y.data[i]);
    t.undetermined += lo != hi;
    t.exact_zeros += lo == 0 && hi == 0;
  }
}

// Where method auto tries the integer method: unit stride and sums long enough
// that its int8 GEMMs outrun the binary64 kernel, as measured over ResNet-50's
// layers (docs/performance.md: ≥ 1,024 terms; strided layers run the integer
// kernel one short output row at a time, up to 2× slower; shorter sums and conv1's
// 3 channels are faster in binary64), on layers not lowered from another
// direction. It still declines where the CPU or the operands rule it out.
template <class T>
bool integer_shape(const ConvProblem<T>& p) {
  const ConvSpec& s = p.spec;
  return std::is_same_v<T, float> && !s.origin && s.g == 1 && s.sh == 1 && s.sw == 1 && s.ic >= 32 && s.oc >= 32 &&
         s.n_terms() >= 1024;
}

// Only reached for binary32 problems (integer_wins, or the method checked above).
template <class T>
const ConvProblem<float>& as_float(const ConvProblem<T>& p) {
  if constexpr (std::is_same_v<T, float>)
    return p;
  else
    throw std::logic_error("integer truth: binary32 inputs only");
}

}  // namespace

template <class T>
Truth compute_truth(const ConvProblem<T>& p, const TruthOptions& opt) {
  const FpEnvGuard fp_env;
  check_problem(p);
  const auto shape = p.spec.y_shape();
  // The five result tensors, allocated and zero-filled on the workers: at layer
  // size their first-touch page faults cost as much as the fast path itself.
  Truth t;
  parallel_for(5, resolve_threads(opt.threads), [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      if (i == 0) t.y32 = Tensor<float>(shape);
      if (i == 1) t.y = Tensor<double>(shape);
      if (i == 2) t.lo = Tensor<double>(shape);
      if (i == 3) t.hi = Tensor<double>(shape);
      if (i == 4 && opt.absdot) t.absdot = Tensor<double>(shape);
    }
  });
  switch (opt.method) {
    case TruthMethod::mpfi:
      mpfi_truth(p, opt, t);
      t.kernel = "mpfi";
      break;
    case TruthMethod::exact:
      exact_truth(p, opt, nullptr, t);
      t.kernel = "exact";
      break;
    case TruthMethod::auto_:
    case TruthMethod::binary64: {
      std::optional<std::vector<std::int64_t>> undecided;
      if (opt.method == TruthMethod::auto_ && integer_shape(p))
        undecided = try_integer_truth(as_float(p), IntegerTruthOptions{opt.threads, opt.absdot}, t);
      if (!undecided) {
        undecided = fast_truth(p, FastTruthOptions{opt.threads, {}, opt.absdot}, t);
        t.kernel = "binary64";
      }
      exact_truth(p, opt, &*undecided, t);
      break;
    }
    case TruthMethod::integer: {
      if constexpr (!std::is_same_v<T, float>) throw InputError("truth method integer: binary32 inputs only");
      const std::vector<std::int64_t> undecided =
          integer_truth(as_float(p), IntegerTruthOptions{opt.threads, opt.absdot}, t);
      exact_truth(p, opt, &undecided, t);
      break;
    }
  }
  return t;
}

TruthMethod parse_truth_method(const std::string& name) {
  for (const TruthMethod m :
       {TruthMethod::auto_, TruthMethod::exact, TruthMethod::mpfi, TruthMethod::integer, TruthMethod::binary64})
    if (name == truth_method_name(m)) return m;
  throw InputError("truth method must be 'auto', 'exact', 'mpfi', 'integer' or 'binary64', got '" + name + "'");
}

const char* truth_method_name(TruthMethod m) {
  switch (m) {
    case TruthMethod::exact: return "exact";
    case TruthMethod::mpfi: return "mpfi";
    case TruthMethod::integer: return "integer";
    case TruthMethod::binary64: return "binary64";
    default: return "auto";
  }
}

template Truth compute_truth(const ConvProblem<float>&, const TruthOptions&);
template Truth compute_truth(const ConvProblem<double>&, const TruthOptions&);

}  // namespace certconv
