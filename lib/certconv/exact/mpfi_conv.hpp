#pragma once
// MPFI enclosure of every output of a convolution (TruthMethod::mpfi): the
// independent second method for per-layer truth.
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// lo and hi get the output shape [mb, oc, oh, ow]; lo ≤ Σ w·x (+ bias) ≤ hi for
// every output, each sum enclosed by an MpfiDot at `precision` bits. Outputs
// are split over `threads` (0 = hardware concurrency); each output is computed
// by one thread, so the result does not depend on the thread count. Inputs must
// be finite and match the spec (check_problem).
template <class T>
void mpfi_conv_enclosure(const ConvProblem<T>& p, unsigned precision, int threads, Tensor<double>& lo,
                         Tensor<double>& hi);

}  // namespace certconv
