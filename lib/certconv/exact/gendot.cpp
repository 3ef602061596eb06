// GenDot (Ogita, Rump, Oishi 2005, Algorithm 6.1; reference MATLAB: INTLAB's
// gendot.m). The first half of x, y is random with exponents in [0, b/2]; each
// element of the second half picks x_i, then sets y_i so that the running dot
// product is cancelled down to a random value of size 2^e_i, with e_i falling
// linearly from b/2 to 0. The paper evaluates the running dot product in K-fold
// precision; here it is exact (ExactAccumulator) and rounded once.
//
// Deviations from the paper, each for a predictable result (measured spread of
// the achieved cond: from 200 seeds per target, ±1 decade instead of −2.5..+1.4):
//  * x_1, y_1 (the pair with the largest exponent, which sets Σ|x_i y_i|),
//    second-half x_i and the values t_i they aim for have magnitudes in
//    [2^(e−1), 2^e) instead of (−2^e, 2^e): a near-zero x_i would make y_i huge,
//    a near-zero final t_i would make cond much larger than asked;
//  * e_1 = round(b/2), not round(b/2) + 1, because the target is the vocabulary's
//    cond, half the paper's;
//  * the exponents are clamped so that T does not overflow (see gendot.hpp);
//  * random numbers come from raw std::mt19937_64 output, never from std::
//    distributions, whose algorithms differ between standard libraries.
#include "certconv/exact/gendot.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"

namespace certconv {
namespace {

// Uniform in [0, 1) with 53 random bits.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

// Uniform in [−1, 1).
double symmetric(std::mt19937_64& rng) { return 2 * unit(rng) - 1; }

// Random sign, magnitude uniform in [1/2, 1).
double bounded(std::mt19937_64& rng) {
  double m = (1 + unit(rng)) / 2;
  return (rng() & 1) ? -m : m;
}

}  // namespace

template <class T>
GenDotResult<T> gendot(std::size_t n, double cond, std::uint64_t seed) {
  require(n >= 6, "gendot: n must be at least 6, got " + std::to_string(n));
  require(std::isfinite(cond) && cond >= 1, "gendot: cond must be finite and at least 1");

  // Exponent cap c: first-half |x_i|, |y_i| ≤ 2^c, so their products sum to at most
  // n·2^(2c) ≤ 2^(emax−5); a second-half product is about t_i minus the running
  // sum, and |x_i| ≥ 1/2, so Σ|x_i y_i| and every |y_i| stay below 2^(emax−3).
  constexpr int emax = std::numeric_limits<T>::max_exponent;
  const int log2n = static_cast<int>(std::bit_width(n - 1));
  const int cap = (emax - 5 - log2n) / 2;
  const double half = std::min(std::log2(cond) / 2, static_cast<double>(cap - 1));

  std::mt19937_64 rng(seed);
  GenDotResult<T> r;
  r.x.resize(n);
  r.y.resize(n);
  ExactAccumulator acc, abs;

  const std::size_t n2 = (n + 1) / 2;  // MATLAB round(n/2)
  for (std::size_t i = 0; i < n2; ++i) {
    int e = static_cast<int>(std::lround(unit(rng) * half));
    if (i == n2 - 1) e = 0;
    if (i == 0) {  // the exponents b/2 and 0 occur; x_0 y_0 sets the size of Σ|x_i y_i|
      e = static_cast<int>(std::lround(half));
      r.x[i] = static_cast<T>(std::ldexp(bounded(rng), e));
      r.y[i] = static_cast<T>(std::ldexp(bounded(rng), e));
    } else {
      r.x[i] = static_cast<T>(std::ldexp(symmetric(rng), e));
      r.y[i] = static_cast<T>(std::ldexp(symmetric(rng), e));
    }
    acc.add_product(r.x[i], r.y[i]);
  }

  const std::size_t m = n - n2;
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t i = n2 + j;
    const int e = static_cast<int>(std::lround(half * static_cast<double>(m - 1 - j) / static_cast<double>(m - 1)));
    r.x[i] = static_cast<T>(std::ldexp(bounded(rng), e));
    const double t = std::ldexp(bounded(rng), e);
    // y_i = (t − Σ_{k<i} x_k y_k) / x_i, with the numerator rounded once from the exact sum.
    acc.add(-t);
    const double num = acc.round();
    acc.add(t);
    r.y[i] = static_cast<T>(-num / static_cast<double>(r.x[i]));
    acc.add_product(r.x[i], r.y[i]);
  }

  for (std::size_t i = n - 1; i > 0; --i) {
    const std::size_t k = static_cast<std::size_t>(rng() % (i + 1));
    std::swap(r.x[i], r.x[k]);
    std::swap(r.y[i], r.y[k]);
  }

  // The exact sum does not depend on the order, so acc already holds Σ x_i y_i.
  for (std::size_t i = 0; i < n; ++i) abs.add_abs_product(r.x[i], r.y[i]);
  r.dot = acc.round();
  r.cond = acc.is_zero() ? std::numeric_limits<double>::infinity() : abs.round() / std::fabs(r.dot);
  return r;
}

template GenDotResult<float> gendot<float>(std::size_t, double, std::uint64_t);
template GenDotResult<double> gendot<double>(std::size_t, double, std::uint64_t);

}  // namespace certconv
