// check_conv and certified_tolerance: the certified truth, the tolerance's
// per-element bound, and the rigorous decision of analyze (metrics.hpp).
#include "certconv/testing.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

#include "certconv/analysis/format_bound.hpp"
#include "certconv/analysis/relabel.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/text.hpp"

namespace certconv {

namespace {

// The order runs on the user's inputs in TC; its output is discarded, its bound kept.
template <class TC, class TI>
FormatBound order_bound(const ConvProblem<TI>& p, const Tolerance& tol) {
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
FormatBound tolerance_bound(const ConvProblem<TI>& p, const Truth& truth, Dtype dt, const Tolerance& tol) {
  require(dt == Dtype::f64 || std::is_same_v<TI, float>,
          "tolerance " + tol.str() + ": float32 arithmetic needs float32 inputs; x and w are float64");
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  if (tol.kind == Tolerance::Kind::order) {
    require(tol.output == InputFormat::f32, "tolerance " + tol.str() +
                                                ": output= goes with any-order or probabilistic; an emulated "
                                                "order's output is float32");
    if constexpr (std::is_same_v<TI, float>)
      if (dt == Dtype::f32) return order_bound<float>(p, tol);
    return order_bound<double>(p, tol);
  }
  if (tol.kind == Tolerance::Kind::probabilistic) {
    require(tol.lambda > 0 && std::isfinite(tol.lambda), "tolerance " + tol.str() + ": lambda must be positive");
    FormatBound b{Tensor<double>(truth.absdot.shape), {.theorem = Theorem::probabilistic}};
    for (std::size_t i = 0; i < b.bound.data.size(); ++i)
      b.bound.data[i] = probabilistic_bound(truth.absdot.data[i], n, dt, tol.lambda).bound;
    if (tol.output != InputFormat::f32) {
      b.bound = with_output_rounding(b.bound, truth, tol.output, false);
      b.kind.output_rounding = true;
    }
    return b;
  }
  try {
    return format_bound(p, truth, {dt, tol.input, tol.output, tol.ftz}, tol.threads);
  } catch (const InputError& e) {
    throw InputError("tolerance " + tol.str() + ": " + e.what());
  }
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

// How the records and the message name outputs: the problem as the user gave it,
// the result's axes, and where each output of the computed (lowered) problem lies
// in the result (core/lower.hpp; empty to_natural: the same layout).
struct Naming {
  std::string problem;  // benchdnn descriptor (with direction and result for a lowered one)
  std::string axes;     // "[n, c, h, w]"
  std::vector<std::int64_t> to_natural, shape;
};

// The axes of a result of the given spatial rank, e.g. "[oc, ic, kd, kh, kw]" for a 3-D dw.
std::string axes_of(const std::string& result, int rank) {
  if (result == "db") return "[oc]";
  const bool dw = result == "dw", dx = result == "dx";
  std::string s = dw ? "[oc, ic" : dx ? "[n, ic" : "[n, oc";
  const char* prefix = dw ? ", k" : dx ? ", i" : ", o";
  for (int a = 3 - rank; a < 3; ++a) s += prefix + std::string(1, "dhw"[a]);
  return s + "]";
}

template <class TO>
std::string message_of(const CheckResult& r, const Naming& nm, const Tolerance& tol) {
  std::ostringstream o;
  std::string prec = std::is_same_v<TO, float> ? "float32" : "float64";
  if (tol.output != InputFormat::f32) prec += std::string(" accumulation, ") + input_format_name(tol.output) + " output";
  if (r.passed)
    o << "check_conv passed: all " << r.outputs << " outputs of " << nm.problem << " (" << prec
      << ") are within " << describe(tol, r.bound_kind);
  else
    o << "check_conv FAILED: " << r.beyond << " of " << r.outputs << " outputs of " << nm.problem << " ("
      << prec << ") are beyond " << describe(tol, r.bound_kind);
  if (r.worst.empty()) return o.str();
  o << "\n" << (r.passed ? "closest" : "worst") << " outputs " << nm.axes << ": observed, truth, |error|, bound, "
    << "error/bound, cond:";
  for (std::size_t j = 0; j < r.worst.size(); ++j) {
    const OutputRecord& w = r.worst[j];
    const double ratio = w.abs_err == 0 ? 0 : (w.bound > 0 ? w.abs_err / w.bound : kInf);
    const bool beyond = static_cast<std::int64_t>(j) < r.beyond;  // listed first
    o << "\n  [" << extents_text(w.coords) << "]: observed " << number_text(w.observed, std::is_same_v<TO, float> ? 9 : 17) << ", truth "
      << number_text(w.truth, 17) << ", |error| " << number_text(w.abs_err, 3) << ", bound " << number_text(w.bound, 3)
      << ", error/bound " << number_text(ratio, 3) << ", cond " << number_text(w.cond, 3) << (beyond ? "  BEYOND" : "");
  }
  return o.str();
}

// observed in the layout of p's output.
template <class TO, class TI>
CheckResult check(const Tensor<TO>& observed, const ConvProblem<TI>& p, const Tolerance& tol, const Naming& nm) {
  const FpEnvGuard fp_env;
  check_problem(p);
  const Dtype dt = dtype_of<TO>();
  require(!tol.dtype || *tol.dtype == dt, "tolerance " + tol.str() + ": the observed output is " +
                                              dtype_name(dt) + ", but the tolerance is for " +
                                              (tol.dtype ? dtype_name(*tol.dtype) : "") + " arithmetic");
  if (tol.output != InputFormat::f32) {
    require(std::is_same_v<TO, float>, "tolerance " + tol.str() + ": the observed output must be float32 (" +
                                           input_format_name(tol.output) + " values widened exactly)");
    if constexpr (std::is_same_v<TO, float>)
      require_in_format(observed, tol.output, "observed (tolerance " + tol.str() + ")");
  }
  TruthOptions topt;
  topt.threads = tol.threads;
  const Truth truth = compute_truth(p, topt);
  const FormatBound bound = tolerance_bound(p, truth, dt, tol);

  CheckResult r;
  r.outputs = observed.size();
  r.bound_kind = bound.kind;
  const std::size_t n = observed.data.size();
  std::vector<char> beyond(n);
  std::vector<double> ratio(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double yh = observed.data[i], b = bound.bound.data[i];
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
  for (std::size_t j = 0; j < k; ++j) {
    r.worst.push_back(make_record(p.spec, truth, static_cast<std::int64_t>(idx[j]), observed.data[idx[j]],
                                  bound.bound.data[idx[j]], u));
    if (!nm.shape.empty()) relabel(r.worst.back(), nm.to_natural, nm.shape);
  }
  r.message = message_of<TO>(r, nm, tol);
  return r;
}

// The lowered results of a direction, the order of an order tolerance checked to apply.
template <class TI>
std::vector<Lowered<TI>> lowered_for(const ConvDesc& d, Direction dir, const Operands<TI>& ops, const Tolerance& tol) {
  if (tol.kind == Tolerance::Kind::order)
    order_for_direction(parse_order(tol.order).name, dir, d.rank, "tolerance " + tol.str());
  return lower(d, dir, ops);
}

}  // namespace

template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const ConvProblem<TI>& p, const Tolerance& tol) {
  require(observed.shape == p.spec.y_shape(), "observed: shape " + shape_text(observed.shape) +
                                                  " does not match the problem " + to_benchdnn(p.spec) +
                                                  ", whose output is " + shape_text(p.spec.y_shape()));
  return check(observed, p, tol, Naming{to_benchdnn(p.spec), "[n, c, h, w]", {}, {}});
}

template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const ConvDesc& d, Direction dir, const Operands<TI>& ops,
                       const Tolerance& tol) {
  const std::vector<Lowered<TI>> ls = lowered_for(d, dir, ops, tol);
  const Lowered<TI>& l = result_with_shape(ls, d, dir, observed.shape, "observed");
  return check(to_lowered_layout(l, observed), l.problem.view(), tol,
               Naming{to_benchdnn(d) + " " + direction_name(dir) + " " + l.result, axes_of(l.result, d.rank),
                      l.to_natural, l.shape});
}

template <class TI>
CertifiedTolerance certified_tolerance(const ConvProblem<TI>& p, const Tolerance& tol) {
  const FpEnvGuard fp_env;
  check_problem(p);
  TruthOptions topt;
  topt.threads = tol.threads;
  const Truth truth = compute_truth(p, topt);
  FormatBound bound = tolerance_bound(p, truth, tol.dtype.value_or(dtype_of<TI>()), tol);
  CertifiedTolerance c;
  c.bound_kind = bound.kind;
  for (std::size_t i = 0; i < bound.bound.data.size(); ++i) {
    const double b = bound.bound.data[i], lo = truth.lo.data[i], hi = truth.hi.data[i];
    c.atol = std::max(c.atol, b);
    // |y| ≥ the enclosure's smallest magnitude, an exact lower bound.
    const double mag = lo > 0 ? lo : (hi < 0 ? -hi : 0);
    c.rtol = std::max(c.rtol, b == 0 ? 0 : (mag > 0 ? div_up(b, mag) : kInf));
  }
  c.per_element = std::move(bound.bound);
  return c;
}

template <class TI>
std::vector<CertifiedTolerance> certified_tolerance(const ConvDesc& d, Direction dir, const Operands<TI>& ops,
                                                    const Tolerance& tol) {
  std::vector<CertifiedTolerance> out;
  for (const Lowered<TI>& l : lowered_for(d, dir, ops, tol)) {
    CertifiedTolerance c = certified_tolerance(l.problem.view(), tol);
    c.result = l.result;
    c.per_element = to_result_layout(l, c.per_element);
    out.push_back(std::move(c));
  }
  return out;
}

template CheckResult check_conv(const Tensor<float>&, const ConvProblem<float>&, const Tolerance&);
template CheckResult check_conv(const Tensor<double>&, const ConvProblem<float>&, const Tolerance&);
template CheckResult check_conv(const Tensor<float>&, const ConvProblem<double>&, const Tolerance&);
template CheckResult check_conv(const Tensor<double>&, const ConvProblem<double>&, const Tolerance&);
template CertifiedTolerance certified_tolerance(const ConvProblem<float>&, const Tolerance&);
template CertifiedTolerance certified_tolerance(const ConvProblem<double>&, const Tolerance&);
#define CERTCONV_DIRECTIONAL(TO, TI)                                                                         \
  template CheckResult check_conv(const Tensor<TO>&, const ConvDesc&, Direction, const Operands<TI>&, \
                                  const Tolerance&);
CERTCONV_DIRECTIONAL(float, float)
CERTCONV_DIRECTIONAL(double, float)
CERTCONV_DIRECTIONAL(float, double)
CERTCONV_DIRECTIONAL(double, double)
#undef CERTCONV_DIRECTIONAL
template std::vector<CertifiedTolerance> certified_tolerance(const ConvDesc&, Direction, const Operands<float>&,
                                                             const Tolerance&);
template std::vector<CertifiedTolerance> certified_tolerance(const ConvDesc&, Direction, const Operands<double>&,
                                                             const Tolerance&);

}  // namespace certconv
