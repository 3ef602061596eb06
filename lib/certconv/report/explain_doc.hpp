#pragma once
// Schema certconv.explain/1 (docs/json-schema.md): the one place that builds it,
// for `certconv explain`, `certconv example seed` and the Python module.
#include <nlohmann/json.hpp>

#include "certconv/analysis/explain.hpp"
#include "certconv/analysis/truth_summary.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

inline constexpr const char* kExplainSchema = "certconv.explain/1";

// The whole document: header (provenance), problem, `inputs` as the caller
// describes them, parameters, truth, and the explanation of r; with f64 (A and
// B recomputed in float64 by the orders named in f64's sides), its "f64" block.
nlohmann::json explain_document(const ConvSpec& spec, const TruthSummary& truth, const ExplainResult& r,
                                const ExplainResult* f64, int threads, nlohmann::json inputs);

}  // namespace certconv
