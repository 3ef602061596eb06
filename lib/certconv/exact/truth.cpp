// Per-layer certified truth. Method `exact`: every output's products (and the
// bias) go into an ExactAccumulator; the only roundings are the final, explicit
// ones (RN binary64, RN binary32, RD/RU for the enclosure, RU for absdot).
// Threads split outputs, never a sum, so results are identical for any count.
#include "certconv/exact/truth.hpp"

#include <cmath>
#include <limits>

#include "certconv/exact/accumulator.hpp"
#include "certconv/parallel.hpp"
#include "certconv/progress.hpp"
#include "certconv/taps.hpp"

namespace certconv {

double cond_of(double absdot, double y) {
  if (y == 0) return std::numeric_limits<double>::infinity();
  return absdot / std::fabs(y);
}

namespace {

template <class T>
void exact_truth(const ConvProblem<T>& p, const TruthOptions& opt, Truth& t) {
  const ConvSpec& s = p.spec;
  const T* x = p.x.data.data();
  const T* w = p.w.data.data();
  Progress progress("truth", s.y_size(), opt.progress);
  std::atomic<std::int64_t> zeros{0};
  parallel_for(s.y_size(), resolve_threads(opt.threads), [&](std::int64_t b, std::int64_t e) {
    ExactAccumulator sum, abs;
    std::int64_t local_zeros = 0;
    for (std::int64_t i = b; i < e; ++i) {
      const OutputIndex o = output_index(s, i);
      sum.clear();
      abs.clear();
      for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
        sum.add_product(w[wo], x[xo]);
        abs.add_abs_product(w[wo], x[xo]);
      });
      if (p.bias) {
        const double bv = p.bias->data[static_cast<std::size_t>(o.oc)];
        sum.add(bv);
        abs.add(std::fabs(bv));
      }
      const auto k = static_cast<std::size_t>(i);
      t.y.data[k] = sum.round(Rounding::nearest_even);
      t.y32.data[k] = sum.round_f32(Rounding::nearest_even);
      t.lo.data[k] = sum.round(Rounding::down);
      t.hi.data[k] = sum.round(Rounding::up);
      t.absdot.data[k] = abs.round(Rounding::up);
      local_zeros += sum.sign() == 0;
      if ((i - b) % 4096 == 4095) progress.add(4096);
    }
    zeros += local_zeros;
  });
  t.exact_zeros = zeros;
}

}  // namespace

template <class T>
Truth compute_truth(const ConvProblem<T>& p, const TruthOptions& opt) {
  check_problem(p);
  const auto shape = p.spec.y_shape();
  Truth t{Tensor<double>(shape), Tensor<float>(shape), Tensor<double>(shape), Tensor<double>(shape),
          Tensor<double>(shape), 0};
  exact_truth(p, opt, t);
  return t;
}

template Truth compute_truth(const ConvProblem<float>&, const TruthOptions&);
template Truth compute_truth(const ConvProblem<double>&, const TruthOptions&);

}  // namespace certconv
