#define BOOST_TEST_MODULE cli_identify
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "certconv/core/config.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/sha256.hpp"
#include "cli_util.hpp"

using namespace certconv;
using certconv::test::run_cli;
namespace fs = std::filesystem;

namespace {

struct Files {
  fs::path dir;
  std::string desc, x, w, b;
  ConvSpec spec;
  Tensor<float> xt, wt, bt;
  ConvProblem<float> view(bool bias) const { return {spec, xt, wt, bias ? &bt : nullptr}; }
  std::vector<std::string> args(bool bias) const {
    std::vector<std::string> a{"--spec", desc, "--x", x, "--w", w};
    if (bias) a.insert(a.end(), {"--bias", b});
    return a;
  }
};

// PyTorch-like inputs: x ~ N(0, 1), w and bias ~ U(±1/√fan_in).
Files write_inputs(const std::string& name, const std::string& desc) {
  Files f;
  f.dir = certconv::test::scratch_dir(name);
  f.desc = desc;
  f.spec = parse_benchdnn(desc);
  Rng rng(21);
  const double bound = 1 / std::sqrt(static_cast<double>(f.spec.n_terms()));
  f.xt = normal_tensor<float>(f.spec.x_shape(), rng);
  f.wt = uniform_tensor<float>(f.spec.w_shape(), bound, rng);
  f.bt = uniform_tensor<float>({f.spec.oc}, bound, rng);
  f.x = (f.dir / "x.npy").string();
  f.w = (f.dir / "w.npy").string();
  f.b = (f.dir / "b.npy").string();
  write_npy(f.x, f.xt);
  write_npy(f.w, f.wt);
  write_npy(f.b, f.bt);
  return f;
}

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

#if CERTCONV_HAVE_ONEDNN
// Computes y with the real oneDNN in this process and runs `certconv identify` on
// it; asserts that `order` reproduces it, unless oneDNN picked another kernel.
void check_identified(const std::string& name, const std::string& desc, bool bias, const std::string& impl,
                      const std::string& order) {
  const Files f = write_inputs(name, desc);
  RunOptions opt;
  opt.want_bound = false;
  const OrderOutput<float> real = run_order(parse_order("onednn"), f.view(bias), opt);
  if (real.provenance.at("impl_info_str") != impl) {
    BOOST_TEST_MESSAGE("skipped " << desc << ": oneDNN picked " << real.provenance.at("impl_info_str")
                                  << ", the test expects " << impl);
    return;
  }
  const std::string y = (f.dir / "y.npy").string(), js = (f.dir / "id.json").string();
  write_npy(y, real.y);
  const auto r = run_cli(cat(cat({"identify"}, f.args(bias)), {y, "--json", js, "--threads", "2", "--show", "100"}));
  BOOST_TEST_REQUIRE(r.rc == 0, desc << ": " << r.out << r.err);
  BOOST_TEST(contains(r.out, "identified: " + order), desc << ":\n" << r.out);
  const auto doc = nlohmann::json::parse(certconv::test::slurp(js));
  bool listed = false;
  for (const auto& m : doc["matches"]) listed |= m == order;
  BOOST_TEST(listed, desc << ": " << doc["matches"].dump());
}
#endif

}  // namespace

#if CERTCONV_HAVE_ONEDNN

// The layers of docs/orders.md at reduced spatial size (the full sizes are measured there).
BOOST_AUTO_TEST_CASE(identify_names_the_onednn_conv1_order) {
  check_identified("id-conv1", "mb1ic3ih56oc64oh28kh7sh2ph3", false, "jit:avx512_core",
                   "onednn-avx512:bias=store,block=3,input=f32");
}

BOOST_AUTO_TEST_CASE(identify_names_the_onednn_res2a_order) {
  check_identified("id-res2a", "mb1ic64ih14oc64oh14kh3ph1", false, "jit:avx512_core",
                   "onednn-avx512:bias=store,block=16,input=f32");
}

BOOST_AUTO_TEST_CASE(identify_names_the_onednn_order_with_bias) {
  check_identified("id-bias", "mb1ic64ih14oc64oh14kh3ph1", true, "jit:avx512_core",
                   "onednn-avx512:bias=store,block=16,input=f32");
}

BOOST_AUTO_TEST_CASE(identify_names_the_onednn_strided_1x1_order) {
  check_identified("id-1x1", "mb1ic256ih14oc512oh7kh1sh2", false, "jit_1x1:avx512_core",
                   "onednn-avx512:bias=store,block=256,input=f32");
}

// The 1x1 kernel starts the first chunk's accumulator from the bias (here one chunk
// of all 256 channels).
BOOST_AUTO_TEST_CASE(identify_names_the_onednn_strided_1x1_order_with_bias) {
  check_identified("id-1x1-bias", "mb1ic256ih14oc512oh7kh1sh2", true, "jit_1x1:avx512_core",
                   "onednn-avx512:bias=init,block=256,input=f32");
}

// ONEDNN_MAX_CPU_ISA=AVX2 makes oneDNN use its AVX2 kernel: one FMA chain from the
// bias through every block of 8 channels, which identify then names.
BOOST_AUTO_TEST_CASE(identify_follows_onednn_max_cpu_isa) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    BOOST_TEST_MESSAGE("skipped: the CPU has no AVX2+FMA");
    return;
  }
  const Files f = write_inputs("id-avx2", "mb1ic64ih14oc64oh14kh3ph1");
  const std::string y = (f.dir / "y.npy").string();
  const std::string env = "ONEDNN_MAX_CPU_ISA=AVX2";
  auto r = run_cli(cat(cat({"run"}, f.args(true)), {"--order", "onednn", "--dtype", "f32", "--out", y}), env);
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  r = run_cli(cat(cat({"identify"}, f.args(true)), {y, "--threads", "2"}), env);
  BOOST_TEST(r.rc == 0, r.out << r.err);
  BOOST_TEST(contains(r.out, "identified: onednn-avx2:block=8,fma=1,input=f32"), r.out);
  BOOST_TEST(!contains(r.out, "identified: onednn-avx512"), r.out);

  // Its 1x1 kernel reduces in chunks of 128 channels, the first starting from the bias.
  const Files g = write_inputs("id-avx2-1x1", "mb1ic256ih14oc512oh7kh1sh2");
  const std::string y1 = (g.dir / "y.npy").string();
  r = run_cli(cat(cat({"run"}, g.args(true)), {"--order", "onednn", "--dtype", "f32", "--out", y1}), env);
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  r = run_cli(cat(cat({"identify"}, g.args(true)), {y1, "--threads", "2"}), env);
  BOOST_TEST(r.rc == 0, r.out << r.err);
  BOOST_TEST(contains(r.out, "identified: onednn-avx512:bias=init,block=128,input=f32"), r.out);
}

#endif

#if CERTCONV_HAVE_OPENBLAS
// unfold + OpenBLAS sgemm with a bias added after the GEMM (blas-unfold), one thread.
BOOST_AUTO_TEST_CASE(identify_names_the_openblas_haswell_order) {
  const Files f = write_inputs("id-blas", "mb1ic64ih14oc64oh14kh3ph1");
  RunOptions opt;
  opt.threads = 1;
  opt.want_bound = false;
  const OrderOutput<float> real = run_order(parse_order("blas-unfold"), f.view(true), opt);
  if (real.provenance.at("core") != "Haswell") {
    BOOST_TEST_MESSAGE("skipped: OpenBLAS core is " << real.provenance.at("core") << ", the test expects Haswell");
    return;
  }
  const std::string y = (f.dir / "y.npy").string();
  write_npy(y, real.y);
  const auto r = run_cli(cat(cat({"identify"}, f.args(true)), {y, "--threads", "2"}));
  BOOST_TEST(r.rc == 0, r.out << r.err);
  BOOST_TEST(contains(r.out, "identified: openblas-haswell:bias=last,input=f32"), r.out);
}
#endif

BOOST_AUTO_TEST_CASE(identify_json_document) {
  const Files f = write_inputs("id-json", "mb1ic5ih7oc3kh3ph1");
  const std::string y = (f.dir / "y.npy").string(), js = (f.dir / "id.json").string();
  RunOptions opt;
  opt.want_bound = false;
  write_npy(y, run_order(parse_order("kahan:fma=1"), f.view(true), opt).y);
  const auto r = run_cli(cat(cat({"identify"}, f.args(true)), {y, "--json", js}));
  BOOST_TEST_REQUIRE(r.rc == 0, r.out << r.err);
  const auto doc = nlohmann::json::parse(certconv::test::slurp(js));
  BOOST_TEST(doc["schema"] == "certconv.identify/1");
  for (const char* k : {"tool", "libraries", "machine", "created_utc", "problem", "inputs", "candidates", "skipped"})
    BOOST_TEST(doc.contains(k), k);
  BOOST_TEST(doc["problem"]["desc"] == to_benchdnn(f.spec));
  BOOST_TEST(doc["problem"]["ic"] == 5);
  BOOST_TEST(doc["inputs"]["files"]["x"]["sha256"] == sha256_file(f.x));
  BOOST_TEST(doc["inputs"]["files"]["y"]["sha256"] == sha256_file(y));
  BOOST_TEST(doc["inputs"]["files"]["bias"]["path"] == f.b);
  BOOST_TEST(doc["identified"] == "kahan:fma=1,input=f32");
  const auto& c = doc["candidates"];
  BOOST_TEST_REQUIRE(c.size() > 100u);
  for (std::size_t i = 1; i < c.size(); ++i)
    BOOST_TEST(c[i - 1]["identical_fraction"].get<double>() >= c[i]["identical_fraction"].get<double>());
  // Every candidate's order string is accepted back by `certconv run --order`.
  const std::string again = c.back()["order"];
  BOOST_TEST(order_str(parse_order(again)) == again);
  BOOST_TEST(c.front()["max_norm_err_of_mismatches"].is_null());
  BOOST_TEST(c.back()["mismatches"].get<std::int64_t>() > 0);
  BOOST_TEST(c.back()["max_norm_dist_of_mismatches"].get<double>() > 0);
}

BOOST_AUTO_TEST_CASE(identify_exits_1_when_nothing_matches) {
  const Files f = write_inputs("id-none", "mb1ic5ih7oc3kh3ph1");
  RunOptions opt;
  opt.want_bound = false;
  Tensor<float> yt = run_order(parse_order("im2col"), f.view(false), opt).y;
  yt.data[4] = std::nextafter(yt.data[4], 0.0f);
  yt.data[9] = -yt.data[9];  // a sign error: a bug, far outside round-off
  const std::string y = (f.dir / "y.npy").string(), js = (f.dir / "id.json").string();
  write_npy(y, yt);
  const auto r = run_cli(cat(cat({"identify"}, f.args(false)), {y, "--json", js}));
  BOOST_TEST(r.rc == 1, r.out << r.err);
  BOOST_TEST(contains(r.out, "no candidate reproduces"), r.out);
  const auto doc = nlohmann::json::parse(certconv::test::slurp(js));
  BOOST_TEST(doc["identified"].is_null());
  BOOST_TEST(doc["candidates"][0]["mismatches"] == 2);
  BOOST_TEST(doc["candidates"][0]["max_norm_err_of_mismatches"].get<double>() > 1000);
}

BOOST_AUTO_TEST_CASE(identify_bad_input_exits_2) {
  const Files f = write_inputs("id-bad", "mb1ic5ih7oc3kh3ph1");
  const std::string y = (f.dir / "y.npy").string(), y64 = (f.dir / "y64.npy").string(),
                    small = (f.dir / "small.npy").string(), x64 = (f.dir / "x64.npy").string(),
                    w64 = (f.dir / "w64.npy").string();
  write_npy(y, Tensor<float>(f.spec.y_shape()));
  write_npy(y64, Tensor<double>(f.spec.y_shape()));
  write_npy(small, Tensor<float>({1, 3, 2, 2}));
  write_npy(x64, Tensor<double>(f.spec.x_shape()));
  write_npy(w64, Tensor<double>(f.spec.w_shape()));
  auto expect2 = [&](const std::vector<std::string>& args, const std::string& part) {
    const auto r = run_cli(args);
    BOOST_TEST(r.rc == 2, "rc " << r.rc << " for " << part);
    BOOST_TEST(contains(r.err, part), "stderr '" << r.err << "' lacks '" << part << "'");
  };
  expect2(cat(cat({"identify"}, f.args(false)), {y, "--dtype", "f64"}), "y.npy: dtype f32 differs from --dtype f64");
  expect2(cat(cat({"identify"}, f.args(false)), {y, "--dtype", "f16"}), "--dtype");
  expect2(cat(cat({"identify"}, f.args(false)), {small}), "small.npy: shape does not match");
  expect2(cat(cat({"identify"}, f.args(false)), {(f.dir / "missing.npy").string()}), "missing.npy");
  expect2({"identify", "--spec", f.desc, "--x", x64, "--w", w64, y}, "float64 inputs");
  expect2({"identify", "--spec", f.desc, "--x", f.x, "--w", f.w}, "y is required");
}
