#define BOOST_TEST_MODULE accumulator
#include <boost/test/unit_test.hpp>

#include <mpfr.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>

#include "certconv/exact/accumulator.hpp"
#include "dot_cases.hpp"

using certconv::ExactAccumulator;
using certconv::Rounding;
using namespace certconv::test;

namespace {

// The independent oracle: a raw MPFR number wide enough to hold every sum
// exactly. A product of two binary64 numbers is an integer of ≤ 106 bits times
// 2^e, −2148 ≤ e, and is < 2^2048; 4400 bits cover [2^-2148, 2^2252), room for
// sums of 2^200 such products. Every operation must report exactness (ternary 0).
class Oracle {
 public:
  Oracle() {
    mpfr_inits2(4400, sum_, nullptr);
    mpfr_inits2(53, a_, b_, nullptr);
    mpfr_set_zero(sum_, +1);
  }
  ~Oracle() { mpfr_clears(sum_, a_, b_, nullptr); }
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  void add_product(double a, double b) {
    mpfr_set_d(a_, a, MPFR_RNDN);
    mpfr_set_d(b_, b, MPFR_RNDN);
    exact(mpfr_fma(sum_, a_, b_, sum_, MPFR_RNDN));
  }
  void add_product(float a, float b) {
    mpfr_set_flt(a_, a, MPFR_RNDN);
    mpfr_set_flt(b_, b, MPFR_RNDN);
    exact(mpfr_fma(sum_, a_, b_, sum_, MPFR_RNDN));
  }
  void add(double a) { exact(mpfr_add_d(sum_, sum_, a, MPFR_RNDN)); }
  // Adds k·a·b, as k calls of add_product(a, b) would.
  void add_product_times(double a, double b, unsigned long k) {
    mpfr_t t;
    mpfr_init2(t, 4400);
    mpfr_set_d(a_, a, MPFR_RNDN);
    mpfr_set_d(b_, b, MPFR_RNDN);
    exact(mpfr_mul(t, a_, b_, MPFR_RNDN));
    exact(mpfr_mul_ui(t, t, k, MPFR_RNDN));
    exact(mpfr_add(sum_, sum_, t, MPFR_RNDN));
    mpfr_clear(t);
  }

  bool inexact() const { return inexact_; }
  int sign() const { return mpfr_sgn(sum_); }
  double round(mpfr_rnd_t r) const { return mpfr_get_d(sum_, r); }
  float round_f32(mpfr_rnd_t r) const { return mpfr_get_flt(sum_, r); }
  bool exact_in_f64() const {
    const double d = mpfr_get_d(sum_, MPFR_RNDN);
    return std::isfinite(d) && mpfr_cmp_d(sum_, d) == 0;
  }

 private:
  void exact(int ternary) { inexact_ |= ternary != 0; }
  mpfr_t sum_, a_, b_;
  bool inexact_ = false;
};

struct Mode {
  Rounding ours;
  mpfr_rnd_t mpfr;
  const char* name;
};
constexpr Mode kModes[] = {{Rounding::nearest_even, MPFR_RNDN, "nearest_even"},
                           {Rounding::down, MPFR_RNDD, "down"},
                           {Rounding::up, MPFR_RNDU, "up"},
                           {Rounding::toward_zero, MPFR_RNDZ, "toward_zero"}};

std::string hex(double v) {
  std::ostringstream s;
  s << std::hexfloat << v;
  return s.str();
}

// Bitwise, so that −0 ≠ +0 and inf/max finite are told apart.
bool same(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }
bool same(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

void expect_equal(const std::string& name, const ExactAccumulator& acc, const Oracle& o) {
  BOOST_TEST_CONTEXT(name) {
    BOOST_REQUIRE_MESSAGE(!o.inexact(), "the oracle itself rounded");
    BOOST_CHECK_EQUAL(acc.sign(), o.sign());
    BOOST_CHECK_EQUAL(acc.is_zero(), o.sign() == 0);
    BOOST_CHECK_EQUAL(acc.exact_in_f64(), o.exact_in_f64());
    for (const Mode& m : kModes) {
      const double got = acc.round(m.ours), want = o.round(m.mpfr);
      BOOST_CHECK_MESSAGE(same(got, want), "round(" << m.name << "): got " << hex(got) << ", want " << hex(want));
      const float got32 = acc.round_f32(m.ours), want32 = o.round_f32(m.mpfr);
      BOOST_CHECK_MESSAGE(same(got32, want32),
                          "round_f32(" << m.name << "): got " << hex(got32) << ", want " << hex(want32));
    }
  }
}

void check_group(const std::vector<DotCase>& cases) {
  for (const DotCase& c : cases) {
    ExactAccumulator acc;
    Oracle o;
    apply(c, acc);
    apply(c, o);
    expect_equal(c.name, acc, o);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_normal_data) { check_group(random_normal_cases()); }
BOOST_AUTO_TEST_CASE(integer_valued_data) { check_group(integer_cases()); }
BOOST_AUTO_TEST_CASE(subnormal_inputs_and_results) { check_group(subnormal_cases()); }
BOOST_AUTO_TEST_CASE(largest_finite_values_and_overflow) { check_group(overflow_cases()); }
BOOST_AUTO_TEST_CASE(exact_ties_binary64_and_binary32) { check_group(tie_cases()); }
BOOST_AUTO_TEST_CASE(huge_exponent_mixes) { check_group(huge_exponent_cases()); }
BOOST_AUTO_TEST_CASE(gendot_ill_conditioned) { check_group(gendot_cases()); }

BOOST_AUTO_TEST_CASE(cancellation_to_exact_zero) {
  const auto cases = zero_cases();
  check_group(cases);
  for (const DotCase& c : cases) {
    ExactAccumulator acc;
    apply(c, acc);
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(acc.sign() == 0);
      BOOST_TEST(acc.exact_in_f64());
      for (const Mode& m : kModes) {
        BOOST_TEST(same(acc.round(m.ours), +0.0));
        BOOST_TEST(same(acc.round_f32(m.ours), +0.0f));
      }
    }
  }
}

// A few results spelled out, so that the oracle comparison is not the only
// witness of what IEEE 754 requires.
BOOST_AUTO_TEST_CASE(known_values) {
  ExactAccumulator acc;
  acc.add(DBL_MAX);
  acc.add(DBL_MAX);
  BOOST_TEST(acc.round(Rounding::nearest_even) == HUGE_VAL);
  BOOST_TEST(acc.round(Rounding::up) == HUGE_VAL);
  BOOST_TEST(acc.round(Rounding::down) == DBL_MAX);
  BOOST_TEST(acc.round(Rounding::toward_zero) == DBL_MAX);

  acc.clear();
  acc.add(1);
  acc.add(0x1p-53);
  BOOST_TEST(acc.round() == 1.0);
  BOOST_TEST(acc.round(Rounding::up) == 1 + 0x1p-52);
  BOOST_TEST(!acc.exact_in_f64());
  acc.add(0x1p-1000);  // breaks the tie upward
  BOOST_TEST(acc.round() == 1 + 0x1p-52);

  acc.clear();
  acc.add(1);
  acc.add(0x1p-24);
  acc.add(0x1p-60);  // rounding to binary64 first would lose this and tie to 1
  BOOST_TEST(acc.round_f32() == 1 + 0x1p-23f);

  acc.clear();
  acc.add_product(-0x1p-537, 0x1p-538);  // −2^-1075: a tie between −0 and −2^-1074
  BOOST_TEST(same(acc.round(), -0.0));
  BOOST_TEST(acc.round(Rounding::down) == -DBL_TRUE_MIN);
  BOOST_TEST(acc.sign() == -1);
}

// One accumulator, cleared between cases, must give what a fresh one gives.
BOOST_AUTO_TEST_CASE(clear_makes_it_reusable) {
  ExactAccumulator acc;
  for (const DotCase& c : all_cases()) {
    acc.clear();
    BOOST_REQUIRE(acc.sign() == 0);
    BOOST_REQUIRE(same(acc.round(), +0.0));
    Oracle o;
    apply(c, acc);
    apply(c, o);
    expect_equal("after clear(): " + c.name, acc, o);
  }
}

// add_abs_product(a, b) adds |a·b|: against the oracle summing |a|·|b|.
BOOST_AUTO_TEST_CASE(add_abs_product_sums_magnitudes) {
  for (const DotCase& c : all_cases()) {
    ExactAccumulator acc;
    Oracle o;
    for (const Term& t : c.terms) {
      switch (t.kind) {
        case Term::product64:
          acc.add_abs_product(t.a, t.b);
          o.add_product(std::fabs(t.a), std::fabs(t.b));
          break;
        case Term::product32:
          acc.add_abs_product(static_cast<float>(t.a), static_cast<float>(t.b));
          o.add_product(std::fabs(static_cast<float>(t.a)), std::fabs(static_cast<float>(t.b)));
          break;
        case Term::single:
          acc.add(std::fabs(t.a));
          o.add(std::fabs(t.a));
          break;
      }
    }
    expect_equal("abs: " + c.name, acc, o);
  }
}

// Carries are propagated lazily, after a fixed number of adds (2^28 in
// accumulator.cpp): a long sum of all-ones significands must cross that point.
BOOST_AUTO_TEST_CASE(long_sums_propagate_carries) {
  const double a = 0x1.fffffffffffffp+500, b = -0x1.fffffffffffffp+400, c = 0x1.fffffffffffffp-30;
  const unsigned long half = (1ul << 27) + 500;
  ExactAccumulator acc;
  for (unsigned long i = 0; i < half; ++i) {
    acc.add_product(a, b);
    acc.add_product(c, c);
  }
  Oracle o;
  o.add_product_times(a, b, half);
  o.add_product_times(c, c, half);
  expect_equal("2^28 + 1000 products", acc, o);
}
