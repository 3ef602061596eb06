#pragma once
// Order statistics of a sample (quantiles by the nearest-rank method), used for
// cond, norm_err and ulp_err distributions. +inf values sort last; NaN is never
// passed in (callers map undefined values to +inf or skip them).
#include <cstdint>
#include <vector>

namespace certconv {

struct Distribution {
  std::int64_t count = 0;
  double min = 0, median = 0, p99 = 0, max = 0, mean = 0;  // mean over finite values
};

// Sorts `v` in place.
Distribution distribution(std::vector<double>& v);

// Nearest-rank quantile q in [0, 1] of sorted v (v nonempty).
double quantile_sorted(const std::vector<double>& v, double q);

// Fraction of v strictly above t.
double fraction_above(const std::vector<double>& v, double t);

}  // namespace certconv
