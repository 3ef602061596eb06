// Schema certconv.explain/1: the document from an ExplainResult (report/explain_doc.hpp).
#include "certconv/report/explain_doc.hpp"

#include <string>

#include "certconv/core/format.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/metadata.hpp"

namespace certconv {

namespace {

json cond_json(const CondSummary& c) {
  json j = distribution_json(c.cond);
  j["fraction_above_1e3"] = c.fraction_above_1e3;
  j["fraction_above_1e6"] = c.fraction_above_1e6;
  return j;
}

// observed, consistent_with_some_order, isclose, certified_tolerance, verdict:
// the top level of the document, and again its "f64" block.
json explanation_json(const ExplainResult& r) {
  json doc;
  json observed = json::array(), consistent = json::object();
  for (const ExplainSide& s : r.sides) {
    json j = metrics_json(s.metrics);
    j["name"] = s.name;
    j["kind"] = "file";
    j["dtype"] = output_format_name(s.format);
    j["u"] = unit_roundoff(s.format);
    j["bound_kind"] = bound_kind_name(s.bound_kind);
    if (j.contains("samples")) j["samples"]["isclose_failure_means"] = "torch.isclose(A, B, rtol, atol) is false";
    if (!s.consistent) j["suggested_cause"] = s.suggested_cause;
    observed.push_back(std::move(j));
    consistent[s.name] = s.consistent;
  }
  json failing = json::array();
  for (const IscloseFailure& f : r.failing) {
    json j = {{"index", f.index}};
    put_number(j, "cond", f.cond);
    put_exact(j, "truth", f.truth);
    put_exact(j, "a", f.a);
    put_exact(j, "b", f.b);
    put_number(j, "err_a", f.err_a);
    put_number(j, "err_b", f.err_b);
    put_number(j, "bound_a", f.bound_a);
    put_number(j, "bound_b", f.bound_b);
    j["dominant"] = r.sides[f.dominant].name;
    failing.push_back(std::move(j));
  }
  doc["observed"] = std::move(observed);
  doc["consistent_with_some_order"] = std::move(consistent);
  const bool wide = r.sides[0].format == OutputFormat::f64 || r.sides[1].format == OutputFormat::f64;
  doc["isclose"] = {{"semantics", std::string("torch.isclose(A, B, rtol, atol): |A - B| <= atol + rtol*|B|, evaluated "
                                              "in ") + (wide ? "float64" : "float32")},
                    {"failures_dominated", {{r.sides[0].name, r.failures_dominated[0]},
                                            {r.sides[1].name, r.failures_dominated[1]}}},
                    {"rtol", r.rtol},
                    {"atol", r.atol},
                    {"failures", r.failures},
                    {"listed", r.failing.size()},
                    {"failing", std::move(failing)},
                    {"cond_all", cond_json(r.cond_all)},
                    {"cond_failing", cond_json(r.cond_failing)}};
  json tol;
  put_exact(tol, "atol", r.certified_atol);
  put_number(tol, "rtol", r.certified_rtol);
  tol["rtol_with_atol"] = r.atol;
  put_number(tol, "max_abs_diff", r.max_abs_diff);
  tol["per_element"] =
      "|A - B| <= bound_A + bound_B, each side's order-free rigorous bound in its format (Higham 2002 §3.1, γ_n; "
      "plus input and output rounding for bf16/fp16, docs/reduced-precision.md)";
  tol["meaning"] = "atol: guaranteed with rtol = 0; rtol: guaranteed together with the requested atol";
  doc["certified_tolerance"] = std::move(tol);
  doc["verdict"] = r.verdict;
  return doc;
}

}  // namespace

json explain_document(const ConvSpec& spec, const ExplainOutcome& o, int threads, json inputs) {
  const ExplainResult& r = o.result;
  const std::optional<ExplainResult>& f64 = o.f64;
  json doc = document_header(kExplainSchema, resolve_threads(threads));
  doc["problem"] = problem_json(spec);
  doc["inputs"] = std::move(inputs);
  doc["parameters"] = {{"names", {r.sides[0].name, r.sides[1].name}},
                       {"rtol", r.rtol},
                       {"atol", r.atol},
                       {"dtype", r.sides[0].format == r.sides[1].format ? json(output_format_name(r.sides[0].format))
                                                                        : json(nullptr)},
                       {"formats", {output_format_name(r.sides[0].format), output_format_name(r.sides[1].format)}},
                       {"f64_orders", f64 ? json{f64->sides[0].name, f64->sides[1].name} : json(nullptr)},
                       {"threads", resolve_threads(threads)},
                       {"truth_method", truth_method_name(TruthOptions{}.method)}};
  doc["truth"] = truth_json(o.truth);
  doc.update(explanation_json(r));
  if (f64) doc["f64"] = explanation_json(*f64);
  return doc;
}

json explain_document(const ConvDesc& d, Direction dir, const std::string& result, const ConvSpec& lowered,
                      const ExplainOutcome& o, int threads, json inputs) {
  json doc = explain_document(lowered, o, threads, std::move(inputs));
  doc["problem"] = problem_json(d, dir, result, lowered);
  return doc;
}

}  // namespace certconv
