#include "certconv/generate.hpp"

#include <cmath>
#include <numbers>

namespace certconv {

double Rng::normal() {
  // 1 − U keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - uniform01(), u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

template <class T>
Tensor<T> normal_tensor(std::vector<std::int64_t> shape, Rng& rng) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t.data) v = static_cast<T>(rng.normal());
  return t;
}

template <class T>
Tensor<T> uniform_tensor(std::vector<std::int64_t> shape, double bound, Rng& rng) {
  Tensor<T> t(std::move(shape));
  for (auto& v : t.data) v = static_cast<T>(rng.uniform(-bound, bound));
  return t;
}

SeedWorkload seed_workload(std::uint64_t seed) {
  SeedWorkload s{parse_benchdnn(kSeedDescriptor), {}, {}};
  Rng rng(seed);
  s.x = normal_tensor<float>(s.spec.x_shape(), rng);
  const double fan_in = static_cast<double>(s.spec.n_terms());
  s.w = uniform_tensor<float>(s.spec.w_shape(), 1.0 / std::sqrt(fan_in), rng);
  return s;
}

template Tensor<float> normal_tensor(std::vector<std::int64_t>, Rng&);
template Tensor<double> normal_tensor(std::vector<std::int64_t>, Rng&);
template Tensor<float> uniform_tensor(std::vector<std::int64_t>, double, Rng&);
template Tensor<double> uniform_tensor(std::vector<std::int64_t>, double, Rng&);

}  // namespace certconv
