#pragma once
// Rigorous componentwise forward-error bound of the winograd order, derived in
// docs/winograd-bound.md: for every output,
//   |ŷ − y| ≤ γ_k·S + u·|bias| + (1 + γ_k)·(η/2)·F,
//   S = |Aᵀ|(Σ_c |G||g_c||Gᵀ| ⊙ |Bᵀ||d_c||B|)|A|,
//   F = |Aᵀ|(C·J + E ⊙ Σ_c |Bᵀ||d_c||B|)|A|,
// with y the exact convolution, k = winograd::rounding_depth, u the unit
// roundoff and η the smallest subnormal of T. Evaluated in binary64 with upward
// rounding, so rounding can only enlarge it.
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// tile is 2 or 4; the spec must be 3×3, stride 1, no dilation (the order checks).
// Returns an empty tensor when k·u ≥ 1, where γ_k is undefined (no bound).
template <class T>
Tensor<double> winograd_bound(const ConvProblem<T>& p, int tile, int threads);

}  // namespace certconv
