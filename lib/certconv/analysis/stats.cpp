#include "certconv/analysis/stats.hpp"

#include <algorithm>
#include <cmath>

namespace certconv {

namespace {

// Nearest rank: the smallest value with at least q·N values ≤ it, as a 0-based index.
std::size_t rank_index(std::size_t n, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  return std::clamp<std::size_t>(rank, 1, n) - 1;
}

}  // namespace

Distribution distribution(std::vector<double>& v) {
  Distribution d;
  d.count = static_cast<std::int64_t>(v.size());
  if (v.empty()) return d;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  d.min = *lo;
  d.max = *hi;
  double sum = 0;
  std::int64_t finite = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++finite;
    }
  d.mean = finite ? sum / static_cast<double>(finite) : 0;
  // Selection instead of sorting: after the first nth_element everything left of
  // i99 is ≤ v[i99], so the median (i50 ≤ i99) is selected within that prefix.
  const std::size_t i99 = rank_index(v.size(), 0.99), i50 = rank_index(v.size(), 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i99), v.end());
  d.p99 = v[i99];
  if (i50 < i99) std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i50), v.begin() + static_cast<std::ptrdiff_t>(i99));
  d.median = v[i50];
  return d;
}

double fraction_above(const std::vector<double>& v, double t) {
  if (v.empty()) return 0;
  const auto n = std::count_if(v.begin(), v.end(), [t](double x) { return x > t; });
  return static_cast<double>(n) / static_cast<double>(v.size());
}

}  // namespace certconv
