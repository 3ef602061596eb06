#include "certconv/exact/mpfi_dot.hpp"

#include <cmath>
#include <string>

#include "certconv/error.hpp"

namespace certconv {

MpfiDot::MpfiDot(unsigned precision_bits) {
  require(precision_bits >= 2 && precision_bits <= (1u << 20),
          "MPFI precision must be between 2 and 1048576 bits, got " + std::to_string(precision_bits));
  // Set the precision of each value directly, in bits: Boost's precision() takes
  // decimal digits, and its default precision is a global shared by all threads.
  for (Interval* v : {&pos_, &neg_, &a_, &b_, &prod_, &diff_})
    mpfi_set_prec(v->backend().data(), static_cast<mpfr_prec_t>(precision_bits));
  clear();
}

void MpfiDot::clear() {
  pos_ = 0L;
  neg_ = 0L;
}

void MpfiDot::add_product(double a, double b) {
  a_ = std::fabs(a);
  b_ = std::fabs(b);
  prod_ = a_ * b_;  // expression template: one mpfi_mul into prod_, no temporary
  if (std::signbit(a) != std::signbit(b))
    neg_ += prod_;
  else
    pos_ += prod_;
}

void MpfiDot::add(double a) {
  a_ = std::fabs(a);
  if (std::signbit(a))
    neg_ += a_;
  else
    pos_ += a_;
}

Enclosure MpfiDot::enclosure() const {
  diff_ = pos_ - neg_;
  // mpfr_get_d rounds in the given direction, overflowing to ±inf only in the
  // outward direction (MPFR manual, "Conversion Functions").
  return {mpfr_get_d(diff_.backend().left_data(), MPFR_RNDD),
          mpfr_get_d(diff_.backend().right_data(), MPFR_RNDU)};
}

}  // namespace certconv
