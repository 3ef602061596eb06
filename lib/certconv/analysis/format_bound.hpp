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
