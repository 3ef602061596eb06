#pragma once
// Boost.Test assertions over check_conv (certconv/testing.hpp), header-only:
//
//   CERTCONV_CHECK_CONV(y, x, w, spec, certconv::rigorous("im2col"));
//   CERTCONV_REQUIRE_CONV(y, x, w, spec, certconv::rigorous_any_order(), &bias);
//
// The arguments are check_conv's; a failure's message lists the worst outputs
// (index, observed, truth, |error|, bound, cond). Include <boost/test/unit_test.hpp>
// (or the included variant) first.
#include "certconv/testing.hpp"

#define CERTCONV_CHECK_CONV(...)                                                      \
  do {                                                                                \
    const ::certconv::CheckResult certconv_check_result_ = ::certconv::check_conv(__VA_ARGS__); \
    BOOST_CHECK_MESSAGE(certconv_check_result_.passed, certconv_check_result_.message); \
  } while (false)

#define CERTCONV_REQUIRE_CONV(...)                                                    \
  do {                                                                                \
    const ::certconv::CheckResult certconv_check_result_ = ::certconv::check_conv(__VA_ARGS__); \
    BOOST_REQUIRE_MESSAGE(certconv_check_result_.passed, certconv_check_result_.message); \
  } while (false)
