// Evaluated in round to nearest with up() after every operation (core/format.hpp):
// every operand is ≥ 0 and the formulas are monotone in them.
#include "certconv/bounds/any_order.hpp"

#include "certconv/bounds/input_rounding.hpp"
#include "certconv/bounds/order_free.hpp"

namespace certconv {

Tensor<double> any_order_bound(const Tensor<double>& absdot, std::int64_t n, Dtype dtype,
                               const Tensor<double>* input_error, Underflow underflow) {
  Tensor<double> b(absdot.shape);
  for (std::size_t i = 0; i < b.data.size(); ++i) {
    const double ad = absdot.data[i];
    if (!input_error) {
      b.data[i] = order_free_bound(ad, n, dtype, Products::fused, underflow);
      continue;
    }
    const double e = input_error->data[i];
    b.data[i] = add_up(order_free_bound(add_up(ad, e), n, dtype, Products::fused, underflow), e);
  }
  return b;
}

Tensor<double> any_order_bound(const ConvProblem<float>& p, const ConvProblem<float>& seen,
                               const Tensor<double>& absdot, Underflow underflow, int threads) {
  const Tensor<double> e = input_rounding_error(p, seen, threads);
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  return any_order_bound(absdot, n, Dtype::f32, &e, underflow);
}

Tensor<double> relative_input_error(const Tensor<double>& absdot, double u_in) {
  Tensor<double> e(absdot.shape);
  const double factor = add_up(2 * u_in, up(u_in * u_in));
  for (std::size_t i = 0; i < e.data.size(); ++i) e.data[i] = mul_up(factor, absdot.data[i]);
  return e;
}

}  // namespace certconv
