// split-k:parts=P,fma=0|1 — a K-split reduction as a multi-threaded or multi-block
// GEMM does it (e.g. split-K GEMM kernels, or one partial sum per thread followed by
// a serial reduction): the K terms are cut into P contiguous parts, each summed
// sequentially from zero, and the partial sums are then added in part order.
//
// Exact accumulation order, per output, with k = ic·KH·KW + kh·KW + kw (padded taps
// are zero products) and part j = [⌊j·K/P⌋, ⌊(j+1)·K/P⌋):
//   part_j = 0; for k in part j: part_j = fma(x_k, w_k, part_j)   (fma=0: + fl(x_k·w_k))
//   y = part_0; y = fl(y + part_1); …; y = fl(y + part_{P−1})
//   with a bias: y = fl(y + bias).
// With P > K some parts are empty: they are the literal 0 and adding them is exact.
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <bool Fused>
struct SplitKKernel {
  std::int64_t parts;

  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    const auto part = P::template scratch_rows<struct SplitKPart>(static_cast<std::size_t>(r.len));
    for (std::int64_t i = 0; i < parts; ++i) {
      const auto acc = i == 0 ? out : part;
      for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, P::zero());
      for (std::int64_t k = i * r.K / parts; k < (i + 1) * r.K / parts; ++k) {
        const auto w = r.w[k];
        const auto* x = r.x(k);
        for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, mac<P, Fused>(x[j], w, acc.get(j)));
      }
      if (i > 0)
        for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), part.get(j)));
    }
    if (r.bias) {
      const auto b = P::exact(*r.bias);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), b));
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const std::int64_t parts = ps.integer("parts", 4, 1, 1 << 20);
  if (ps.flag("fma", true)) return run_tree_order(p, opt, SplitKKernel<true>{parts});
  return run_tree_order(p, opt, SplitKKernel<false>{parts});
}

}  // namespace

OrderInfo make_split_k_order() {
  return {.name = "split-k",
          .params = {{"parts", "4", "number of contiguous parts P of the K terms", sweep_over({"2", "4", "8"})},
                     {"fma", "1", "0: part + fl(x·w) instead of fma inside a part", sweep_over({"0", "1"})}},
          .accumulation =
              "P contiguous parts of the im2col k order, each acc = 0, acc = fma(x, w, acc); then "
              "part0 + part1 + … in order; then + bias",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
