// check_conv and certified_tolerance: the certified truth, the tolerance's
// per-element bound, and the rigorous decision of analyze (metrics.hpp).
#include "certconv/testing.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "certconv/bounds/any_order.hpp"
#include "certconv/bounds/output_rounding.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/text.hpp"

namespace certconv {

namespace {

struct Bound {
  Tensor<double> b;
  BoundKind kind;
};

// The order runs on the user's inputs in TC; its output is discarded, its bound kept.
template <class TC, class TI>
Bound order_bound(const ConvProblem<TI>& p, const Tolerance& tol) {
  const OrderSpec os = parse_order(tol.order);
  RunOptions ro;
  ro.threads = resolve_threads(tol.threads);
  ro.want_bound = true;
  OrderOutput<TC> out;
  if constexpr (std::is_same_v<TC, TI>) {
    out = run_order(os, p, ro);
  } else {
    // float32 inputs, float64 arithmetic: the conversion is exact.
    out = run_order(os, problem_cast<TC>(p).view(), ro);
  }
  require(!out.bound.data.empty() && out.bound_kind.theorem != Theorem::none,
          "tolerance '" + tol.order + "': the order has no proven error bound (bound_kind " +
              bound_kind_name(out.bound_kind) +
              "); use any-order or another order");
  return {std::move(out.bound), out.bound_kind};
}

template <class TI>
Bound accumulation_bound(const ConvProblem<TI>& p, const Truth& truth, Dtype dt, const Tolerance& tol) {
  require(dt == Dtype::f64 || std::is_same_v<TI, float>,
          "tolerance " + tol.str() + ": float32 arithmetic needs float32 inputs; x and w are float64");
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  switch (tol.kind) {
    case Tolerance::Kind::order:
      if constexpr (std::is_same_v<TI, float>)
        if (dt == Dtype::f32) return order_bound<float>(p, tol);
      return order_bound<double>(p, tol);
    case Tolerance::Kind::any_order:
      if (tol.input == InputFormat::f32 && !tol.ftz)
        return {any_order_bound(truth.absdot, n, dt), {.theorem = Theorem::order_free}};
      if constexpr (std::is_same_v<TI, float>) {
        require(dt == Dtype::f32 || !tol.ftz, "tolerance " + tol.str() + ": ftz=1 models float32 kernels; dtype must be f32");
        // The inputs as the kernel saw them: rounded to the input format, x and w
        // flushed (DAZ); e covers both exactly.
        const OwnedProblem<float> seen = kernel_inputs(p, tol.input, tol.ftz);
        return {any_order_bound(p, seen.view(), truth.absdot, tol.ftz ? Underflow::flush : Underflow::gradual,
                                resolve_threads(tol.threads)),
                {.theorem = Theorem::order_free, .input_rounding = true}};
      }
      throw InputError("tolerance " + tol.str() + ": input=" + input_format_name(tol.input) +
                       (tol.ftz ? " with ftz=1" : "") + " models float32 inputs; x and w are float64");
    case Tolerance::Kind::probabilistic: {
      require(tol.lambda > 0 && std::isfinite(tol.lambda), "tolerance " + tol.str() + ": lambda must be positive");
      Tensor<double> b(truth.absdot.shape);
      for (std::size_t i = 0; i < b.data.size(); ++i)
        b.data[i] = probabilistic_bound(truth.absdot.data[i], n, dt, tol.lambda).bound;
      return {std::move(b), {.theorem = Theorem::probabilistic}};
    }
  }
  throw InputError("tolerance: unknown kind");
}

// The accumulation bound, then the rounding of the result to tol.output
// (bounds/output_rounding.hpp), with M = max(|lo|, |hi|) ≥ |y|.
template <class TI>
Bound tolerance_bound(const ConvProblem<TI>& p, const Truth& truth, Dtype dt, const Tolerance& tol) {
  Bound b = accumulation_bound(p, truth, dt, tol);
  if (tol.output == InputFormat::f32) return b;
  require(tol.kind != Tolerance::Kind::order, "tolerance " + tol.str() +
                                                  ": output= goes with any-order or probabilistic; an emulated "
                                                  "order's output is float32");
  require(tol.output == InputFormat::bf16 || tol.output == InputFormat::fp16,
          std::string("tolerance: output=") + input_format_name(tol.output) + " is not a storage format");
  Tensor<double> magnitude(truth.lo.shape);
  for (std::size_t i = 0; i < magnitude.data.size(); ++i)
    magnitude.data[i] = std::max(std::fabs(truth.lo.data[i]), std::fabs(truth.hi.data[i]));
  b.b = output_rounding_bound(b.b, magnitude, tol.output == InputFormat::bf16 ? kBf16 : kFp16, tol.ftz);
  b.kind.output_rounding = true;
  return b;
}

std::string describe(const Tolerance& tol, const BoundKind& bound_kind) {
  const std::string kind = bound_kind_name(bound_kind);
  switch (tol.kind) {
    case Tolerance::Kind::order:
      return "the rigorous bound of order " + tol.str() + " [" + kind + "]";
    case Tolerance::Kind::any_order:
      return "the order-free rigorous bound " + tol.str() + " [" + kind + "]";
    case Tolerance::Kind::probabilistic:
      return "the probabilistic bound " + tol.str() + " (Higham-Mary; a model, not rigorous)";
  }
  return kind;
}

template <class TO>
std::string message_of(const CheckResult& r, const ConvSpec& spec, const Tolerance& tol) {
  std::ostringstream o;
  std::string prec = std::is_same_v<TO, float> ? "float32" : "float64";
  if (tol.output != InputFormat::f32) prec += std::string(" accumulation, ") + input_format_name(tol.output) + " output";
  if (r.passed)
    o << "check_conv passed: all " << r.outputs << " outputs of " << to_benchdnn(spec) << " (" << prec
      << ") are within " << describe(tol, r.bound_kind);
  else
    o << "check_conv FAILED: " << r.beyond << " of " << r.outputs << " outputs of " << to_benchdnn(spec) << " ("
      << prec << ") are beyond " << describe(tol, r.bound_kind);
  if (r.worst.empty()) return o.str();
  o << "\n" << (r.passed ? "closest" : "worst") << " outputs [n, c, h, w]: observed, truth, |error|, bound, "
    << "error/bound, cond:";
  for (std::size_t j = 0; j < r.worst.size(); ++j) {
    const OutputRecord& w = r.worst[j];
    const double ratio = w.abs_err == 0 ? 0 : (w.bound > 0 ? w.abs_err / w.bound : kInf);
    const bool beyond = static_cast<std::int64_t>(j) < r.beyond;  // listed first
    o << "\n  [" << w.nchw[0] << ", " << w.nchw[1] << ", " << w.nchw[2] << ", " << w.nchw[3]
      << "]: observed " << number_text(w.observed, std::is_same_v<TO, float> ? 9 : 17) << ", truth "
      << number_text(w.truth, 17) << ", |error| " << number_text(w.abs_err, 3) << ", bound " << number_text(w.bound, 3)
      << ", error/bound " << number_text(ratio, 3) << ", cond " << number_text(w.cond, 3) << (beyond ? "  BEYOND" : "");
  }
  return o.str();
}

}  // namespace

template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const ConvProblem<TI>& p, const Tolerance& tol) {
  const FpEnvGuard fp_env;
  check_problem(p);
  require(observed.shape == p.spec.y_shape(), "observed: shape " + shape_text(observed.shape) +
                                                  " does not match the problem " + to_benchdnn(p.spec) +
                                                  ", whose output is " + shape_text(p.spec.y_shape()));
  const Dtype dt = dtype_of<TO>();
  require(!tol.dtype || *tol.dtype == dt, "tolerance " + tol.str() + ": the observed output is " +
                                              dtype_name(dt) + ", but the tolerance is for " +
                                              (tol.dtype ? dtype_name(*tol.dtype) : "") + " arithmetic");
  if (tol.output != InputFormat::f32)
    for (std::size_t i = 0; i < observed.data.size(); ++i) {
      const float v = static_cast<float>(observed.data[i]);
      require(static_cast<TO>(v) == observed.data[i] && round_to_format(v, tol.output) == v,
              std::string("observed: ") + number_text(observed.data[i], 17) + " at index " +
                  index_text(observed.shape, static_cast<std::int64_t>(i)) + " is not a " +
                  input_format_name(tol.output) + " value (tolerance " + tol.str() + ")");
    }
  TruthOptions topt;
  topt.threads = tol.threads;
  const Truth truth = compute_truth(p, topt);
  const Bound bound = tolerance_bound(p, truth, dt, tol);

  CheckResult r;
  r.outputs = observed.size();
  r.bound_kind = bound.kind;
  const std::size_t n = observed.data.size();
  std::vector<char> beyond(n);
  std::vector<double> ratio(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double yh = observed.data[i], b = bound.b.data[i];
    const double err = std::fabs(yh - truth.y.data[i]);
    // A non-finite output is wrong for finite inputs (the truth is finite).
    beyond[i] = !std::isfinite(yh) || certainly_violates(yh, truth.lo.data[i], truth.hi.data[i], b);
    ratio[i] = err == 0 ? 0 : (b > 0 && std::isfinite(err) ? err / b : kInf);
    r.beyond += beyond[i];
  }
  r.passed = r.beyond == 0;
  // Those beyond first, then by error/bound, ties by index (reproducible).
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  const std::size_t k = std::min(tol.worst, n);
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), [&](auto a, auto b) {
    if (beyond[a] != beyond[b]) return beyond[a] > beyond[b];
    return ratio[a] != ratio[b] ? ratio[a] > ratio[b] : a < b;
  });
  const double u = format_consts(dt).u;
  for (std::size_t j = 0; j < k; ++j)
    r.worst.push_back(make_record(p.spec, truth, static_cast<std::int64_t>(idx[j]), observed.data[idx[j]],
                                  bound.b.data[idx[j]], u));
  r.message = message_of<TO>(r, p.spec, tol);
  return r;
}

template <class TI>
CertifiedTolerance certified_tolerance(const ConvProblem<TI>& p, const Tolerance& tol) {
  const FpEnvGuard fp_env;
  check_problem(p);
  TruthOptions topt;
  topt.threads = tol.threads;
  const Truth truth = compute_truth(p, topt);
  Bound bound = tolerance_bound(p, truth, tol.dtype.value_or(dtype_of<TI>()), tol);
  CertifiedTolerance c;
  c.bound_kind = bound.kind;
  for (std::size_t i = 0; i < bound.b.data.size(); ++i) {
    const double b = bound.b.data[i], lo = truth.lo.data[i], hi = truth.hi.data[i];
    c.atol = std::max(c.atol, b);
    // |y| ≥ the enclosure's smallest magnitude, an exact lower bound.
    const double mag = lo > 0 ? lo : (hi < 0 ? -hi : 0);
    c.rtol = std::max(c.rtol, b == 0 ? 0 : (mag > 0 ? div_up(b, mag) : kInf));
  }
  c.per_element = std::move(bound.b);
  return c;
}

template CheckResult check_conv(const Tensor<float>&, const ConvProblem<float>&, const Tolerance&);
template CheckResult check_conv(const Tensor<double>&, const ConvProblem<float>&, const Tolerance&);
template CheckResult check_conv(const Tensor<float>&, const ConvProblem<double>&, const Tolerance&);
template CheckResult check_conv(const Tensor<double>&, const ConvProblem<double>&, const Tolerance&);
template CertifiedTolerance certified_tolerance(const ConvProblem<float>&, const Tolerance&);
template CertifiedTolerance certified_tolerance(const ConvProblem<double>&, const Tolerance&);

}  // namespace certconv
