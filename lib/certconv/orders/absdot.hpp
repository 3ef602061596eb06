#pragma once
// absdot = Σ|w·x| + |bias| per output, rounded up: where the order-free bounds start
// when no truth is at hand (the real libraries, the bf16 kernels).
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// Σ|w·x| (+ |bias|) per output, rounded up (a rigorous upper bound), NCHW.
template <class T>
Tensor<double> absdot_upper(const ConvProblem<T>& p, int threads);

}  // namespace certconv
