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
  // Boost's mpfi_float holds each value (RAII); the arithmetic calls MPFI
  // directly. Boost 1.74's constructors and operators read, and temporarily
  // rewrite, a process-wide default precision (boost/multiprecision/detail/
  // precision.hpp, scoped_default_precision): a data race when several threads
  // compute at once. MPFI's multiplication of operands of opposite signs, its
  // negation and its subtraction allocate temporaries, so each term multiplies
  // magnitudes and goes into one of two sums, positive or negative: per term only
  // mpfi_set_d, mpfi_mul and mpfi_add, which do not allocate.
  using Interval = boost::multiprecision::mpfi_float;
  Interval pos_, neg_, a_, b_, prod_;
  mutable Interval diff_;
};

}  // namespace certconv
