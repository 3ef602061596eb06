#include "certconv/exact/mpfi_conv.hpp"

#include "certconv/exact/mpfi_dot.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/taps.hpp"

namespace certconv {

template <class T>
void mpfi_conv_enclosure(const ConvProblem<T>& p, unsigned precision, int threads, Tensor<double>& lo,
                         Tensor<double>& hi) {
  const ConvSpec& s = p.spec;
  lo = Tensor<double>(s.y_shape());
  hi = Tensor<double>(s.y_shape());
  const T* x = p.x.data.data();
  const T* w = p.w.data.data();
  parallel_for(s.y_size(), resolve_threads(threads), [&](std::int64_t b, std::int64_t e) {
    MpfiDot dot(precision);
    for (std::int64_t i = b; i < e; ++i) {
      const OutputIndex o = output_index(s, i);
      dot.clear();
      for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
        dot.add_product(static_cast<double>(w[wo]), static_cast<double>(x[xo]));
      });
      if (p.bias) dot.add(static_cast<double>(p.bias->data[static_cast<std::size_t>(o.oc)]));
      const Enclosure en = dot.enclosure();
      lo.data[static_cast<std::size_t>(i)] = en.lo;
      hi.data[static_cast<std::size_t>(i)] = en.hi;
    }
  });
}

template void mpfi_conv_enclosure(const ConvProblem<float>&, unsigned, int, Tensor<double>&, Tensor<double>&);
template void mpfi_conv_enclosure(const ConvProblem<double>&, unsigned, int, Tensor<double>&, Tensor<double>&);

}  // namespace certconv
