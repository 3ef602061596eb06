#define BOOST_TEST_MODULE identify
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "certconv/analysis/identify.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/report/sha256.hpp"

using namespace certconv;

namespace {

std::vector<std::string> strings(const std::vector<OrderSpec>& v) {
  std::vector<std::string> s;
  for (const OrderSpec& o : v) s.push_back(order_str(o));
  return s;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

struct Small {
  ConvSpec spec = parse_benchdnn("mb1ic20ih6oc4kh3ph1");
  Tensor<float> x, w, b;
  Small() {
    Rng rng(9);
    x = normal_tensor<float>(spec.x_shape(), rng);
    w = uniform_tensor<float>(spec.w_shape(), 0.1, rng);
    b = uniform_tensor<float>({spec.oc}, 0.1, rng);
  }
  ConvProblem<float> view() const { return {spec, x, w, &b}; }
};

Tensor<float> output_of(const std::string& order, const ConvProblem<float>& p) {
  RunOptions opt;
  opt.want_bound = false;
  return run_order(parse_order(order), p, opt).y;
}

}  // namespace

BOOST_AUTO_TEST_CASE(candidates_sweep_the_parameter_space) {
  const ConvSpec s = parse_benchdnn("mb1ic64ih14oc64oh14kh3ph1");
  const auto f32 = strings(identify_candidates(s, Dtype::f32, false));
  const auto f64 = strings(identify_candidates(s, Dtype::f64, false));
  for (const char* c : {"onednn-avx512:bias=store,block=16,input=f32",
                        "onednn-avx512:bias=store,block=64,input=bf16",
                        "onednn-avx2:block=8,fma=0,input=tf32", "split-k:fma=1,input=fp16,parts=8",
                        "gemm-blocked:bias=first,driver=threaded,fma=1,input=f32,kc=haswell-s,unroll=auto",
                        "winograd:fma=0,input=f32,tile=2", "direct:fma=1,input=f32"})
    BOOST_TEST(has(f32, c), c);
  // Blocks of at least the group's channels are one block: only 64 stands for them.
  BOOST_TEST(!has(f32, "onednn-avx512:bias=store,block=128,input=f32"));
  BOOST_TEST(has(f64, "onednn-avx512:bias=store,block=16,input=f32"));
  BOOST_TEST(!has(f64, "onednn-avx512:bias=store,block=16,input=bf16"));
  for (const std::string& c : f32) BOOST_TEST(c.rfind("onednn:", 0) != 0, c);  // real backends are not candidates
  // Four input formats in f32, one in f64; the float32-only bf16 order aside.
  const auto others = [](const std::vector<std::string>& v) {
    return std::count_if(v.begin(), v.end(),
                         [](const std::string& c) { return c.rfind("onednn-avx512-bf16:", 0) != 0; });
  };
  BOOST_TEST(others(f32) == 4 * others(f64));
  // Where the bias enters is swept only when there is one.
  BOOST_TEST(!has(f32, "gemm-blocked:bias=last,driver=serial,fma=1,input=f32,kc=haswell-s,unroll=auto"));
  const auto biased = strings(identify_candidates(s, Dtype::f32, true));
  BOOST_TEST(has(biased, "gemm-blocked:bias=last,driver=serial,fma=1,input=f32,kc=haswell-s,unroll=auto"));
  BOOST_TEST(has(biased, "onednn-avx512:bias=init,block=16,input=f32"));
}

// The candidate lists, in order, as identify built them when it still named every
// order's parameters itself (before the orders declared their sweeps): the count
// and the SHA-256 of the order strings, one per line.
BOOST_AUTO_TEST_CASE(candidates_unchanged_since_orders_declare_their_sweeps) {
  struct Case {
    const char* spec;
    Dtype dtype;
    bool bias;
    std::size_t count;
    const char* sha256;
  };
  for (const Case& c : {
           Case{"mb1ic64ih14oc64oh14kh3ph1", Dtype::f32, false, 200,
                "f3ffd01c7c591bd0bea08f6eb14c06ed6436e3d4ae234d67ba796c9780ad258e"},
           Case{"mb1ic64ih14oc64oh14kh3ph1", Dtype::f64, true, 72,
                "238735857350e4d1510b078226bbbe9f497cfd7ea637c05dda8adb62f40a7e22"},
           Case{"mb1ic20ih6oc4kh3ph1", Dtype::f32, true, 272,
                "14526f1a8f641e617445dbd450e86b8dccd051ddce2a555c580d08915e15f961"},
           Case{"g2mb1ic6ih5oc4kh3ph1", Dtype::f64, false, 38,
                "689aecbcbd59b28f57203d201fc8c28309ae5c92bcf1e1da47320393577ddb4f"},
           Case{"mb1ic300ih4oc2kh1", Dtype::f32, true, 352,
                "2b543be177a177312c7a145c87ef22ae0e95d525b679990ad9c730df1e2df2bd"},
       }) {
    std::string lines;
    // Orders added since have their own tests (bf16_candidates below).
    std::vector<std::string> v;
    for (const std::string& o : strings(identify_candidates(parse_benchdnn(c.spec), c.dtype, c.bias)))
      if (o.rfind("onednn-avx512-bf16:", 0) != 0) v.push_back(o);
    for (const std::string& o : v) lines += o + "\n";
    BOOST_TEST(v.size() == c.count, c.spec);
    BOOST_TEST(sha256_hex(lines) == c.sha256, c.spec);
  }
}

// onednn-avx512-bf16: both dst types and ISAs; for 1x1 layers every 16-channel chunk (the 1x1
// kernel's reduce_blocking: 160 at 14x14 with 256 channels) and all channels.
BOOST_AUTO_TEST_CASE(bf16_candidates) {
  const auto c3 = strings(identify_candidates(parse_benchdnn("mb1ic64ih14oc64oh14kh3ph1"), Dtype::f32, true));
  BOOST_TEST(has(c3, "onednn-avx512-bf16:bias=bf16,block=16,chunk=all,dst=bf16,input=f32,isa=avx512_core_bf16"));
  BOOST_TEST(has(c3, "onednn-avx512-bf16:bias=bf16,block=16,chunk=all,dst=f32,input=f32,isa=avx512_core_bf16"));
  BOOST_TEST(has(c3, "onednn-avx512-bf16:bias=bf16,block=16,chunk=all,dst=bf16,input=f32,isa=avx512_core"));
  BOOST_TEST(!has(c3, "onednn-avx512-bf16:bias=bf16,block=16,chunk=16,dst=bf16,input=f32,isa=avx512_core_bf16"));
  const auto c1 = strings(identify_candidates(parse_benchdnn("mb1ic256ih14oc64oh14kh1"), Dtype::f32, true));
  for (const char* chunk : {"16", "160", "240", "all"})
    BOOST_TEST(has(c1, std::string("onednn-avx512-bf16:bias=bf16,block=16,chunk=") + chunk +
                           ",dst=bf16,input=f32,isa=avx512_core_bf16"));
  BOOST_TEST(!has(c1, "onednn-avx512-bf16:bias=bf16,block=16,chunk=256,dst=bf16,input=f32,isa=avx512_core_bf16"));
}

// identify names onednn-avx512-bf16 for its own output (tests/test_backends.cpp: for
// the real oneDNN's too).
BOOST_AUTO_TEST_CASE(identifies_the_bf16_order) {
  const Small s;
  const Tensor<float> y = output_of("onednn-avx512-bf16", s.view());
  const IdentifyResult r = identify(s.view(), y, 1);
  BOOST_TEST_REQUIRE(!r.candidates.empty());
  bool named = false;
  for (const IdentifyCandidate& c : r.candidates)
    named |= c.mismatches == 0 && order_str(c.order) ==
                                      "onednn-avx512-bf16:bias=bf16,block=16,chunk=all,dst=bf16,input=f32,"
                                      "isa=avx512_core_bf16";
  BOOST_TEST(named);
}

// Every value an order declares for identify (OrderParam::sweep) is tried.
BOOST_AUTO_TEST_CASE(declared_sweeps_reach_identify) {
  const ConvSpec s = parse_benchdnn("mb1ic20ih6oc4kh3ph1");
  const SweepContext ctx{.spec = s, .dtype = Dtype::f32, .has_bias = true};
  const auto candidates = identify_candidates(s, Dtype::f32, true);
  int declared = 0;
  for (const OrderInfo& info : order_list()) {
    if (info.kind != OrderKind::order || needs_argument(info) || !applies_to(info, Direction::fwd_d, true)) continue;
    for (const OrderParam& param : info.params) {
      if (!param.sweep) continue;
      for (const std::string& v : param.sweep(ctx)) {
        ++declared;
        const bool tried = std::any_of(candidates.begin(), candidates.end(), [&](const OrderSpec& o) {
          return o.name == info.name && o.params.at(param.key) == v;
        });
        BOOST_TEST(tried, info.name + ":" + param.key + "=" + v);
      }
    }
  }
  BOOST_TEST(declared > 0);
}

BOOST_AUTO_TEST_CASE(identifies_an_emulated_order) {
  const Small s;
  const Tensor<float> y = output_of("split-k:parts=4", s.view());
  const IdentifyResult r = identify(s.view(), y, 1);
  BOOST_TEST_REQUIRE(!r.candidates.empty());
  BOOST_TEST(r.candidates.front().mismatches == 0);
  bool named = false;
  for (const IdentifyCandidate& c : r.candidates) {
    named |= c.mismatches == 0 && order_str(c.order) == "split-k:fma=1,input=f32,parts=4";
    BOOST_TEST(c.identical_fraction == static_cast<double>(y.size() - c.mismatches) / static_cast<double>(y.size()));
  }
  BOOST_TEST(named);
  for (std::size_t i = 1; i < r.candidates.size(); ++i)
    BOOST_TEST(r.candidates[i - 1].identical_fraction >= r.candidates[i].identical_fraction);
}

BOOST_AUTO_TEST_CASE(one_changed_element_is_reported) {
  const Small s;
  Tensor<float> y = output_of("onednn-avx512:block=8", s.view());
  y.data[17] = std::nextafter(y.data[17], std::numeric_limits<float>::infinity());
  const IdentifyResult r = identify(s.view(), y, 2);
  const IdentifyCandidate& best = r.candidates.front();
  BOOST_TEST(order_str(best.order) == "onednn-avx512:bias=store,block=8,input=f32");
  BOOST_TEST(best.mismatches == 1);
  // One ulp off a float32 result: well inside round-off, and far from zero.
  BOOST_TEST(best.max_norm_dist_of_mismatches > 0);
  BOOST_TEST(best.max_norm_dist_of_mismatches < 4);
  BOOST_TEST(best.max_norm_err_of_mismatches < 60);
}

BOOST_AUTO_TEST_CASE(negative_zero_is_a_different_bit_pattern) {
  const ConvSpec spec = parse_benchdnn("mb1ic1ih1oc1kh1");
  const Tensor<float> x({1, 1, 1, 1}, 0.0f), w({1, 1, 1, 1}, 1.0f);
  const ConvProblem<float> p{spec, x, w, nullptr};
  Tensor<float> y({1, 1, 1, 1}, -0.0f);  // every order gives +0
  const IdentifyResult r = identify(p, y, 1);
  BOOST_TEST(r.candidates.front().mismatches == 1);
  BOOST_TEST(r.candidates.front().max_norm_err_of_mismatches == 0);  // the value is right
}

BOOST_AUTO_TEST_CASE(orders_that_reject_the_problem_are_skipped) {
  const Small s;
  ConvSpec strided = parse_benchdnn("mb1ic20ih6oc4kh3sh2ph1");
  const ConvProblem<float> p{strided, s.x, s.w, &s.b};
  const IdentifyResult r = identify(p, output_of("direct", p), 1);
  BOOST_TEST(!r.skipped.empty());
  for (const auto& [order, why] : r.skipped) BOOST_TEST(order.rfind("winograd:", 0) == 0, order << ": " << why);
}

BOOST_AUTO_TEST_CASE(float_inputs_identify_a_double_output) {
  const Small s;
  Tensor<double> xd, wd, bd;
  xd.shape = s.x.shape, wd.shape = s.w.shape, bd.shape = s.b.shape;
  xd.data.assign(s.x.data.begin(), s.x.data.end());
  wd.data.assign(s.w.data.begin(), s.w.data.end());
  bd.data.assign(s.b.data.begin(), s.b.data.end());
  RunOptions opt;
  opt.want_bound = false;
  const Tensor<double> y = run_order(parse_order("pairwise:fma=1"), ConvProblem<double>{s.spec, xd, wd, &bd}, opt).y;
  const IdentifyResult r = identify(s.view(), y, 1);
  bool named = false;
  for (const IdentifyCandidate& c : r.candidates) named |= c.mismatches == 0 && order_str(c.order) == "pairwise:fma=1,input=f32";
  BOOST_TEST(named);
  Tensor<double> wrong({1, 2, 3, 4});
  BOOST_CHECK_THROW(identify(s.view(), wrong, 1), InputError);
}
