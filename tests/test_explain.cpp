// analysis/explain: A correctly rounded (within every bound), B with one
// injected error far beyond the order-free bound.
#define BOOST_TEST_MODULE explain
#include <boost/test/unit_test.hpp>

#include <string>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/exact/truth.hpp"

using namespace certconv;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A 1×1 convolution with x ≡ 1: output channel 0 sums eight 1/8 (exactly 1),
// channel 1 cancels to 2^-20.
struct Problem {
  ConvSpec spec = parse_benchdnn("mb1ic8ih3oc2kh1");
  Tensor<float> x{spec.x_shape(), 1.0f}, w{spec.w_shape(), 0.125f};
  Truth truth;
  Problem() {
    const float cancel[8] = {1.0f, -1.0f, 0.5f, -0.5f, 0.25f, -0.25f, 0x1p-20f, 0.0f};
    for (int i = 0; i < 8; ++i) w(1, i, 0, 0) = cancel[i];
    truth = compute_truth(ConvProblem<float>{spec, x, w, nullptr}, {});
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(injected_error_in_b_is_named_a_bug) {
  const Problem p;
  const Tensor<float>& a = p.truth.y32;
  Tensor<float> b = a;
  b(0, 0, 2, 1) += 0.5f;  // 1 → 1.5, far beyond n·u·absdot ≈ 8·2^-24
  ExplainRequest req;
  req.name_a = "im2col";
  req.name_b = "mine";
  const ExplainResult r = explain(p.spec, p.truth, false, a, b, req);

  BOOST_TEST((r.dtype == Dtype::f32));
  BOOST_TEST(r.sides[0].name == "im2col");
  BOOST_TEST(r.sides[0].consistent);
  BOOST_TEST(r.sides[0].metrics.violations == 0);
  BOOST_TEST(r.sides[0].metrics.max_abs_err == 0.0);
  BOOST_TEST(r.sides[0].suggested_cause.empty());
  BOOST_TEST(!r.sides[1].consistent);
  BOOST_TEST(r.sides[1].metrics.violations == 1);
  BOOST_TEST(!r.consistent);
  BOOST_TEST(contains(r.sides[1].suggested_cause, "a bug"), r.sides[1].suggested_cause);

  // isclose(A, B, rtol 1e-3) fails exactly there.
  BOOST_TEST(r.failures == 1);
  BOOST_TEST_REQUIRE(r.failing.size() == 1u);
  BOOST_TEST((r.failing[0].index == std::array<std::int64_t, 4>{0, 0, 2, 1}));
  BOOST_TEST(r.failing[0].err_a == 0.0);
  BOOST_TEST(r.failing[0].err_b == 0.5);
  BOOST_TEST(r.failing[0].cond == 1.0);  // absdot = |y| = 1
  BOOST_TEST(r.max_abs_diff == 0.5);
  BOOST_TEST(r.certified_atol > 0.0);
  BOOST_TEST(r.certified_atol < 1e-5);  // 2·γ_8·absdot, absdot ≤ 2

  BOOST_TEST(contains(r.verdict, "mine is NOT consistent with any summation order in float32"), r.verdict);
  BOOST_TEST(contains(r.verdict, "index [0, 0, 2, 1]"), r.verdict);
  BOOST_TEST(contains(r.verdict, "Suggested cause: a bug"), r.verdict);
  BOOST_TEST(!contains(r.verdict, "im2col is NOT"), r.verdict);
  BOOST_TEST(contains(r.verdict, "fails at 1 of 18 outputs"), r.verdict);
}

BOOST_AUTO_TEST_CASE(round_off_within_the_bound_is_no_bug) {
  const Problem p;
  const Tensor<float>& a = p.truth.y32;
  Tensor<float> b = a;
  b(0, 1, 0, 0) += 0x1p-22f;  // a quarter of |y| = 2^-20, inside 8·u·absdot ≈ 2^-19
  const ExplainResult r = explain(p.spec, p.truth, false, a, b, ExplainRequest{});
  BOOST_TEST(r.consistent);
  BOOST_TEST(r.sides[1].consistent);
  BOOST_TEST(r.failures == 1);  // rtol 1e-3 cannot hold at cond ≈ 2^21
  BOOST_TEST(r.cond_failing.cond.median > 1e6);
  BOOST_TEST(r.verdict.rfind("No bug: both A and B", 0) == 0u, r.verdict);
}
