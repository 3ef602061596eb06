#pragma once
// Layers with generated operands, and bit-for-bit comparison of truths: shared by
// the tests of the truth methods (test_fast_truth, test_integer_truth).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "certconv/exact/generate.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv::test {

template <class T>
struct Layer {
  ConvSpec spec;
  Tensor<T> x, w, b;
  bool bias = false;
  ConvProblem<T> problem() const { return {spec, x, w, bias ? &b : nullptr}; }
};

// x and w from generate_inputs(desc, dist, seed); b normal (seed + 1), used when bias.
template <class T>
Layer<T> layer(const char* desc, const std::string& dist, std::uint64_t seed, bool bias) {
  Layer<T> l{parse_benchdnn(desc), {}, {}, {}, bias};
  Generated<T> g = generate_inputs<T>(l.spec, dist, seed);
  l.x = std::move(g.x);
  l.w = std::move(g.w);
  Rng rng(seed + 1);
  l.b = normal_tensor<T>({l.spec.oc}, rng);
  return l;
}

template <class V>
bool same_data(const std::vector<V>& a, const std::vector<V>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(V)) == 0;
}

// Every field bit for bit, and the count of exact zeros.
inline bool same_truth(const Truth& a, const Truth& b) {
  return same_data(a.y.data, b.y.data) && same_data(a.y32.data, b.y32.data) && same_data(a.lo.data, b.lo.data) &&
         same_data(a.hi.data, b.hi.data) && same_data(a.absdot.data, b.absdot.data) && a.exact_zeros == b.exact_zeros;
}

}  // namespace certconv::test
