#pragma once
// Seeded input generators. Reproducible across machines: random bits come from
// std::mt19937_64 (fully specified by the standard) and are turned into values by
// our own formulas, not by std::*_distribution (whose algorithms are unspecified).
#include <cstdint>
#include <random>
#include <string>

#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

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

// The seed workload of docs/design.md: x standard normal, w uniform in ±1/√fan_in
// (PyTorch's default Conv2d init, kaiming_uniform_ with a = √5), both binary32.
struct SeedWorkload {
  ConvSpec spec;
  Tensor<float> x, w;
};
constexpr std::uint64_t kSeedExampleSeed = 20240229;
inline constexpr const char* kSeedDescriptor = "mb1ic3ih224oc64oh112kh7sh2ph3";
SeedWorkload seed_workload(std::uint64_t seed = kSeedExampleSeed);

// Inputs for `--gen DIST --seed S` (no bias):
//   normal            x, w ~ N(0, 1)
//   uniform           x, w ~ U(−1, 1)
//   kaiming           x ~ N(0, 1), w ~ U(±1/√fan_in) (PyTorch's default Conv2d init)
//   integer           x, w uniform integers in [−3, 3]: every partial sum is exact
//   gendot:cond=C     ill-conditioned outputs: x[n, c, :, :] = ±2^k_c (exact products),
//                     w[oc] chosen by GenDot's construction (Ogita–Rump–Oishi 2005,
//                     Alg. 6.1, with the second vector fixed) so that every interior
//                     output has cond ≈ C; outputs touching padding see fewer terms
//   wide:decades=D    mixed signs, magnitudes 10^U(−D/2, D/2) times N(0, 1)
template <class T>
struct Generated {
  Tensor<T> x, w;
};
template <class T>
Generated<T> generate_inputs(const ConvSpec& spec, const std::string& dist, std::uint64_t seed);

// Operands of any direction and rank (`--gen` with --dir or a 1-D/3-D --spec):
// x and w drawn as generate_inputs draws them (the same values for a 2-D
// problem), then dy from the same stream: N(0, 1) for normal and kaiming (a
// gradient of unit scale), U(−1, 1), integers in [−3, 3] or the wide magnitudes
// for the others. gendot is refused: its construction is for forward 2-D outputs.
template <class T>
struct GeneratedOperands {
  Tensor<T> x, w, dy;
};
template <class T>
GeneratedOperands<T> generate_operands(const ConvDesc& d, const std::string& dist, std::uint64_t seed);

template <class T>
Tensor<T> normal_tensor(std::vector<std::int64_t> shape, Rng& rng);
template <class T>
Tensor<T> uniform_tensor(std::vector<std::int64_t> shape, double bound, Rng& rng);

}  // namespace certconv
