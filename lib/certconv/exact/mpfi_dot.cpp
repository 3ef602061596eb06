#include "certconv/exact/mpfi_dot.hpp"

#include <cmath>
#include <string>

#include "certconv/core/error.hpp"

namespace certconv {
namespace {

using Interval = boost::multiprecision::mpfi_float;

mpfr_prec_t checked(unsigned bits) {
  require(bits >= 2 && bits <= (1u << 20),
          "MPFI precision must be between 2 and 1048576 bits, got " + std::to_string(bits));
  return static_cast<mpfr_prec_t>(bits);
}

// A zero interval of `bits` precision, made without Boost's default precision:
// the backend constructor from an mpfi_t takes that value's own precision.
Interval zero(mpfr_prec_t bits) {
  mpfi_t raw;
  mpfi_init2(raw, bits);
  mpfi_set_si(raw, 0);
  Interval v{Interval::backend_type(raw)};
  mpfi_clear(raw);
  return v;
}

}  // namespace

// Copies take the precision of their source (Boost's copy constructor).
MpfiDot::MpfiDot(unsigned precision_bits)
    : pos_(zero(checked(precision_bits))), neg_(pos_), a_(pos_), b_(pos_), prod_(pos_), diff_(pos_) {}

void MpfiDot::clear() {
  mpfi_set_si(pos_.backend().data(), 0);
  mpfi_set_si(neg_.backend().data(), 0);
}

void MpfiDot::add_product(double a, double b) {
  mpfi_set_d(a_.backend().data(), std::fabs(a));
  mpfi_set_d(b_.backend().data(), std::fabs(b));
  mpfi_mul(prod_.backend().data(), a_.backend().data(), b_.backend().data());
  auto& sum = std::signbit(a) != std::signbit(b) ? neg_ : pos_;
  mpfi_add(sum.backend().data(), sum.backend().data(), prod_.backend().data());
}

void MpfiDot::add(double a) {
  mpfi_set_d(a_.backend().data(), std::fabs(a));
  auto& sum = std::signbit(a) ? neg_ : pos_;
  mpfi_add(sum.backend().data(), sum.backend().data(), a_.backend().data());
}

Enclosure MpfiDot::enclosure() const {
  mpfi_sub(diff_.backend().data(), pos_.backend().data(), neg_.backend().data());
  // mpfr_get_d rounds in the given direction and overflows to ±inf only when
  // rounding away from zero (MPFR get_d.c; test_mpfi checks both signs).
  return {mpfr_get_d(diff_.backend().left_data(), MPFR_RNDD), mpfr_get_d(diff_.backend().right_data(), MPFR_RNDU)};
}

}  // namespace certconv
