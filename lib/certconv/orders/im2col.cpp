// im2col:fma=0|1 — `unfold` followed by a naive matrix product: each output is one
// sequential dot product over the unfolded column, then the bias.
//
// Exact accumulation order, per output (n, oc, oy, ox), with K = ic/g·KH·KW:
//   acc = 0;
//   for k = 0 .. K−1, k = ic·KH·KW + kh·KW + kw (ic within the group):
//     acc = acc + fl(x_k · w_k);   fma=1: acc = fma(x_k, w_k, acc)
//   where x_k is the unfolded input, 0 for a tap in the padding (a zero product
//   that is added like any other);
//   with a bias: y = acc + b (one rounded addition).
// This is also the order of oneDNN's reference kernel (direct), so the two agree bit
// for bit: a zero product changes no nonzero accumulator (orders/driver.hpp).
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <bool Fused>
struct Im2colKernel {
  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::zero());
    for (std::int64_t k = 0; k < r.K; ++k) {
      const auto w = r.w[k];
      const auto* x = r.x(k);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, mac<P, Fused>(x[j], w, out.get(j)));
    }
    if (r.bias) {
      const auto b = P::exact(*r.bias);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), b));
    }
  }
};

}  // namespace

template <class T>
OrderOutput<T> run_sequential(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  return OrderParams(o).flag("fma", false) ? run_tree_order(p, opt, Im2colKernel<true>{})
                                           : run_tree_order(p, opt, Im2colKernel<false>{});
}

template OrderOutput<float> run_sequential(const OrderSpec&, const ConvProblem<float>&, const RunOptions&);
template OrderOutput<double> run_sequential(const OrderSpec&, const ConvProblem<double>&, const RunOptions&);

OrderInfo make_im2col_order() {
  return {.name = "im2col",
          .params = {OrderParam{"fma", "0", "1: acc = fma(x, w, acc) instead of acc + fl(x·w)",
                                 sweep_over({"0", "1"})}},
          .accumulation =
              "unfold + naive matmul: acc = 0; for k = ic·KH·KW + kh·KW + kw (padding as zero products): "
              "acc += x_k·w_k; then acc + bias",
          .run_f32 = run_sequential<float>,
          .run_f64 = run_sequential<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
