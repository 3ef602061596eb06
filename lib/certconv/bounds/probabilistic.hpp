#pragma once
// Probabilistic error bound for a dot product (Higham & Mary, "A new approach to
// probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5), 2019,
// Theorem 3.1): if the rounding errors δ of the n products and additions are
// independent random variables of mean zero with |δ| ≤ u, then for any λ > 0
//   |ŷ − y| ≤ γ̃_n(λ)·absdot,  γ̃_n(λ) = exp(λ·√n·u + n·u²/(1−u)) − 1,
// holds with probability at least Q(λ, n) = 1 − 2n·exp(−λ²(1−u)²/2) (Theorem 2.4 for
// each term, and a union bound over the n terms). This is a model of rounding, not a
// theorem about a given input: never report it as rigorous. No underflow term (the
// model assumes none).
#include <cstdint>

#include "certconv/core/format.hpp"

namespace certconv {

struct ProbabilisticBound {
  double bound;        // γ̃_n(λ)·absdot
  double probability;  // Q(λ, n), clamped to [0, 1]
};

ProbabilisticBound probabilistic_bound(double absdot, std::int64_t n, Dtype dtype, double lambda);

}  // namespace certconv
