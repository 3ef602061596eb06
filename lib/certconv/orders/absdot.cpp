#include "certconv/orders/absdot.hpp"

#include <cmath>
#include <vector>

#include "certconv/core/format.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/orders/driver.hpp"

namespace certconv {

// absdot is summed in binary64 as an FMA chain s = fma(|w|, |x|, s) from s = |bias|:
// each term passes at most L = n + 1 roundings, so by the margin lemma of
// bounds/tree_bound.hpp the exact sum is ≤ (s + L·η/2)/(1 − L·u), u = 2^-53,
// η = 2^-1074, evaluated with upward steps (core/format.hpp).
template <class T>
Tensor<double> absdot_upper(const ConvProblem<T>& p, int threads) {
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), ocg = s.oc / s.g;
  const FormatConsts f = format_consts(Dtype::f64);
  const double L = static_cast<double>(K + 1);
  const double den = one_minus_ku(L, f.u), under = half_up(mul_up(L, f.eta));
  std::vector<double> wabs(p.w.data.size());
  for (std::size_t i = 0; i < wabs.size(); ++i) wabs[i] = std::fabs(static_cast<double>(p.w.data[i]));
  Tensor<double> a(s.y_shape());
  // The im2col blocks of the emulated orders (padded taps are 0 and add nothing),
  // the sums vectorized over the outputs of a block.
  for_each_col_block(p, resolve_threads(threads), [&](auto n, auto g, auto oy, auto ox0, auto len, const T* col) {
    for (std::int64_t oc = g * ocg; oc < (g + 1) * ocg; ++oc) {
      double* d = a.data.data() + ((n * s.oc + oc) * s.oh + oy) * s.ow + ox0;
      const double b0 = p.bias ? std::fabs(static_cast<double>(p.bias->data[static_cast<std::size_t>(oc)])) : 0.0;
      const double* w = wabs.data() + oc * K;
      dispatch_isa([&] {
        for (std::int64_t j = 0; j < len; ++j) d[j] = b0;
        for (std::int64_t k = 0; k < K; ++k) {
          const T* xk = col + k * len;
          for (std::int64_t j = 0; j < len; ++j) d[j] = std::fma(w[k], std::fabs(static_cast<double>(xk[j])), d[j]);
        }
      });
      for (std::int64_t j = 0; j < len; ++j) d[j] = den == 0 ? kInf : div_up(add_up(d[j], under), den);
    }
  });
  return a;
}

template Tensor<double> absdot_upper(const ConvProblem<float>&, int);
template Tensor<double> absdot_upper(const ConvProblem<double>&, int);

}  // namespace certconv
