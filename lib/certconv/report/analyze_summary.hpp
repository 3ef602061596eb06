#pragma once
// The readable summary of an analysis that `certconv analyze` prints: one row
// per observed output (dtype, norm_err, ulp_err, correctly rounded share, bound
// kind, tightness, violations, isclose failures).
#include <string>

#include "certconv/analysis/analyze.hpp"

namespace certconv {

std::string analyze_summary_table(const AnalyzeResult& r);

}  // namespace certconv
