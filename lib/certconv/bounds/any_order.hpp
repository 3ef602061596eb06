#pragma once
// The order-free rigorous bound per output, for plain or reduced-precision inputs.
// With x̃, w̃, b̃ the inputs as the computation saw them (rounded to bf16, fp16 or
// tf32, or unchanged), ỹ their exact convolution and e ≥ |ỹ − y| per output:
//   |ŷ − y| ≤ |ŷ − ỹ| + |ỹ − y| ≤ order_free(Σ|x̃w̃| + |b̃|) + e,
// and Σ|x̃w̃| + |b̃| ≤ absdot + e, with order_free the bound of bounds/order_free.hpp
// for Products::fused (any order of summation, with or without FMA, underflow
// included).
#include <cstdint>

#include "certconv/bounds/order_free.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// absdot per output (rounded up), n terms per output (a bias is one more), and e
// per output, or nullptr for inputs that were not rounded (e = 0). With
// Underflow::flush the inputs as the computation saw them are the flushed ones
// (DAZ): e must include |x̃w̃ − xw| of the flushed inputs.
Tensor<double> any_order_bound(const Tensor<double>& absdot, std::int64_t n, Dtype dtype,
                               const Tensor<double>* input_error = nullptr,
                               Underflow underflow = Underflow::gradual);

// The same for float32 accumulation of the inputs as the kernel saw them (`seen`:
// rounded to a reduced format, flushed where it reads denormals as zero): e is
// input_rounding_error(p, seen) (bounds/input_rounding.hpp, exact data), n counts
// the bias. absdot is the user's (p's). testing.cpp's any-order tolerances and the
// bf16 kernels' bounds (orders/bf16_bound.cpp) both evaluate it here.
Tensor<double> any_order_bound(const ConvProblem<float>& p, const ConvProblem<float>& seen,
                               const Tensor<double>& absdot, Underflow underflow, int threads);

// e for inputs rounded with unit roundoff u_in, a model for the normal range only
// (Higham 2002 §2.1: x̃ = x(1+δ), |δ| ≤ u_in, so |x̃w̃ − xw| ≤ (2u_in + u_in²)|xw|):
// e = (2u_in + u_in²)·absdot. Where inputs may fall below the format's normal
// range (fp16), the exact e of bounds/input_rounding.hpp is the rigorous one.
Tensor<double> relative_input_error(const Tensor<double>& absdot, double u_in);

}  // namespace certconv
