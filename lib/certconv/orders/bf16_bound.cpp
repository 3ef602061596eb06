#include "certconv/orders/bf16_bound.hpp"

#include <cmath>

#include "certconv/bounds/any_order.hpp"
#include "certconv/bounds/output_rounding.hpp"
#include "certconv/core/format.hpp"
#include "certconv/orders/absdot.hpp"

namespace certconv {

void set_bf16_kernel_bound(OrderOutput<float>& out, const ConvProblem<float>& user, const ConvProblem<float>& seen,
                           bool bf16_dst, int threads) {
  const Tensor<double> absdot = absdot_upper(user, threads);
  out.bound = any_order_bound(user, seen, absdot, Underflow::flush, threads);
  // |y| ≤ Σ|w·x| + |bias| ≤ absdot: the magnitude the output rounding needs.
  if (bf16_dst) out.bound = output_rounding_bound(out.bound, absdot, kBf16, true);
  for (std::size_t i = 0; i < out.bound.data.size(); ++i)
    if (!std::isfinite(out.y.data[i])) out.bound.data[i] = kInf;
  out.bound_kind = {.theorem = Theorem::order_free, .input_rounding = true, .output_rounding = bf16_dst};
}

}  // namespace certconv
