// report/: the JSON conventions (non-finite numbers as null + "_status", exact
// values as "_hex") and the analyze/explain documents built from real results,
// checked against every key docs/json-schema.md lists.
#define BOOST_TEST_MODULE analyze_doc
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>

#include "certconv/analysis/analyze.hpp"
#include "certconv/analysis/explain.hpp"
#include "certconv/report/analyze_doc.hpp"
#include "certconv/report/explain_doc.hpp"
#include "certconv/report/json.hpp"
#include "schema_keys.hpp"

using namespace certconv;
using certconv::test::check_schema;

namespace {


// mb1ic8ih3oc2kh1 with x ≡ 1 and w ≡ 1/8 except channel 1, which cancels to 2^-20.
struct Problem {
  ConvSpec spec = parse_benchdnn("mb1ic8ih3oc2kh1");
  Tensor<float> x{spec.x_shape(), 1.0f}, w{spec.w_shape(), 0.125f};
  Problem() {
    const float cancel[8] = {1.0f, -1.0f, 0.5f, -0.5f, 0.25f, -0.25f, 0x1p-20f, 0.0f};
    for (int i = 0; i < 8; ++i) w(1, i, 0, 0) = cancel[i];
  }
  ConvProblem<float> view() const { return {spec, x, w, nullptr}; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(non_finite_numbers_are_null_with_status) {
  json j;
  put_number(j, "finite", 0.25);
  put_number(j, "up", kInf);
  put_number(j, "down", -kInf);
  put_number(j, "nan", std::nan(""));
  BOOST_TEST(j["finite"].get<double>() == 0.25);
  BOOST_TEST(!j.contains("finite_status"));
  BOOST_TEST(j["up"].is_null());
  BOOST_TEST(j["up_status"] == "+inf");
  BOOST_TEST(j["down_status"] == "-inf");
  BOOST_TEST(j["nan"].is_null());
  BOOST_TEST(j["nan_status"] == "nan");
  // Never a bare NaN/Infinity in the text.
  const std::string text = j.dump();
  BOOST_TEST(text.find("NaN") == std::string::npos);
  BOOST_TEST(text.find("Infinity") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(hex_values_round_trip_exactly) {
  for (const double v : {0.1, -1.0 / 3.0, 0x1p-1074, 0x1.fffffffffffffp+1023, 0.0}) {
    json j;
    put_exact(j, "v", v);
    const std::string hex = j["v_hex"];
    BOOST_TEST(std::strtod(hex.c_str(), nullptr) == v, hex);
    BOOST_TEST(j["v"].get<double>() == v);
  }
  json j;
  put_exact(j, "v", kInf);
  BOOST_TEST(j["v"].is_null());
  BOOST_TEST(j["v_status"] == "+inf");
  BOOST_TEST(j["v_hex"] == "inf");
}

BOOST_AUTO_TEST_CASE(analyze_document_has_every_documented_key) {
  const Problem p;
  const Truth t = compute_truth(p.view(), {});
  Tensor<float> mine = t.y32;
  mine(0, 0, 2, 1) += 0.5f;  // one certain violation
  AnalyzeRequest req;
  req.orders = {"im2col", "direct:fma=1"};
  req.observed.push_back({"mine", "<array>", mine, std::nullopt, "file", std::nullopt, std::nullopt});
  req.threads = 1;
  const AnalyzeResult r = analyze(p.view(), req);
  const json doc = analyze_document(p.spec, req, r, {{"source", "python"}, {"dtype", "f32"}});
  BOOST_TEST(doc["schema"] == kAnalyzeSchema);
  BOOST_TEST_REQUIRE(doc["observed"].size() == 3u);
  // provenance and seconds are documented for orders and backends only: the
  // schema check runs on the orders, and the user output has every other key.
  json orders_only = doc;
  orders_only["observed"].erase(2);
  check_schema(orders_only, {"Common fields (every document)", "certconv.analyze/1"});
  for (const std::string& k : certconv::test::documented_keys({"certconv.analyze/1"}))
    if (k.rfind("observed[].", 0) == 0 && k != "observed[].provenance" && k != "observed[].seconds")
      BOOST_TEST(certconv::test::has_path(doc["observed"][2], k.substr(11)), "user output lacks " << k);
  BOOST_TEST(doc["observed"][2]["params"] == "<array>");
  BOOST_TEST(doc["observed"][2]["kind"] == "file");
  BOOST_TEST(doc["observed"][2]["violations"] == 1);
  BOOST_TEST(doc["observed"][2]["violating"][0]["index"] == json({0, 0, 2, 1}));
  BOOST_TEST(doc["observed"][0]["kind"] == "order");
  BOOST_TEST(doc["parameters"]["observed_files"] == json::parse(R"([["mine", "<array>"]])"));
  BOOST_TEST(doc["parameters"]["dtype"] == "f32");
  BOOST_TEST(doc["status"]["violations"] == 1);
  BOOST_TEST(doc["status"]["exit_code"] == 1);
  // im2col and direct:fma=1 both sum in order here, and mine is correctly rounded elsewhere.
  BOOST_TEST(doc["observed"][0]["identical_fraction"]["mine"].get<double>() == 17.0 / 18.0);
  BOOST_TEST(doc["truth"]["exact_zeros"] == 0);
}

BOOST_AUTO_TEST_CASE(explain_document_has_every_documented_key) {
  const Problem p;
  const Truth t = compute_truth(p.view(), {});
  Tensor<float> b = t.y32;
  b(0, 1, 0, 0) += 0x1p-22f;  // round-off at cond ≈ 2^21: isclose fails, no bug
  TruthOptions topt;
  topt.threads = 1;
  const std::pair<std::string, std::string> f64_orders{"im2col", "direct"};
  const ExplainOutcome o = explain_problem(p.view(), t.y32, b, ExplainRequest{}, f64_orders, topt);
  BOOST_REQUIRE(o.f64.has_value());
  const ExplainResult &r = o.result, &r64 = *o.f64;
  const json doc = explain_document(p.spec, o, 1, {{"source", "python"}});
  BOOST_TEST(doc["schema"] == kExplainSchema);
  check_schema(doc, {"Common fields (every document)", "certconv.explain/1"});
  BOOST_TEST(doc["consistent_with_some_order"] == json({{"A", true}, {"B", true}}));
  BOOST_TEST(doc["isclose"]["failures"] == 1);
  BOOST_TEST(doc["isclose"]["failing"][0]["index"] == json({0, 1, 0, 0}));
  BOOST_TEST(doc["parameters"]["f64_orders"] == json({"im2col", "direct"}));
  BOOST_TEST(doc["parameters"]["dtype"] == "f32");
  BOOST_TEST(doc["verdict"] == r.verdict);
  BOOST_TEST(doc["f64"]["verdict"] == r64.verdict);
  BOOST_TEST(doc["f64"]["observed"][0]["dtype"] == "f64");
  BOOST_TEST(doc["certified_tolerance"]["atol_hex"].is_string());
  BOOST_TEST(!doc["observed"][1].contains("suggested_cause"));
}
