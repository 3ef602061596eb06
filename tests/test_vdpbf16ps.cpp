#define BOOST_TEST_MODULE vdpbf16ps
// The scalar VDPBF16PS and VCVTNEPS2BF16 of orders/vdpbf16ps.hpp against the
// instructions, bit for bit, on random, subnormal-heavy and overflowing inputs; and
// against the alternative reading (the even pair first) that they must rule out.
// Only the functions that issue the instructions are compiled for AVX512_BF16
// (gnu::target), so the test runs, and skips with its reason, on any x86-64 CPU.
#include <boost/test/unit_test.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

#include "certconv/orders/vdpbf16ps.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace certconv;

namespace {

#if defined(__x86_64__)

bool cpu_has_avx512_bf16() { return __builtin_cpu_supports("avx512bf16"); }

using Words = std::array<std::uint16_t, 32>;
using Lanes = std::array<float, 16>;

[[gnu::target("avx512f,avx512bf16")]] Lanes dpbf16(const Lanes& acc, const Words& a, const Words& b) {
  __m512 c;
  __m512bh va, vb;
  std::memcpy(&c, acc.data(), sizeof c);
  std::memcpy(&va, a.data(), sizeof va);
  std::memcpy(&vb, b.data(), sizeof vb);
  const __m512 r = _mm512_dpbf16_ps(c, va, vb);
  Lanes out;
  std::memcpy(out.data(), &r, sizeof r);
  return out;
}

[[gnu::target("avx512f,avx512bf16")]] std::array<std::uint16_t, 16> cvtneps2bf16(const Lanes& v) {
  __m512 x;
  std::memcpy(&x, v.data(), sizeof x);
  const __m256bh r = _mm512_cvtneps_pbh(x);
  std::array<std::uint16_t, 16> out;
  std::memcpy(out.data(), &r, sizeof r);
  return out;
}

float bf16_value(std::uint16_t h) { return std::bit_cast<float>(std::uint32_t{h} << 16); }
std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

enum class Inputs { normal, subnormal_heavy, threshold, any_finite };

// A finite bf16 word: normal(0, 1) values, or exponent fields near the bottom (so
// that operands, products and sums fall below 2^-126), or factors near 2^-75 (their
// products near 2^-150 decide whether a sum just at 2^-126 is flushed), or any
// finite pattern (huge exponents: products overflow, sums cancel).
std::uint16_t random_word(std::mt19937_64& g, Inputs kind) {
  const std::uint64_t r = g();
  switch (kind) {
    case Inputs::normal:
      return static_cast<std::uint16_t>(bits(static_cast<float>(std::normal_distribution<double>()(g))) >> 16);
    case Inputs::subnormal_heavy: {
      // One factor tiny (exponent field 0..7), the other up to 2^13 or down to 2^-126.
      const std::uint32_t e = r % 2 ? r >> 8 & 7 : 1 + (r >> 8) % 140;
      return static_cast<std::uint16_t>((r >> 20 & 0x8000) | e << 7 | (r >> 24 & 0x7f));
    }
    case Inputs::threshold: {
      const std::uint32_t e = 48 + r % 8, m = r >> 8 & 1 ? 0 : r >> 16 & 0x7f;  // 2^-79 .. 2^-72
      return static_cast<std::uint16_t>((r >> 30 & 0x8000) | e << 7 | m);
    }
    case Inputs::any_finite:
      break;
  }
  const auto w = static_cast<std::uint16_t>(r);
  return (w >> 7 & 0xff) == 0xff ? static_cast<std::uint16_t>(w & 0xbfff) : w;  // no ∞ or NaN
}

float random_acc(std::mt19937_64& g, Inputs kind) {
  const std::uint64_t r = g();
  switch (kind) {
    case Inputs::normal:
      return static_cast<float>(std::normal_distribution<double>()(g));
    case Inputs::subnormal_heavy:  // exponent field 0..5: subnormal or just above
      return std::bit_cast<float>(static_cast<std::uint32_t>((r & 0x807fffff) | (r >> 40) % 6 << 23));
    case Inputs::threshold:  // ±2^-126 and its next few floats
      return std::bit_cast<float>(static_cast<std::uint32_t>((r & 0x80000000) | (0x00800000 + (r >> 40) % 4)));
    case Inputs::any_finite:
      break;
  }
  return std::bit_cast<float>(static_cast<std::uint32_t>(r & 0xbfffffff));
}

// Mismatches of the emulation over `vectors` × 16 lanes; with even_first, of the
// reading that adds the even pair first.
long mismatches(Inputs kind, int vectors, bool even_first) {
  std::mt19937_64 g(static_cast<std::uint64_t>(kind) + 1);
  long bad = 0;
  for (int it = 0; it < vectors; ++it) {
    Words a, b;
    Lanes acc;
    for (std::size_t i = 0; i < 32; ++i) {
      a[i] = random_word(g, kind);
      b[i] = random_word(g, kind);
    }
    for (float& v : acc) v = random_acc(g, kind);
    const Lanes hw = dpbf16(acc, a, b);
    for (std::size_t j = 0; j < 16; ++j) {
      const float lo_a = bf16_value(a[2 * j]), hi_a = bf16_value(a[2 * j + 1]);
      const float lo_b = bf16_value(b[2 * j]), hi_b = bf16_value(b[2 * j + 1]);
      const float e = even_first ? vdpbf16ps_lane(acc[j], hi_a, lo_a, hi_b, lo_b)
                                 : vdpbf16ps_lane(acc[j], lo_a, hi_a, lo_b, hi_b);
      bad += bits(e) != bits(hw[j]);
    }
  }
  return bad;
}

#endif

}  // namespace

BOOST_AUTO_TEST_CASE(vdpbf16ps_lane_is_the_instruction) {
#if defined(__x86_64__)
  if (!cpu_has_avx512_bf16()) {
    BOOST_TEST_MESSAGE("skipped: this CPU lacks AVX512_BF16");
    return;
  }
  for (const Inputs kind : {Inputs::normal, Inputs::subnormal_heavy, Inputs::threshold, Inputs::any_finite}) {
    BOOST_TEST(mismatches(kind, 20000, false) == 0, "inputs " << static_cast<int>(kind));
    // The order of the pair is observable: the other one differs.
    BOOST_TEST(mismatches(kind, 20000, true) > 0, "inputs " << static_cast<int>(kind));
  }
#else
  BOOST_TEST_MESSAGE("skipped: not an x86-64 CPU");
#endif
}

BOOST_AUTO_TEST_CASE(vcvtneps2bf16_is_the_instruction) {
#if defined(__x86_64__)
  if (!cpu_has_avx512_bf16()) {
    BOOST_TEST_MESSAGE("skipped: this CPU lacks AVX512_BF16");
    return;
  }
  std::mt19937_64 g(7);
  long bad = 0, subnormal = 0;
  for (int it = 0; it < 100000; ++it) {
    Lanes v;
    for (float& f : v) {
      // Any finite pattern, every fourth one with a small exponent field.
      const std::uint64_t r = g();
      auto b = static_cast<std::uint32_t>(r);
      if (r >> 32 & 3) b = (b & 0x807fffff) | static_cast<std::uint32_t>((r >> 40) % 3) << 23;
      f = std::bit_cast<float>((b >> 23 & 0xff) == 0xff ? b & 0xbfffffff : b);
      subnormal += std::fpclassify(f) == FP_SUBNORMAL;
    }
    const auto hw = cvtneps2bf16(v);
    for (std::size_t j = 0; j < 16; ++j) bad += bits(vcvtneps2bf16(v[j])) != bits(bf16_value(hw[j]));
  }
  BOOST_TEST(subnormal > 100000);
  BOOST_TEST(bad == 0);
#else
  BOOST_TEST_MESSAGE("skipped: not an x86-64 CPU");
#endif
}

// The cases the rules decide, worked by hand (no instruction needed).
BOOST_AUTO_TEST_CASE(vdpbf16ps_rules_by_hand) {
  // DAZ: a subnormal operand is zero, so the product is 0, not 2^-130·2^10.
  BOOST_TEST(vdpbf16ps_lane(0.0f, 0x1p-130f, 0.0f, 0x1p10f, 0.0f) == 0.0f);
  // FTZ: 2^-64·2^-64 = 2^-128 is exact but below 2^-126: flushed.
  BOOST_TEST(vdpbf16ps_lane(0.0f, 0x1p-64f, 0.0f, 0x1p-64f, 0.0f) == 0.0f);
  // Tininess after rounding: 2^-126 − 2^-150 has 24 bits, so it stays below 2^-126
  // and is flushed; 2^-126 − 2^-151 rounds (to even) up to 2^-126 and is kept.
  BOOST_TEST(vdpbf16ps_lane(0x1p-126f, 0.0f, 0x1p-75f, 0.0f, -0x1p-75f) == 0.0f);
  BOOST_TEST(vdpbf16ps_lane(0x1p-126f, 0.0f, 0x1p-76f, 0.0f, -0x1p-75f) == 0x1p-126f);
  // Two roundings: 1 + 2^-24 (the odd pair, first) ties to 1, then + 2^-24 ties to 1
  // again; one rounding of the exact sum would give 1 + 2^-23.
  BOOST_TEST(vdpbf16ps_lane(1.0f, 0x1p-12f, 0x1p-12f, 0x1p-12f, 0x1p-12f) == 1.0f);
  // The odd pair first: 2^24 + 1 (ties to even: 2^24), + (−2^24) = 0; the even pair
  // first would give 1.
  BOOST_TEST(vdpbf16ps_lane(0x1p24f, -0x1p12f, 1.0f, 0x1p12f, 1.0f) == 0.0f);
  // A tie, then a term far below: still 1 (each addition rounds on its own); just
  // above the tie: up.
  BOOST_TEST(vdpbf16ps_lane(1.0f, 0x1p-50f, 0x1p-12f, 0x1p-50f, 0x1p-12f) == 1.0f);
  BOOST_TEST(vdpbf16ps_lane(1.0f, 0.0f, 0x1p-12f + 0x1p-19f, 0.0f, 0x1p-12f) == 1.0f + 0x1p-23f);
  // VCVTNEPS2BF16: nearest-even, a subnormal input is zero.
  BOOST_TEST(vcvtneps2bf16(1.0f + 0x1p-8f) == 1.0f);
  BOOST_TEST(vcvtneps2bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
  BOOST_TEST(vcvtneps2bf16(0x1p-130f) == 0.0f);
}
