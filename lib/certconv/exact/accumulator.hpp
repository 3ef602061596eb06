#pragma once
// ExactAccumulator: the exact sum of products of binary32 or binary64 numbers
// over the whole exponent range (subnormals included), as a fixed-point number
// with lazily propagated carries (the idea of Neal's xsum "large" accumulator
// and Kulisch's long accumulator). Nothing is rounded until round().
//
// Representation: value = Σ_k limb[k] · 2^(kLsb + 32k), limb[k] a signed 64-bit
// integer that holds a 32-bit digit plus pending carries. Each add changes a
// limb by less than 2^32, so 2^30 adds fit before carries must be propagated.
// Range: a product of two binary64 numbers is an integer < 2^106 times 2^e with
// e ≥ 2·(-1074) = -2148, and its magnitude is < 2^2048; kLsb = -2176 and 136
// limbs cover up to 2^2176, leaving > 2^120 of headroom for the sum.
#include <algorithm>
#include <bit>
#include <cstdint>

namespace certconv {

enum class Rounding { nearest_even, down, up, toward_zero };

// Everything the per-layer truth needs from one exact sum, from one carry pass.
struct Roundings {
  double nearest, down, up;  // binary64 in round-to-nearest-even, toward −∞, toward +∞
  float nearest_f32;         // binary32 round-to-nearest-even of the exact sum (no double rounding)
  int sign;                  // −1, 0, +1
};

class ExactAccumulator {
  // A binary32 number as ±mant·2^exp2 with an integer significand (0 for ±0).
  struct Binary32 {
    std::uint32_t mant;
    int exp2;
    bool negative;
  };
  static Binary32 split(float a) {
    const auto bits = std::bit_cast<std::uint32_t>(a);
    const auto ex = static_cast<int>((bits >> 23) & 0xff);
    const std::uint32_t frac = bits & ((1u << 23) - 1);
    // Subnormals (ex = 0) have no hidden bit and the exponent of the smallest normal.
    return ex ? Binary32{frac | (1u << 23), ex - 150, (bits >> 31) != 0} : Binary32{frac, -149, (bits >> 31) != 0};
  }

 public:
  static constexpr int kLsb = -2176;
  static constexpr int kLimbs = 136;
  // Each add moves a limb by < 2^33 (two 32-bit digits can land on one limb), so
  // 2^28 adds keep every limb far inside int64 before carries must be propagated.
  static constexpr std::uint32_t kMaxPending = 1u << 28;

  ExactAccumulator() { clear(); }
  void clear();

  // Adds a·b exactly; a and b must be finite.
  void add_product(double a, double b);
  void add_product(float a, float b) {
    const Binary32 x = split(a), y = split(b);
    if (x.mant == 0 || y.mant == 0) return;
    add64(std::uint64_t{x.mant} * y.mant, x.exp2 + y.exp2, x.negative != y.negative);
    count_add();
  }
  // Adds a exactly; a must be finite.
  void add(double a);
  // Adds v·2^exp2 exactly (v a signed 128-bit integer).
  void add_integer(__int128 v, int exp2);
  // Adds |a·b| exactly (for absdot).
  void add_abs_product(double a, double b);
  void add_abs_product(float a, float b) {
    const Binary32 x = split(a), y = split(b);
    if (x.mant == 0 || y.mant == 0) return;
    add64(std::uint64_t{x.mant} * y.mant, x.exp2 + y.exp2, false);
    count_add();
  }

  // −1, 0, +1: the sign of the exact sum.
  int sign() const;
  bool is_zero() const { return sign() == 0; }

  // The exact sum rounded to binary64 / binary32 in the given mode. Overflow
  // follows IEEE 754: ±inf where the mode rounds away, else ±max finite.
  double round(Rounding mode = Rounding::nearest_even) const;
  float round_f32(Rounding mode = Rounding::nearest_even) const;
  // True when the sum is exactly representable in binary64.
  bool exact_in_f64() const;
  Roundings round_all() const;

  // Adds w·x to sum and |w·x| to abs, decoding the operands once.
  friend void add_product_and_abs(float w, float x, ExactAccumulator& sum, ExactAccumulator& abs) {
    const Binary32 a = split(w), b = split(x);
    if (a.mant == 0 || b.mant == 0) return;
    const std::uint64_t p = std::uint64_t{a.mant} * b.mant;
    sum.add64(p, a.exp2 + b.exp2, a.negative != b.negative);
    abs.add64(p, a.exp2 + b.exp2, false);
    sum.count_add();
    abs.count_add();
  }
  friend void add_product_and_abs(double w, double x, ExactAccumulator& sum, ExactAccumulator& abs);

 private:
  // Adds ±v·2^exp2 (v < 2^64); v's bits land on three consecutive limbs.
  void add64(std::uint64_t v, int exp2, bool negative) {
    using u128 = unsigned __int128;
    const int off = exp2 - kLsb, k = off >> 5;
    const std::int64_t sgn = -static_cast<std::int64_t>(negative);  // (d ^ sgn) − sgn = ±d
    const u128 t = static_cast<u128>(v) << (off & 31);
    limb_[k] += (static_cast<std::int64_t>(static_cast<std::uint32_t>(t)) ^ sgn) - sgn;
    limb_[k + 1] += (static_cast<std::int64_t>(static_cast<std::uint32_t>(t >> 32)) ^ sgn) - sgn;
    limb_[k + 2] += (static_cast<std::int64_t>(t >> 64) ^ sgn) - sgn;
    lo_ = std::min(lo_, k);
    hi_ = std::max(hi_, k + 2);
  }
  void add_wide(unsigned __int128 p, int exp2, bool negative);
  void count_add() {
    if (++pending_ == kMaxPending) propagate();
  }
  void propagate() const;
  template <class F>
  F round_to(Rounding mode) const;

  mutable std::int64_t limb_[kLimbs];
  mutable int lo_ = kLimbs, hi_ = -1;  // touched limb range, for cheap clear/round
  mutable std::uint32_t pending_ = 0;  // adds since the last carry propagation (reset by propagate)
};

}  // namespace certconv
