#pragma once
// The Winograd transform matrices of Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016 (arXiv:1509.09308), §4.1 and §4.2:
// F(2×2,3×3) and F(4×4,3×3), Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. They are written
// as exact rationals so that the order (which rounds G to the working precision)
// and its bound (which needs |G| rounded up and the exact rounding counts) start
// from the same matrices. The rounding depth of the order, on which the bound
// rests, is counted here from the matrices themselves (see docs/winograd-bound.md).
#include <cstdint>

namespace certconv::winograd {

struct Rational {
  int num, den;  // den > 0
};

template <int M>
struct Matrices {
  static constexpr int m = M, alpha = M + 2;
  Rational bt[alpha][alpha];  // Bᵀ: input transform
  Rational g[alpha][3];       // G: weight transform
  Rational at[M][alpha];      // Aᵀ: output transform
};

inline constexpr Matrices<2> f2x3 = {
    {{{1, 1}, {0, 1}, {-1, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {-1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {0, 1}, {-1, 1}}},
    {{{1, 1}, {0, 1}, {0, 1}},
     {{1, 2}, {1, 2}, {1, 2}},
     {{1, 2}, {-1, 2}, {1, 2}},
     {{0, 1}, {0, 1}, {1, 1}}},
    {{{1, 1}, {1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {-1, 1}, {-1, 1}}},
};

inline constexpr Matrices<4> f4x3 = {
    {{{4, 1}, {0, 1}, {-5, 1}, {0, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {-4, 1}, {-4, 1}, {1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {4, 1}, {-4, 1}, {-1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {-2, 1}, {-1, 1}, {2, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {2, 1}, {-1, 1}, {-2, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {4, 1}, {0, 1}, {-5, 1}, {0, 1}, {1, 1}}},
    {{{1, 4}, {0, 1}, {0, 1}},
     {{-1, 6}, {-1, 6}, {-1, 6}},
     {{-1, 6}, {1, 6}, {-1, 6}},
     {{1, 24}, {1, 12}, {1, 6}},
     {{1, 24}, {-1, 12}, {1, 6}},
     {{0, 1}, {0, 1}, {1, 1}}},
    {{{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {-1, 1}, {2, 1}, {-2, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {1, 1}, {4, 1}, {4, 1}, {0, 1}},
     {{0, 1}, {1, 1}, {-1, 1}, {8, 1}, {-8, 1}, {1, 1}}},
};

template <int M>
constexpr const Matrices<M>& matrices() {
  static_assert(M == 2 || M == 4);
  if constexpr (M == 2)
    return f2x3;
  else
    return f4x3;
}

constexpr bool is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

// Roundings that a product c·v (v in the working precision) can suffer, counted
// as relative errors (1 + δ): one for storing c when it is not a binary
// fraction (1/6 is not representable, 1/4 is), one for the product unless c is
// ±2^j (then c·v is exact, barring underflow, which is the bound's ε term).
constexpr int coefficient_roundings(Rational c) {
  const int a = c.num < 0 ? -c.num : c.num;
  const bool representable = is_pow2(c.den);
  const bool exact_product = is_pow2(a) && representable;
  return (representable ? 0 : 1) + (exact_product ? 0 : 1);
}

// Whether c·v can underflow with an absolute error (the ε of fl(a·b) = ab(1+δ) + ε):
// products by integers cannot (an integer multiple of a subnormal is exact
// until it is normal), products by non-integers can.
constexpr bool can_underflow(Rational c) { return c.num != 0 && c.num % c.den != 0; }

// Most roundings on any path through one application of M (R×K) to a vector:
// each row is summed sequentially over its nonzero entries in increasing column
// order, starting from the first term, so the t-th nonzero term (t = 0, 1, ...)
// of a row with nz nonzeros passes nz − max(t, 1) additions, plus its product's
// roundings.
template <int R, int K>
constexpr int depth(const Rational (&mat)[R][K]) {
  int most = 0;
  for (int i = 0; i < R; ++i) {
    int nz = 0;
    for (int j = 0; j < K; ++j) nz += mat[i][j].num != 0;
    int t = 0;
    for (int j = 0; j < K; ++j) {
      if (mat[i][j].num == 0) continue;
      const int k = coefficient_roundings(mat[i][j]) + nz - (t > 1 ? t : 1);
      most = k > most ? k : most;
      ++t;
    }
  }
  return most;
}

// k of the bound's γ_k: the most roundings on any path from a product g·d to an
// output. Each transform is applied twice (left and right); the elementwise
// product plus the channel sum over `channels` terms from zero costs `channels`
// roundings with or without FMA; adding the bias costs one.
template <int M>
constexpr std::int64_t rounding_depth(const Matrices<M>& w, std::int64_t channels, bool bias) {
  return 2 * depth(w.g) + 2 * depth(w.bt) + channels + 2 * depth(w.at) + (bias ? 1 : 0);
}

static_assert(depth(f2x3.g) == 2 && depth(f2x3.bt) == 1 && depth(f2x3.at) == 2);
static_assert(depth(f4x3.g) == 4 && depth(f4x3.bt) == 3 && depth(f4x3.at) == 4);
static_assert(rounding_depth(f2x3, 1, false) == 11 && rounding_depth(f4x3, 1, false) == 23);

}  // namespace certconv::winograd
