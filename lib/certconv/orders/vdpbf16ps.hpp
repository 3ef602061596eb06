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

// DAZ/FTZ: below float32's normal range (exponent field 0) → zero of the same sign.
// The tests here and below are on the bits: floating-point comparisons keep GCC
// from vectorizing the loops over outputs (they might trap).
inline float flush_subnormal(float v) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
  return std::bit_cast<float>((b & 0x7f800000u) == 0 ? b & 0x80000000u : b);
}

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
  const double bv = s - a, e = (a - (s - bv)) + (p - bv);
  // Round to odd: step s toward zero when it overshot the exact sum (e ≠ 0 of the
  // other sign; s ≠ 0 then), then set the last bit if inexact.
  const std::uint64_t sb = std::bit_cast<std::uint64_t>(s), eb = std::bit_cast<std::uint64_t>(e);
  const std::uint64_t odd = (eb << 1) != 0, down = odd & ((eb ^ sb) >> 63);
  const std::uint64_t tb = (sb - down) | odd;
  const std::uint32_t r = std::bit_cast<std::uint32_t>(static_cast<float>(std::bit_cast<double>(tb)));
  const std::uint32_t rt = std::bit_cast<std::uint32_t>(static_cast<float>(std::bit_cast<double>(tb) * 0x1p64));
  // rt < 2^-62 (0x20800000): stays below 2^-126 after rounding, flushed; else 2^-126.
  const std::uint32_t tiny = (rt & 0x80000000u) | ((rt & 0x7fffffffu) < 0x20800000u ? 0u : 0x00800000u);
  const std::uint32_t inf_nan = std::bit_cast<std::uint32_t>(static_cast<float>(s));
  constexpr std::uint64_t kExp = 0x7ff0000000000000u, kMin = 0x3810000000000000u;  // binary64 ∞, 2^-126
  // Selected by masks, not ?: (GCC would move the conversions into branches): ±∞
  // and NaN (e is NaN then) pass as s, results below 2^-126 as `tiny`, others as r.
  const std::uint32_t special = 0u - static_cast<std::uint32_t>((sb & kExp) == kExp),
                      normal = 0u - static_cast<std::uint32_t>((tb & ~(std::uint64_t{1} << 63)) >= kMin);
  const std::uint32_t out = (inf_nan & special) | (~special & ((r & normal) | (tiny & ~normal)));
  return std::bit_cast<float>(out);
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
