#pragma once
// GoogleTest assertions over check_conv (certconv/testing.hpp), header-only:
//
//   EXPECT_TRUE(certconv::ConvClose(y, x, w, spec, certconv::rigorous("im2col")));
//   EXPECT_PRED_FORMAT5(certconv::AssertConvClose, y, x, w, spec, certconv::rigorous_any_order());
//
// A failure's message lists the worst outputs (index, observed, truth, |error|,
// bound, cond). Include <gtest/gtest.h> first.
#include <string>

#include "certconv/testing.hpp"

namespace certconv {

template <class TO, class TI>
::testing::AssertionResult ConvClose(const Tensor<TO>& observed, const Tensor<TI>& x, const Tensor<TI>& w,
                                     const ConvSpec& spec, const Tolerance& tol, const Tensor<TI>* bias = nullptr) {
  const CheckResult r = check_conv(observed, x, w, spec, tol, bias);
  return (r.passed ? ::testing::AssertionSuccess() : ::testing::AssertionFailure()) << r.message;
}

// Predicate-formatter for EXPECT_PRED_FORMAT5 / ASSERT_PRED_FORMAT5: the message
// names the observed expression.
template <class TO, class TI>
::testing::AssertionResult AssertConvClose(const char* observed_expr, const char*, const char*, const char*,
                                           const char* tol_expr, const Tensor<TO>& observed, const Tensor<TI>& x,
                                           const Tensor<TI>& w, const ConvSpec& spec, const Tolerance& tol) {
  const CheckResult r = check_conv(observed, x, w, spec, tol);
  if (r.passed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << observed_expr << " is not within " << tol_expr << "\n" << r.message;
}

}  // namespace certconv
