#pragma once
// Correct roundings of a real v known only through an enclosure
//     v = a + b + δ,  |δ| ≤ err,   a, b binary64, err ≥ 0 a rigorous bound
// (+∞ for none),
// or nothing when the enclosure does not determine them (the caller then falls
// back to exact arithmetic). Used by the fast truth (fast_truth.hpp): a is the
// exactly known high part of a sum, b its low part, err the bound on b's error.
//
// TwoSum (Knuth; Ogita–Rump–Oishi 2005, Alg. 3.1) gives r = RN(a + b) and t with
// a + b = r + t exactly (no overflow: the caller keeps |a|, |b| ≤ 2^1000), so
// v − r = t + δ. With err = 0, v = a + b: r = RN(v) is IEEE addition's correctly
// rounded result (ties to even included), |t| ≤ gap/2, gap the distance from r to
// its neighbour n on t's side, so v = r when t = 0 and v lies strictly between r
// and n otherwise. With err > 0: when |t| > err the sign of v − r is the sign of
// t, and when moreover |t| + err < gap/2, v lies strictly between r and the
// midpoint of [r, n], so RN(v) = r; ties are then left undecided, as no strict test
// admits |t + δ| = gap/2. Either way RD(v) and RU(v) are r and n in order.
//
// binary32: v lies strictly between consecutive binary64 numbers r and n, so its
// round-to-odd at 53 bits is whichever of r, n has an odd significand, and rounding
// that to binary32 is RN32(v) (Boldo & Melquiond, IEEE TC 57(4), 2008, Thm. 3:
// round-to-odd at p + 2 ≥ 26 bits, then to nearest at 24; overflow included, as the
// binary32 overflow threshold (2 − 2^-24)·2^127 is a binary64 number with an even
// significand).
//
// Inexact enclosures (err > 0) with |r| < 2^-1021 are left undecided: there the
// gaps are no longer powers of two whose halves are binary64 numbers (binary64
// inputs only; sums of binary32 products are multiples of 2^-298).
#include <bit>
#include <cmath>
#include <cstdint>

namespace certconv {

struct EnclosureRoundings {
  double nearest, down, up;  // RN, RD, RU to binary64
  float nearest_f32;         // RN to binary32
  bool zero;                 // v == 0
  bool decided;              // false: the enclosure leaves some of the above open (they are then meaningless)
};

namespace detail {

// Comparisons go through the bit patterns read as int64: their order is numeric
// order for binary64 numbers ≥ 0, and their sign is the number's sign. Unlike
// floating-point comparisons these may be evaluated speculatively under GCC's
// default -ftrapping-math, so loops over many enclosures if-convert and vectorize.
[[gnu::always_inline]] inline std::int64_t bits(double x) { return std::bit_cast<std::int64_t>(x); }
[[gnu::always_inline]] inline std::int64_t abs_bits(double x) { return bits(x) & INT64_MAX; }

struct TwoSumResult {
  double r, t;
};
// a + b = r + t exactly, r = RN(a + b) (6 flops).
[[gnu::always_inline]] inline TwoSumResult two_sum(double a, double b) {
  const double r = a + b;
  const double bb = r - a;
  return {r, (a - (r - bb)) + (b - bb)};
}

// Whether a, b and err leave v on t's side of r, strictly closer to r than
// limit_factor·gap (1/2 for RN, 1 for RD/RU), or equal to r.
struct Side {
  double r, t, n;  // n: r's neighbour on t's side (meaningless when t = 0)
  bool decided;
};
[[gnu::always_inline]] inline Side side(double a, double b, double err, double limit_factor) {
  const auto [r, t] = two_sum(a, b);
  // The neighbour of r ≠ 0 on t's side: one bit pattern away, up in magnitude when
  // r and t have the same sign (unsigned arithmetic: wraps harmlessly for r = ±0).
  const std::uint64_t step = (bits(r) ^ bits(t)) >= 0 ? 1 : ~std::uint64_t{0};
  const double n = std::bit_cast<double>(std::bit_cast<std::uint64_t>(r) + step);
  const double at = std::fabs(t);
  // |t| + err rounded up: err > 0 where it is used, so the sum is > 0 and finite
  // and one step up is the next bit pattern (core/format.hpp).
  const auto sum_up = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(at + err) + 1);
  const bool err_zero = bits(err) == 0;
  const bool t_zero = abs_bits(t) == 0;
  const std::int64_t ar = abs_bits(r);
  const bool strict = err_zero | ((ar >= bits(0x1p-1021)) & (sum_up < bits(std::fabs(n - r) * limit_factor)));
  const bool decided = (ar <= bits(0x1p1000)) & ((t_zero & err_zero) | ((bits(at) > bits(err)) & strict));
  return {r, t, n, decided};
}

}  // namespace detail

// RN, RD, RU (binary64) and RN (binary32) of v and whether v = 0. Without branches,
// so that loops over many enclosures vectorize.
[[gnu::always_inline]] inline EnclosureRoundings round_enclosure(double a, double b, double err) {
  using detail::abs_bits, detail::bits;
  const detail::Side s = detail::side(a, b, err, 0.5);
  // Round-to-odd: r when t = 0 or r is odd, else n; as bit arithmetic (n is r's
  // pattern ± 1), since integer-to-bool conversions keep GCC from vectorizing.
  const std::uint64_t rb = std::bit_cast<std::uint64_t>(s.r);
  const std::uint64_t to_n = abs_bits(s.t) == 0 ? 0 : std::bit_cast<std::uint64_t>(s.n) - rb;
  const double odd = std::bit_cast<double>(rb + (~rb & 1) * to_n);
  return {s.r,
          bits(s.t) < 0 && abs_bits(s.t) != 0 ? s.n : s.r,
          bits(s.t) > 0 ? s.n : s.r,
          static_cast<float>(odd),
          (abs_bits(s.r) | abs_bits(s.t)) == 0,
          s.decided};
}

// RU (binary64) of v in `up`; returns whether the enclosure decides it.
[[gnu::always_inline]] inline bool round_up_enclosure(double a, double b, double err, double& up) {
  const detail::Side s = detail::side(a, b, err, 1.0);
  up = detail::bits(s.t) > 0 ? s.n : s.r;
  return s.decided;
}

}  // namespace certconv
