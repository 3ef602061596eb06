#define BOOST_TEST_MODULE cli_truth
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "cli_util.hpp"

using namespace certconv;
using certconv::test::run_cli;
namespace fs = std::filesystem;

namespace {

const char* kDesc = "mb2g2ic4ih6iw5oc4kh3kw2sh2ph1pw1dh1";

struct Files {
  fs::path dir;
  std::string x, w, b;
};

Files write_inputs(const std::string& name) {
  Files f{certconv::test::scratch_dir(name), {}, {}, {}};
  const ConvSpec s = parse_benchdnn(kDesc);
  Rng rng(5);
  f.x = (f.dir / "x.npy").string();
  f.w = (f.dir / "w.npy").string();
  f.b = (f.dir / "b.npy").string();
  write_npy(f.x, normal_tensor<float>(s.x_shape(), rng));
  write_npy(f.w, normal_tensor<float>(s.w_shape(), rng));
  write_npy(f.b, normal_tensor<float>({s.oc}, rng));
  return f;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(truth_writes_certified_outputs) {
  const Files f = write_inputs("truth-ok");
  const std::string out = (f.dir / "t.npy").string(), lo = (f.dir / "lo.npy").string(),
                    hi = (f.dir / "hi.npy").string(), ad = (f.dir / "absdot.npy").string();
  auto r = run_cli({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--bias", f.b, "--out", out, "--lo", lo, "--hi",
                    hi, "--absdot", ad, "--threads", "2"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "cond"));
  const ConvSpec s = parse_benchdnn(kDesc);
  const auto x = read_npy_as<float>(f.x, "x"), w = read_npy_as<float>(f.w, "w"), b = read_npy_as<float>(f.b, "b");
  const Truth t = compute_truth(ConvProblem<float>{s, x, w, &b}, {});
  BOOST_TEST(read_npy_as<double>(out, "truth").data == t.y.data);
  BOOST_TEST(read_npy_as<double>(lo, "lo").data == t.lo.data);
  BOOST_TEST(read_npy_as<double>(hi, "hi").data == t.hi.data);
  BOOST_TEST(read_npy_as<double>(ad, "absdot").data == t.absdot.data);

  // The MPFI method encloses the same values.
  const std::string mlo = (f.dir / "mlo.npy").string(), mhi = (f.dir / "mhi.npy").string();
  r = run_cli({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--bias", f.b, "--out", (f.dir / "m.npy").string(),
               "--lo", mlo, "--hi", mhi, "--method", "mpfi", "--precision", "300"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  const auto L = read_npy_as<double>(mlo, "lo"), H = read_npy_as<double>(mhi, "hi");
  std::int64_t outside = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i) outside += !(L.data[i] <= t.lo.data[i] && t.hi.data[i] <= H.data[i]);
  BOOST_TEST(outside == 0);
}

BOOST_AUTO_TEST_CASE(example_seed_and_version) {
  const auto dir = certconv::test::scratch_dir("seed");
  auto r = run_cli({"example", "seed", "--out", dir.string(), "--inputs-only"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(r.out == "mb1ic3ih224oc64oh112kh7sh2ph3\n");
  const auto x = read_npy_as<float>((dir / "x.npy").string(), "x");
  const auto w = read_npy_as<float>((dir / "w.npy").string(), "w");
  BOOST_TEST((x.shape == std::vector<std::int64_t>{1, 3, 224, 224}));
  BOOST_TEST((w.shape == std::vector<std::int64_t>{64, 3, 7, 7}));
  const float bound = static_cast<float>(1 / std::sqrt(147.0));
  BOOST_TEST(std::all_of(w.data.begin(), w.data.end(), [&](float v) { return std::fabs(v) <= bound; }));
  BOOST_TEST(seed_workload().x.data == x.data);  // the fixed seed reproduces the files
  r = run_cli({"--version"});
  BOOST_TEST(r.rc == 0);
  BOOST_TEST(contains(r.out, "certconv 0.1.0 (git "));
}

// The README's main job: the seed question answered end to end.
BOOST_AUTO_TEST_CASE(example_seed_explains_the_seed_question) {
  const auto dir = certconv::test::scratch_dir("seed-explain");
  const auto r = run_cli({"example", "seed", "--out", dir.string()});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "No bug: both im2col and "));
  std::ifstream f(dir / "seed.json");
  const auto doc = nlohmann::json::parse(f);
  BOOST_TEST(doc["schema"] == "certconv.explain/1");
  BOOST_TEST(doc["problem"]["desc"] == "g1mb1ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph3pw3dh0dw0");
  for (const auto& [name, ok] : doc["consistent_with_some_order"].items()) BOOST_TEST(ok.get<bool>(), name);
  // "A few dozen of the 802,816 outputs", concentrated where cond is large.
  const auto failures = doc["isclose"]["failures"].get<std::int64_t>();
  BOOST_TEST(failures > 0);
  BOOST_TEST(failures < 1000);
  BOOST_TEST(doc["isclose"]["cond_failing"]["median"].get<double>() > 100 * doc["truth"]["cond"]["median"].get<double>());
  BOOST_TEST(doc["f64"]["isclose"]["failures"] == 0);
  BOOST_TEST(doc["f64"]["certified_tolerance"]["atol"].get<double>() < 1e-9);
}

BOOST_AUTO_TEST_CASE(bad_input_exits_2_naming_file_and_field) {
  const Files f = write_inputs("truth-bad");
  const std::string out = (f.dir / "t.npy").string();
  auto expect2 = [&](std::vector<std::string> args, const std::string& part) {
    const auto r = run_cli(args);
    BOOST_TEST(r.rc == 2, "rc " << r.rc << " for " << part);
    BOOST_TEST(contains(r.err, part), "stderr '" << r.err << "' lacks '" << part << "'");
    BOOST_TEST(!fs::exists(out), "output written despite the error: " << part);
  };
  expect2({"truth", "--spec", kDesc, "--x", "/nonexistent/x.npy", "--w", f.w, "--out", out}, "/nonexistent/x.npy");
  expect2({"truth", "--spec", "mb1ic3ih8oc2kh3", "--x", f.x, "--w", f.w, "--out", out}, "x: shape");
  expect2({"truth", "--spec", "mb2ic4ih6oc4kh9", "--x", f.x, "--w", f.w, "--out", out}, "kh");
  expect2({"truth", "--spec", "mb2ic4ih6oc4kh3xyz", "--x", f.x, "--w", f.w, "--out", out}, "mb2ic4ih6oc4kh3xyz");
  const ConvSpec s = parse_benchdnn(kDesc);
  const std::string w64 = (f.dir / "w64.npy").string();
  write_npy(w64, Tensor<double>(s.w_shape(), 1.0));
  expect2({"truth", "--spec", kDesc, "--x", f.x, "--w", w64, "--out", out}, "w64.npy: dtype float64 differs from x");
  auto x = read_npy_as<float>(f.x, "x");
  x(1, 3, 2, 4) = std::numeric_limits<float>::infinity();
  const std::string xinf = (f.dir / "xinf.npy").string();
  write_npy(xinf, x);
  expect2({"truth", "--spec", kDesc, "--x", xinf, "--w", f.w, "--out", out}, "x: non-finite value at index [1, 3, 2, 4]");
  expect2({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--out", "/nonexistent-dir/t.npy"}, "/nonexistent-dir/t.npy");
  expect2({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--out", out, "--method", "guess"}, "--method");
  // A truncated file.
  const std::string trunc = (f.dir / "trunc.npy").string();
  fs::copy_file(f.x, trunc);
  fs::resize_file(trunc, fs::file_size(trunc) - 7);
  expect2({"truth", "--spec", kDesc, "--x", trunc, "--w", f.w, "--out", out}, "trunc.npy");
}
