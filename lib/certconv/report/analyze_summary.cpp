// The stdout table of `certconv analyze` (report/analyze_summary.hpp).
#include "certconv/report/analyze_summary.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace certconv {

namespace {

std::string fmt(double v, const char* f = "%.3g") {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::string analyze_summary_table(const AnalyzeResult& r) {
  std::ostringstream o;
  char line[512];
  std::snprintf(line, sizeof line, "%-34s %-4s %11s %11s %9s %8s %-22s %9s %6s %8s\n", "observed", "type",
                "max norm_e", "mean norm_e", "max ulp", "CR %", "bound_kind", "max tight", "viol", "isclose!");
  o << line;
  for (const ObservedResult& e : r.observed) {
    const ObservedMetrics& m = e.metrics;
    const std::string name = e.name.size() > 34 ? e.name.substr(0, 31) + "..." : e.name;
    std::snprintf(line, sizeof line, "%-34s %-4s %11s %11s %9s %8s %-22s %9s %6lld %8lld\n", name.c_str(),
                  dtype_name(e.dtype), fmt(m.norm_err.max).c_str(), fmt(m.norm_err.mean).c_str(),
                  fmt(m.ulp_err.max).c_str(), fmt(100 * m.correctly_rounded_fraction, "%.2f").c_str(),
                  e.bound_kind.c_str(), fmt(m.max_tightness).c_str(), static_cast<long long>(m.violations),
                  static_cast<long long>(m.isclose_failures));
    o << line;
  }
  return o.str();
}

}  // namespace certconv
