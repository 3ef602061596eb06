// Schema certconv.analyze/1: the document from an AnalyzeResult (report/analyze_doc.hpp).
#include "certconv/report/analyze_doc.hpp"

#include <stdexcept>

#include "certconv/core/parallel.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/metadata.hpp"

namespace certconv {

namespace {

json observed_json(const ObservedResult& o, double lambda) {
  json j = metrics_json(o.metrics);
  j["name"] = o.name;
  j["kind"] = o.kind;
  j["params"] = o.params;
  j["dtype"] = output_format_name(o.format);
  j["u"] = o.u;
  j["bound_kind"] = o.bound_kind;
  if (j.contains("samples"))
    j["samples"]["isclose_failure_means"] = "isclose(observed, truth rounded to its dtype, rtol, atol) is false";
  j["probabilistic"] = {{"lambda", lambda},
                        {"gamma_tilde", o.probabilistic.bound},
                        {"probability_at_least", o.probabilistic.probability},
                        {"theorem", "Higham & Mary, SISC 41(5) 2019, Thm 3.1; a model, not a rigorous bound"}};
  if (o.running_bound)
    j["running_bound"] = {{"theorem", "Higham 2002 §3.3 (a posteriori)"},
                          {"violations", o.running_bound->violations},
                          {"max_tightness", o.running_bound->max_tightness}};
  if (o.provenance) j["provenance"] = *o.provenance;
  if (o.seconds) j["seconds"] = *o.seconds;
  json same = json::object();
  for (const auto& [name, fraction] : o.identical_fraction)
    same[name] = fraction ? json(*fraction) : json(nullptr);
  j["identical_fraction"] = std::move(same);
  return j;
}

}  // namespace

json analyze_document(const ConvSpec& spec, const AnalyzeRequest& req, const AnalyzeResult& r, json inputs) {
  json doc = document_header(kAnalyzeSchema, resolve_threads(req.threads));
  doc["inputs"] = std::move(inputs);
  doc["problem"] = problem_json(spec);
  json files = json::array();
  for (const Observed& o : req.observed) files.push_back({o.name, o.source});
  doc["parameters"] = {{"dtype", dtype_name(req.dtype)},
                       {"orders", req.orders},
                       {"observed_files", std::move(files)},
                       {"rtol", req.rtol},
                       {"atol", req.atol},
                       {"lambda", req.lambda},
                       {"threads", resolve_threads(req.threads)},
                       {"truth_method", truth_method_name(TruthOptions{}.method)},
                       {"allow_violations", req.allow_violations}};
  doc["truth"] = truth_json(r.truth);
  doc["truth"]["seconds"] = r.truth_seconds;
  json observed = json::array();
  for (const ObservedResult& o : r.observed) observed.push_back(observed_json(o, req.lambda));
  doc["observed"] = std::move(observed);
  json skipped = json::array();
  for (const SkippedOrder& s : r.skipped) skipped.push_back({{"order", s.order}, {"reason", s.reason}});
  doc["skipped"] = std::move(skipped);
  doc["status"] = {{"violations", r.violations}, {"exit_code", r.exit_code}};
  return doc;
}

json analyze_document(const ConvDesc& d, Direction dir, const AnalyzeRequest& req, const AnalyzeResult& r,
                      json inputs) {
  if (!r.lowered) throw std::logic_error("analyze_document: r is not the result of a directional analyze");
  json doc = analyze_document(*r.lowered, req, r, std::move(inputs));
  doc["problem"] = problem_json(d, dir, r.result, *r.lowered);
  return doc;
}

}  // namespace certconv
