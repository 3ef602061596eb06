#pragma once
// Schema certconv.analyze/1 (docs/json-schema.md): the one place that builds it,
// for `certconv analyze`, the batch runner and the Python module.
#include <nlohmann/json.hpp>

#include "certconv/analysis/analyze.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

inline constexpr const char* kAnalyzeSchema = "certconv.analyze/1";

// The whole document: header (provenance), problem, `inputs` as the caller
// describes them, parameters (from req), truth, observed, skipped and status.
nlohmann::json analyze_document(const ConvSpec& spec, const AnalyzeRequest& req, const AnalyzeResult& r,
                                nlohmann::json inputs);
// One result of any direction and rank (r from analyze(desc, dir, ...)): as above,
// with the problem block of report/json.hpp's problem_json(desc, dir, r.result, *r.lowered).
nlohmann::json analyze_document(const ConvDesc& d, Direction dir, const AnalyzeRequest& req, const AnalyzeResult& r,
                                nlohmann::json inputs);

}  // namespace certconv
