// FpEnvGuard (core/fp_env.hpp): save the caller's floating-point environment,
// set certconv's, restore the caller's.
#include "certconv/core/fp_env.hpp"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace certconv {

namespace {

#if defined(__x86_64__)
// MXCSR bits outside what <cfenv> names: flush-to-zero (results) and
// denormals-are-zero (operands).
constexpr unsigned kFtz = 1u << 15;
constexpr unsigned kDaz = 1u << 6;
#endif

}  // namespace

FpEnvGuard::FpEnvGuard() {
  std::fegetenv(&saved_);
#if defined(__x86_64__)
  saved_mxcsr_ = _mm_getcsr();
#endif
  std::fesetenv(FE_DFL_ENV);
#if defined(__x86_64__)
  // FE_DFL_ENV leaves FTZ/DAZ as they were (glibc does): clear them explicitly.
  _mm_setcsr(_mm_getcsr() & ~(kFtz | kDaz));
#endif
}

FpEnvGuard::~FpEnvGuard() {
  std::fesetenv(&saved_);
#if defined(__x86_64__)
  // glibc's fenv_t holds the whole MXCSR, FTZ/DAZ included; the C standard does
  // not promise that, so the caller's MXCSR is put back explicitly.
  _mm_setcsr(saved_mxcsr_);
#endif
}

}  // namespace certconv
