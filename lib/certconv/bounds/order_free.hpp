#pragma once
// Order-free rigorous bounds for one output y = Σ_{i<n} a_i·b_i computed in binary32
// or binary64 (round to nearest) by any recursive summation of the n terms, in any
// order, including underflow. absdot = Σ|a_i b_i| (rounded up by the caller);
// n counts the terms (a bias added by the same summation is one more term, with
// |bias| in absdot; its "product" is exact, which only helps).
#include <cstdint>

#include "certconv/core/format.hpp"

namespace certconv {

enum class Products {
  rounded,  // every product rounded on its own, then summed: fl(a·b), no FMA
  fused,    // some or all products fused into FMAs with the running sums
};

// rounded: after Jeannerod & Rump (SIMAX 34(2), 2013) and Rump (BIT 52, 2012). The
//   rounded products p̂_i are floating-point numbers and recursive summation of n of
//   them in any order errs by at most (n−1)·u·Σ|p̂_i| (Rump 2012: no
//   restriction on n; additions are exact in the subnormal range, so underflow does
//   not affect it). With |p̂_i − p_i| ≤ u|p_i| + η/2 and Σ|p̂_i| ≤ (1+u)·absdot + n·η/2:
//     |ŷ − y| ≤ (n·u + (n−1)·u²)·absdot + (n·η/2)·(1 + (n−1)·u),
//   which is Jeannerod–Rump's n·u·absdot up to the u² term, plus the underflow term.
// fused: the classical bound (Higham 2002, §3.1, eq. (3.5), via Lemma 3.1): every term
//   passes at most n roundings (its FMA or product, and the additions above it), so
//     |ŷ − y| ≤ γ_n·absdot + n·(η/2)·(1+u)^n ≤ (n·u·absdot + n·η/2) / (1 − n·u).
// Underflow::flush: results below the smallest normal 2^emin are flushed to zero
//   (FTZ, as x86 bf16 dot-product instructions do), so every rounding, additions
//   included, is fl(z) = z(1+δ) + ε with |ε| ≤ 2^emin = η/(2u) instead of η/2 for
//   products only. A term passes its product (or FMA) and the additions above it;
//   over the whole sum there are at most n products or FMAs and n − 1 additions,
//   2n − 1 roundings with an absolute error, each carried by at most n factors
//   (1 + δ) above it:
//     |ŷ − y| ≤ γ_n·absdot + (2n − 1)·2^emin·(1+u)^n ≤ (n·u·absdot + (2n − 1)·2^emin) / (1 − n·u).
//   Only Products::fused supports it.
// Returns +∞ when n·u ≥ 1 (fused) and for a non-finite absdot.
enum class Underflow { gradual, flush };
double order_free_bound(double absdot, std::int64_t n, Dtype dtype, Products products = Products::fused,
                        Underflow underflow = Underflow::gradual);

}  // namespace certconv
