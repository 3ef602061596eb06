#pragma once
// Floating-point format constants used by the bounds, and round-up helpers that
// need no change of the rounding mode.
//
// Round-up by one step: for any operation evaluated in round-to-nearest with
// result r = RN(z), the exact z satisfies z ≤ nextafter(r, +∞): |z − r| is at most
// half the spacing of the binary64 (or binary32) numbers around r, so z cannot
// reach the next number above r (and an overflow to +∞ stays +∞). Bound formulas
// whose operands are all ≥ 0 are monotone, so applying up() after every operation
// yields a value ≥ the formula evaluated exactly. Subtractions in a denominator
// are exact where they are used (stated there).
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "certconv/core/assumptions.hpp"

namespace certconv {

enum class Dtype { f32, f64 };

inline const char* dtype_name(Dtype d) { return d == Dtype::f32 ? "f32" : "f64"; }

// u: unit roundoff 2^-p (round to nearest); eta: the smallest positive subnormal,
// so that a rounded product or FMA satisfies fl(z) = z(1+δ) + ε with |δ| ≤ u,
// |ε| ≤ eta/2 (Higham 2002, §2.1, the model with gradual underflow; ε = 0 for
// additions and subtractions, whose subnormal results are exact).
struct FormatConsts {
  double u, eta;
};

constexpr FormatConsts format_consts(Dtype d) {
  return d == Dtype::f32 ? FormatConsts{0x1p-24, 0x1p-149} : FormatConsts{0x1p-53, 0x1p-1074};
}

template <class T>
constexpr Dtype dtype_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double");
  return std::is_same_v<T, float> ? Dtype::f32 : Dtype::f64;
}

template <class T>
constexpr FormatConsts format_consts() {
  return format_consts(dtype_of<T>());
}

constexpr double kInf = std::numeric_limits<double>::infinity();

inline double up(double r) {
  // For finite r > 0 the next binary64 number is the next bit pattern.
  if (r > 0 && r < kInf) return std::bit_cast<double>(std::bit_cast<std::uint64_t>(r) + 1);
  return std::nextafter(r, kInf);
}
// x/2 rounded up (η/2 is not a binary64 number when η = 2^-1074).
inline double half_up(double x) { return up(x * 0.5); }
inline double add_up(double a, double b) { return up(a + b); }
inline double mul_up(double a, double b) { return up(a * b); }
// a / b rounded up, for a ≥ 0 and b > 0 an exact lower bound of the divisor.
inline double div_up(double a, double b) { return up(a / b); }

// The least binary32 number ≥ v (v ≥ 0); +∞ above the binary32 range.
inline float to_float_up(double v) {
  const float f = static_cast<float>(v);
  return static_cast<double>(f) < v ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

// 1 − k·2^-p for an integer 0 ≤ k < 2^p: the value (2^p − k)·2^-p has at most p ≤ 53
// significant bits, so it is computed exactly. Returns 0 when k ≥ 2^p (no bound).
inline double one_minus_ku(double k, double u) { return k * u < 1 ? 1 - k * u : 0; }

}  // namespace certconv
