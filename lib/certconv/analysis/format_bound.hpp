#pragma once
// The order-free rigorous bound of a computation in stated formats (docs/design.md,
// "format"): inputs rounded to an input format, summed in any order in float32 or
// float64, flushed to zero where the kernel does (DAZ on the inputs, FTZ on every
// result), and the result rounded to an output format. One bound per output:
//   |ŷ − y| ≤ order_free(absdot + e) + e        (bounds/any_order.hpp; e exact,
//                                                bounds/input_rounding.hpp)
//   |o − y| ≤ that + u_o·(M + that) + under     (bounds/output_rounding.hpp)
// check_conv's any-order tolerance, explain's sides and the backends' reduced-
// precision modes all take their bound from here.
#include <string>
#include <string_view>

#include "certconv/bounds/bound_kind.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/orders/input_format.hpp"

namespace certconv {

struct FormatModel {
  Dtype acc = Dtype::f32;                 // accumulation
  InputFormat input = InputFormat::f32;   // x, w, bias rounded to this first (f32: as given)
  InputFormat output = InputFormat::f32;  // the result rounded to bf16/fp16 (f32: stored as accumulated)
  bool ftz = false;                       // DAZ on the inputs, FTZ on every result
};

// The format an output was computed in, as explain names each side:
//   f64, f32    accumulated and stored in that precision, the inputs as given;
//   bf16, fp16  the inputs rounded to the format, a float32 accumulation, the
//               result rounded to the format; bf16 with DAZ/FTZ, as x86 bf16
//               kernels (VDPBF16PS, TDPBF16PS) run.
enum class OutputFormat { f64, f32, bf16, fp16 };

const char* output_format_name(OutputFormat f);   // "f64", "f32", "bf16", "fp16"
std::string output_format_words(OutputFormat f);  // "float64", "float32", "bf16 (float32 accumulation)"
// "f64" | "f32" | "bf16" | "fp16"; else an InputError naming `what`.
OutputFormat parse_output_format(std::string_view s, const std::string& what);
FormatModel format_model(OutputFormat f);
// The unit roundoff of the stored values: 2^-53, 2^-24, 2^-8, 2^-11.
double unit_roundoff(OutputFormat f);

struct FormatBound {
  Tensor<double> bound;  // per output, NCHW
  BoundKind kind;
};

// p's inputs in TI (float64 inputs only with nothing rounded or flushed), truth of p.
// Throws InputError for a model that does not apply (float64 inputs with an input
// format, float32 accumulation of float64 inputs, ftz with a float64 accumulation,
// an output format that is not bf16/fp16/f32).
template <class TI>
FormatBound format_bound(const ConvProblem<TI>& p, const Truth& truth, const FormatModel& m, int threads);

// acc (a bound on the accumulated result's error) plus the rounding of that result
// to output (bf16, fp16), with M = max(|lo|, |hi|) ≥ |y| from the truth.
Tensor<double> with_output_rounding(const Tensor<double>& acc, const Truth& truth, InputFormat output, bool ftz);

}  // namespace certconv
