#include "certconv/analysis/analyze.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <variant>

#include "certconv/analysis/metrics.hpp"
#include "certconv/bounds/any_order.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Entry {
  std::string name, kind, params;
  bool f64 = false;
  std::variant<Tensor<float>, Tensor<double>> y;
  json j;
};

// Terms per output for the order-free and probabilistic bounds: a bias is one more.
std::int64_t terms(const ConvSpec& s, bool bias) { return s.n_terms() + (bias ? 1 : 0); }

template <class T>
json measure_entry(const ConvSpec& spec, const Truth& truth, const Tensor<T>& y, const Tensor<double>& bound,
                   const std::string& bound_kind, const AnalyzeRequest& req, bool bias, ObservedMetrics& m) {
  constexpr Dtype dt = dtype_of<T>();
  MetricsOptions opt;
  opt.u = format_consts(dt).u;
  opt.rtol = req.rtol;
  opt.atol = req.atol;
  // γ̃_n(λ) is linear in absdot: evaluate the factor once at absdot = 1.
  const ProbabilisticBound pb = probabilistic_bound(1.0, terms(spec, bias), dt, req.lambda);
  opt.prob_factor = pb.bound;
  m = measure(spec, truth, y, bound, opt);
  json j = metrics_json(m);
  j["dtype"] = dtype_name(dt);
  j["u"] = opt.u;
  j["bound_kind"] = bound_kind;
  j["probabilistic"] = {{"lambda", req.lambda}, {"gamma_tilde", pb.bound}, {"probability_at_least", pb.probability},
                        {"theorem", "Higham & Mary, SISC 41(5) 2019, Thm 3.1; a model, not a rigorous bound"}};
  return j;
}

std::string fmt(double v, const char* f = "%.3g") {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string summary_table(const std::vector<Entry>& entries, const std::vector<ObservedMetrics>& ms) {
  std::ostringstream o;
  char line[512];
  std::snprintf(line, sizeof line, "%-34s %-4s %11s %11s %9s %8s %-22s %9s %6s %8s\n", "observed", "type",
                "max norm_e", "mean norm_e", "max ulp", "CR %", "bound_kind", "max tight", "viol", "isclose!");
  o << line;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const auto& m = ms[i];
    std::string name = e.name.size() > 34 ? e.name.substr(0, 31) + "..." : e.name;
    std::snprintf(line, sizeof line, "%-34s %-4s %11s %11s %9s %8s %-22s %9s %6lld %8lld\n", name.c_str(),
                  e.f64 ? "f64" : "f32", fmt(m.norm_err.max).c_str(), fmt(m.norm_err.mean).c_str(),
                  fmt(m.ulp_err.max).c_str(), fmt(100 * m.correctly_rounded_fraction, "%.2f").c_str(),
                  e.j.value("bound_kind", "").c_str(), fmt(m.max_tightness).c_str(),
                  static_cast<long long>(m.violations), static_cast<long long>(m.isclose_failures));
    o << line;
  }
  return o.str();
}

template <class TC>
void run_orders(const ConvProblem<TC>& pc, const Truth& truth, const AnalyzeRequest& req, std::vector<Entry>& entries,
                std::vector<ObservedMetrics>& ms, json& skipped) {
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
      skipped.push_back({{"order", text}, {"reason", e.what()}});
      continue;
    }
    const double sec = seconds_since(t0);
    Entry e{text, order_kind_name(info.kind), order_str(os), std::is_same_v<TC, double>, std::move(out.y), {}};
    ObservedMetrics m;
    e.j = measure_entry(pc.spec, truth, std::get<Tensor<TC>>(e.y), out.bound, bound_kind_name(out.bound_kind), req,
                        pc.bias != nullptr, m);
    if (!out.running_bound.data.empty()) {
      MetricsOptions ro_opt;
      ro_opt.u = format_consts(dtype_of<TC>()).u;
      const ObservedMetrics rm = measure(pc.spec, truth, std::get<Tensor<TC>>(e.y), out.running_bound, ro_opt);
      e.j["running_bound"] = {{"theorem", "Higham 2002 §3.3 (a posteriori)"},
                              {"violations", rm.violations},
                              {"max_tightness", rm.max_tightness}};
      m.violations += rm.violations;
      e.j["violations"] = m.violations;
    }
    e.j["provenance"] = out.provenance;
    e.j["seconds"] = sec;
    entries.push_back(std::move(e));
    ms.push_back(std::move(m));
  }
}

template <class T>
void add_file_entry(const std::string& name, const std::string& path, Tensor<T> y, const ConvSpec& spec,
                    const Truth& truth, const AnalyzeRequest& req, bool bias, std::vector<Entry>& entries,
                    std::vector<ObservedMetrics>& ms) {
  const auto want = spec.y_shape();
  if (y.shape != want) {
    std::string got, need;
    for (auto d : y.shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
    for (auto d : want) need += (need.empty() ? "" : ", ") + std::to_string(d);
    throw InputError(path + ": observed output '" + name + "' has shape (" + got + ") but the problem's output is (" +
                     need + ")");
  }
  for (std::size_t i = 0; i < y.data.size(); ++i)
    if (!std::isfinite(y.data[i])) {
      const OutputRecord r = make_record(spec, truth, static_cast<std::int64_t>(i), 0, 0, 1);
      throw InputError(path + ": observed output '" + name + "' has a non-finite value at index [" +
                       std::to_string(r.nchw[0]) + ", " + std::to_string(r.nchw[1]) + ", " + std::to_string(r.nchw[2]) +
                       ", " + std::to_string(r.nchw[3]) + "]");
    }
  const Tensor<double> bound = any_order_bound(truth.absdot, terms(spec, bias), dtype_of<T>());
  Entry e{name, "file", path, std::is_same_v<T, double>, std::move(y), {}};
  ObservedMetrics m;
  e.j = measure_entry(spec, truth, std::get<Tensor<T>>(e.y), bound, "order-free", req, bias, m);
  entries.push_back(std::move(e));
  ms.push_back(std::move(m));
}

}  // namespace

std::vector<std::string> all_order_names() {
  std::vector<std::string> v;
  for (const OrderInfo& o : order_list()) v.push_back(o.name);
  return v;
}

json truth_json(const Truth& t) {
  std::vector<double> cond(t.y.data.size());
  for (std::size_t i = 0; i < cond.size(); ++i) cond[i] = cond_of(t.absdot.data[i], t.y.data[i]);
  const double above3 = fraction_above(cond, 1e3), above6 = fraction_above(cond, 1e6);
  json j;
  j["cond"] = distribution_json(distribution(cond));
  j["cond_fraction_above_1e3"] = above3;
  j["cond_fraction_above_1e6"] = above6;
  j["exact_zeros"] = t.exact_zeros;
  j["undetermined"] = t.undetermined;
  j["fallback_fraction"] = static_cast<double>(t.fallback) / static_cast<double>(std::max<std::int64_t>(1, t.y.size()));
  return j;
}

template <class TI>
AnalyzeResult analyze(const ConvProblem<TI>& p, const AnalyzeRequest& req) {
  check_problem(p);
  const ConvSpec& spec = p.spec;
  TruthOptions topt;
  topt.threads = req.threads;
  topt.progress = true;
  const auto t0 = Clock::now();
  const Truth truth = compute_truth(p, topt);
  const double truth_sec = seconds_since(t0);

  std::vector<Entry> entries;
  std::vector<ObservedMetrics> ms;
  json skipped = json::array();
  if (req.f64 == std::is_same_v<TI, double>) {
    run_orders(p, truth, req, entries, ms, skipped);
  } else if (req.f64) {
    const Tensor<double> x = tensor_cast<double>(p.x), w = tensor_cast<double>(p.w);
    Tensor<double> b;
    if (p.bias) b = tensor_cast<double>(*p.bias);
    run_orders(ConvProblem<double>{spec, x, w, p.bias ? &b : nullptr}, truth, req, entries, ms, skipped);
  } else {
    throw InputError("--dtype f32 needs float32 inputs; x and w are float64 (round them yourself if you mean it)");
  }
  for (const auto& [name, path] : req.files) {
    AnyTensor y = read_npy(path);
    if (auto* f = std::get_if<Tensor<float>>(&y))
      add_file_entry(name, path, std::move(*f), spec, truth, req, p.bias != nullptr, entries, ms);
    else
      add_file_entry(name, path, std::get<Tensor<double>>(std::move(y)), spec, truth, req, p.bias != nullptr, entries,
                     ms);
  }

  AnalyzeResult r;
  std::int64_t violations = 0;
  json observed = json::array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    json same = json::object();
    for (std::size_t k = 0; k < entries.size(); ++k) {
      if (k == i) continue;
      const auto& a = e.y;
      const auto& b = entries[k].y;
      if (a.index() != b.index())
        same[entries[k].name] = nullptr;
      else if (a.index() == 0)
        same[entries[k].name] = identical_fraction(std::get<0>(a), std::get<0>(b));
      else
        same[entries[k].name] = identical_fraction(std::get<1>(a), std::get<1>(b));
    }
    json j = {{"name", e.name}, {"kind", e.kind}, {"params", e.params}};
    j.update(e.j);
    j["identical_fraction"] = same;
    observed.push_back(std::move(j));
    violations += ms[i].violations;
  }
  r.exit_code = violations > 0 && !req.allow_violations ? 1 : 0;
  r.doc["problem"] = problem_json(spec);
  r.doc["parameters"] = {{"dtype", req.f64 ? "f64" : "f32"},
                         {"orders", req.orders},
                         {"observed_files", json(req.files)},
                         {"rtol", req.rtol},
                         {"atol", req.atol},
                         {"lambda", req.lambda},
                         {"threads", resolve_threads(req.threads)},
                         {"truth_method", truth_method_name(TruthOptions{}.method)},
                         {"allow_violations", req.allow_violations}};
  r.doc["truth"] = truth_json(truth);
  r.doc["truth"]["seconds"] = truth_sec;
  r.doc["observed"] = std::move(observed);
  r.doc["skipped"] = std::move(skipped);
  r.doc["status"] = {{"violations", violations}, {"exit_code", r.exit_code}};
  r.table = summary_table(entries, ms);
  return r;
}

template AnalyzeResult analyze(const ConvProblem<float>&, const AnalyzeRequest&);
template AnalyzeResult analyze(const ConvProblem<double>&, const AnalyzeRequest&);

}  // namespace certconv
