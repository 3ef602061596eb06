// explain(): A and B against the truth, torch.isclose(A, B) failures by cond, a
// certified tolerance and the verdict (analysis/explain.hpp).
#include "certconv/analysis/explain.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <type_traits>

#include "certconv/analysis/metrics.hpp"
#include "certconv/analysis/relabel.hpp"
#include "certconv/analysis/stats.hpp"
#include "certconv/core/format.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/bounds/any_order.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/text.hpp"
#include "certconv/orders/input_format.hpp"

namespace certconv {

namespace {

std::string g3(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// Order-free rigorous bound per output for inputs first rounded to a format with
// unit roundoff u_in (u_in = 0: plain inputs), bounds/any_order.hpp. Used only to
// suggest a cause; fp16's underflow is not modelled (see the verdict).
template <class T>
Tensor<double> bound_for_inputs(const Truth& truth, std::int64_t n, double u_in) {
  if (u_in == 0) return any_order_bound(truth.absdot, n, dtype_of<T>());
  const Tensor<double> e = relative_input_error(truth.absdot, u_in);
  return any_order_bound(truth.absdot, n, dtype_of<T>(), &e);
}

template <class T>
std::int64_t count_violations(const ConvSpec& spec, const Truth& truth, const Tensor<T>& y, const Tensor<double>& b) {
  MetricsOptions opt;
  opt.u = format_consts<T>().u;
  opt.worst = 0;
  return measure(spec, truth, y, b, opt).violations;
}

CondSummary cond_summary(std::vector<double> cond) {
  CondSummary c;
  c.fraction_above_1e3 = fraction_above(cond, 1e3);
  c.fraction_above_1e6 = fraction_above(cond, 1e6);
  c.cond = distribution(cond);
  return c;
}

}  // namespace

template <class TA, class TB>
ExplainResult explain(const ConvSpec& spec, const Truth& truth, bool bias, const std::array<FormatBound, 2>& bounds,
                      const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req) {
  const FpEnvGuard fp_env;
  const std::int64_t n = spec.n_terms() + (bias ? 1 : 0);
  const Tensor<double>&ba = bounds[0].bound, &bb = bounds[1].bound;

  // torch.isclose(A, B, rtol, atol), in the outputs' type as PyTorch evaluates it
  // (float64 when they differ: the narrower side widened exactly); the samples
  // mark these failures, not those against the truth.
  using TW = std::conditional_t<std::is_same_v<TA, TB>, TA, double>;
  std::vector<char> failing(a.data.size());
  for (std::size_t i = 0; i < a.data.size(); ++i)
    failing[i] = !isclose<TW>(static_cast<TW>(a.data[i]), static_cast<TW>(b.data[i]), req.rtol, req.atol);

  const auto metrics = [&](const auto& y, const Tensor<double>& bound, OutputFormat f) {
    MetricsOptions mo;
    mo.u = unit_roundoff(f);
    mo.rtol = req.rtol;
    mo.atol = req.atol;
    mo.sample = SampleOptions{};
    mo.sample_failures = &failing;
    return measure(spec, truth, y, bound, mo);
  };
  ObservedMetrics ma = metrics(a, ba, req.formats[0]), mb = metrics(b, bb, req.formats[1]);
  const bool lowered = !req.result_shape.empty();
  if (lowered) {
    relabel(ma, req.to_natural, req.result_shape);
    relabel(mb, req.to_natural, req.result_shape);
  }

  ExplainResult r;
  r.rtol = req.rtol;
  r.atol = req.atol;
  const ObservedMetrics* ms[2] = {&ma, &mb};
  const std::string names[2] = {req.name_a, req.name_b};
  for (int s = 0; s < 2; ++s) {
    ExplainSide& side = r.sides[s];
    side.name = names[s];
    side.format = req.formats[s];
    side.bound_kind = bounds[s].kind;
    side.metrics = *ms[s];
    side.consistent = ms[s]->violations == 0;
    r.consistent = r.consistent && side.consistent;
  }
  // Which wider model would explain the errors? Reduced-precision inputs first
  // (for float32/float64 sides; a bf16/fp16 side already models them).
  const auto suggest = [&](ExplainSide& side, const auto& y) {
    using T = typename std::decay_t<decltype(y.data)>::value_type;
    if (side.consistent) return;
    side.suggested_cause = "a bug, or an algorithm that is not a summation of the products (Winograd, FFT)";
    if (side.format == OutputFormat::bf16 || side.format == OutputFormat::fp16) return;
    for (const auto& [fmt, u_in] : {std::pair{"tf32 or fp16 inputs", 0x1p-11}, std::pair{"bf16 inputs", 0x1p-8}}) {
      if (count_violations(spec, truth, y, bound_for_inputs<T>(truth, n, u_in)) == 0) {
        side.suggested_cause =
            std::string("reduced-precision ") + fmt + " (the errors fit the bound for inputs rounded that way)";
        break;
      }
    }
  };
  suggest(r.sides[0], a);
  suggest(r.sides[1], b);

  std::vector<double> cond_all(a.data.size()), cond_fail;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    const double c = cond_of(truth.absdot.data[i], truth.y.data[i]);
    cond_all[i] = c;
    const double diff = std::fabs(double(a.data[i]) - double(b.data[i]));
    r.max_abs_diff = std::max(r.max_abs_diff, diff);
    // Certified: |A − B| ≤ |A − y| + |y − B| ≤ bound_A + bound_B.
    const double t = add_up(ba.data[i], bb.data[i]);
    r.certified_atol = std::max(r.certified_atol, t);
    if (t > req.atol)
      r.certified_rtol = std::max(r.certified_rtol, b.data[i] == 0 ? kInf : up((t - req.atol) / std::fabs(b.data[i])));
    if (!failing[i]) continue;
    ++r.failures;
    cond_fail.push_back(c);
    const double ea = std::fabs(double(a.data[i]) - truth.y.data[i]), eb = std::fabs(double(b.data[i]) - truth.y.data[i]);
    const int dominant = eb > ea ? 1 : 0;
    ++r.failures_dominated[dominant];
    if (r.failing.size() < req.max_listed) {
      const auto ix = static_cast<std::int64_t>(i);
      OutputRecord ra = make_record(spec, truth, ix, a.data[i], ba.data[i], unit_roundoff(req.formats[0]));
      const OutputRecord rb = make_record(spec, truth, ix, b.data[i], bb.data[i], unit_roundoff(req.formats[1]));
      if (lowered) relabel(ra, req.to_natural, req.result_shape);
      r.failing.push_back(
          {ra.coords, c, ra.truth, ra.observed, rb.observed, ra.abs_err, rb.abs_err, ba.data[i], bb.data[i], dominant});
    }
  }
  r.cond_all = cond_summary(std::move(cond_all));
  r.cond_failing = cond_summary(std::move(cond_fail));

  // The verdict, in words a forum reader would understand.
  std::ostringstream text;
  const std::string A = req.name_a, B = req.name_b;
  const bool mixed = req.formats[0] != req.formats[1];
  const std::string prec = output_format_words(req.formats[0]);
  if (r.consistent && !mixed) {
    text << "No bug: both " << A << " and " << B << " are within the rigorous error bound that holds for every order "
         << "of summing the " << n << " products in " << prec << " (max norm_err " << g3(ma.norm_err.max) << " and "
         << g3(mb.norm_err.max) << "; norm_err = |error|/(u*absdot), and no order can exceed about n = " << n << "). ";
  } else if (r.consistent) {
    text << "No bug: " << A << " (" << output_format_words(req.formats[0]) << ") and " << B << " ("
         << output_format_words(req.formats[1]) << ") are each within the rigorous error bound of every order of "
         << "summing the " << n << " products in its own format (max norm_err " << g3(ma.norm_err.max) << " and "
         << g3(mb.norm_err.max) << ", each in units of its own u*absdot). ";
  } else {
    for (const ExplainSide& side : r.sides)
      if (!side.consistent) {
        const auto& v = side.metrics.violating.front();
        text << side.name << " is NOT consistent with any summation order in " << output_format_words(side.format)
             << ": " << side.metrics.violations << " outputs exceed the rigorous bound, e.g. index [" << extents_text(v.coords)
             << "] (error " << g3(v.abs_err)
             << ", bound " << g3(v.bound) << "). Suggested cause: " << side.suggested_cause << ". ";
      }
  }
  if (mixed) {
    // Which side carries the discrepancy: the one whose own error is the larger.
    const int hi = mb.max_abs_err > ma.max_abs_err ? 1 : 0, lo = 1 - hi;
    const ObservedMetrics& mh = *ms[hi];
    const ObservedMetrics& ml = *ms[lo];
    text << "The difference is " << names[hi] << "'s round-off: its largest |error| against the exact result is "
         << g3(mh.max_abs_err) << ", " << names[lo] << "'s is " << g3(ml.max_abs_err);
    if (ml.max_abs_err > 0) text << " (" << g3(mh.max_abs_err / ml.max_abs_err) << " times smaller)";
    text << ". Computing " << names[lo] << " in " << output_format_words(req.formats[lo])
         << " makes its own error that small, but comparing it with " << names[hi]
         << " cannot bring |" << A << " - " << B << "| below " << names[hi] << "'s error: |" << A << " - " << B
         << "| >= |" << names[hi] << " - exact| - |" << names[lo] << " - exact|; to check " << names[hi]
         << ", compare it with the exact result or use the tolerance below. ";
  }
  if (r.failures > 0) {
    const double median_fail = r.cond_failing.cond.median;  // +inf where the failing outputs have y = 0
    text << "torch.isclose(rtol=" << g3(req.rtol) << ", atol=" << g3(req.atol) << ") fails at " << r.failures
         << " of " << a.data.size() << " outputs";
    if (mixed)
      text << " (" << r.failures_dominated[0] << " where " << A << "'s error is the larger, "
           << r.failures_dominated[1] << " where " << B << "'s is)";
    text << ". Those outputs are ill-conditioned: their median cond is "
         << g3(std::isfinite(median_fail) ? median_fail : kInf)
         << " against " << g3(r.cond_all.cond.median) << " overall (cond = sum|w*x| / |y|, the factor by "
         << "which round-off is amplified relative to y), so a relative tolerance is meaningless there. ";
  } else {
    text << "torch.isclose(rtol=" << g3(req.rtol) << ", atol=" << g3(req.atol) << ") passes at every output. ";
  }
  text << "A tolerance guaranteed for this problem: atol = " << g3(r.certified_atol) << " with rtol = 0 (the largest |"
       << A << " - " << B << "| is " << g3(r.max_abs_diff) << ").";
  r.verdict = text.str();
  return r;
}

template <class TI>
ExplainResult explain_f64(const ConvProblem<TI>& p, const Truth& truth, const std::string& order_a,
                          const std::string& order_b, const ExplainRequest& req, int threads) {
  const FpEnvGuard fp_env;
  const Tensor<double> x = tensor_cast<double>(p.x), w = tensor_cast<double>(p.w);
  Tensor<double> bias;
  if (p.bias) bias = tensor_cast<double>(*p.bias);
  const ConvProblem<double> pd{p.spec, x, w, p.bias ? &bias : nullptr};
  RunOptions ro;
  ro.threads = resolve_threads(threads);
  ro.want_bound = false;
  const auto ya = run_order(parse_order(order_a), pd, ro).y, yb = run_order(parse_order(order_b), pd, ro).y;
  ExplainRequest req64 = req;
  req64.name_a = order_a;
  req64.name_b = order_b;
  req64.formats = {OutputFormat::f64, OutputFormat::f64};
  const FormatBound b = format_bound(pd, truth, format_model(OutputFormat::f64), threads);
  return explain(p.spec, truth, p.bias != nullptr, {b, b}, ya, yb, req64);
}

template <class TI, class TA, class TB>
ExplainOutcome explain_problem(const ConvProblem<TI>& p, const Tensor<TA>& a, const Tensor<TB>& b,
                               const ExplainRequest& req,
                               const std::optional<std::pair<std::string, std::string>>& f64_orders,
                               const TruthOptions& truth_options) {
  const auto check_side = [&](const auto& y, OutputFormat f, const std::string& name) {
    using T = typename std::decay_t<decltype(y.data)>::value_type;
    require((f == OutputFormat::f64) == std::is_same_v<T, double>,
            name + ": a " + output_format_words(f) + " output must be a " +
                (f == OutputFormat::f64 ? "float64" : "float32") + " array");
    if constexpr (std::is_same_v<T, float>)
      if (f == OutputFormat::bf16 || f == OutputFormat::fp16)
        require_in_format(y, f == OutputFormat::bf16 ? InputFormat::bf16 : InputFormat::fp16, name);
  };
  check_side(a, req.formats[0], req.name_a);
  check_side(b, req.formats[1], req.name_b);
  const Truth truth = compute_truth(p, truth_options);
  const auto bound = [&](OutputFormat f, const std::string& name) {
    try {
      return format_bound(p, truth, format_model(f), truth_options.threads);
    } catch (const InputError& e) {
      throw InputError(name + " (" + output_format_name(f) + "): " + e.what());
    }
  };
  const std::array<FormatBound, 2> bounds = {bound(req.formats[0], req.name_a), bound(req.formats[1], req.name_b)};
  ExplainOutcome o{summarize_truth(truth, truth_options.threads), explain(p.spec, truth, p.bias != nullptr, bounds, a, b, req), std::nullopt};
  if (f64_orders) o.f64 = explain_f64(p, truth, f64_orders->first, f64_orders->second, req, truth_options.threads);
  return o;
}

template <class TI, class TA, class TB>
ExplainOutcome explain_problem(const Lowered<TI>& l, Direction dir, int rank, const Tensor<TA>& a,
                               const Tensor<TB>& b, ExplainRequest req,
                               const std::optional<std::pair<std::string, std::string>>& f64_orders,
                               const TruthOptions& truth_options) {
  const auto check_shape = [&](const std::vector<std::int64_t>& shape, const std::string& name) {
    require(shape == l.shape, name + ": shape " + shape_text(shape) + " is not the shape " + shape_text(l.shape) +
                                  " of " + l.result + " (" + direction_name(dir) + ")");
  };
  check_shape(a.shape, req.name_a);
  check_shape(b.shape, req.name_b);
  if (f64_orders)
    for (const std::string& order : {f64_orders->first, f64_orders->second})
      order_for_direction(parse_order(order).name, dir, rank, order + " (recomputing " + l.result + " in float64)");
  req.to_natural = l.to_natural;
  req.result_shape = l.shape;
  return explain_problem(l.problem.view(), to_lowered_layout(l, a), to_lowered_layout(l, b), req, f64_orders,
                         truth_options);
}

template ExplainResult explain_f64(const ConvProblem<float>&, const Truth&, const std::string&, const std::string&,
                                   const ExplainRequest&, int);
template ExplainResult explain_f64(const ConvProblem<double>&, const Truth&, const std::string&, const std::string&,
                                   const ExplainRequest&, int);
#define CERTCONV_EXPLAIN(TA, TB)                                                                              \
  template ExplainResult explain(const ConvSpec&, const Truth&, bool, const std::array<FormatBound, 2>&,               \
                                 const Tensor<TA>&, const Tensor<TB>&, const ExplainRequest&);                       \
  template ExplainOutcome explain_problem(const ConvProblem<float>&, const Tensor<TA>&, const Tensor<TB>&,            \
                                          const ExplainRequest&, const F64Orders&, const TruthOptions&);              \
  template ExplainOutcome explain_problem(const ConvProblem<double>&, const Tensor<TA>&, const Tensor<TB>&,           \
                                          const ExplainRequest&, const F64Orders&, const TruthOptions&);              \
  template ExplainOutcome explain_problem(const Lowered<float>&, Direction, int, const Tensor<TA>&,                   \
                                          const Tensor<TB>&, ExplainRequest, const F64Orders&, const TruthOptions&);  \
  template ExplainOutcome explain_problem(const Lowered<double>&, Direction, int, const Tensor<TA>&,                  \
                                          const Tensor<TB>&, ExplainRequest, const F64Orders&, const TruthOptions&);
using F64Orders = std::optional<std::pair<std::string, std::string>>;
CERTCONV_EXPLAIN(float, float)
CERTCONV_EXPLAIN(float, double)
CERTCONV_EXPLAIN(double, float)
CERTCONV_EXPLAIN(double, double)
#undef CERTCONV_EXPLAIN

}  // namespace certconv
