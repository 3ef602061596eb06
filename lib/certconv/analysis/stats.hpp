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

// O(N) with `threads` workers (0 = all cores), the same result for every thread
// count: quantiles by selection, the mean summed in fixed chunks of 2^16 values
// whose sums are added in order (one chunk: the plain sum in v's order).
Distribution distribution(const std::vector<double>& v, int threads = 1);

// The selection as a plain nth_element over a copy: the oracle of the above.
Distribution distribution_serial(std::vector<double> v);

// Fraction of v strictly above t.
double fraction_above(const std::vector<double>& v, double t);

}  // namespace certconv
