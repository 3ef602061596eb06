#pragma once
// The final rounding of an accumulated result to a narrower output format, as
// reduced-precision kernels store it (bf16 or fp16 output, float32 accumulation).
//
// With ŷ the accumulated value, o = fl_out(ŷ) rounded to nearest in a format of p
// significand bits (u_o = 2^-p), smallest normal 2^emin and smallest subnormal
// η_o = 2^(emin−p+1):
//   gradual underflow:  |o − ŷ| ≤ u_o·|ŷ| + η_o/2      (Higham 2002, §2.1: relative
//                        error in the normal range, absolute η_o/2 below it)
//   flush to zero:      |o − ŷ| ≤ u_o·|ŷ| + 2^emin     (a result below 2^emin becomes 0)
// With B ≥ |ŷ − y| the accumulation bound and M ≥ |y|, |ŷ| ≤ M + B, so
//   |o − y| ≤ |ŷ − y| + |o − ŷ| ≤ B + u_o·(M + B) + under,
// which is what output_rounding_bound returns, rounded upward. An output beyond the
// format's largest finite number overflows to ±∞: a non-finite output, never within.
#include "certconv/core/tensor.hpp"

namespace certconv {

struct NarrowFormat {
  int p;     // significand bits, hidden bit included
  int emin;  // exponent of the smallest normal number
};

inline constexpr NarrowFormat kBf16{8, -126};
inline constexpr NarrowFormat kFp16{11, -14};

// acc: B per output; magnitude: M ≥ |y| per output (the truth enclosure's larger
// end in magnitude). Both ≥ 0, same shape.
Tensor<double> output_rounding_bound(const Tensor<double>& acc, const Tensor<double>& magnitude, NarrowFormat f,
                                     bool flush_to_zero);

}  // namespace certconv
