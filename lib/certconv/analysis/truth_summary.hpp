#pragma once
// What the documents say about the certified truth itself: the cond
// distribution over the outputs (cond = absdot/|y|, +inf where y = 0), the
// fractions above 1e3 and 1e6, exact zeros and how much the fast path left to
// the exact accumulator.
#include <cstdint>

#include "certconv/analysis/stats.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv {

struct TruthSummary {
  Distribution cond;
  double cond_fraction_above_1e3 = 0, cond_fraction_above_1e6 = 0;
  std::int64_t exact_zeros = 0, undetermined = 0;
  double fallback_fraction = 0;  // outputs the fast path left to the exact accumulator
};

// threads: 0 = all cores; the summary is the same for every count.
TruthSummary summarize_truth(const Truth& t, int threads = 1);

}  // namespace certconv
