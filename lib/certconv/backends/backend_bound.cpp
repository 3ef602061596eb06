#include "certconv/backends/backend_bound.hpp"

#include <cmath>

#include "certconv/core/format.hpp"
#include "certconv/bounds/order_free.hpp"
#include "certconv/orders/absdot.hpp"

namespace certconv {

template <class T>
void set_order_free_bound(OrderOutput<T>& out, const ConvProblem<T>& p, int threads) {
  const Tensor<double> absdot = absdot_upper(p, threads);
  // The bias is one more term of the summation (bounds/order_free.hpp).
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  out.bound = Tensor<double>(p.spec.y_shape());
  for (std::size_t i = 0; i < out.bound.data.size(); ++i)
    out.bound.data[i] =
        std::isfinite(out.y.data[i]) ? order_free_bound(absdot.data[i], n, dtype_of<T>(), Products::fused) : kInf;
  out.bound_kind = {.theorem = Theorem::order_free};
}

template <class T>
void set_no_bound(OrderOutput<T>& out) {
  out.bound = Tensor<double>(out.y.shape, kInf);
  out.bound_kind = {.theorem = Theorem::none};
}

template void set_order_free_bound(OrderOutput<float>&, const ConvProblem<float>&, int);
template void set_order_free_bound(OrderOutput<double>&, const ConvProblem<double>&, int);
template void set_no_bound(OrderOutput<float>&);
template void set_no_bound(OrderOutput<double>&);

}  // namespace certconv
