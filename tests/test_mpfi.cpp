#define BOOST_TEST_MODULE mpfi
#include <boost/test/unit_test.hpp>

#include <gmp.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <random>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/mpfi_conv.hpp"
#include "certconv/exact/mpfi_dot.hpp"
#include "dot_cases.hpp"

using certconv::Enclosure;
using certconv::ExactAccumulator;
using certconv::MpfiDot;
using certconv::Rounding;
using namespace certconv::test;

namespace {

// A precision at which MPFI computes every sum of binary64 products exactly
// (the range of such sums spans < 4400 bits, see test_accumulator.cpp).
constexpr unsigned kExactBits = 4400;

Enclosure enclose(const DotCase& c, unsigned bits) {
  MpfiDot dot(bits);
  apply(c, dot);
  return dot.enclosure();
}

// The exact value rounded down and up.
Enclosure exact(const DotCase& c) {
  ExactAccumulator acc;
  apply(c, acc);
  return {acc.round(Rounding::down), acc.round(Rounding::up)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(exact_value_inside_enclosure) {
  for (const DotCase& c : all_cases()) {
    const Enclosure ex = exact(c);
    for (unsigned bits : {53u, 256u, 512u, 1024u}) {
      const Enclosure en = enclose(c, bits);
      BOOST_TEST_CONTEXT(c.name << " at " << bits << " bits") {
        BOOST_TEST(en.lo <= ex.lo);
        BOOST_TEST(ex.hi <= en.hi);
      }
    }
  }
}

// When MPFI is exact, the enclosure is the exact value rounded outward: this pins
// down the outward rounding of the endpoints, overflow to ±inf included.
BOOST_AUTO_TEST_CASE(exact_precision_gives_the_rounded_exact_value) {
  for (const DotCase& c : all_cases()) {
    const Enclosure ex = exact(c), en = enclose(c, kExactBits);
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(en.lo == ex.lo);
      BOOST_TEST(en.hi == ex.hi);
    }
  }
  const Enclosure over = enclose({"", {one(DBL_MAX), one(DBL_MAX)}}, kExactBits);
  BOOST_TEST(over.lo == DBL_MAX);
  BOOST_TEST(over.hi == HUGE_VAL);
  const Enclosure under = enclose({"", {one(-DBL_MAX), one(-DBL_MAX)}}, kExactBits);
  BOOST_TEST(under.lo == -HUGE_VAL);
  BOOST_TEST(under.hi == -DBL_MAX);
}

BOOST_AUTO_TEST_CASE(enclosure_narrows_as_precision_grows) {
  for (const DotCase& c : all_cases()) {
    const Enclosure e256 = enclose(c, 256), e512 = enclose(c, 512), e1024 = enclose(c, 1024);
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(e512.hi - e512.lo <= e256.hi - e256.lo);
      BOOST_TEST(e1024.hi - e1024.lo <= e512.hi - e512.lo);
    }
  }
  // Products from 2^1000 down to 2^0 cancel: 256 and 512 bits lose the low
  // part, so each step of precision must strictly narrow the enclosure.
  const auto g = certconv::gendot<double>(100, 1e300, 1);
  DotCase c{"gendot f64 cond 1e300", {}};
  for (std::size_t i = 0; i < g.x.size(); ++i) c.terms.push_back(p64(g.x[i], g.y[i]));
  const Enclosure e256 = enclose(c, 256), e512 = enclose(c, 512), e1024 = enclose(c, 1024);
  BOOST_TEST(e512.hi - e512.lo < e256.hi - e256.lo);
  BOOST_TEST(e1024.hi - e1024.lo < e512.hi - e512.lo);
  BOOST_TEST(e256.hi - e256.lo > 1e50);  // 256 bits cannot resolve a 1000-bit cancellation
}

BOOST_AUTO_TEST_CASE(bad_precision_is_rejected) {
  BOOST_CHECK_THROW(MpfiDot(1), certconv::InputError);
  BOOST_CHECK_THROW(MpfiDot((1u << 20) + 1), certconv::InputError);
  BOOST_CHECK_NO_THROW(MpfiDot(2));
}

namespace {
std::atomic<long> g_allocations{0};
void* counting_alloc(std::size_t n) {
  ++g_allocations;
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t, std::size_t n) {
  ++g_allocations;
  return std::realloc(p, n);
}
void plain_free(void* p, std::size_t) { std::free(p); }
}  // namespace

// The terms of a sum must not allocate (MPFR and MPFI allocate through GMP's
// memory functions; these replacements are compatible with the defaults).
BOOST_AUTO_TEST_CASE(no_allocation_per_term) {
  mp_set_memory_functions(counting_alloc, counting_realloc, plain_free);
  {
    MpfiDot dot(256);
    const long before = g_allocations;
    for (double a : {1.5, -2.25, 1e300, -1e-300, 0.0, -0.0, 1e-320, -7.0})
      for (double b : {3.0, -1e-310, 1e200, -0.5}) {
        dot.add_product(a, b);
        dot.add(a);
      }
    BOOST_TEST(g_allocations - before == 0);
    BOOST_TEST(std::isfinite(dot.enclosure().lo));
  }
  mp_set_memory_functions(nullptr, nullptr, nullptr);
}

namespace {

// A naive convolution over the exact accumulator, written from the index
// conventions of spec.hpp without the library's tap iterator.
template <class T>
Enclosure exact_output(const certconv::ConvSpec& s, const certconv::Tensor<T>& x, const certconv::Tensor<T>& w,
                       const certconv::Tensor<T>* bias, std::int64_t n, std::int64_t oc, std::int64_t oy,
                       std::int64_t ox) {
  ExactAccumulator acc;
  const std::int64_t icg = s.ic / s.g, group = oc / (s.oc / s.g);
  for (std::int64_t c = 0; c < icg; ++c)
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx) {
        const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1), ix = ox * s.sw - s.pw + kx * (s.dw + 1);
        if (iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw) continue;
        acc.add_product(x(n, group * icg + c, iy, ix), w(oc, c, ky, kx));
      }
  if (bias) acc.add(static_cast<double>(bias->data[static_cast<std::size_t>(oc)]));
  return {acc.round(Rounding::down), acc.round(Rounding::up)};
}

template <class T>
void check_conv(int spread, bool with_bias) {
  // g=2, stride 2×1, padding 1×2, dilation (oneDNN) 1×0, 3×2 kernel.
  certconv::ConvSpec s;
  s.g = 2, s.mb = 2, s.ic = 4, s.ih = 7, s.iw = 6, s.oc = 6, s.kh = 3, s.kw = 2;
  s.sh = 2, s.sw = 1, s.ph = 1, s.pw = 2, s.dh = 1, s.dw = 0;
  s.oh = (s.ih + 2 * s.ph - ((s.kh - 1) * (s.dh + 1) + 1)) / s.sh + 1;  // 3
  s.ow = (s.iw + 2 * s.pw - ((s.kw - 1) * (s.dw + 1) + 1)) / s.sw + 1;  // 9

  std::mt19937_64 rng(static_cast<std::uint64_t>(spread) * 2 + with_bias);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> expo(-spread, spread);
  auto fill = [&](certconv::Tensor<T>& t) {
    for (T& v : t.data) v = static_cast<T>(std::ldexp(normal(rng), expo(rng)));
  };
  certconv::Tensor<T> x(s.x_shape()), w(s.w_shape()), b({s.oc});
  fill(x);
  fill(w);
  fill(b);
  const certconv::ConvProblem<T> p{s, x, w, with_bias ? &b : nullptr};

  certconv::Tensor<double> lo, hi, lo3, hi3, lo53, hi53, lo_ex, hi_ex;
  certconv::mpfi_conv_enclosure(p, 256, 1, lo, hi);
  certconv::mpfi_conv_enclosure(p, 53, 2, lo53, hi53);
  certconv::mpfi_conv_enclosure(p, 256, 3, lo3, hi3);
  certconv::mpfi_conv_enclosure(p, kExactBits, 2, lo_ex, hi_ex);
  BOOST_TEST(lo.shape == s.y_shape());
  BOOST_TEST(hi.shape == s.y_shape());
  BOOST_TEST(lo.data == lo3.data);  // independent of the thread count
  BOOST_TEST(hi.data == hi3.data);

  std::int64_t wide = 0;
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t oc = 0; oc < s.oc; ++oc)
      for (std::int64_t oy = 0; oy < s.oh; ++oy)
        for (std::int64_t ox = 0; ox < s.ow; ++ox) {
          const Enclosure ex = exact_output(s, x, w, p.bias, n, oc, oy, ox);
          BOOST_TEST_CONTEXT("output " << n << "," << oc << "," << oy << "," << ox) {
            BOOST_TEST(lo(n, oc, oy, ox) <= ex.lo);
            BOOST_TEST(ex.hi <= hi(n, oc, oy, ox));
            BOOST_TEST(lo53(n, oc, oy, ox) <= ex.lo);
            BOOST_TEST(ex.hi <= hi53(n, oc, oy, ox));
            BOOST_TEST(lo_ex(n, oc, oy, ox) == ex.lo);
            BOOST_TEST(hi_ex(n, oc, oy, ox) == ex.hi);
          }
          wide += hi53(n, oc, oy, ox) > std::nextafter(lo53(n, oc, oy, ox), HUGE_VAL);
        }
  // At 53 bits the sums round, so containment is also tested on enclosures that
  // are wider than a rounding of the exact value.
  BOOST_TEST(wide > 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(conv_enclosure_contains_exact_outputs) {
  check_conv<double>(20, true);
  check_conv<double>(20, false);
  check_conv<double>(500, true);
  check_conv<float>(30, true);
  check_conv<float>(60, false);
}
