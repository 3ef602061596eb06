// JSON building blocks shared by the documents (report/json.hpp).
#include "certconv/report/json.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/format.hpp"
#include "certconv/report/metadata.hpp"
#include "certconv/report/sha256.hpp"

namespace certconv {

void put_number(json& j, const std::string& key, double v) {
  if (std::isfinite(v)) {
    j[key] = v;
    return;
  }
  j[key] = nullptr;
  j[key + "_status"] = std::isnan(v) ? "nan" : (v > 0 ? "+inf" : "-inf");
}

void put_exact(json& j, const std::string& key, double v) {
  put_number(j, key, v);
  j[key + "_hex"] = hex_double(v);
}

json problem_json(const ConvSpec& s) {
  return {{"desc", to_benchdnn(s)}, {"name", s.name}, {"g", s.g},   {"mb", s.mb}, {"ic", s.ic}, {"ih", s.ih},
          {"iw", s.iw},            {"oc", s.oc},     {"oh", s.oh}, {"ow", s.ow}, {"kh", s.kh}, {"kw", s.kw},
          {"sh", s.sh},            {"sw", s.sw},     {"ph", s.ph}, {"pw", s.pw}, {"dh", s.dh}, {"dw", s.dw},
          {"n_terms", s.n_terms()}, {"outputs", s.y_size()}};
}

json problem_json(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered) {
  json j{{"desc", to_benchdnn(d)}, {"name", d.name}, {"rank", d.rank}, {"direction", direction_name(dir)},
         {"result", result}, {"g", d.g}, {"mb", d.mb}, {"ic", d.ic}, {"oc", d.oc}};
  static constexpr std::array<const char*, 3> letter = {"d", "h", "w"};
  for (int a = 3 - d.rank; a < 3; ++a) {
    const ConvAxis& x = d.axis[a];
    const std::string l = letter[a];
    j["i" + l] = x.i, j["o" + l] = x.o, j["k" + l] = x.k, j["s" + l] = x.s, j["p" + l] = x.p, j["d" + l] = x.d;
  }
  // The 2-D forward problem it was computed as (core/lower.hpp): its n_terms
  // counts the inserted zeros of BWD_D and the depth padding of 3-D.
  j["lowered"] = to_benchdnn(lowered);
  j["n_terms"] = lowered.n_terms();
  j["outputs"] = lowered.y_size();
  return j;
}

json distribution_json(const Distribution& d) {
  json j{{"count", d.count}};
  put_number(j, "min", d.min);
  put_number(j, "median", d.median);
  put_number(j, "p99", d.p99);
  put_number(j, "max", d.max);
  put_number(j, "mean", d.mean);
  return j;
}

json record_json(const OutputRecord& r) {
  json j{{"index", r.coords}, {"flat_index", r.index}};
  put_exact(j, "truth", r.truth);
  put_exact(j, "observed", r.observed);
  put_number(j, "cond", r.cond);
  put_number(j, "bound", r.bound);
  put_number(j, "abs_err", r.abs_err);
  put_number(j, "norm_err", r.norm_err);
  return j;
}

json histogram_json(const Histogram& h) {
  return {{"quantity", "norm_err"}, {"edges", h.edges}, {"counts", h.counts},
          {"bins", "counts[0]: norm_err < edges[0]; counts[i]: edges[i-1] <= norm_err < edges[i]; last: >= edges[-1]"}};
}

json metrics_json(const ObservedMetrics& m) {
  json j;
  for (const auto& [name, d] : {std::pair<const char*, const Distribution*>{"norm_err", &m.norm_err},
                                {"ulp_err", &m.ulp_err},
                                {"rel_err", &m.rel_err}}) {
    put_number(j, std::string("max_") + name, d->max);
    put_number(j, std::string("mean_") + name, d->mean);
    put_number(j, std::string("median_") + name, d->median);
    put_number(j, std::string("p99_") + name, d->p99);
  }
  j["infinite_norm_err_count"] = m.nonfinite_norm_err;
  put_number(j, "max_abs_err", m.max_abs_err);
  j["correctly_rounded_fraction"] = m.correctly_rounded_fraction;
  put_number(j, "max_tightness", m.max_tightness);
  j["violations"] = m.violations;
  j["violating"] = json::array();
  for (const auto& r : m.violating) j["violating"].push_back(record_json(r));
  j["prob_outside_fraction"] = m.prob_outside_fraction;
  j["isclose_failures"] = m.isclose_failures;
  j["norm_err_histogram"] = histogram_json(m.histogram);
  j["worst"] = json::array();
  for (const auto& r : m.worst) j["worst"].push_back(record_json(r));
  if (m.norm_bound) j["norm_bound"] = distribution_json(*m.norm_bound);
  if (m.sample) j["samples"] = sample_json(*m.sample);
  return j;
}

namespace {

// Plot data needs no more: 3 significant digits keep the samples short. +inf
// (cond where y = 0, norm_err where absdot = 0) is the only non-finite value
// and is written null.
json plot_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return std::strtod(buf, nullptr);
}

}  // namespace

json sample_json(const OutputSample& s) {
  json cond = json::array(), norm_err = json::array(), failure = json::array();
  for (std::size_t j = 0; j < s.index.size(); ++j) {
    cond.push_back(plot_number(s.cond[j]));
    norm_err.push_back(plot_number(s.norm_err[j]));
    failure.push_back(s.isclose_failure[j] ? 1 : 0);
  }
  return {{"outputs", s.outputs},
          {"cap", s.cap},
          {"count", s.index.size()},
          {"worst", s.worst},
          {"isclose_failures", s.failures},
          {"failure_step", s.failure_step},
          {"stride", s.stride},
          {"method", "the " + std::to_string(s.worst) + " largest norm_err; every failure_step-th isclose failure "
                     "by index; then every stride-th output from index 0; at most cap in all, deterministic"},
          {"values", "cond and norm_err rounded to 3 significant digits; null = +inf"},
          {"flat_index", s.index},
          {"cond", std::move(cond)},
          {"norm_err", std::move(norm_err)},
          {"isclose_failure", std::move(failure)}};
}

json truth_json(const TruthSummary& t) {
  json j;
  j["cond"] = distribution_json(t.cond);
  j["cond_fraction_above_1e3"] = t.cond_fraction_above_1e3;
  j["cond_fraction_above_1e6"] = t.cond_fraction_above_1e6;
  j["exact_zeros"] = t.exact_zeros;
  j["undetermined"] = t.undetermined;
  j["fallback_fraction"] = t.fallback_fraction;
  return j;
}

json file_json(const std::string& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  return {{"path", path}, {"sha256", sha256_file(path)}, {"bytes", ec ? 0 : bytes}};
}

template <class T>
json tensor_json(const Tensor<T>& t) {
  const std::string bytes(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(T));
  return {{"shape", t.shape}, {"dtype", dtype_name(dtype_of<T>())}, {"sha256", sha256_hex(bytes)},
          {"bytes", bytes.size()}};
}

template json tensor_json(const Tensor<float>&);
template json tensor_json(const Tensor<double>&);

namespace {

// As json::dump(2), except that an array of numbers, strings, booleans or nulls
// stays on one line: the samples would otherwise take a line per value.
void dump_to(const json& j, int depth, std::string& out) {
  const auto pad = [&](int d) { out.append(static_cast<std::size_t>(2 * d), ' '); };
  const bool leaf_array =
      j.is_array() && std::none_of(j.begin(), j.end(), [](const json& e) { return e.is_structured(); });
  if (!j.is_structured() || j.empty() || leaf_array) {
    out += j.dump();
    return;
  }
  out += j.is_object() ? "{\n" : "[\n";
  bool first = true;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!first) out += ",\n";
    first = false;
    pad(depth + 1);
    if (j.is_object()) out += json(it.key()).dump() + ": ";
    dump_to(*it, depth + 1, out);
  }
  out += '\n';
  pad(depth);
  out += j.is_object() ? '}' : ']';
}

}  // namespace

void write_json(const std::string& path, const json& j) {
  std::string text;
  dump_to(j, 0, text);
  write_file_atomic(path, text + "\n");
}

}  // namespace certconv
