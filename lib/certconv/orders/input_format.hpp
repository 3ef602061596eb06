#pragma once
// Reduced-precision inputs for the float32 orders (`input=` parameter): x, w and the
// bias are rounded to the format with round-to-nearest-even before the order runs.
//   bf16: 8-bit significand, the float32 exponent range (subnormals down to 2^-133)
//   fp16: IEEE binary16: 11-bit significand, normal range 2^-14 .. 65504, subnormals
//         down to 2^-24
//   tf32: 11-bit significand, the float32 exponent range (subnormals down to 2^-136)
// A value that rounds beyond the format's largest finite number overflows; that is
// an InputError naming the tensor and the index.
#include <string>
#include <string_view>

#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

enum class InputFormat { f32, bf16, fp16, tf32 };

// "f32" | "bf16" | "fp16" | "tf32"; anything else is an InputError naming `input`.
InputFormat parse_input_format(std::string_view s);
const char* input_format_name(InputFormat f);

// v rounded to the format, nearest-even; ±∞ when it overflows. f32 returns v.
float round_to_format(float v, InputFormat f);

// Every element rounded; `what` names the tensor in the overflow error.
Tensor<float> round_tensor(const Tensor<float>& t, InputFormat f, const std::string& what);

// Every value of t (a float32 tensor said to hold f's values) is one: else an
// InputError "WHAT: V at index [n, c, h, w] is not a bf16 value".
void require_in_format(const Tensor<float>& t, InputFormat f, const std::string& what);

// x, w and the bias rounded (errors name them "x", "w", "bias").
OwnedProblem<float> round_problem(const ConvProblem<float>& p, InputFormat f);

// The inputs as a reduced-precision kernel sees them: rounded, and with daz, x and w
// below 2^-126 read as zero (the x86 bf16 dot-product instructions' DAZ). The bias
// is rounded only: kernels add it with an ordinary float32 addition, and where one
// flushes it instead, the difference (< 2^-126) is one rounding's absolute error in
// the flush-to-zero model of bounds/order_free.hpp.
OwnedProblem<float> kernel_inputs(const ConvProblem<float>& p, InputFormat f, bool daz);

}  // namespace certconv
