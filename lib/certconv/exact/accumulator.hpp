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
#include <cstdint>

namespace certconv {

enum class Rounding { nearest_even, down, up, toward_zero };

class ExactAccumulator {
 public:
  static constexpr int kLsb = -2176;
  static constexpr int kLimbs = 136;

  ExactAccumulator() { clear(); }
  void clear();

  // Adds a·b exactly; a and b must be finite.
  void add_product(double a, double b);
  void add_product(float a, float b);
  // Adds a exactly; a must be finite.
  void add(double a);
  // Adds |a·b| exactly (for absdot).
  void add_abs_product(double a, double b);
  void add_abs_product(float a, float b);

  // −1, 0, +1: the sign of the exact sum.
  int sign() const;
  bool is_zero() const { return sign() == 0; }

  // The exact sum rounded to binary64 / binary32 in the given mode. Overflow
  // follows IEEE 754: ±inf where the mode rounds away, else ±max finite.
  double round(Rounding mode = Rounding::nearest_even) const;
  float round_f32(Rounding mode = Rounding::nearest_even) const;
  // True when the sum is exactly representable in binary64.
  bool exact_in_f64() const;

 private:
  void add_bits(std::uint64_t mag_lo, std::uint64_t mag_hi, int exp2, bool negative);
  void propagate() const;
  template <class F>
  F round_to(Rounding mode) const;

  mutable std::int64_t limb_[kLimbs];
  mutable int lo_ = kLimbs, hi_ = -1;  // touched limb range, for cheap clear/round
  std::uint32_t pending_ = 0;          // adds since the last carry propagation
};

}  // namespace certconv
