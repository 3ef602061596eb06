// analysis/explain: A correctly rounded (within every bound), B with one
// injected error far beyond the order-free bound.
#define BOOST_TEST_MODULE explain
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/registry/registry.hpp"
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
    truth = compute_truth(view(), {});
  }
  ConvProblem<float> view() const { return {spec, x, w, nullptr}; }
  template <class TA, class TB>
  ExplainResult explain(const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req = {}) const {
    return explain_problem(view(), a, b, req, std::nullopt, {}).result;
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
  const ExplainResult r = p.explain(a, b, req);

  BOOST_TEST((r.sides[0].format == OutputFormat::f32 && r.sides[1].format == OutputFormat::f32));
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
  BOOST_TEST((r.failing[0].index == std::vector<std::int64_t>{0, 0, 2, 1}));
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
  const ExplainResult r = p.explain(a, b);
  BOOST_TEST(r.consistent);
  BOOST_TEST(r.sides[1].consistent);
  BOOST_TEST(r.failures == 1);  // rtol 1e-3 cannot hold at cond ≈ 2^21
  BOOST_TEST(r.cond_failing.cond.median > 1e6);
  BOOST_TEST(r.verdict.rfind("No bug: both A and B", 0) == 0u, r.verdict);
}

// A float64 result against a float32 one (the seed thread's follow-up): each side
// against the truth in its own u, the float32 side carrying the difference, and
// the certified tolerance the sum of the two bounds.
BOOST_AUTO_TEST_CASE(float64_against_float32_names_the_side_that_carries_the_difference) {
  const ConvSpec spec = parse_benchdnn("mb1ic16ih10oc8kh3ph1");
  Rng rng(4);
  const Tensor<float> x = normal_tensor<float>(spec.x_shape(), rng), w = uniform_tensor<float>(spec.w_shape(), 0.1, rng);
  const ConvProblem<float> p{spec, x, w, nullptr};
  RunOptions ro;
  ro.want_bound = false;
  const Tensor<double> a = run_order(parse_order("im2col"), problem_cast<double>(p).view(), ro).y;
  const Tensor<float> b = run_order(parse_order("direct"), p, ro).y;
  ExplainRequest req;
  req.name_a = "mine64";
  req.name_b = "conv2d";
  req.rtol = 1e-6;
  req.formats = {OutputFormat::f64, OutputFormat::f32};
  const ExplainResult r = explain_problem(p, a, b, req, std::nullopt, {}).result;
  BOOST_TEST(r.consistent, r.verdict);
  // Per-side max |error| against an independent computation of the same numbers.
  const Truth t = compute_truth(p, {});
  double ea = 0, eb = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i) {
    ea = std::max(ea, std::fabs(a.data[i] - t.y.data[i]));
    eb = std::max(eb, std::fabs(double(b.data[i]) - t.y.data[i]));
  }
  BOOST_TEST(r.sides[0].metrics.max_abs_err == ea);
  BOOST_TEST(r.sides[1].metrics.max_abs_err == eb);
  BOOST_TEST(eb > 1e6 * ea);
  BOOST_TEST(contains(r.verdict, "No bug: mine64 (float64) and conv2d (float32) are each within"), r.verdict);
  BOOST_TEST(contains(r.verdict, "The difference is conv2d's round-off"), r.verdict);
  BOOST_TEST(contains(r.verdict, "cannot bring |mine64 - conv2d| below conv2d's error"), r.verdict);
  // isclose failures are B's doing.
  BOOST_TEST_REQUIRE(r.failures > 0);
  BOOST_TEST(r.failures_dominated[1] == r.failures);
  for (const IscloseFailure& f : r.failing) BOOST_TEST(f.dominant == 1);
  // |A − B| ≤ bound_A + bound_B, and bound_A is float64's (tiny).
  BOOST_TEST(r.max_abs_diff <= r.certified_atol);
  BOOST_TEST(r.failing.front().bound_a < 1e-6 * r.failing.front().bound_b);
}

// float32 against bf16 (a float32 accumulation rounded to bf16, DAZ/FTZ): the
// bf16 side's bound includes its input and output rounding.
BOOST_AUTO_TEST_CASE(float32_against_bf16) {
  const ConvSpec spec = parse_benchdnn("mb1ic16ih10oc8kh3ph1");
  Rng rng(5);
  const Tensor<float> x = round_tensor(normal_tensor<float>(spec.x_shape(), rng), InputFormat::bf16, "x"),
                      w = round_tensor(uniform_tensor<float>(spec.w_shape(), 0.1, rng), InputFormat::bf16, "w");
  const ConvProblem<float> p{spec, x, w, nullptr};
  RunOptions ro;
  ro.want_bound = false;
  const Tensor<float> a = run_order(parse_order("direct"), p, ro).y;
  const Tensor<float> b = round_tensor(run_order(parse_order("im2col"), p, ro).y, InputFormat::bf16, "b");
  ExplainRequest req;
  req.formats = {OutputFormat::f32, OutputFormat::bf16};
  const ExplainResult r = explain_problem(p, a, b, req, std::nullopt, {}).result;
  BOOST_TEST(r.consistent, r.verdict);
  BOOST_TEST(bound_kind_name(r.sides[1].bound_kind) == "order-free+input-rounding+output-rounding");
  BOOST_TEST(contains(r.verdict, "B (bf16 (float32 accumulation))"), r.verdict);
  BOOST_TEST(contains(r.verdict, "The difference is B's round-off"), r.verdict);
  // As float32 the bf16 output would be a bug: its errors exceed float32's bound.
  req.formats = {OutputFormat::f32, OutputFormat::f32};
  BOOST_TEST(!explain_problem(p, a, b, req, std::nullopt, {}).result.sides[1].consistent);
}

BOOST_AUTO_TEST_CASE(formats_that_do_not_fit_the_values_are_input_errors) {
  const Problem p;
  const Tensor<float>& a = p.truth.y32;
  Tensor<float> b = a;
  b(0, 1, 0, 0) = 1 + 0x1p-12f;  // not a bf16 value
  ExplainRequest req;
  req.name_b = "mine";
  req.formats = {OutputFormat::f32, OutputFormat::bf16};
  BOOST_CHECK_EXCEPTION(p.explain(a, b, req), InputError, [](const InputError& e) {
    return contains(e.what(), "mine: 1.00024414 at index [0, 1, 0, 0] is not a bf16 value");
  });
  req.formats = {OutputFormat::f64, OutputFormat::f32};
  BOOST_CHECK_EXCEPTION(p.explain(a, a, req), InputError, [](const InputError& e) {
    return contains(e.what(), "A: a float64 output must be a float64 array");
  });
}
