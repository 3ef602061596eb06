#pragma once
// The input-rounding term of the bounds for reduced-precision inputs (input=bf16,
// fp16, tf32): with x̃, w̃, b̃ the rounded inputs and ỹ the exact convolution of them,
//   |ŷ − y| ≤ |ŷ − ỹ| + |ỹ − y|,  |ỹ − y| ≤ Σ |x̃w̃ − xw| + |b̃ − b|,
// and the second sum is what this evaluates, per output, rigorously from above. It
// is exact data, not a model: it covers (2u_in + u_in²)|xw| per product and the
// absolute error of fp16 subnormals alike.
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// orig and rounded share the spec; the result has the output shape.
Tensor<double> input_rounding_error(const ConvProblem<float>& orig, const ConvProblem<float>& rounded, int threads);

}  // namespace certconv
