#define BOOST_TEST_MODULE cli_run
#include <bit>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "cli_util.hpp"

using namespace certconv;
using certconv::test::run_cli;
namespace fs = std::filesystem;

namespace {

const char* kDesc = "g2mb1ic6ih7iw6oc4kh3kw2sh2ph1pw1";

struct Files {
  fs::path dir;
  std::string x, w, b, x64, w64;
};

Files write_inputs(const std::string& name) {
  Files f{certconv::test::scratch_dir(name), {}, {}, {}, {}, {}};
  const ConvSpec s = parse_benchdnn(kDesc);
  Rng rng(9);
  f.x = (f.dir / "x.npy").string();
  f.w = (f.dir / "w.npy").string();
  f.b = (f.dir / "b.npy").string();
  f.x64 = (f.dir / "x64.npy").string();
  f.w64 = (f.dir / "w64.npy").string();
  write_npy(f.x, normal_tensor<float>(s.x_shape(), rng));
  write_npy(f.w, normal_tensor<float>(s.w_shape(), rng));
  write_npy(f.b, normal_tensor<float>({s.oc}, rng));
  write_npy(f.x64, normal_tensor<double>(s.x_shape(), rng));
  write_npy(f.w64, normal_tensor<double>(s.w_shape(), rng));
  return f;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(run_writes_output_and_bound) {
  const Files f = write_inputs("run-ok");
  const std::string out = (f.dir / "y.npy").string(), bound = (f.dir / "bound.npy").string(),
                    running = (f.dir / "running.npy").string();
  auto r = run_cli({"run",
                    "--spec",
                    kDesc,
                    "--x",
                    f.x,
                    "--w",
                    f.w,
                    "--bias",
                    f.b,
                    "--order",
                    "gemm-blocked:kc=5,unroll=2,fma=0",
                    "--dtype",
                    "f32",
                    "--out",
                    out,
                    "--bound",
                    bound,
                    "--running",
                    running,
                    "--threads",
                    "2"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "\"order\":\"gemm-blocked:bias=first,driver=serial,fma=0,input=f32,kc=5,unroll=2\""), r.out);
  BOOST_TEST(contains(r.out, "\"bound_kind\":\"tree-gamma\""), r.out);

  // The files hold what the library computes: <f4 output, <f8 bound, NCHW.
  const ConvSpec s = parse_benchdnn(kDesc);
  const auto x = read_npy_as<float>(f.x, "x"), w = read_npy_as<float>(f.w, "w"), b = read_npy_as<float>(f.b, "b");
  const OrderOutput<float> want =
      run_order(parse_order("gemm-blocked:kc=5,unroll=2,fma=0"), ConvProblem<float>{s, x, w, &b}, RunOptions{1, true});
  const AnyTensor y = read_npy(out), bd = read_npy(bound);
  BOOST_TEST_REQUIRE(std::holds_alternative<Tensor<float>>(y));
  BOOST_TEST_REQUIRE(std::holds_alternative<Tensor<double>>(bd));
  BOOST_TEST(std::get<Tensor<float>>(y).shape == s.y_shape());
  BOOST_TEST(std::get<Tensor<float>>(y).data == want.y.data);
  BOOST_TEST(std::get<Tensor<double>>(bd).shape == s.y_shape());
  BOOST_TEST(std::get<Tensor<double>>(bd).data == want.bound.data);
  BOOST_TEST(read_npy_as<double>(running, "running").data == want.running_bound.data);

  // float64 in, float64 out.
  const std::string out64 = (f.dir / "y64.npy").string();
  r = run_cli(
      {"run", "--spec", kDesc, "--x", f.x64, "--w", f.w64, "--order", "kahan", "--dtype", "f64", "--out", out64});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(std::holds_alternative<Tensor<double>>(read_npy(out64)));
}

BOOST_AUTO_TEST_CASE(run_rejects_bad_orders_and_dtypes_with_exit_2) {
  const Files f = write_inputs("run-bad");
  const std::string out = (f.dir / "y.npy").string();
  auto run = [&](const std::string& order, const std::string& dtype, const std::string& x, const std::string& w) {
    return run_cli({"run", "--spec", kDesc, "--x", x, "--w", w, "--order", order, "--dtype", dtype, "--out", out});
  };
  auto r = run("nosuch", "f32", f.x, f.w);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "unknown order 'nosuch'"), r.err);
  r = run("direct:speed=11", "f32", f.x, f.w);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "'speed'"), r.err);
  r = run("split-k:parts=-1", "f32", f.x, f.w);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "'parts'"), r.err);
  r = run("direct", "f64", f.x, f.w);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "--dtype f64 does not match"), r.err);
  r = run("direct", "f16", f.x, f.w);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "--dtype"), r.err);
  r = run("direct:input=bf16", "f64", f.x64, f.w64);
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "input=bf16"), r.err);
  BOOST_TEST(!fs::exists(out));
}

BOOST_AUTO_TEST_CASE(orders_lists_every_registered_order) {
  auto r = run_cli({"orders"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  for (const OrderInfo& o : order_list()) {
    BOOST_TEST(contains(r.out, o.name), o.name);
    BOOST_TEST(contains(r.out, o.accumulation), o.name);
    for (const OrderParam& p : o.params) BOOST_TEST(contains(r.out, p.help), o.name << ":" << p.key);
  }
  BOOST_TEST(contains(r.out, "kc       = auto"));
  r = run_cli({"orders", "--json", "-"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "\"name\": \"onednn-avx512\""));
  // --json PATH writes the same document to PATH and nothing to stdout.
  const fs::path path = certconv::test::scratch_dir("orders-json") / "orders.json";
  const auto w = run_cli({"orders", "--json", path.string()});
  BOOST_TEST_REQUIRE(w.rc == 0, w.err);
  BOOST_TEST(w.out.empty());
  BOOST_TEST((certconv::test::slurp(path) == r.out));
  BOOST_TEST(run_cli({"orders", "--json"}).rc == 2);  // PATH is required
}

BOOST_AUTO_TEST_CASE(help_lists_every_exit_code) {
  const auto r = run_cli({"--help"});
  BOOST_TEST_REQUIRE(r.rc == 0, r.err);
  for (const char* code : {"0 ok", "1 a check failed", "2 bad usage or bad input", "3 internal error", "128+N"})
    BOOST_TEST(contains(r.out, code), code);
}
