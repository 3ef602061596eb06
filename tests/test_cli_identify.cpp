#define BOOST_TEST_MODULE cli_identify
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "certconv/core/config.hpp"
#include "certconv/core/error.hpp"
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

// Whether an "identified: ..." line of identify's output ends with `suffix`.
bool identified_ending(const std::string& out, const std::string& suffix) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("identified: ", 0) == 0 && line.size() >= suffix.size() &&
        line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  return false;
}

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
// bf16 end to end: `certconv run --order onednn:dt=bf16` writes the real bf16 result
// (widened to float32) and identify names onednn-avx512-bf16 for it. With
// ONEDNN_MAX_CPU_ISA=AVX512_CORE oneDNN runs the same kernel emulating the bf16
// instructions (jit_bf16:avx512_core): the same bits on normal inputs, but not where
// DAZ/FTZ matter (x below 2^-126, huge w), where only isa=avx512_core reproduces it.
// With AVX2 oneDNN has no bf16 convolution: exit 2, saying so.
BOOST_AUTO_TEST_CASE(identify_names_the_onednn_bf16_order) {
  Files f = write_inputs("id-bf16", "mb1ic32ih12oc32oh12kh3ph1");
  RunOptions opt;
  opt.want_bound = false;
  std::string impl;
  try {
    impl = run_order(parse_order("onednn:dt=bf16"), f.view(true), opt).provenance.at("impl_info_str");
  } catch (const InputError& e) {
    BOOST_TEST_MESSAGE("skipped: " << e.what());
    return;
  }
  if (impl != "jit_bf16:avx512_core_bf16") {
    BOOST_TEST_MESSAGE("skipped: oneDNN picked " << impl << ", the test expects jit_bf16:avx512_core_bf16");
    return;
  }
  const std::string order = "onednn-avx512-bf16:bias=bf16,block=16,chunk=all,dst=bf16,input=f32,isa=";
  auto identified = [&](const std::string& env, const std::string& isa) {
    const std::string y = (f.dir / "y.npy").string();
    auto r = run_cli(cat(cat({"run"}, f.args(true)), {"--order", "onednn:dt=bf16", "--dtype", "f32", "--out", y,
                                                      "--bound", (f.dir / "bound.npy").string()}),
                     env);
    BOOST_TEST_REQUIRE(r.rc == 0, r.err);
    BOOST_TEST(contains(r.out, "\"bound_kind\":\"order-free+input-rounding+output-rounding\""), r.out);
    r = run_cli(cat(cat({"identify"}, f.args(true)), {y, "--threads", "2", "--show", "10"}), env);
    BOOST_TEST(r.rc == 0, env << ": " << r.out << r.err);
    BOOST_TEST(contains(r.out, "identified: " + order + isa + "\n"), env << ": " << r.out);
    return r.out;
  };
  identified("", "avx512_core_bf16");
  identified("ONEDNN_MAX_CPU_ISA=AVX512_CORE", "avx512_core_bf16");
  for (float& v : f.xt.data) v = std::ldexp(v, -130);
  for (float& v : f.wt.data) v = std::ldexp(v, 125);
  for (float& v : f.bt.data) v = std::ldexp(v, -5);
  write_npy(f.x, f.xt);
  write_npy(f.w, f.wt);
  write_npy(f.b, f.bt);
  const std::string native = identified("", "avx512_core_bf16"),
                    emulated = identified("ONEDNN_MAX_CPU_ISA=AVX512_CORE", "avx512_core");
  BOOST_TEST(!identified_ending(native, "isa=avx512_core"), native);
  BOOST_TEST(!identified_ending(emulated, "isa=avx512_core_bf16"), emulated);

  const auto r = run_cli(cat(cat({"run"}, f.args(true)), {"--order", "onednn:dt=bf16", "--dtype", "f32", "--out",
                                                          (f.dir / "z.npy").string()}),
                         "ONEDNN_MAX_CPU_ISA=AVX2");
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "bf16 convolution is not supported on this CPU"), r.err);
}

#endif
