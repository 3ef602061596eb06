// analyze(): the truth, every requested order and backend, and the user outputs
// measured against it (analysis/analyze.hpp).
#include "certconv/analysis/analyze.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <type_traits>
#include <variant>

#include "certconv/analysis/metrics.hpp"
#include "certconv/analysis/relabel.hpp"
#include "certconv/backends/onednn.hpp"
#include "certconv/core/text.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/error.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

using AnyOutput = std::variant<Tensor<float>, Tensor<double>>;

// Terms per output for the order-free and probabilistic bounds: a bias is one more.
std::int64_t terms(const ConvSpec& s, bool bias) { return s.n_terms() + (bias ? 1 : 0); }

// format: of y (f32/f64 for T, or bf16/fp16 held in float32): norm_err in its u.
template <class T>
ObservedResult measure_entry(const ConvSpec& spec, const Truth& truth, const Tensor<T>& y, const Tensor<double>& bound,
                             const std::string& bound_kind, const AnalyzeRequest& req, bool bias,
                             OutputFormat format = std::is_same_v<T, float> ? OutputFormat::f32 : OutputFormat::f64) {
  constexpr Dtype dt = dtype_of<T>();
  MetricsOptions opt;
  opt.u = unit_roundoff(format);
  opt.rtol = req.rtol;
  opt.atol = req.atol;
  // γ̃_n(λ) is linear in absdot: evaluate the factor once at absdot = 1.
  const ProbabilisticBound pb = probabilistic_bound(1.0, terms(spec, bias), dt, req.lambda);
  opt.prob_factor = pb.bound;
  opt.sample = SampleOptions{};
  ObservedResult r;
  r.metrics = measure(spec, truth, y, bound, opt);
  r.dtype = dt;
  r.format = format;
  r.u = opt.u;
  r.bound_kind = bound_kind;
  r.probabilistic = pb;
  return r;
}

template <class TC>
void run_orders(const ConvProblem<TC>& pc, const Truth& truth, const AnalyzeRequest& req,
                std::vector<ObservedResult>& results, std::vector<AnyOutput>& ys, std::vector<SkippedOrder>& skipped) {
  for (const std::string& text : req.orders) {
    const OrderSpec os = parse_order(text);
    const OrderInfo& info = find_order(os.name);
    RunOptions ro;
    ro.threads = resolve_threads(req.threads);
    const auto t0 = Clock::now();
    OrderOutput<TC> out;
    try {
      out = run_order(os, pc, ro);
    } catch (const InputError& e) {
      if (!req.skip_unsupported) throw;
      skipped.push_back({text, e.what()});
      continue;
    }
    const double sec = seconds_since(t0);
    ObservedResult r = measure_entry(pc.spec, truth, out.y, out.bound, bound_kind_name(out.bound_kind), req, pc.bias != nullptr);
    r.name = text;
    r.kind = order_kind_name(info.kind);
    r.params = order_str(os);
    if (!out.running_bound.data.empty()) {
      MetricsOptions ro_opt;
      ro_opt.u = format_consts(dtype_of<TC>()).u;
      const ObservedMetrics rm = measure(pc.spec, truth, out.y, out.running_bound, ro_opt);
      r.running_bound = RunningBoundCheck{rm.violations, rm.max_tightness};
      r.metrics.violations += rm.violations;
    }
    r.provenance = std::move(out.provenance);
    r.seconds = sec;
    results.push_back(std::move(r));
    ys.emplace_back(std::move(out.y));
  }
}

template <class TI, class T>
void add_observed(const Observed& o, const Tensor<T>& y, const ConvProblem<TI>& p, const Truth& truth,
                  const AnalyzeRequest& req, std::vector<ObservedResult>& results) {
  const ConvSpec& spec = p.spec;
  const auto want = spec.y_shape();
  if (y.shape != want) {
    std::string got, need;
    for (auto d : y.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
    for (auto d : want) need += (need.empty() ? "" : ", ") + std::to_string(d);
    throw InputError(o.source + ": observed output '" + o.name + "' has shape (" + got +
                     ") but the problem's output is (" + need + ")");
  }
  for (std::size_t i = 0; i < y.data.size(); ++i)
    if (!std::isfinite(y.data[i])) {
      const OutputRecord r = make_record(spec, truth, static_cast<std::int64_t>(i), 0, 0, 1);
      throw InputError(o.source + ": observed output '" + o.name + "' has a non-finite value at index [" +
                       std::to_string(r.nchw[0]) + ", " + std::to_string(r.nchw[1]) + ", " + std::to_string(r.nchw[2]) +
                       ", " + std::to_string(r.nchw[3]) + "]");
    }
  const std::string what = o.source + ": observed output '" + o.name + "'";
  const OutputFormat f = o.format.value_or(std::is_same_v<T, double> ? OutputFormat::f64 : OutputFormat::f32);
  require((f == OutputFormat::f64) == std::is_same_v<T, double>,
          what + " is " + (std::is_same_v<T, double> ? "float64" : "float32") + " but its format is " +
              output_format_name(f));
  if constexpr (std::is_same_v<T, float>)
    if (f == OutputFormat::bf16 || f == OutputFormat::fp16)
      require_in_format(y, f == OutputFormat::bf16 ? InputFormat::bf16 : InputFormat::fp16, what);
  FormatBound b;
  try {
    b = format_bound(p, truth, format_model(f), req.threads);
  } catch (const InputError& e) {
    throw InputError(what + " (" + output_format_name(f) + "): " + e.what());
  }
  ObservedResult r = measure_entry(spec, truth, y, b.bound, bound_kind_name(b.kind), req, p.bias != nullptr, f);
  r.name = o.name;
  r.kind = o.kind;
  r.params = o.source;
  r.provenance = o.provenance;
  r.seconds = o.seconds;
  results.push_back(std::move(r));
}

std::optional<double> identical(const AnyOutput& a, const AnyOutput& b) {
  if (a.index() != b.index()) return std::nullopt;
  if (a.index() == 0) return identical_fraction(std::get<0>(a), std::get<0>(b));
  return identical_fraction(std::get<1>(a), std::get<1>(b));
}

}  // namespace

std::vector<std::string> all_order_names() {
  std::vector<std::string> v;
  for (const OrderInfo& o : order_list())
    if (!needs_argument(o) && applies_to(o, Direction::fwd_d, true)) v.push_back(o.name);
  return v;
}

template <class TI>
AnalyzeResult analyze(const ConvProblem<TI>& p, const AnalyzeRequest& req) {
  const FpEnvGuard fp_env;
  check_problem(p);
  const ConvSpec& spec = p.spec;
  TruthOptions topt;
  topt.threads = req.threads;
  topt.progress = true;
  const auto t0 = Clock::now();
  const Truth truth = compute_truth(p, topt);

  AnalyzeResult r;
  r.truth_seconds = seconds_since(t0);
  std::vector<AnyOutput> order_ys;  // the orders' outputs, for identical_fraction
  if (req.dtype == dtype_of<TI>()) {
    run_orders(p, truth, req, r.observed, order_ys, r.skipped);
  } else if (req.dtype == Dtype::f64) {
    const Tensor<double> x = tensor_cast<double>(p.x), w = tensor_cast<double>(p.w);
    Tensor<double> b;
    if (p.bias) b = tensor_cast<double>(*p.bias);
    run_orders(ConvProblem<double>{spec, x, w, p.bias ? &b : nullptr}, truth, req, r.observed, order_ys, r.skipped);
  } else {
    throw InputError("dtype f32 needs float32 inputs; x and w are float64 (round them yourself if you mean it)");
  }
  std::vector<const AnyOutput*> ys;
  for (const AnyOutput& y : order_ys) ys.push_back(&y);
  for (const Observed& o : req.observed) {
    std::visit([&](const auto& y) { add_observed(o, y, p, truth, req, r.observed); }, o.y);
    ys.push_back(&o.y);
  }

  for (std::size_t i = 0; i < r.observed.size(); ++i) {
    for (std::size_t k = 0; k < r.observed.size(); ++k)
      if (k != i) r.observed[i].identical_fraction[r.observed[k].name] = identical(*ys[i], *ys[k]);
    r.violations += r.observed[i].metrics.violations;
  }
  r.exit_code = r.violations > 0 && !req.allow_violations ? 1 : 0;
  r.truth = summarize_truth(truth, req.threads);
  return r;
}

template AnalyzeResult analyze(const ConvProblem<float>&, const AnalyzeRequest&);
std::vector<std::string> order_names_for(Direction dir, int rank) {
  std::vector<std::string> v;
  for (const OrderInfo& o : order_list())
    if (o.kind == OrderKind::order && !needs_argument(o) && applies_to(o, dir, rank <= 2)) v.push_back(o.name);
#if CERTCONV_HAVE_ONEDNN
  v.push_back("onednn");
#endif
  return v;
}

template <class TI>
AnalyzeResult analyze(const ConvDesc& d, Direction dir, const Operands<TI>& ops, AnalyzeRequest req) {
  require(dir != Direction::bwd_wb, "direction BWD_WB has two results (dw, db); analyze takes one: use BWD_W for dw");
  const Lowered<TI> l = std::move(lower(d, dir, ops).front());
  std::vector<std::string> orders;
  std::vector<Observed> backends;
  for (const auto& o : req.orders) {
    const OrderSpec spec = parse_order(o);
    const OrderInfo& info = find_order(spec.name);
    if (info.kind == OrderKind::order && applies_to(info, dir, d.rank <= 2)) {
      orders.push_back(o);
    } else if (spec.name == "onednn" && spec.params.empty()) {
#if CERTCONV_HAVE_ONEDNN
      if constexpr (std::is_same_v<TI, float>) {
        require(req.dtype == Dtype::f32, "backend 'onednn' computes in float32: give dtype f32");
        const auto t0 = Clock::now();
        OnednnResults b = onednn_direction(d, dir, ops, req.threads);
        backends.push_back({"onednn", "onednn", std::move(b.results.front()), std::nullopt, "backend",
                            std::move(b.provenance), seconds_since(t0)});
      } else {
        require(req.skip_unsupported, "backend 'onednn' takes float32 operands (oneDNN 2.6 has no float64 convolution)");
      }
#else
      require(req.skip_unsupported, "backend 'onednn': this build has no oneDNN");
#endif
    } else {
      std::string names;
      for (const auto& n : order_names_for(dir, d.rank)) names += (names.empty() ? "" : ", ") + n;
      require(req.skip_unsupported, "order '" + o + "' does not apply to " + direction_name(dir) + " in " +
                                        std::to_string(d.rank) + "-D (it reproduces another kernel); the orders "
                                        "that do: " + names);
    }
  }
  req.orders = orders;
  for (Observed& o : backends) req.observed.insert(req.observed.begin(), std::move(o));
  for (Observed& o : req.observed)
    std::visit(
        [&](auto& y) {
          require(y.shape == l.shape, o.source + ": observed '" + o.name + "' has shape " + shape_text(y.shape) + "; " +
                                          l.result + " of " + direction_name(dir) + " has " + shape_text(l.shape));
          for (std::int64_t i = 0; i < y.size(); ++i)
            if (!std::isfinite(y.data[static_cast<std::size_t>(i)]))
              throw InputError(o.source + ": observed '" + o.name + "' has a non-finite value at index " +
                               index_text(y.shape, i));
          y = to_lowered_layout(l, y);
        },
        o.y);
  AnalyzeResult r = analyze(l.problem.view(), req);
  for (ObservedResult& o : r.observed) relabel(o.metrics, l.to_natural, l.shape);
  r.result = l.result;
  r.lowered = l.problem.spec;
  return r;
}

template AnalyzeResult analyze(const ConvDesc&, Direction, const Operands<float>&, AnalyzeRequest);
template AnalyzeResult analyze(const ConvDesc&, Direction, const Operands<double>&, AnalyzeRequest);
template AnalyzeResult analyze(const ConvProblem<double>&, const AnalyzeRequest&);

}  // namespace certconv
