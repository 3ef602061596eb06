#define BOOST_TEST_MODULE cli_reveal
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "certconv/core/config.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/exact/generate.hpp"
#include "cli_util.hpp"
#include "schema_keys.hpp"

using namespace certconv;
using certconv::test::check_schema;
using certconv::test::run_cli;
using certconv::test::shell_quote;
using certconv::test::slurp;
namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(slurp(p)); }

// A Python with NumPy for the --command tests, or "" (those tests then pass vacuously).
std::string numpy_python() {
  for (const char* py : {"/usr/bin/python3", "python3"})
    if (std::system((std::string(py) + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

// No certconv-reveal-* directory is left in `tmp`.
bool no_temp_left(const fs::path& tmp) {
  for (const auto& e : fs::directory_iterator(tmp))
    if (e.path().filename().string().starts_with("certconv-reveal-")) return false;
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reveals_an_order_and_the_tree_order_replays_it) {
  const fs::path d = certconv::test::scratch_dir("reveal-order");
  const std::string js = (d / "r.json").string(), dot = (d / "r.dot").string();
  const auto r = run_cli({"reveal", "--spec", "mb1ic6ih7oc8kh3ph1", "--backend", "gemm-blocked:kc=20", "--dtype", "f32",
                          "--json", js, "--dot", dot});
  BOOST_TEST_REQUIRE(r.rc == 0, r.out + r.err);
  const auto j = read_json(js);
  BOOST_TEST(j["schema"] == "certconv.reveal/1");
  BOOST_TEST(j["status"] == "tree");
  BOOST_TEST(j["replay"]["identical_fraction"] == 1.0);
  BOOST_TEST(j["bounds"]["violations"] == 0);
  BOOST_TEST(j["cost"]["calls"].get<int>() <= 30);
  check_schema(j, {"Common fields (every document)", "certconv.reveal/1"});
  BOOST_TEST(fs::exists(d / "r.tree.json"));
  BOOST_TEST(slurp(dot).starts_with("digraph"));
  // The order string runs: the same bits as the order revealed.
  Rng rng(4);
  const ConvSpec s = parse_benchdnn("mb1ic6ih7oc8kh3ph1");
  write_npy((d / "x.npy").string(), normal_tensor<float>(s.x_shape(), rng));
  write_npy((d / "w.npy").string(), uniform_tensor<float>(s.w_shape(), 0.2, rng));
  write_npy((d / "b.npy").string(), uniform_tensor<float>({s.oc}, 0.2, rng));
  const std::vector<std::string> in{"--spec",  "mb1ic6ih7oc8kh3ph1",
                                    "--x",     (d / "x.npy").string(),
                                    "--w",     (d / "w.npy").string(),
                                    "--bias",  (d / "b.npy").string(),
                                    "--dtype", "f32"};
  auto with = [&](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  BOOST_TEST_REQUIRE(run_cli(with({"run", "--order", j["order"]}, with(in, {"--out", (d / "a.npy").string()}))).rc ==
                     0);
  BOOST_TEST_REQUIRE(
      run_cli(with({"run", "--order", "gemm-blocked:kc=20"}, with(in, {"--out", (d / "b.npy").string()}))).rc == 0);
  BOOST_TEST(slurp(d / "a.npy") == slurp(d / "b.npy"));
}

BOOST_AUTO_TEST_CASE(compensated_and_winograd_are_no_trees) {
  const fs::path d = certconv::test::scratch_dir("reveal-notree");
  for (const char* order : {"kahan", "winograd"}) {
    const std::string js = (d / (std::string(order) + ".json")).string();
    const auto r =
        run_cli({"reveal", "--spec", "mb1ic4ih8oc8kh3ph1", "--backend", order, "--dtype", "f32", "--json", js});
    BOOST_TEST(r.rc == 1, order << r.err);
    BOOST_TEST(read_json(js)["status"] != "tree", order);
  }
}

#if CERTCONV_HAVE_ONEDNN
BOOST_AUTO_TEST_CASE(reveals_onednn) {
  const fs::path d = certconv::test::scratch_dir("reveal-onednn");
  const auto r = run_cli({"reveal", "--spec", "mb1ic3ih32oc16kh7sh2ph3", "--backend", "onednn", "--dtype", "f32",
                          "--json", (d / "r.json").string()});
  BOOST_TEST(r.rc == 0, r.out + r.err);
  const auto r2 = run_cli({"reveal", "--spec", "mb1ic16ih10oc16kh3ph1", "--backend", "onednn:alg=winograd", "--dtype",
                           "f32", "--json", (d / "w.json").string()});
  BOOST_TEST(r2.rc == 1, r2.out + r2.err);
  BOOST_TEST(read_json(d / "w.json")["status"] == "not_a_tree");
}

// Real oneDNN in bf16 (jit_bf16:avx512_core_bf16): revealed with the bf16 numerics and
// replayed at 100% with dst=f32; a bf16 dst cannot count 577 leaves, and reveal says so.
BOOST_AUTO_TEST_CASE(reveals_onednn_bf16) {
  if (!__builtin_cpu_supports("avx512bf16")) {
    BOOST_TEST_MESSAGE("skipped: the CPU lacks AVX512_BF16, the test expects jit_bf16:avx512_core_bf16");
    return;
  }
  const fs::path d = certconv::test::scratch_dir("reveal-onednn-bf16");
  const auto r = run_cli({"reveal", "--spec", "mb1ic64ih14oc16kh3ph1", "--backend", "onednn:dt=bf16,dst=f32",
                          "--dtype", "f32", "--json", (d / "r.json").string()});
  BOOST_TEST(r.rc == 0, r.out + r.err);
  const auto j = read_json(d / "r.json");
  BOOST_TEST(j["numerics"]["chosen"]["input"] == "bf16");
  BOOST_TEST(j["order"].get<std::string>().find("input=bf16") != std::string::npos);
  BOOST_TEST(j["replay"]["identical_fraction"] == 1.0);
  check_schema(j, {"Common fields (every document)", "certconv.reveal/1"});
  const auto b = run_cli({"reveal", "--spec", "mb1ic64ih14oc16kh3ph1", "--backend", "onednn:dt=bf16,dst=bf16",
                          "--dtype", "f32", "--json", (d / "b.json").string()});
  BOOST_TEST(b.rc == 1, b.out + b.err);
  BOOST_TEST(b.out.find("cannot count") != std::string::npos, b.out);
}
#endif

// A command that sums in order at even output columns and in reverse at odd ones: no
// catalog order, two position classes.
BOOST_AUTO_TEST_CASE(reveals_a_command_with_position_classes) {
  const std::string py = numpy_python();
  if (py.empty()) return;
  const fs::path d = certconv::test::scratch_dir("reveal-command");
  std::ofstream(d / "conv.py") << R"(import sys, numpy as np
x, w, b = (np.load(p) for p in sys.argv[1:4])
mb, ic, ih, iw = x.shape; oc, _, kh, kw = w.shape
oh, ow = ih - kh + 1, iw - kw + 1
y = np.zeros((mb, oc, oh, ow), np.float32)
for n in range(mb):
  for o in range(oc):
    for i in range(oh):
      for j in range(ow):
        terms = (x[n, :, i:i + kh, j:j + kw] * w[o]).ravel()
        acc = b[o]
        for t in (terms if j % 2 == 0 else terms[::-1]):
          acc = np.float32(acc + t)
        y[n, o, i, j] = acc
np.save(sys.argv[4], y)
)";
  const std::string cmd = py + " " + shell_quote((d / "conv.py").string()) + " {x} {w} {bias} {y}";
  const fs::path tmp = d / "tmp";
  fs::create_directories(tmp);
  const auto r = run_cli(
      {"reveal", "--spec", "mb1ic2ih5oc4kh3", "--command", cmd, "--dtype", "f32", "--json", (d / "r.json").string()},
      "TMPDIR=" + shell_quote(tmp.string()));
  BOOST_TEST_REQUIRE(r.rc == 0, r.out + r.err);
  const auto j = read_json(d / "r.json");
  BOOST_TEST(j["trees"].size() == 2u);
  BOOST_TEST(j["classes"]["by"] == "position");
  BOOST_TEST(j["numerics"]["chosen"]["fma"] == "0");
  BOOST_TEST(j["black_box"]["kind"] == "command");
  BOOST_TEST(no_temp_left(tmp));
}

BOOST_AUTO_TEST_CASE(bad_commands_exit_2_with_their_output) {
  const fs::path d = certconv::test::scratch_dir("reveal-bad");
  const fs::path tmp = d / "tmp";
  fs::create_directories(tmp);
  const std::string env = "TMPDIR=" + shell_quote(tmp.string());
  auto reveal = [&](const std::string& cmd, std::vector<std::string> more = {}) {
    std::vector<std::string> a{"reveal", "--spec", "mb1ic2ih5oc4kh3",      "--command", cmd, "--dtype",
                               "f32",    "--json", (d / "r.json").string()};
    a.insert(a.end(), more.begin(), more.end());
    return run_cli(a, env);
  };
  auto r = reveal("echo boom-from-the-command >&2; exit 3 # {x} {w} {bias} {y}");
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(r.err.find("exit status 3") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("boom-from-the-command") != std::string::npos, r.err);
  r = reveal("sleep 5 # {y}", {"--timeout", "0.3"});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(r.err.find("timed out") != std::string::npos, r.err);
  r = reveal("cp {w} {y}");  // a float32 array of the wrong shape
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(r.err.find("shape") != std::string::npos, r.err);
  r = reveal("true # {y}");
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(r.err.find("wrote no {y}") != std::string::npos, r.err);
  const std::string py = numpy_python();
  if (!py.empty()) {
    r = reveal(py + " -c 'import numpy as np; np.save(\"{y}\", np.zeros((1, 4, 3, 3)))'");  // float64
    BOOST_TEST(r.rc == 2);
    BOOST_TEST(r.err.find("{y}") != std::string::npos, r.err);
  }
  r = reveal("cp {x} {y}", {"--no-bias"});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(run_cli({"reveal", "--spec", "mb1ic2ih5oc4kh3", "--dtype", "f32", "--json", (d / "r.json").string()}).rc ==
             2);
  BOOST_TEST(no_temp_left(tmp));
}

// identify finds no catalog setting for an odd K block; --reveal-backend reveals it and
// the revealed order reproduces Y.
BOOST_AUTO_TEST_CASE(identify_falls_back_to_reveal) {
  const fs::path d = certconv::test::scratch_dir("reveal-identify");
  const std::string desc = "mb1ic6ih7oc8kh3ph1";
  const ConvSpec s = parse_benchdnn(desc);
  Rng rng(8);
  write_npy((d / "x.npy").string(), normal_tensor<float>(s.x_shape(), rng));
  write_npy((d / "w.npy").string(), uniform_tensor<float>(s.w_shape(), 0.2, rng));
  write_npy((d / "b.npy").string(), uniform_tensor<float>({s.oc}, 0.2, rng));
  const std::vector<std::string> in{
      "--spec", desc, "--x", (d / "x.npy").string(), "--w", (d / "w.npy").string(), "--bias", (d / "b.npy").string()};
  std::vector<std::string> run{"run", "--order", "gemm-blocked:kc=21,unroll=2", "--dtype",
                               "f32", "--out",   (d / "y.npy").string()};
  run.insert(run.end(), in.begin(), in.end());
  BOOST_TEST_REQUIRE(run_cli(run).rc == 0);
  std::vector<std::string> id{"identify", (d / "y.npy").string(), "--json", (d / "id.json").string()};
  id.insert(id.end(), in.begin(), in.end());
  BOOST_TEST_REQUIRE(run_cli(id).rc == 1);  // no catalog setting
  id.insert(id.end(), {"--reveal-backend", "gemm-blocked:kc=21,unroll=2"});
  const auto r = run_cli(id);
  BOOST_TEST(r.rc == 0, r.out + r.err);
  const auto j = read_json(d / "id.json");
  BOOST_TEST(j["reveal"]["status"] == "tree");
  BOOST_TEST(j["reveal"]["reproduces_y"]["identical_fraction"] == 1.0);
  BOOST_TEST(fs::exists(d / "y.tree.json"));
}

// A command that alternates between two orders which agree on the probes but not on
// random inputs: the repeated random input exposes it.
BOOST_AUTO_TEST_CASE(a_non_deterministic_command_exits_1) {
  const fs::path d = certconv::test::scratch_dir("reveal-nondet");
  const char* bin = std::getenv("CERTCONV_BIN");
  const std::string counter = shell_quote((d / "count").string());
  const std::string cmd = "n=$(cat " + counter + " 2>/dev/null || echo 0); echo $((n + 1)) > " + counter +
                          "; if [ $((n % 2)) = 0 ]; then o=direct; else o=direct:fma=1; fi; " +
                          shell_quote(bin ? bin : "certconv") +
                          " run --spec mb1ic4ih6oc4kh3 --x {x} --w {w} --bias {bias} --dtype f32 --order $o "
                          "--out {y} >/dev/null";
  const auto r = run_cli(
      {"reveal", "--spec", "mb1ic4ih6oc4kh3", "--command", cmd, "--dtype", "f32", "--json", (d / "r.json").string()});
  BOOST_TEST(r.rc == 1, r.out + r.err);
  BOOST_TEST(read_json(d / "r.json")["status"] == "non_deterministic");
}
