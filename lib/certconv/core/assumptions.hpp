#pragma once
// What certconv assumes of the machine and the build, checked once here (in the
// style of xsum) and included by core/format.hpp, so that every numeric
// translation unit checks it.
//
// Checked at compile time:
//  - float and double are IEEE 754 binary32 and binary64, radix 2, 24 and 53
//    significand bits, with gradual underflow (subnormals): u, η and every bound
//    in core/format.hpp and bounds/ are stated for exactly these formats.
//  - FLT_EVAL_METHOD == 0: every operation is rounded to its own type, with no
//    excess precision (x87 extended registers would round twice). x86-64 with SSE
//    satisfies this.
//
// Not checkable at compile time, and therefore stated here:
//  - The compiler does not contract a*b + c into an FMA: the build passes
//    -ffp-contract=off and -fno-fast-math (meson.build); every FMA in the code
//    is an explicit std::fma.
//  - The floating-point environment while certconv computes is round-to-nearest
//    with subnormals kept (no FTZ/DAZ): FpEnvGuard (core/fp_env.hpp) sets it at
//    every entry point; bounds/winograd_bound.cpp switches to FE_UPWARD itself
//    and builds with -frounding-math.
#include <cfloat>
#include <limits>

namespace certconv::assumptions {

template <class T, int Digits>
constexpr bool ieee_binary() {
  using L = std::numeric_limits<T>;
  return L::is_iec559 && L::radix == 2 && L::digits == Digits && L::has_denorm == std::denorm_present;
}

static_assert(ieee_binary<float, 24>(), "certconv needs float to be IEEE 754 binary32 with subnormals");
static_assert(ieee_binary<double, 53>(), "certconv needs double to be IEEE 754 binary64 with subnormals");
static_assert(FLT_EVAL_METHOD == 0, "certconv needs every operation rounded to its own type (no excess precision)");

}  // namespace certconv::assumptions
