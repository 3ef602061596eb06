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

// Reorders `v` (partial selection, not a full sort: O(N)).
Distribution distribution(std::vector<double>& v);

// Fraction of v strictly above t.
double fraction_above(const std::vector<double>& v, double t);

}  // namespace certconv
