// Evaluation: each term |x̃w̃ − xw| is formed in binary64 from two exact products of
// binary32 numbers (24 + 24 ≤ 53 bits; no underflow, their exponents are ≥ −298) by
// one subtraction in round to nearest, and the terms and |b̃ − b| are summed in
// round to nearest. Every term passes at most L = taps + 2 roundings, all of
// nonnegative values or of the one subtraction (relative error ≤ 2^-53; binary64
// additions of these are exact in the subnormal range), so by the margin lemma of
// bounds/tree_bound.hpp the exact sum is at most ŝ/(1 − L·2^-53).
#include "certconv/bounds/input_rounding.hpp"

#include <cmath>

#include "certconv/core/format.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/taps.hpp"

namespace certconv {

Tensor<double> input_rounding_error(const ConvProblem<float>& orig, const ConvProblem<float>& rounded, int threads) {
  const ConvSpec& s = orig.spec;
  Tensor<double> e(s.y_shape());
  const double taps = static_cast<double>(s.n_terms());
  const double den = one_minus_ku(taps + 2, 0x1p-53);
  parallel_for(s.y_size(), threads, [&](std::int64_t b, std::int64_t end) {
    for (std::int64_t i = b; i < end; ++i) {
      const OutputIndex o = output_index(s, i);
      double sum = 0;
      for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
        const double exact = static_cast<double>(orig.x.data[xo]) * orig.w.data[wo];
        const double near = static_cast<double>(rounded.x.data[xo]) * rounded.w.data[wo];
        sum += std::fabs(near - exact);
      });
      if (orig.bias) sum += std::fabs(static_cast<double>(rounded.bias->data[o.oc]) - orig.bias->data[o.oc]);
      e.data[static_cast<std::size_t>(i)] = den > 0 ? div_up(sum, den) : kInf;
    }
  });
  return e;
}

}  // namespace certconv
