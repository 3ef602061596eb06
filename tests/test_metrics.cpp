// analysis/metrics: norm_err, ulp_err, rel_err, violations, tightness and isclose
// on a four-output problem whose truth and errors are made by hand.
#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "certconv/analysis/metrics.hpp"
#include "certconv/core/spec.hpp"

using namespace certconv;

namespace {

// y = {1, 2, 0, -4} exactly (lo = hi = y), absdot = {1, 4, 2, 4}: outputs [0, 0, 0, 0..1] and [0, 0, 1, 0..1].
struct Fixture {
  ConvSpec spec = parse_benchdnn("mb1ic1ih2oc1kh1");
  Truth truth;
  Fixture() {
    const auto shape = spec.y_shape();
    truth.y = Tensor<double>(shape, 0.0);
    truth.y.data = {1, 2, 0, -4};
    truth.y32 = Tensor<float>(shape, 0.0f);
    truth.y32.data = {1, 2, 0, -4};
    truth.lo = truth.y;
    truth.hi = truth.y;
    truth.absdot = Tensor<double>(shape, 0.0);
    truth.absdot.data = {1, 4, 2, 4};
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(hand_made_errors_give_hand_computed_metrics) {
  Fixture f;
  // Errors: 0; one float ulp of 2 (2^-22); 2^-30 where y = 0; 0.
  Tensor<float> obs(f.spec.y_shape(), 0.0f);
  obs.data = {1.0f, 2.0f + 0x1p-22f, 0x1p-30f, -4.0f};
  Tensor<double> bound(f.spec.y_shape(), 0.0);
  bound.data = {0, 0x1p-23, 1, 0};  // output 1's error is twice its bound: a certain violation
  MetricsOptions opt;
  opt.u = 0x1p-24;
  opt.rtol = 0;
  opt.atol = 1e-9;  // passes 2^-30 ≈ 9.3e-10, fails 2^-22
  const ObservedMetrics m = measure(f.spec, f.truth, obs, bound, opt);

  // norm_err = err/(u·absdot): 0, 2^-22/(2^-24·4) = 1, 2^-30/(2^-24·2) = 2^-7, 0.
  BOOST_TEST(m.norm_err.max == 1.0);
  BOOST_TEST(m.norm_err.mean == (1.0 + 0x1p-7) / 4);
  BOOST_TEST(m.norm_err.count == 4);
  BOOST_TEST(m.nonfinite_norm_err == 0);
  // ulp_err in ulps of the correctly rounded float: 1 at y = 2; at y = 0 the ulp is 2^-149.
  BOOST_TEST(m.ulp_err.max == std::ldexp(1.0, 119));
  // rel_err: 2^-22/2 = 2^-23, and +inf where y = 0 ≠ ŷ.
  BOOST_TEST(m.rel_err.max == std::numeric_limits<double>::infinity());
  BOOST_TEST(m.max_abs_err == 0x1p-22);
  BOOST_TEST(m.correctly_rounded_fraction == 0.5);
  BOOST_TEST(m.isclose_failures == 1);
  BOOST_TEST(m.max_tightness == 2.0);
  BOOST_TEST(m.violations == 1);
  BOOST_TEST_REQUIRE(m.violating.size() == 1u);
  BOOST_TEST(m.violating[0].index == 1);
  BOOST_TEST((m.violating[0].nchw == std::array<std::int64_t, 4>{0, 0, 0, 1}));
  BOOST_TEST(m.violating[0].abs_err == 0x1p-22);
  BOOST_TEST(m.violating[0].cond == 2.0);  // absdot/|y| = 4/2
  // Worst first: output 1 (norm_err 1), then output 2 (2^-7), then the exact ones by index.
  BOOST_TEST_REQUIRE(m.worst.size() == 4u);
  BOOST_TEST(m.worst[0].index == 1);
  BOOST_TEST(m.worst[1].index == 2);
  BOOST_TEST(m.worst[1].norm_err == 0x1p-7);
  BOOST_TEST(m.worst[2].index == 0);
  std::int64_t counted = 0;
  for (auto c : m.histogram.counts) counted += c;
  BOOST_TEST(counted == 4);
}

BOOST_AUTO_TEST_CASE(no_bound_means_no_violations_and_no_tightness) {
  Fixture f;
  Tensor<double> obs(f.spec.y_shape(), 0.0);
  obs.data = {1.5, 2, 0, -4};
  MetricsOptions opt;
  opt.u = 0x1p-53;
  const ObservedMetrics m = measure(f.spec, f.truth, obs, Tensor<double>{}, opt);
  BOOST_TEST(m.violations == 0);
  BOOST_TEST(m.max_tightness == 0.0);
  BOOST_TEST(m.norm_err.max == 0.5 / 0x1p-53);
  BOOST_TEST(m.correctly_rounded_fraction == 0.75);
  BOOST_TEST(m.isclose_failures == 1);  // torch defaults: 0.5 is far beyond 1e-8 + 1e-5·1
}

BOOST_AUTO_TEST_CASE(ulp_isclose_and_identical_fraction) {
  BOOST_TEST(ulp_of<float>(1.0) == 0x1p-23);
  BOOST_TEST(ulp_of<float>(3.0) == 0x1p-22);
  BOOST_TEST(ulp_of<double>(1.0) == 0x1p-52);
  BOOST_TEST(ulp_of<float>(0.0) == 0x1p-149);
  // torch.isclose: |a − b| <= atol + rtol·|b|, evaluated in the dtype.
  BOOST_TEST(isclose<float>(1.0f, 1.0f + 0x1p-23f, 1e-5, 0));
  BOOST_TEST(!isclose<float>(1.0f, 1.001f, 1e-5, 1e-8));
  BOOST_TEST(!isclose<double>(std::nan(""), std::nan(""), 1, 1));
  Tensor<float> a({4}, 1.0f), b({4}, 1.0f);
  a.data[0] = 0.0f;
  b.data[0] = -0.0f;  // equal values, different bits
  b.data[3] = 2.0f;
  BOOST_TEST(identical_fraction(a, b) == 0.5);
}

BOOST_AUTO_TEST_CASE(the_plot_sample_carries_cond_norm_err_failures_and_the_bound_in_norm_err_units) {
  Fixture f;
  Tensor<float> obs(f.spec.y_shape(), 0.0f);
  obs.data = {1.0f, 2.0f + 0x1p-22f, 0x1p-30f, -4.0f};
  Tensor<double> bound(f.spec.y_shape(), 0.0);
  bound.data = {0x1p-20, 0x1p-20, 0x1p-20, 0x1p-20};
  MetricsOptions opt;
  opt.u = 0x1p-24;
  opt.rtol = 0;
  opt.atol = 1e-9;  // as above: fails output 1 only
  opt.sample = SampleOptions{};
  const ObservedMetrics m = measure(f.spec, f.truth, obs, bound, opt);
  BOOST_TEST_REQUIRE(m.sample.has_value());
  BOOST_TEST((m.sample->index == std::vector<std::int64_t>{0, 1, 2, 3}));
  BOOST_TEST((m.sample->norm_err == std::vector<double>{0, 1, 0x1p-7, 0}));
  BOOST_TEST(m.sample->cond[1] == 2.0);
  BOOST_TEST(std::isinf(m.sample->cond[2]));  // y = 0
  // Against the truth.
  BOOST_TEST((m.sample->isclose_failure == std::vector<char>{0, 1, 0, 0}));
  // bound/(u·absdot) = 2^4/absdot: 16, 4, 8, 4.
  BOOST_TEST_REQUIRE(m.norm_bound.has_value());
  BOOST_TEST(m.norm_bound->min == 4.0);
  BOOST_TEST(m.norm_bound->max == 16.0);

  // Explain marks its own failures (isclose(A, B)) instead.
  const std::vector<char> marks{1, 0, 0, 1};
  opt.sample_failures = &marks;
  BOOST_TEST(measure(f.spec, f.truth, obs, bound, opt).sample->isclose_failure == marks);
  opt.sample.reset();
  BOOST_TEST(!measure(f.spec, f.truth, obs, bound, opt).sample.has_value());
}
