#pragma once
// GenDot: vectors x, y whose dot product has a prescribed condition number, after
// Ogita, Rump, Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput. 26(6),
// 2005, Algorithm 6.1. Used to test the exact truth on ill-conditioned sums.
//
// The target `cond` is the vocabulary's cond = Σ|x_i y_i| / |Σ x_i y_i| (docs/design.md),
// which is half of the paper's 2·|x|ᵀ|y| / |xᵀy|.
//
// Achieved cond is typically within a factor 10 of the target (test_gendot.cpp),
// within two limits:
//  * Range. The largest exponent is c = floor((emax − 5 − ceil(log2 n)) / 2)
//    (emax = 128 for float, 1024 for double), so x, y, Σ|x_i y_i| and every
//    partial sum of the products stay below 2^(emax−3), finite in T. Larger
//    targets are clamped to cond ≈ 2^(2c − 2): 2^114 ≈ 2e34 for float and
//    2^1010 ≈ 1e304 for double when 64 < n ≤ 128 (each doubling of n can cost
//    a factor 4).
//  * Precision. Each step of the second half cancels at most about p bits
//    (p = 24 for float, 53 for double: y_i is rounded to T), so cond = 2^b needs
//    n/2 ≳ b/p + 1: n ≥ 10 for float at 1e30, n ≥ 40 for double at 1e300.
//    A smaller n gives a smaller cond than asked.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace certconv {

template <class T>
struct GenDotResult {
  std::vector<T> x, y;
  double dot = 0;   // Σ x_i y_i, exact, rounded to the nearest binary64
  double cond = 0;  // achieved Σ|x_i y_i| / |Σ x_i y_i| from exact sums (+inf if the sum is 0)
};

// T is float or double. n ≥ 6, cond ≥ 1 and finite; deterministic for a given
// seed on every platform (std::mt19937_64, no std:: distributions). Throws
// InputError on bad arguments.
template <class T>
GenDotResult<T> gendot(std::size_t n, double cond, std::uint64_t seed);

}  // namespace certconv
