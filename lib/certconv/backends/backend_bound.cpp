#include "certconv/backends/backend_bound.hpp"

#include <cmath>

#include "certconv/bounds/format.hpp"
#include "certconv/bounds/order_free.hpp"
#include "certconv/parallel.hpp"

namespace certconv {

// absdot is summed in binary64 as an FMA chain s = fma(|w|, |x|, s) from s = |bias|:
// each term passes at most L = n + 1 roundings, so by the margin lemma of
// bounds/tree_bound.hpp the exact sum is ≤ (s + L·η/2)/(1 − L·u), u = 2^-53,
// η = 2^-1074, evaluated with upward steps (bounds/format.hpp).
template <class T>
Tensor<double> absdot_upper(const ConvProblem<T>& p, int threads) {
  const ConvSpec& s = p.spec;
  const std::int64_t icg = s.ic / s.g, ocg = s.oc / s.g;
  const FormatConsts f = format_consts(Dtype::f64);
  const double L = static_cast<double>(s.n_terms() + 1);
  const double den = one_minus_ku(L, f.u), under = half_up(mul_up(L, f.eta));
  Tensor<double> a(s.y_shape());
  const std::int64_t rows = s.mb * s.oc * s.oh;
  parallel_for(rows, resolve_threads(threads), [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t r = b; r < e; ++r) {
      const std::int64_t oy = r % s.oh, oc = r / s.oh % s.oc, n = r / s.oh / s.oc, g = oc / ocg;
      const double b0 = p.bias ? std::fabs(static_cast<double>(p.bias->data[static_cast<std::size_t>(oc)])) : 0.0;
      for (std::int64_t ox = 0; ox < s.ow; ++ox) {
        double acc = b0;
        for (std::int64_t c = 0; c < icg; ++c) {
          const T* plane = p.x.data.data() + (n * s.ic + g * icg + c) * s.ih * s.iw;
          const T* wk = p.w.data.data() + (oc * icg + c) * s.kh * s.kw;
          for (std::int64_t ky = 0; ky < s.kh; ++ky) {
            const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1);
            if (iy < 0 || iy >= s.ih) continue;
            for (std::int64_t kx = 0; kx < s.kw; ++kx) {
              const std::int64_t ix = ox * s.sw - s.pw + kx * (s.dw + 1);
              if (ix < 0 || ix >= s.iw) continue;
              acc = std::fma(std::fabs(static_cast<double>(wk[ky * s.kw + kx])),
                             std::fabs(static_cast<double>(plane[iy * s.iw + ix])), acc);
            }
          }
        }
        a.data[static_cast<std::size_t>(r * s.ow + ox)] = den == 0 ? kInf : div_up(add_up(acc, under), den);
      }
    }
  });
  return a;
}

template <class T>
void set_order_free_bound(OrderOutput<T>& out, const ConvProblem<T>& p, int threads) {
  const Tensor<double> absdot = absdot_upper(p, threads);
  // The bias is one more term of the summation (bounds/order_free.hpp).
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  out.bound = Tensor<double>(p.spec.y_shape());
  for (std::size_t i = 0; i < out.bound.data.size(); ++i)
    out.bound.data[i] =
        std::isfinite(out.y.data[i]) ? order_free_bound(absdot.data[i], n, dtype_of<T>(), Products::fused) : kInf;
  out.bound_kind = "order-free";
}

template <class T>
void set_no_bound(OrderOutput<T>& out) {
  out.bound = Tensor<double>(out.y.shape, kInf);
  out.bound_kind = "none";
}

template Tensor<double> absdot_upper(const ConvProblem<float>&, int);
template Tensor<double> absdot_upper(const ConvProblem<double>&, int);
template void set_order_free_bound(OrderOutput<float>&, const ConvProblem<float>&, int);
template void set_order_free_bound(OrderOutput<double>&, const ConvProblem<double>&, int);
template void set_no_bound(OrderOutput<float>&);
template void set_no_bound(OrderOutput<double>&);

}  // namespace certconv
