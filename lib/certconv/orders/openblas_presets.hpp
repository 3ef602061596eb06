#pragma once
// The K-blocking presets of OpenBLAS 0.3.21 (param.h, x86_64, non-Windows) that the
// OpenBLAS orders emulate, by the names gemm-blocked's kc parameter takes:
// GEMM_DEFAULT_Q and GEMM_DEFAULT_UNROLL_M of SGEMM (-s) and DGEMM (-d).
#include <cstdint>

namespace certconv {

struct OpenblasPreset {
  const char* name;
  std::int64_t q, unroll_m;
};

inline constexpr OpenblasPreset kHaswellS{"haswell-s", 320, 8};
inline constexpr OpenblasPreset kHaswellD{"haswell-d", 256, 4};
inline constexpr OpenblasPreset kSkylakexS{"skylakex-s", 448, 16};
inline constexpr OpenblasPreset kSkylakexD{"skylakex-d", 384, 16};

// In the order `certconv identify` tries them.
inline constexpr OpenblasPreset kOpenblasPresets[] = {kHaswellS, kHaswellD, kSkylakexS, kSkylakexD};

}  // namespace certconv
