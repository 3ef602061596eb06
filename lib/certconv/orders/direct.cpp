// direct:fma=0|1 — oneDNN v2.6.3 reference convolution, src/cpu/ref_convolution.cpp,
// ref_convolution_fwd_t::execute_forward, the `ker` lambda (the one used for NCHW
// activations; `ker_plain`, kh → kw → ic, serves layouts with unit channel stride).
//
// Exact accumulation order, per output (n, oc, oy, ox):
//   float d = 0;
//   for ic in the group, for kh, for kw:
//     a tap in the padding is skipped (`continue`: no operation at all);
//     d += s * w;        fma=0: the product rounded, then the sum (two roundings);
//                        fma=1: d = fma(s, w, d), one rounding (what a compiler that
//                        contracts `d += s * w` emits)
//   acc = 0; acc += d;   exact (0 + d = d)
//   with a bias: d = acc + b, one rounded addition after the whole sum.
// binary64 runs the same order in double. Default fma=0: oneDNN's build does not ask
// the compiler to contract (and certconv cannot know what a given build did).
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <bool Fused>
struct DirectKernel {
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

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  return OrderParams(o).flag("fma", false) ? run_tree_order(p, opt, DirectKernel<true>{})
                                           : run_tree_order(p, opt, DirectKernel<false>{});
}

}  // namespace

OrderInfo make_direct_order() {
  return {.name = "direct",
          .params = {OrderParam{"fma", "0", "1: d = fma(x, w, d) instead of d + fl(x·w)"}},
          .accumulation = "oneDNN 2.6.3 reference: d = 0; for ic, kh, kw (padding skipped): d += x·w; then d + bias",
          .run_f32 = run<float>,
          .run_f64 = run<double>};
}

}  // namespace certconv
