#pragma once
// Metrics of a lowered problem (core/lower.hpp) in its result's own layout: the
// flat index and the coordinates of every record and sample point name the
// element of y, dx, dw or db, not of the 2-D forward problem that computed it.
#include <cstdint>
#include <vector>

#include "certconv/analysis/metrics.hpp"

namespace certconv {

// to_natural: Lowered::to_natural (empty: same layout); shape: the result's.
void relabel(OutputRecord& r, const std::vector<std::int64_t>& to_natural, const std::vector<std::int64_t>& shape);
void relabel(ObservedMetrics& m, const std::vector<std::int64_t>& to_natural, const std::vector<std::int64_t>& shape);

}  // namespace certconv
