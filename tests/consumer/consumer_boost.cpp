#define BOOST_TEST_MODULE consumer
#include <boost/test/unit_test.hpp>

#include <certconv/testing_boost.hpp>

#include "my_conv.hpp"

namespace {

struct Fixture {
  certconv::ConvSpec spec = certconv::from_pytorch(1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  certconv::Tensor<float> x{spec.x_shape()}, w{spec.w_shape()};
  Fixture() {
    fill(x, 1);
    fill(w, 2);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(my_conv_is_within_the_certified_tolerance, Fixture) {
  const auto y = my_conv(spec, x, w);
  CERTCONV_CHECK_CONV(y, x, w, spec, certconv::rigorous_any_order());
  CERTCONV_REQUIRE_CONV(y, x, w, spec, certconv::rigorous("direct"));
}

BOOST_FIXTURE_TEST_CASE(the_bug_is_caught_and_located, Fixture) {
  const auto r = certconv::check_conv(my_conv(spec, x, w, true), x, w, spec, certconv::rigorous_any_order());
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.beyond > 0);
  BOOST_TEST(r.worst.front().nchw[2] >= spec.oh - 2);  // the rows that read the last input row
  BOOST_TEST(r.message.find("BEYOND") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(certified_tolerance_for_comparing_two_implementations, Fixture) {
  const auto tol = certconv::certified_tolerance(spec, x, w, certconv::Dtype::f32);
  BOOST_TEST(tol.atol > 0);
  BOOST_TEST(tol.atol < 1e-4);  // n·u·absdot: 27 terms, |x·w| < 1
  BOOST_TEST(tol.per_element.shape == spec.y_shape());
}
