#pragma once
// Schema certconv.identify/1 (docs/json-schema.md): the one place that builds it,
// for `certconv identify`.
#include <nlohmann/json.hpp>

#include "certconv/analysis/identify.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

inline constexpr const char* kIdentifySchema = "certconv.identify/1";

// The whole document: header (provenance), problem, `inputs` as the caller
// describes them, parameters, and every candidate of r (dtype: of the output y).
// `reveal`: what identify --reveal-* found when no candidate matched (null if not run).
nlohmann::json identify_document(const ConvSpec& spec, const IdentifyResult& r, Dtype dtype, int threads,
                                 nlohmann::json inputs, nlohmann::json reveal = nullptr);
// One result of any direction and rank: as above, with the problem block of
// report/json.hpp's problem_json(desc, dir, result, lowered).
nlohmann::json identify_document(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered,
                                 const IdentifyResult& r, Dtype dtype, int threads, nlohmann::json inputs);

}  // namespace certconv
