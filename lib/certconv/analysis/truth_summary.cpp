// The truth's cond distribution and counts, for the documents' "truth" block.
#include "certconv/analysis/truth_summary.hpp"

#include <algorithm>
#include <vector>


namespace certconv {

TruthSummary summarize_truth(const Truth& t) {
  std::vector<double> cond(t.y.data.size());
  for (std::size_t i = 0; i < cond.size(); ++i) cond[i] = cond_of(t.absdot.data[i], t.y.data[i]);
  TruthSummary s;
  s.cond_fraction_above_1e3 = fraction_above(cond, 1e3);
  s.cond_fraction_above_1e6 = fraction_above(cond, 1e6);
  s.cond = distribution(cond);
  s.exact_zeros = t.exact_zeros;
  s.undetermined = t.undetermined;
  s.fallback_fraction =
      static_cast<double>(t.fallback) / static_cast<double>(std::max<std::int64_t>(1, t.y.size()));
  return s;
}

}  // namespace certconv
