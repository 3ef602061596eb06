#pragma once
// Schema certconv.explain/1 (docs/json-schema.md): the one place that builds it,
// for `certconv explain`, `certconv example seed` and the Python module.
#include <nlohmann/json.hpp>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/direction.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

inline constexpr const char* kExplainSchema = "certconv.explain/1";

// The whole document: header (provenance), problem, `inputs` as the caller
// describes them, parameters, truth, and the explanation; with the float64
// rerun (A and B recomputed by the orders named in its sides), its "f64" block.
nlohmann::json explain_document(const ConvSpec& spec, const ExplainOutcome& o, int threads, nlohmann::json inputs);
// Any direction and rank: the same document, its problem block that of
// report/json.hpp's problem_json(desc, dir, result, lowered).
nlohmann::json explain_document(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered,
                                const ExplainOutcome& o, int threads, nlohmann::json inputs);

}  // namespace certconv
