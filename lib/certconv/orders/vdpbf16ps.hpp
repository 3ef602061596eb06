#pragma once
// The bf16 instructions of AVX512_BF16 on one float32 lane, in scalar code.
//
// VDPBF16PS (Intel SDM, "VDPBF16PS — Dot Product of BF16 Pairs Accumulated Into
// Packed Single Precision"), lane j, a = src1, b = src2:
//   acc ← acc + a[2j+1]·b[2j+1]      (the odd (high) pair first)
//   acc ← acc + a[2j]·b[2j]
// Each product of two bf16 numbers is exact (8 + 8 significand bits, and binary64's
// range holds it); each addition is rounded to float32, nearest-even, once.
// Denormal inputs (the bf16 operands and the float32 accumulator) are read as zero
// (DAZ) and results below 2^-126 are flushed to zero (FTZ), whatever MXCSR says.
// VCVTNEPS2BF16: float32 to bf16, nearest-even, denormal inputs read as zero.
// tests/test_vdpbf16ps.cpp checks these against the instructions, bit for bit, on
// random, subnormal-heavy and overflowing inputs.
#include <bit>
#include <cmath>
#include <cstdint>

namespace certconv {

// DAZ/FTZ: below float32's normal range → zero of the same sign.
inline float flush_subnormal(float v) { return std::fabs(v) < 0x1p-126f ? std::copysign(0.0f, v) : v; }

// fl(acc + p) in float32, nearest-even, for a float32 acc and a binary64 p; then FTZ.
// s = acc + p in binary64 may be inexact when the exponents are far apart; TwoSum
// gives its error e exactly, and rounding s to odd (the last bit set when e ≠ 0)
// keeps the sticky information, so converting to float32 (24 ≤ 53 − 2 bits) rounds
// correctly (Boldo–Melquiond 2008, round-to-odd). Tininess is detected after
// rounding, as x86 does: a sum just below 2^-126 is rounded to 24 bits as if the
// exponent were unbounded (scaled by 2^64, exactly) and flushed only if the result
// stays below 2^-126 (2^-126 − 2^-150 flushes; 2^-126 − 2^-151 rounds up to 2^-126).
inline float add_round_ftz(float acc, double p) {
  const double a = acc, s = a + p;
  if (!std::isfinite(s)) return static_cast<float>(s);
  const double bv = s - a, e = (a - (s - bv)) + (p - bv);
  double t = s;
  if (e != 0) {
    if ((e > 0) != (s > 0)) t = std::nextafter(s, 0.0);  // the truncation of the exact sum
    t = std::bit_cast<double>(std::bit_cast<std::uint64_t>(t) | 1u);
  }
  if (std::fabs(t) >= 0x1p-126) return static_cast<float>(t);  // ±∞ beyond float32's range
  const float r = static_cast<float>(t * 0x1p64);
  return std::fabs(r) < 0x1p-62f ? std::copysign(0.0f, r) : std::copysign(0x1p-126f, r);
}

// One lane of VDPBF16PS; a_lo, a_hi, b_lo, b_hi are bf16 values held in float32.
inline float vdpbf16ps_lane(float acc, float a_lo, float a_hi, float b_lo, float b_hi) {
  const double hi = static_cast<double>(flush_subnormal(a_hi)) * flush_subnormal(b_hi);
  const double lo = static_cast<double>(flush_subnormal(a_lo)) * flush_subnormal(b_lo);
  return add_round_ftz(add_round_ftz(flush_subnormal(acc), hi), lo);
}

// VCVTNEPS2BF16 on one lane, the bf16 result widened back to float32 (exact): DAZ,
// then nearest-even on the upper 16 bits (±∞ stays; a carry into the exponent is the
// next binade or ∞, as it should). NaN does not occur here (finite inputs).
inline float vcvtneps2bf16(float v) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(flush_subnormal(v));
  const std::uint32_t r = (b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u;
  return std::bit_cast<float>(r);
}

}  // namespace certconv
