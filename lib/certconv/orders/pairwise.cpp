// pairwise:fma=0|1 — recursive (pairwise) summation of the products, the order
// NumPy's pairwise sum and many tree reductions approximate, here in its plain
// recursive-halving form (Higham 2002, §4.1).
//
// Exact accumulation order, per output, over the n = K products in im2col order
// (k = ic·KH·KW + kh·KW + kw; padded taps are zero products and take their place in
// the tree):
//   S(lo, hi) = fl(x_lo · w_lo)                          when hi − lo = 1
//             = fma(x_lo+1, w_lo+1, fl(x_lo · w_lo))      when hi − lo = 2 and fma=1
//             = fl(S(lo, mid) + S(mid, hi)), mid = lo + (hi − lo)/2 (integer division;
//               the left half is the smaller one when hi − lo is odd), otherwise;
//   y = S(0, n), then with a bias y = fl(y + bias).
// fma=1 fuses only the pairs at the bottom of the tree: a pairwise sum has no longer
// chain of multiply-adds to fuse.
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <bool Fused>
struct PairwiseKernel {
  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    // One scratch row per recursion level below the root, for the right halves.
    int depth = 0;
    for (std::int64_t n = r.K; n > 1; n = n - n / 2) ++depth;
    const auto tmp = P::template scratch_rows<struct PairwiseRightHalves>(static_cast<std::size_t>((depth + 1) * r.len));
    sum<P>(r, 0, r.K, out, 0, tmp, 0);
    if (r.bias) {
      const auto b = P::exact(*r.bias);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), b));
    }
  }

  // dst ← S(lo, hi); rows level·len onward of tmp are free for the right halves below.
  template <class P>
  static void sum(const Row<typename P::In>& r, std::int64_t lo, std::int64_t hi, const typename P::Rows& dst,
                  std::int64_t dst_off, const typename P::Rows& tmp, std::int64_t level) {
    const std::int64_t n = hi - lo;
    const auto* x0 = r.x(lo);
    const auto w0 = r.w[lo];
    if (n == 1) {
      for (std::int64_t j = 0; j < r.len; ++j) dst.set(dst_off + j, P::prod(x0[j], w0));
      return;
    }
    if (Fused && n == 2) {
      const auto* x1 = r.x(lo + 1);
      const auto w1 = r.w[lo + 1];
      for (std::int64_t j = 0; j < r.len; ++j) dst.set(dst_off + j, P::fma(x1[j], w1, P::prod(x0[j], w0)));
      return;
    }
    const std::int64_t mid = lo + n / 2, right = level * r.len;
    sum<P>(r, lo, mid, dst, dst_off, tmp, level);
    sum<P>(r, mid, hi, tmp, right, tmp, level + 1);
    for (std::int64_t j = 0; j < r.len; ++j) dst.set(dst_off + j, P::add(dst.get(dst_off + j), tmp.get(right + j)));
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  return OrderParams(o).flag("fma", false) ? run_tree_order(p, opt, PairwiseKernel<true>{})
                                           : run_tree_order(p, opt, PairwiseKernel<false>{});
}

}  // namespace

OrderInfo make_pairwise_order() {
  return {.name = "pairwise",
          .params = {OrderParam{"fma", "0", "1: pairs at the bottom of the tree as fma(x1, w1, fl(x0·w0))",
                                 sweep_over({"0", "1"})}},
          .accumulation =
              "recursive halving over the products in im2col order: S = S(lo, mid) + S(mid, hi), "
              "mid = lo + len/2; then + bias",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
