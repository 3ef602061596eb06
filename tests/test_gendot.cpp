#define BOOST_TEST_MODULE gendot
#include <boost/test/unit_test.hpp>

#include <cfloat>
#include <cmath>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/gendot.hpp"

using certconv::ExactAccumulator;
using certconv::gendot;
using certconv::Rounding;

namespace {

// Recomputes Σ x_i y_i and Σ|x_i y_i| exactly from the returned vectors.
template <class T>
void expect_consistent(const certconv::GenDotResult<T>& g, double max_abs) {
  ExactAccumulator dot, abs;
  for (std::size_t i = 0; i < g.x.size(); ++i) {
    BOOST_REQUIRE(std::isfinite(g.x[i]) && std::isfinite(g.y[i]));
    dot.add_product(g.x[i], g.y[i]);
    abs.add_abs_product(g.x[i], g.y[i]);
  }
  BOOST_TEST(g.dot == dot.round());
  BOOST_TEST(g.cond == abs.round() / std::fabs(dot.round()));
  // Σ|x_i y_i| bounds every partial sum in any order: it must stay finite in T.
  BOOST_TEST(abs.round(Rounding::up) <= max_abs);
}

// |log10(achieved / target)| over many seeds: GenDot aims at an order of magnitude.
template <class T>
void expect_near_target(std::size_t n, int k_min, int k_max, int k_step, double max_abs) {
  for (int k = k_min; k <= k_max; k += k_step) {
    const double target = std::pow(10.0, k);
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const auto g = gendot<T>(n, target, seed);
      BOOST_TEST_CONTEXT("n=" << n << " cond 1e" << k << " seed " << seed) {
        BOOST_TEST(g.x.size() == n);
        BOOST_TEST(g.y.size() == n);
        expect_consistent(g, max_abs);
        BOOST_CHECK_MESSAGE(std::fabs(std::log10(g.cond / target)) <= 2.0, "achieved cond " << g.cond);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(float_reaches_1e3_to_1e30) { expect_near_target<float>(50, 3, 30, 3, 0x1p125); }
BOOST_AUTO_TEST_CASE(double_reaches_1e3_to_1e300) { expect_near_target<double>(100, 3, 300, 9, 0x1p1021); }

// The precision limit documented in gendot.hpp: n/2 ≳ log2(cond)/p + 1.
BOOST_AUTO_TEST_CASE(shortest_vectors_for_the_largest_targets) {
  expect_near_target<float>(10, 30, 30, 1, 0x1p125);
  expect_near_target<double>(40, 300, 300, 1, 0x1p1021);
}

// Targets beyond the range limit are clamped: no overflow, and cond as large as
// documented (≈ 2e34 for float, ≈ 1e304 for double at 64 < n ≤ 128).
BOOST_AUTO_TEST_CASE(range_clamp_keeps_values_finite) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto f = gendot<float>(100, 1e38, seed);
    expect_consistent(f, 0x1p125);
    BOOST_TEST(f.cond >= 1e33);
    BOOST_TEST(f.cond <= 1e36);
    const auto d = gendot<double>(100, 1e308, seed);
    expect_consistent(d, 0x1p1021);
    BOOST_TEST(d.cond >= 1e303);
    BOOST_TEST(d.cond <= 1e306);
  }
  // Many terms shrink the cap but never overflow.
  expect_consistent(gendot<float>(5000, 1e38, 1), 0x1p125);
  expect_consistent(gendot<double>(5000, 1e308, 1), 0x1p1021);
}

BOOST_AUTO_TEST_CASE(deterministic_from_seed) {
  const auto a = gendot<double>(30, 1e20, 42), b = gendot<double>(30, 1e20, 42), c = gendot<double>(30, 1e20, 43);
  BOOST_TEST(a.x == b.x);
  BOOST_TEST(a.y == b.y);
  BOOST_TEST(a.x != c.x);
  const auto f = gendot<float>(30, 1e20, 42), g = gendot<float>(30, 1e20, 42);
  BOOST_TEST(f.x == g.x);
  BOOST_TEST(f.y == g.y);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_rejected) {
  BOOST_CHECK_THROW(gendot<double>(5, 1e10, 0), certconv::InputError);
  BOOST_CHECK_THROW(gendot<double>(10, 0.5, 0), certconv::InputError);
  BOOST_CHECK_THROW(gendot<float>(10, HUGE_VAL, 0), certconv::InputError);
  BOOST_CHECK_THROW(gendot<float>(10, NAN, 0), certconv::InputError);
}
