#pragma once
// Seeded input generators. Reproducible across machines: random bits come from
// std::mt19937_64 (fully specified by the standard) and are turned into values by
// our own formulas, not by std::*_distribution (whose algorithms are unspecified).
#include <cstdint>
#include <random>

#include "certconv/spec.hpp"
#include "certconv/tensor.hpp"

namespace certconv {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  double uniform01() { return static_cast<double>(g_() >> 11) * 0x1p-53; }  // [0, 1)
  double uniform(double a, double b) { return a + (b - a) * uniform01(); }
  double normal();  // Box–Muller
  std::uint64_t bits() { return g_(); }

 private:
  std::mt19937_64 g_;
};

// The seed workload of DESIGN.md: x standard normal, w uniform in ±1/√fan_in
// (PyTorch's default Conv2d init, kaiming_uniform_ with a = √5), both binary32.
struct SeedWorkload {
  ConvSpec spec;
  Tensor<float> x, w;
};
constexpr std::uint64_t kSeedExampleSeed = 20240229;
inline constexpr const char* kSeedDescriptor = "mb1ic3ih224oc64oh112kh7sh2ph3";
SeedWorkload seed_workload(std::uint64_t seed = kSeedExampleSeed);

template <class T>
Tensor<T> normal_tensor(std::vector<std::int64_t> shape, Rng& rng);
template <class T>
Tensor<T> uniform_tensor(std::vector<std::int64_t> shape, double bound, Rng& rng);

}  // namespace certconv
