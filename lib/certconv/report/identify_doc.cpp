// Schema certconv.identify/1: the document from an IdentifyResult (report/identify_doc.hpp).
#include "certconv/report/identify_doc.hpp"

#include "certconv/core/parallel.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/metadata.hpp"

namespace certconv {

namespace {

json candidate_json(const IdentifyCandidate& c) {
  json j{{"order", order_str(c.order)},
         {"params", c.order.params},
         {"identical_fraction", c.identical_fraction},
         {"mismatches", c.mismatches}};
  if (c.mismatches == 0) {
    j["max_norm_err_of_mismatches"] = nullptr;  // nothing differs
    j["max_norm_dist_of_mismatches"] = nullptr;
  } else {
    put_number(j, "max_norm_err_of_mismatches", c.max_norm_err_of_mismatches);
    put_number(j, "max_norm_dist_of_mismatches", c.max_norm_dist_of_mismatches);
  }
  return j;
}

}  // namespace

json identify_document(const ConvSpec& spec, const IdentifyResult& r, Dtype dtype, int threads, json inputs,
                       json reveal) {
  json doc = document_header(kIdentifySchema, resolve_threads(threads));
  doc["problem"] = problem_json(spec);
  doc["inputs"] = std::move(inputs);
  doc["dtype"] = dtype_name(dtype);
  doc["parameters"] = {{"dtype", dtype_name(dtype)},
                       {"threads", resolve_threads(threads)},
                       {"truth_method", truth_method_name(TruthOptions{}.method)}};
  doc["equality"] = "bitwise (-0.0 and +0.0 differ)";
  doc["norm_err"] = "max_norm_err_of_mismatches: |y - truth| / (u * absdot); max_norm_dist_of_mismatches: "
                    "|y - candidate| / (u * absdot); both over the elements where the candidate differs from y";
  json matches = json::array();
  for (const IdentifyCandidate& c : r.candidates)
    if (c.mismatches == 0) matches.push_back(order_str(c.order));
  doc["identified"] = matches.empty() ? json(nullptr) : matches.front();
  doc["matches"] = std::move(matches);
  json cands = json::array(), skipped = json::array();
  for (const IdentifyCandidate& c : r.candidates) cands.push_back(candidate_json(c));
  for (const auto& [order, why] : r.skipped) skipped.push_back({{"order", order}, {"reason", why}});
  doc["candidates"] = std::move(cands);
  doc["skipped"] = std::move(skipped);
  doc["reveal"] = std::move(reveal);
  return doc;
}

json identify_document(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered,
                       const IdentifyResult& r, Dtype dtype, int threads, json inputs) {
  json doc = identify_document(lowered, r, dtype, threads, std::move(inputs));
  doc["problem"] = problem_json(d, dir, result, lowered);
  return doc;
}

}  // namespace certconv
