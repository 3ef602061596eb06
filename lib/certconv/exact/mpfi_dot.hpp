#pragma once
// MpfiDot: the independent second method. Encloses a sum of products of binary64
// numbers in MPFI interval arithmetic (Boost.Multiprecision mpfi_float) at a
// chosen working precision. Every operation rounds outward, so the exact sum lies
// in the result whatever the precision; at 256 bits the enclosure is a point for
// well-scaled data and widens when the exponents of the terms spread further than
// the precision. Inputs must be finite (check_problem rejects the others).
#include <boost/multiprecision/mpfi.hpp>

namespace certconv {

// A closed interval with binary64 endpoints; lo may be −inf and hi +inf when the
// enclosure leaves the binary64 range.
struct Enclosure {
  double lo, hi;
};

class MpfiDot {
 public:
  // Throws InputError unless 2 ≤ precision_bits ≤ 2^20.
  explicit MpfiDot(unsigned precision_bits);
  void clear();
  void add_product(double a, double b);
  void add(double a);
  // The MPFI interval rounded outward to binary64 (lo down, hi up).
  Enclosure enclosure() const;

 private:
  using Interval = boost::multiprecision::mpfi_float;
  // MPFI's multiplication of operands of opposite signs, its negation and its
  // subtraction allocate temporaries; multiplying magnitudes and keeping the
  // positive and negative terms in two sums needs only allocation-free
  // mpfi_mul and mpfi_add per term.
  Interval pos_, neg_, a_, b_, prod_;
  mutable Interval diff_;
};

}  // namespace certconv
