#include "certconv/bounds/probabilistic.hpp"

#include <algorithm>
#include <cmath>

#include "certconv/core/error.hpp"

namespace certconv {

ProbabilisticBound probabilistic_bound(double absdot, std::int64_t n, Dtype dtype, double lambda) {
  require(lambda > 0 && std::isfinite(lambda), "probabilistic bound: lambda must be positive and finite");
  require(n >= 0, "probabilistic bound: n must be nonnegative");
  const double u = format_consts(dtype).u, nd = static_cast<double>(n);
  // expm1 keeps the relative accuracy of γ̃ when its argument is tiny; the result is
  // stepped up once (a model's value: no rigorous evaluation is claimed).
  const double gamma = up(std::expm1(lambda * std::sqrt(nd) * u + nd * u * u / (1 - u)));
  const double q = 1 - 2 * nd * std::exp(-lambda * lambda * (1 - u) * (1 - u) / 2);
  return {mul_up(gamma, absdot), std::clamp(q, 0.0, 1.0)};
}

}  // namespace certconv
