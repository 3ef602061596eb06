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
#include "certconv/orders/orders.hpp"

namespace certconv {

// The loop nest is im2col's (a skipped tap and a zero product leave a nonzero
// accumulator alike), so direct runs im2col's kernel: orders/im2col.cpp.
OrderInfo make_direct_order() {
  return {.name = "direct",
          .params = {OrderParam{"fma", "0", "1: d = fma(x, w, d) instead of d + fl(x·w)", sweep_over({"0", "1"})}},
          .accumulation = "oneDNN 2.6.3 reference: d = 0; for ic, kh, kw (padding skipped): d += x·w; then d + bias",
          .run_f32 = run_sequential<float>,
          .run_f64 = run_sequential<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
