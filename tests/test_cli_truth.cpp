#define BOOST_TEST_MODULE cli_truth
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "certconv/core/lower.hpp"
#include "certconv/exact/result_truth.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "cli_util.hpp"
#include "schema_keys.hpp"

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

  // The follow-up: float64 unfold + matmul against the float32 library, each side
  // against the truth in its own format; per-side max |error| as computed here.
  std::ifstream fm(dir / "seed-f64-vs-f32.json");
  const auto mixed = nlohmann::json::parse(fm);
  BOOST_TEST(mixed["parameters"]["formats"] == nlohmann::json({"f64", "f32"}));
  const auto t = read_npy_as<double>((dir / "im2col_f64.npy").string(), "a");
  const auto lib = read_npy_as<float>((dir / "library.npy").string(), "b");
  const SeedWorkload s = seed_workload();
  const Truth truth = compute_truth(ConvProblem<float>{s.spec, s.x, s.w, nullptr}, {});
  double ea = 0, eb = 0;
  for (std::size_t i = 0; i < truth.y.data.size(); ++i) {
    ea = std::max(ea, std::fabs(t.data[i] - truth.y.data[i]));
    eb = std::max(eb, std::fabs(double(lib.data[i]) - truth.y.data[i]));
  }
  BOOST_TEST(mixed["observed"][0]["max_abs_err"].get<double>() == ea);
  BOOST_TEST(mixed["observed"][1]["max_abs_err"].get<double>() == eb);
  BOOST_TEST(contains(mixed["verdict"].get<std::string>(), "round-off: its largest |error| against the exact result"));
  BOOST_TEST(mixed["isclose"]["failures_dominated"]["im2col-f64"] == 0);
  // The last question: an order that reproduces the library, shown and replayed.
  BOOST_TEST(contains(r.out, "Is there a custom implementation that matches the library's conv2d?"), r.out);
  BOOST_TEST(contains(r.out, "Yes: the order "), r.out);
  BOOST_TEST(contains(r.out, "on 100% of the 802816 outputs, bit for bit"), r.out);
  BOOST_TEST(read_npy_as<float>((dir / "replay.npy").string(), "replay").data == lib.data);
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

// The problem in PyTorch terms (shapes read off the files) is the --spec problem,
// byte for byte; given both, a disagreement names the option, dimension and field.
BOOST_AUTO_TEST_CASE(pytorch_terms_match_spec) {
  const Files f = write_inputs("truth-torch");
  const std::string by_spec = (f.dir / "spec.npy").string(), by_torch = (f.dir / "torch.npy").string(),
                    out = (f.dir / "t.npy").string();
  const auto a = run_cli({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--bias", f.b, "--out", by_spec});
  BOOST_TEST_REQUIRE(a.rc == 0, a.err);
  // kDesc: g2, sh2 sw1, ph1 pw1, dh1 dw0 (oneDNN) = dilation (2, 1) in torch terms.
  const auto b = run_cli({"truth", "--x", f.x, "--w", f.w, "--bias", f.b, "--stride", "2,1", "--padding", "1",
                          "--dilation", "2,1", "--groups", "2", "--out", by_torch});
  BOOST_TEST_REQUIRE(b.rc == 0, b.err);
  BOOST_TEST(contains(b.out, "g2mb2ic4ih6iw5oc4oh2ow6kh3kw2sh2sw1ph1pw1dh1dw0"), b.out);
  BOOST_TEST(certconv::test::slurp(by_spec) == certconv::test::slurp(by_torch));
  // Both, agreeing: accepted.
  const auto c = run_cli({"truth", "--spec", kDesc, "--x", f.x, "--w", f.w, "--stride", "2,1", "--dilation", "2,1",
                          "--groups", "2", "--out", out});
  BOOST_TEST(c.rc == 0, c.err);
  fs::remove(out);

  auto expect2 = [&](std::vector<std::string> args, const std::string& part) {
    const auto r = run_cli(args);
    BOOST_TEST(r.rc == 2, "rc " << r.rc << " for " << part);
    BOOST_TEST(contains(r.err, part), "stderr '" << r.err << "' lacks '" << part << "'");
    BOOST_TEST(!fs::exists(out), "output written despite the error: " << part);
  };
  const std::vector<std::string> files = {"truth", "--x", f.x, "--w", f.w, "--out", out};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> v = files;
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  };
  expect2(with({"--spec", kDesc, "--stride", "2"}), "--stride: 2 for the width disagrees with --spec");
  expect2(with({"--spec", kDesc, "--stride", "2"}), "sw=1");
  expect2(with({"--spec", kDesc, "--padding", "0,1"}), "for the height disagrees");
  expect2(with({"--spec", kDesc, "--dilation", "1"}), "whose dh=1");
  expect2(with({"--spec", kDesc, "--groups", "1"}), "--groups: 1 disagrees with --spec");
  // A spec whose shape disagrees with a file names the dimension and the field.
  expect2(with({"--spec", "mb2g2ic4ih7iw5oc4kh3kw2sh2ph1pw1dh1"}), "dimension 2 is 6, the problem's ih is 7");
  expect2(with({"--groups", "2", "--stride", "2,2,2"}), "has three values; the 2-D problem takes an int or H,W");
  expect2(with({"--groups", "2", "--padding", "-1"}), "--padding: -1 must be >= 0");
  expect2(with({"--groups", "2", "--dilation", "0"}), "1 means no dilation");
  expect2(with({"--groups", "2", "--stride", "2x"}), "--stride: expected an int or H,W");
  expect2(with({"--groups", "2", "--mb", "1"}), "--mb: only with --spec");
  expect2(with({"--groups", "3"}), "× groups 3 != 4");
  expect2(with({}), "× groups 1 != 4");
  write_npy((f.dir / "x3.npy").string(), Tensor<float>({2, 4, 6}, 1.0f));
  expect2({"truth", "--x", (f.dir / "x3.npy").string(), "--w", f.w, "--out", out}, "w is 4-D (4, 2, 3, 2) but x");
}

BOOST_AUTO_TEST_CASE(directions_and_ranks) {
  // BWD_W of a 3-D layer: the truth from the CLI equals the library's, dw-shaped;
  // analyze finds the library's float32 direct order within its bound and names
  // an output moved past the bound by its dw index.
  const auto dir = certconv::test::scratch_dir("truth-directions");
  const std::string desc = "mb2ic3id4ih5iw5oc4kd2kh3kw3sh2sw2ph1pw1";
  const certconv::ConvDesc d = certconv::parse_conv_desc(desc);
  certconv::Rng rng(9);
  const auto x = certconv::normal_tensor<float>(d.x_shape(), rng), dy = certconv::normal_tensor<float>(d.y_shape(), rng),
             w = certconv::normal_tensor<float>(d.w_shape(), rng);
  const std::string xp = (dir / "x.npy").string(), dyp = (dir / "dy.npy").string(), wp = (dir / "w.npy").string(),
                    out = (dir / "dw.npy").string(), db = (dir / "db.npy").string();
  certconv::write_npy(xp, x);
  certconv::write_npy(dyp, dy);
  certconv::write_npy(wp, w);
  auto r = run_cli({"truth", "--spec", desc, "--dir", "BWD_WB", "--x", xp, "--dy", dyp, "--out", out, "--db-out", db});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "BWD_WB dw"), r.out);
  certconv::Operands<float> ops;
  ops.x = &x;
  ops.dy = &dy;
  const auto want = certconv::compute_result_truth(d, certconv::Direction::bwd_wb, ops, certconv::TruthOptions{});
  const auto got = certconv::read_npy_as<double>(out, "dw"), got_db = certconv::read_npy_as<double>(db, "db");
  BOOST_TEST((got.shape == std::vector<std::int64_t>{4, 3, 2, 3, 3}));
  BOOST_TEST(got.data == want[0].truth.y.data);
  BOOST_TEST(got_db.data == want[1].truth.y.data);

  // analyze: a float32 dw within the bound, then one element pushed past it.
  const auto bound_of = [&](const std::string& json_path) {
    std::ifstream in(json_path);
    return nlohmann::json::parse(in);
  };
  certconv::Tensor<float> dw32(got.shape);
  for (std::size_t i = 0; i < got.data.size(); ++i) dw32.data[i] = static_cast<float>(got.data[i]);
  const std::string obs = (dir / "obs.npy").string(), doc = (dir / "a.json").string();
  certconv::write_npy(obs, dw32);
  r = run_cli({"analyze", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--observed", "mine=" + obs,
               "--orders", "direct,pairwise", "--json", doc});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  auto j = bound_of(doc);
  BOOST_TEST(j["problem"]["direction"] == "BWD_W");
  BOOST_TEST(j["problem"]["result"] == "dw");
  BOOST_TEST(j["problem"]["n_terms"] == 2 * 3 * 3 * 3);  // mb·od·oh·ow
  {  // the documented keys, on a document of orders only (a file has no provenance or seconds)
    const std::string od = (dir / "orders.json").string();
    r = run_cli({"analyze", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--orders", "direct,pairwise",
                 "--json", od});
    BOOST_TEST_REQUIRE(r.rc == 0, r.err);
    certconv::test::check_schema(bound_of(od), {"Common fields (every document)", "Directions and ranks",
                                                "certconv.analyze/1"});
  }
  for (const auto& o : j["observed"]) BOOST_TEST(o["violations"] == 0, o["name"]);
  const std::size_t k = 1 * 18 + 0 * 9 + 1 * 3 + 2;  // dw[0][1][0][1][2] of shape [4, 3, 2, 3, 3]
  dw32.data[k] += 1.0f + std::fabs(dw32.data[k]);
  certconv::write_npy(obs, dw32);
  r = run_cli({"analyze", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--observed", "mine=" + obs,
               "--json", doc});
  BOOST_TEST(r.rc == 1, r.err);
  BOOST_TEST(contains(r.out, "VIOLATION mine at index [0,1,0,1,2]"), r.out);

  // explain: the float64 truth against that float32 dw; the side at fault and the
  // element named in dw's shape, the document's problem that of the direction.
  const std::string ej = (dir / "e.json").string();
  r = run_cli({"explain", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, out, obs, "--names", "exact,mine",
               "--json", ej});
  BOOST_TEST(r.rc == 1, r.err);
  BOOST_TEST(contains(r.out, "BWD_W dw (exact vs mine, float64 vs float32)"), r.out);
  BOOST_TEST(contains(r.out, "mine is NOT consistent with any summation order in float32: 1 outputs exceed the "
                             "rigorous bound, e.g. index [0, 1, 0, 1, 2]"),
             r.out);
  j = bound_of(ej);
  BOOST_TEST(j["problem"]["direction"] == "BWD_W");
  BOOST_TEST(j["problem"]["result"] == "dw");
  BOOST_TEST((j["isclose"]["failing"][0]["index"] == nlohmann::json{0, 1, 0, 1, 2}));
  BOOST_TEST(j["isclose"]["failures"] == 1);
  BOOST_TEST(j["consistent_with_some_order"]["exact"] == true);
  certconv::test::check_schema(j, {"Common fields (every document)", "Directions and ranks", "certconv.explain/1"});
  // db of BWD_WB, told apart from dw by its shape: within the bound.
  r = run_cli({"explain", "--spec", desc, "--dir", "BWD_WB", "--x", xp, "--dy", dyp, db, db});
  BOOST_TEST(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "BWD_WB db (A vs B, float64)"), r.out);

  // --gen draws the operands of the direction: the same document as from files
  // holding generate_operands' values (timings aside), and gendot refused.
  {
    const auto g = certconv::generate_operands<float>(d, "kaiming", 3);
    const std::string gx = (dir / "gx.npy").string(), gdy = (dir / "gdy.npy").string(),
                      gj = (dir / "gen.json").string(), fj = (dir / "files.json").string();
    certconv::write_npy(gx, g.x);
    certconv::write_npy(gdy, g.dy);
    r = run_cli({"analyze", "--spec", desc, "--dir", "BWD_W", "--gen", "kaiming", "--seed", "3", "--dtype", "f32",
                 "--orders", "direct,pairwise", "--json", gj});
    BOOST_TEST_REQUIRE(r.rc == 0, r.err);
    r = run_cli({"analyze", "--spec", desc, "--dir", "BWD_W", "--x", gx, "--dy", gdy, "--orders", "direct,pairwise",
                 "--json", fj});
    BOOST_TEST_REQUIRE(r.rc == 0, r.err);
    auto jg = bound_of(gj), jf = bound_of(fj);
    BOOST_TEST(jg["inputs"]["source"] == "generator");
    BOOST_TEST(jg["problem"] == jf["problem"]);
    jg["truth"].erase("seconds");
    jf["truth"].erase("seconds");
    BOOST_TEST(jg["truth"] == jf["truth"]);
    for (std::size_t i = 0; i < 2; ++i) {
      BOOST_TEST(jg["observed"][i]["worst"] == jf["observed"][i]["worst"]);
      BOOST_TEST(jg["observed"][i]["violations"] == 0);
    }
    BOOST_TEST((g.w.shape == d.w_shape()));  // drawn, though BWD_W does not read it
  }

  // run: an order on the lowered problem, written in dw's shape, within its bound.
  const std::string ro = (dir / "run.npy").string(), rb = (dir / "run_bound.npy").string();
  r = run_cli({"run", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--order", "pairwise", "--dtype", "f32",
               "--out", ro, "--bound", rb});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  const auto ry = certconv::read_npy_as<float>(ro, "run");
  const auto rbound = certconv::read_npy_as<double>(rb, "bound");
  BOOST_TEST((ry.shape == got.shape));
  std::int64_t beyond = 0;
  for (std::size_t i = 0; i < ry.data.size(); ++i)
    beyond += std::fabs(double(ry.data[i]) - got.data[i]) > rbound.data[i] + std::fabs(got.data[i]) * 0x1p-52;
  BOOST_TEST(beyond == 0);

  // Bad input: exit 2 naming the flag, the file and the dimension.
  const auto expect2 = [&](std::vector<std::string> args, const std::string& part) {
    const auto e = run_cli(args);
    BOOST_TEST(e.rc == 2, "rc " << e.rc << " for " << part);
    BOOST_TEST(contains(e.err, part), "stderr '" << e.err << "' lacks '" << part << "'");
  };
  const std::string o2 = (dir / "never.npy").string();
  expect2({"truth", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--out", o2}, "--dir BWD_W needs --dy");
  expect2({"analyze", "--spec", desc, "--dir", "BWD_W", "--gen", "gendot:cond=1e6", "--seed", "1", "--orders", "direct",
           "--json", o2},
          "gendot builds ill-conditioned outputs of a 2-D forward convolution");
  expect2({"analyze", "--spec", desc, "--dir", "BWD_W", "--gen", "normal", "--dy", dyp, "--orders", "direct", "--json",
           o2},
          "--gen: give either --gen or operand files, not both");
  expect2({"explain", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, xp, obs},
          xp + ": output 'A': shape (2, 3, 4, 5, 5) does not match the BWD_W result");
  expect2({"explain", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, out, obs, "--names",
           "onednn-avx512,direct", "--f64"},
          "onednn-avx512 (recomputing dw in float64): it does not apply to BWD_W in 3-D");
  expect2({"truth", "--spec", desc, "--dir", "BWD_D", "--x", xp, "--w", wp, "--dy", dyp, "--out", o2},
          "--x: direction BWD_D does not read x");
  expect2({"truth", "--spec", desc, "--dir", "BWD_D", "--w", wp, "--dy", xp, "--out", o2},
          "dy: shape (2, 3, 4, 5, 5) does not match");
  expect2({"truth", "--spec", desc, "--dir", "BWD_D", "--w", wp, "--dy", xp, "--out", o2}, "dy: " + xp);
  expect2({"truth", "--spec", desc, "--dir", "BWD_D", "--w", wp, "--dy", xp, "--out", o2},
          "dimension 1 is 3, the problem's oc is 4");
  const certconv::Tensor<float> x4({2, 3, 5, 5}, 1.0f);
  certconv::write_npy((dir / "x4.npy").string(), x4);
  expect2({"truth", "--spec", desc, "--dir", "BWD_W", "--x", (dir / "x4.npy").string(), "--dy", dyp, "--out", o2},
          "x: 4-D array of shape (2, 3, 5, 5), but the 3-D problem");
  expect2({"truth", "--spec", desc, "--dir", "BWD_UP", "--x", xp, "--dy", dyp, "--out", o2}, "--dir: unknown direction");
  expect2({"truth", "--spec", desc, "--dir", "BWD_WB", "--x", xp, "--dy", dyp, "--out", o2}, "give --db-out");
  expect2({"analyze", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--orders", "onednn-avx512", "--json",
           (dir / "b.json").string()},
          "order 'onednn-avx512' does not apply to BWD_W in 3-D");
  expect2({"run", "--spec", desc, "--dir", "BWD_W", "--x", xp, "--dy", dyp, "--order", "onednn-avx512", "--dtype", "f32",
           "--out", o2},
          "--order onednn-avx512: it does not apply to BWD_W in 3-D");
  BOOST_TEST(!fs::exists(o2));
  fs::remove_all(dir);
}
