#define BOOST_TEST_MODULE cli_analyze
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "certconv/exact/truth.hpp"
#include "certconv/core/npy.hpp"
#include "cli_util.hpp"
#include "schema_keys.hpp"

using namespace certconv;
using certconv::test::check_schema;
using certconv::test::run_cli;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

json load(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

struct Case {
  fs::path dir;
  ConvSpec spec;
  std::string x, w;
};

// A 1×1 convolution with x ≡ 1: output channel 0 is well-conditioned (all
// weights 1/8), channel 1 cancels to 2^-20 (cond ≈ 2^21).
Case make_case(const std::string& name) {
  Case c{certconv::test::scratch_dir(name), parse_benchdnn("mb1ic8ih3oc2kh1"), {}, {}};
  Tensor<float> x(c.spec.x_shape(), 1.0f), w(c.spec.w_shape(), 0.125f);
  const float cancel[8] = {1.0f, -1.0f, 0.5f, -0.5f, 0.25f, -0.25f, 0x1p-20f, 0.0f};
  for (int i = 0; i < 8; ++i) w(1, i, 0, 0) = cancel[i];
  c.x = (c.dir / "x.npy").string();
  c.w = (c.dir / "w.npy").string();
  write_npy(c.x, x);
  write_npy(c.w, w);
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(analyze_integer_inputs_every_order_exact_and_schema) {
  const auto dir = certconv::test::scratch_dir("analyze-int");
  const std::string out = (dir / "a.json").string();
  const auto r = run_cli({"analyze", "--spec", "mb2ic6ih7oc4kh3ph1", "--gen", "integer", "--seed", "3", "--orders",
                          "all", "--json", out, "--threads", "2"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err << r.out);
  const json doc = load(out);
  BOOST_TEST(doc["schema"] == "certconv.analyze/1");
  check_schema(doc, {"Common fields (every document)", "certconv.analyze/1"});
  BOOST_TEST(doc["observed"].size() >= 8u);
  for (const auto& o : doc["observed"]) {
    if (o["name"] == "winograd") continue;  // its transforms round (1/6, 1/12, ... are not binary)
    BOOST_TEST(o["correctly_rounded_fraction"].get<double>() == 1.0, o["name"]);
    BOOST_TEST(o["max_norm_err"].get<double>() == 0.0, o["name"]);
    BOOST_TEST(o["violations"].get<int>() == 0, o["name"]);
  }
  BOOST_TEST(contains(r.out, "im2col"));
}

BOOST_AUTO_TEST_CASE(analyze_exits_1_on_injected_violation_and_names_index) {
  Case c = make_case("analyze-viol");
  const Truth t = compute_truth(
      ConvProblem<float>{c.spec, read_npy_as<float>(c.x, "x"), read_npy_as<float>(c.w, "w"), nullptr}, {});
  Tensor<float> y = t.y32;
  y(0, 0, 2, 1) += 0.5f;  // far beyond n·u·absdot ≈ 8·2^-24
  const std::string yp = (c.dir / "mine.npy").string(), out = (c.dir / "a.json").string();
  write_npy(yp, y);
  auto r = run_cli({"analyze", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, "--observed", "mine=" + yp,
                    "--orders", "direct", "--json", out});
  BOOST_TEST(r.rc == 1, r.err);
  BOOST_TEST(contains(r.out, "VIOLATION mine at index [0,0,2,1]"), r.out);
  const json doc = load(out);
  BOOST_TEST(doc["status"]["violations"] == 1);
  BOOST_TEST(doc["observed"][1]["violating"][0]["index"] == json({0, 0, 2, 1}));
  BOOST_TEST(doc["observed"][1]["kind"] == "file");
  BOOST_TEST(doc["observed"][1]["bound_kind"] == "order-free");
  r = run_cli({"analyze", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, "--observed", "mine=" + yp, "--json",
               out, "--allow-violations"});
  BOOST_TEST(r.rc == 0, r.err);
}

BOOST_AUTO_TEST_CASE(explain_reports_exactly_the_known_failures) {
  Case c = make_case("explain-known");
  const Truth t = compute_truth(
      ConvProblem<float>{c.spec, read_npy_as<float>(c.x, "x"), read_npy_as<float>(c.w, "w"), nullptr}, {});
  // A: correctly rounded. B: channel-1 outputs [0,1,0,0] and [0,1,2,2] moved by
  // 2^-22 (a quarter of |y| = 2^-20, far above rtol, inside the any-order bound
  // 8·u·absdot ≈ 2^-19), channel-0 output [0,0,1,1] by one ulp (isclose passes).
  const Tensor<float>& a = t.y32;
  Tensor<float> b = a;
  b(0, 1, 0, 0) += 0x1p-22f;
  b(0, 1, 2, 2) -= 0x1p-22f;
  b(0, 0, 1, 1) = std::nextafter(b(0, 0, 1, 1), 2.0f);
  const std::string ap = (c.dir / "a.npy").string(), bp = (c.dir / "b.npy").string(), out = (c.dir / "e.json").string();
  write_npy(ap, a);
  write_npy(bp, b);
  const auto r = run_cli({"explain", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, ap, bp, "--names",
                          "mine,theirs", "--json", out});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err << r.out);
  const json doc = load(out);
  check_schema(doc, {"Common fields (every document)", "certconv.explain/1"});
  BOOST_TEST(doc["isclose"]["failures"] == 2);
  BOOST_TEST(doc["isclose"]["failing"][0]["index"] == json({0, 1, 0, 0}));
  BOOST_TEST(doc["isclose"]["failing"][1]["index"] == json({0, 1, 2, 2}));
  BOOST_TEST(doc["isclose"]["cond_failing"]["median"].get<double>() > 1e6);
  BOOST_TEST(doc["isclose"]["cond_all"]["min"].get<double>() == 1.0);
  BOOST_TEST(doc["consistent_with_some_order"]["mine"] == true);
  BOOST_TEST(doc["consistent_with_some_order"]["theirs"] == true);
  BOOST_TEST(doc["observed"][0]["max_norm_err"].get<double>() < 0.5);
  BOOST_TEST(doc["certified_tolerance"]["atol"].get<double>() >= 0x1p-22);
  BOOST_TEST(contains(doc["verdict"].get<std::string>(), "No bug"));
  BOOST_TEST(contains(r.out, "fails at 2 of 18 outputs"), r.out);
}

BOOST_AUTO_TEST_CASE(identify_document_follows_the_schema) {
  Case c = make_case("identify-schema");
  const std::string y = (c.dir / "y.npy").string(), out = (c.dir / "id.json").string();
  auto r = run_cli({"run", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, "--order", "pairwise", "--dtype", "f32",
                    "--out", y});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  r = run_cli({"identify", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, y, "--json", out});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err << r.out);
  const json doc = load(out);
  BOOST_TEST(doc["schema"] == "certconv.identify/1");
  check_schema(doc, {"Common fields (every document)", "certconv.identify/1"});
  BOOST_TEST(doc["candidates"][0]["identical_fraction"].get<double>() == 1.0);
}

BOOST_AUTO_TEST_CASE(explain_flags_an_output_no_order_can_produce) {
  Case c = make_case("explain-bug");
  const Truth t = compute_truth(
      ConvProblem<float>{c.spec, read_npy_as<float>(c.x, "x"), read_npy_as<float>(c.w, "w"), nullptr}, {});
  Tensor<float> b = t.y32;
  b(0, 0, 1, 2) *= 1.01f;  // 1% off a well-conditioned output: no summation order does that
  const std::string ap = (c.dir / "a.npy").string(), bp = (c.dir / "b.npy").string();
  write_npy(ap, t.y32);
  write_npy(bp, b);
  const auto r = run_cli({"explain", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, ap, bp});
  BOOST_TEST(r.rc == 1, r.err);
  BOOST_TEST(contains(r.out, "B is NOT consistent with any summation order"), r.out);
  BOOST_TEST(contains(r.out, "index [0, 0, 1, 2]"), r.out);
  BOOST_TEST(contains(r.out, "a bug"), r.out);
}

BOOST_AUTO_TEST_CASE(bad_input_exits_2) {
  Case c = make_case("explain-bad");
  const std::string good = (c.dir / "good.npy").string(), wrong = (c.dir / "wrong.npy").string(),
                    f64 = (c.dir / "f64.npy").string();
  write_npy(good, Tensor<float>(c.spec.y_shape(), 0.0f));
  write_npy(wrong, Tensor<float>({1, 2, 3, 4}, 0.0f));
  write_npy(f64, Tensor<double>(c.spec.y_shape(), 0.0));
  auto expect2 = [&](std::vector<std::string> args, const std::string& part) {
    const auto r = run_cli(args);
    BOOST_TEST(r.rc == 2, "rc " << r.rc << " for " << part);
    BOOST_TEST(contains(r.err, part), "stderr '" << r.err << "' lacks '" << part << "'");
  };
  const std::vector<std::string> base = {"explain", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w};
  auto with = [&](std::vector<std::string> extra) {
    auto v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  expect2(with({good, wrong}), "wrong.npy: output 'B' has shape (1, 2, 3, 4), not the output shape (1, 2, 3, 3)");
  expect2(with({good, f64, "--formats", "f64,f32"}), "good.npy: output 'A' is float32 ('<f4') but its format is f64");
  expect2(with({good, f64, "--formats", "f32,f32"}), "f64.npy: output 'B' is float64 ('<f8') but its format is f32");
  expect2(with({good, good, "--formats", "f32,f8"}), "--formats: format must be f64, f32, bf16 or fp16, got 'f8'");
  expect2(with({good, good, "--formats", "f32"}), "--formats: expected two formats");
  Tensor<float> not_bf16(c.spec.y_shape(), 0.0f);
  not_bf16(0, 1, 2, 0) = 1 + 0x1p-10f;
  const std::string nb = (c.dir / "not_bf16.npy").string();
  write_npy(nb, not_bf16);
  expect2(with({good, nb, "--formats", "f32,bf16"}),
          "not_bf16.npy: output 'B': 1.00097656 at index [0, 1, 2, 0] is not a bf16 value");
  expect2(with({good, (c.dir / "missing.npy").string()}), "missing.npy");
  expect2(with({good, good, "--names", "onlyone"}), "--names");
  expect2({"analyze", "--spec", "mb1ic8ih3oc2kh1", "--x", c.x, "--w", c.w, "--observed", "y=" + wrong, "--json",
           (c.dir / "a.json").string()},
          "wrong.npy: observed output 'y' has shape (1, 2, 3, 4)");
  expect2({"analyze", "--spec", "mb1ic8ih3oc2kh1", "--gen", "gendot:cond=abc", "--orders", "direct", "--json",
           (c.dir / "a.json").string()},
          "parameter 'cond' is not a finite number");
  expect2({"analyze", "--spec", "mb1ic8ih3oc2kh1", "--gen", "normal", "--orders", "nosuch", "--json",
           (c.dir / "a.json").string()},
          "unknown order 'nosuch'");
  BOOST_TEST(!fs::exists(c.dir / "a.json"));
}

// The seed thread's follow-up: a float64 result against a float32 one, and an fp16
// file read natively ('<f2'), each side in its own format.
BOOST_AUTO_TEST_CASE(explain_mixed_formats) {
  Case c = make_case("explain-mixed");
  const Truth t = compute_truth(ConvProblem<float>{c.spec, read_npy_as<float>(c.x, "x"), read_npy_as<float>(c.w, "w"),
                                                   nullptr},
                                {});
  Tensor<float> b = t.y32;
  b(0, 0, 1, 1) = std::nextafter(b(0, 0, 1, 1), 2.0f);  // one float32 ulp off: float32 round-off
  const std::string ap = (c.dir / "a64.npy").string(), bp = (c.dir / "b32.npy").string(),
                    out = (c.dir / "e.json").string();
  write_npy(ap, t.y);
  write_npy(bp, b);
  const auto r = run_cli({"explain", "--x", c.x, "--w", c.w, ap, bp, "--names", "mine64,conv2d", "--json", out,
                          "--rtol", "1e-9", "--atol", "0"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err << r.out);
  BOOST_TEST(contains(r.out, "(mine64 vs conv2d, float64 vs float32)"), r.out);
  BOOST_TEST(contains(r.out, "The difference is conv2d's round-off"), r.out);
  const json doc = load(out);
  check_schema(doc, {"Common fields (every document)", "certconv.explain/1"});
  BOOST_TEST(doc["parameters"]["formats"] == json({"f64", "f32"}));
  BOOST_TEST(doc["parameters"]["dtype"].is_null());
  BOOST_TEST(doc["observed"][0]["u"] == 0x1p-53);
  BOOST_TEST(doc["observed"][1]["u"] == 0x1p-24);
  BOOST_TEST(doc["observed"][0]["max_abs_err"] == 0.0);
  BOOST_TEST(doc["isclose"]["failures"] == 1);
  BOOST_TEST(doc["isclose"]["failing"][0]["dominant"] == "conv2d");
  BOOST_TEST(doc["isclose"]["failures_dominated"]["conv2d"] == 1);

  // fp16 outputs in a '<f2' file: 1 (0x3c00) and 2^-20 (a subnormal, 0x0010).
  std::string data;
  for (std::int64_t i = 0; i < t.y.size(); ++i) {
    const std::uint16_t h = t.y.data[static_cast<std::size_t>(i)] == 1.0 ? 0x3c00 : 0x0010;
    data += static_cast<char>(h & 0xff);
    data += static_cast<char>(h >> 8);
  }
  std::string header = "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2, 3, 3), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string file = "\x93NUMPY";
  file += '\x01';
  file += '\x00';
  file += static_cast<char>(header.size() & 0xff);
  file += static_cast<char>(header.size() >> 8);
  const std::string hp = (c.dir / "b16.npy").string();
  std::ofstream(hp, std::ios::binary) << file << header << data;
  const auto r16 = run_cli({"explain", "--x", c.x, "--w", c.w, ap, hp, "--json", out});
  BOOST_TEST_REQUIRE(r16.rc == 0, r16.err << r16.out);
  BOOST_TEST(contains(r16.out, "float64 vs fp16 (float32 accumulation)"), r16.out);
  BOOST_TEST(load(out)["parameters"]["formats"] == json({"f64", "fp16"}));
  BOOST_TEST(load(out)["observed"][1]["bound_kind"] == "order-free+input-rounding+output-rounding");
}
