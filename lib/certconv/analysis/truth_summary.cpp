// The truth's cond distribution and counts, for the documents' "truth" block.
#include "certconv/analysis/truth_summary.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

#include "certconv/core/parallel.hpp"

namespace certconv {

TruthSummary summarize_truth(const Truth& t, int threads) {
  std::vector<double> cond(t.y.data.size());
  std::atomic<std::int64_t> above_1e3{0}, above_1e6{0};
  parallel_for(static_cast<std::int64_t>(cond.size()), resolve_threads(threads), [&](std::int64_t b, std::int64_t e) {
    std::int64_t n3 = 0, n6 = 0;
    for (auto i = static_cast<std::size_t>(b); i < static_cast<std::size_t>(e); ++i) {
      cond[i] = cond_of(t.absdot.data[i], t.y.data[i]);
      n3 += cond[i] > 1e3;
      n6 += cond[i] > 1e6;
    }
    above_1e3 += n3;
    above_1e6 += n6;
  });
  const double count = static_cast<double>(std::max<std::size_t>(1, cond.size()));
  TruthSummary s;
  s.cond_fraction_above_1e3 = static_cast<double>(above_1e3) / count;
  s.cond_fraction_above_1e6 = static_cast<double>(above_1e6) / count;
  s.cond = distribution(cond, threads);
  s.exact_zeros = t.exact_zeros;
  s.undetermined = t.undetermined;
  s.fallback_fraction =
      static_cast<double>(t.fallback) / static_cast<double>(std::max<std::int64_t>(1, t.y.size()));
  return s;
}

}  // namespace certconv
