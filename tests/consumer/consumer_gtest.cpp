#include <gtest/gtest.h>

#include <certconv/testing_gtest.hpp>

#include "my_conv.hpp"

namespace {

certconv::ConvSpec spec() { return certconv::from_pytorch(2, 4, 6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1); }

TEST(Consumer, MyConvIsCertified) {
  const certconv::ConvSpec s = spec();
  certconv::Tensor<float> x(s.x_shape()), w(s.w_shape());
  fill(x, 3);
  fill(w, 4);
  const auto y = my_conv(s, x, w);
  EXPECT_TRUE(certconv::ConvClose(y, x, w, s, certconv::rigorous_any_order()));
  EXPECT_PRED_FORMAT5(certconv::AssertConvClose, y, x, w, s, certconv::rigorous("direct"));
}

TEST(Consumer, BugIsReported) {
  const certconv::ConvSpec s = spec();
  certconv::Tensor<float> x(s.x_shape()), w(s.w_shape());
  fill(x, 3);
  fill(w, 4);
  const ::testing::AssertionResult r =
      certconv::ConvClose(my_conv(s, x, w, true), x, w, s, certconv::rigorous_any_order());
  EXPECT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("BEYOND"), std::string::npos) << r.message();
}

}  // namespace
