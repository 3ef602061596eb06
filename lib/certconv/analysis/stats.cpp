#include "certconv/analysis/stats.hpp"

#include <algorithm>
#include <cmath>

namespace certconv {

double quantile_sorted(const std::vector<double>& v, double q) {
  // Nearest rank: the smallest value with at least q·N values ≤ it.
  const auto n = static_cast<double>(v.size());
  auto rank = static_cast<std::size_t>(std::ceil(q * n));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

Distribution distribution(std::vector<double>& v) {
  Distribution d;
  d.count = static_cast<std::int64_t>(v.size());
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  d.min = v.front();
  d.max = v.back();
  d.median = quantile_sorted(v, 0.5);
  d.p99 = quantile_sorted(v, 0.99);
  double sum = 0;
  std::int64_t finite = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++finite;
    }
  d.mean = finite ? sum / static_cast<double>(finite) : 0;
  return d;
}

double fraction_above(const std::vector<double>& v, double t) {
  if (v.empty()) return 0;
  const auto n = std::count_if(v.begin(), v.end(), [t](double x) { return x > t; });
  return static_cast<double>(n) / static_cast<double>(v.size());
}

}  // namespace certconv
