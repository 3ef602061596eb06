#pragma once
// The rigorous bound of a bf16 convolution kernel that accumulates in float32 with
// VDPBF16PS or oneDNN's FMA emulation of it (oneDNN's bf16 kernels, run for real by
// the onednn backend with dt=bf16 or emulated by onednn-avx512-bf16). Its order is
// not used: the bound is the order-free one, for any order, composed of three
// theorems:
//   |o − y| ≤ |ỹ − y| + |ŷ − ỹ| + |o − ŷ|,
// ỹ the exact convolution of the inputs as the kernel saw them (`seen`: rounded to
// bf16, and x and w flushed where the kernel reads denormals as zero), ŷ the float32
// accumulation, o the stored output:
//   |ỹ − y| ≤ e, exact data (bounds/input_rounding.hpp);
//   |ŷ − ỹ| ≤ order-free with flush to zero (bounds/order_free.hpp,
//             Underflow::flush: VDPBF16PS flushes its results; the FMAs of oneDNN's
//             emulation err less, η/2 ≤ 2^-126): (2n − 1)·2^-126 for the absolute
//             errors, one per product and per addition, whichever of them flush.
//             The bias is the (K+1)-th term, n = K + 1. Evaluated at absdot + e
//             (bounds/any_order.hpp);
//   |o − ŷ|: with a bf16 dst, VCVTNEPS2BF16 (nearest-even, denormals read as zero)
//             or its emulation (nearest-even, gradual) by bounds/output_rounding.hpp
//             with flush to zero (the larger term) and M = absdot ≥ |y|.
#include "certconv/core/problem.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

// Sets out.bound (+∞ where the output overflowed: the bounds assume no overflow) and
// out.bound_kind (order-free+input-rounding, +output-rounding with bf16_dst). `user`
// holds the caller's inputs, `seen` the kernel's (orders/input_format.hpp,
// kernel_inputs).
void set_bf16_kernel_bound(OrderOutput<float>& out, const ConvProblem<float>& user, const ConvProblem<float>& seen,
                           bool bf16_dst, int threads);

}  // namespace certconv
