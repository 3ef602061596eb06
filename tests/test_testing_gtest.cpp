// The GoogleTest integration (certconv/testing_gtest.hpp): ConvClose and the
// predicate-formatter pass on an emulated order's output and fail, naming the
// output, on one perturbed beyond its bound.
#include <gtest/gtest.h>

#include <string>

#include "certconv/exact/generate.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/testing_gtest.hpp"

namespace {

struct Case {
  certconv::ConvSpec spec = certconv::parse_benchdnn("mb1ic3ih6iw5oc2kh3kw3ph1pw1");
  certconv::Tensor<float> x, w;
  certconv::OrderOutput<float> out;
  Case() {
    certconv::Rng rng(3);
    x = certconv::normal_tensor<float>(spec.x_shape(), rng);
    w = certconv::normal_tensor<float>(spec.w_shape(), rng);
    out = certconv::run_order(certconv::parse_order("pairwise"), certconv::ConvProblem<float>{spec, x, w},
                              certconv::RunOptions{});
  }
};

TEST(TestingGtest, PassesOnTheOrdersOutput) {
  const Case c;
  EXPECT_TRUE(certconv::ConvClose(c.out.y, c.x, c.w, c.spec, certconv::rigorous("pairwise")));
  EXPECT_PRED_FORMAT5(certconv::AssertConvClose, c.out.y, c.x, c.w, c.spec, certconv::rigorous_any_order());
}

TEST(TestingGtest, FailureNamesThePerturbedOutput) {
  Case c;
  c.out.y(0, 1, 2, 3) += static_cast<float>(2 * c.out.bound(0, 1, 2, 3));
  const ::testing::AssertionResult r = certconv::ConvClose(c.out.y, c.x, c.w, c.spec, certconv::rigorous("pairwise"));
  EXPECT_FALSE(r);
  const std::string m = r.message();
  EXPECT_NE(m.find("FAILED: 1 of 60 outputs"), std::string::npos) << m;
  EXPECT_NE(m.find("[0, 1, 2, 3]: observed"), std::string::npos) << m;
  const ::testing::AssertionResult f = certconv::AssertConvClose("y", "x", "w", "spec", "tol", c.out.y, c.x, c.w,
                                                                 c.spec, certconv::rigorous("pairwise"));
  EXPECT_FALSE(f);
  EXPECT_EQ(std::string(f.message()).rfind("y is not within tol\n", 0), 0u) << f.message();
}

}  // namespace
