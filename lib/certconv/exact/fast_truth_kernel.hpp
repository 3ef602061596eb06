#pragma once
// The inner kernel of the fast truth (fast_truth.cpp): for a block of OCB output
// channels × V consecutive output columns of one output row, the error-free
// accumulation of Σ w·x and Σ|w·x| in binary64, then the decisions.
//
// Accumulation in a fixed binade (the idea of Rump, Ogita, Oishi, "Accurate
// floating-point summation part I", SISC 31(1), 2008, §3, with a per-output
// constant instead of their σ). Each output starts at A0 = 1.5·2^k, with k chosen
// from an a-priori bound of Σ|w·x| + |bias| (fast_truth.cpp, binade()) so that every
// partial sum stays in [2^k, 2^(k+1)). Per term, in this order (and nothing else):
//     s = fma(w, x, A)      RN(A + w·x)
//     z = s − A             exact (Sterbenz: s and A lie in the same binade)
//     e = fma(w, x, −z)     A + w·x − s, the rounding error of s: exact when w·x is a
//                           binary64 number (it is the error of an addition); else
//                           RN of it, |error| ≤ u·|e| + η/2
//     E = E + e,  A = s
// so Σ w·x = (A − A0) + Σ e exactly, A − A0 exact (Sterbenz), |e| ≤ 2^(k−53).
// The bias enters first, as the term bias·1. When products are exact binary64
// numbers the plain form p = w·x, s = A + p, e = p − (s − A) gives bit-identical
// values and needs no FMA unit (Fma = false). Every lane performs the same IEEE
// operations in the same order on every ISA: results do not depend on the ISA,
// the blocking or the thread count. Σ|w·x| (the same steps on |w|, |x|, into B and
// F) is accumulated only when absdot is asked for (Abs); y, lo, hi and y32 do not
// depend on it.
#include <cmath>
#include <cstdint>
#include <vector>

#include "certconv/exact/round_enclosure.hpp"

namespace certconv::fast_truth_detail {

// One block: channels oc0..oc0+OCB−1 (of one group) at output row oy of one image.
struct Block {
  // Padded, phase-split input (fast_truth.cpp): the group's first channel at input
  // row oy·sh; the value under output column ox for tap t is x[tap_off[t] + ox].
  const double* x;
  const double* ax;  // |x|, same layout (null unless Abs)
  std::int64_t chan_stride;
  const std::int64_t* tap_off;
  int taps, icg;
  // The block's weights packed as [c][tap][w, |w|][o] (run_block_channels: V slots
  // per o list, zero past the block): the 2·OCB values one tap
  // needs are adjacent (one stream for the prefetcher).
  const double* w;
  int ow;
  // Per channel of the block.
  const double* a0;    // 1.5·2^k
  const double* bias;  // bias (0 without)
  const double* err;   // bound on the error of the low parts (the same for y and absdot)
  // Outputs of channel o at column ox: flat index out0 + o·out_stride + ox.
  std::int64_t out0, out_stride;
  double *y, *lo, *hi, *absdot;
  float* y32;
  std::vector<std::int64_t>* undecided;
  std::int64_t* zeros;
  // Scratch of 4·OCB·ow_pad doubles (the enclosures of the block) and ow flags.
  double* scratch;
  std::int64_t* flags;
  int ow_pad;  // ow rounded up to a multiple of V
};

// Decides n outputs from their enclosures (high and low parts of Σ w·x and, when
// Abs, of Σ|w·x|; one error bound for all): writes every field (meaningless where
// undecided; absdot only when Abs) and flags[i] = decided + 2·(decided and the
// exact value is 0). Vectorizes.
template <bool Abs>
[[gnu::always_inline]] inline void decide_row(const double* __restrict y_hi, const double* __restrict y_lo,
                                              const double* __restrict a_hi, const double* __restrict a_lo,
                                              double err, int n, double* __restrict y, double* __restrict lo,
                                              double* __restrict hi, float* __restrict y32,
                                              double* __restrict absdot, std::int64_t* __restrict flags) {
  for (int i = 0; i < n; ++i) {
    const EnclosureRoundings r = round_enclosure(y_hi[i], y_lo[i], err);
    bool decided = true;
    if constexpr (Abs) {
      double ad;
      decided = round_up_enclosure(a_hi[i], a_lo[i], err, ad);
      absdot[i] = ad;
    }
    y[i] = r.nearest;
    lo[i] = r.down;
    hi[i] = r.up;
    y32[i] = r.nearest_f32;
    const bool both = r.decided && decided;
    flags[i] = both | (std::int64_t{both && r.zero} << 1);
  }
}

// V lanes as one GCC vector: the loop over lanes is explicit, so every build
// vectorizes the same way (the compilers' own choice varied between kernels).
// The helpers below and run_block pass vectors by value; they are always inlined
// into the kernels built for their ISA, so no call crosses an ABI boundary
// (hence -Wno-psabi in meson.build).
template <int V>
struct LanesOf;
template <>
struct LanesOf<4> {
  typedef double type __attribute__((vector_size(4 * sizeof(double))));
};
template <>
struct LanesOf<8> {
  typedef double type __attribute__((vector_size(8 * sizeof(double))));
};
template <int V>
using Lanes = typename LanesOf<V>::type;

template <int V>
[[gnu::always_inline]] inline Lanes<V> load(const double* p) {
  Lanes<V> v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

template <int V>
[[gnu::always_inline]] inline Lanes<V> splat(double d) {
  Lanes<V> v;
  for (int l = 0; l < V; ++l) v[l] = d;  // not Lanes<V>{} + d: that turns −0 into +0
  return v;
}

// Lane-wise fma (one rounding per lane), vectorized by the compiler to FMA
// instructions where the build has them.
template <int V>
[[gnu::always_inline]] inline Lanes<V> fma(Lanes<V> a, Lanes<V> b, Lanes<V> c) {
  Lanes<V> r;
  for (int l = 0; l < V; ++l) r[l] = std::fma(a[l], b[l], c[l]);
  return r;
}

// Decides the block's ocb × ow outputs from the enclosures in b.scratch.
template <bool Abs>
[[gnu::always_inline]] inline void decide_block(const Block& b, int ocb) {
  for (int o = 0; o < ocb; ++o) {
    const double* sc = b.scratch + 4 * o * b.ow_pad;
    const std::int64_t i0 = b.out0 + o * b.out_stride;
    decide_row<Abs>(sc, sc + b.ow_pad, sc + 2 * b.ow_pad, sc + 3 * b.ow_pad, b.err[o], b.ow, b.y + i0, b.lo + i0,
                    b.hi + i0, b.y32 + i0, b.absdot + i0, b.flags);
    for (int l = 0; l < b.ow; ++l) {
      if (!(b.flags[l] & 1)) b.undecided->push_back(i0 + l);
      *b.zeros += b.flags[l] >> 1;
    }
  }
}

template <int OCB, int V, bool Fma, bool Abs>
[[gnu::always_inline]] inline void run_block(const Block& b) {
  using Vec = Lanes<V>;
  for (int ox0 = 0; ox0 < b.ow; ox0 += V) {
    Vec A[OCB], E[OCB], B[OCB], F[OCB];
#pragma GCC unroll 16
    for (int o = 0; o < OCB; ++o) {
      const double a0 = b.a0[o], bias = b.bias[o], abias = std::fabs(bias);
      A[o] = splat<V>(a0 + bias);
      E[o] = splat<V>(bias - ((a0 + bias) - a0));
      if constexpr (Abs) {
        B[o] = splat<V>(a0 + abias);
        F[o] = splat<V>(abias - ((a0 + abias) - a0));
      }
    }
    for (int c = 0; c < b.icg; ++c) {
      const double* xc = b.x + c * b.chan_stride + ox0;
      const double* axc = Abs ? b.ax + c * b.chan_stride + ox0 : nullptr;
      const double* wc = b.w + c * b.taps * 2 * OCB;
      for (int t = 0; t < b.taps; ++t) {
        const Vec xv = load<V>(xc + b.tap_off[t]);
        Vec axv{};
        if constexpr (Abs) axv = load<V>(axc + b.tap_off[t]);
#pragma GCC unroll 16
    for (int o = 0; o < OCB; ++o) {
          const Vec wv = splat<V>(wc[t * 2 * OCB + o]);
          if constexpr (Fma) {
            const Vec s = fma<V>(wv, xv, A[o]);
            const Vec z = s - A[o];
            E[o] += fma<V>(wv, xv, -z);
            A[o] = s;
          } else {
            const Vec p = wv * xv;
            const Vec s = A[o] + p;
            E[o] += p - (s - A[o]);
            A[o] = s;
          }
          if constexpr (Abs) {
            const Vec awv = splat<V>(wc[t * 2 * OCB + OCB + o]);
            if constexpr (Fma) {
              const Vec sa = fma<V>(awv, axv, B[o]);
              const Vec za = sa - B[o];
              F[o] += fma<V>(awv, axv, -za);
              B[o] = sa;
            } else {
              const Vec pa = awv * axv;
              const Vec sa = B[o] + pa;
              F[o] += pa - (sa - B[o]);
              B[o] = sa;
            }
          }
        }
      }
    }
#pragma GCC unroll 16
    for (int o = 0; o < OCB; ++o) {
      double* sc = b.scratch + 4 * o * b.ow_pad + ox0;
      const Vec hi = A[o] - b.a0[o];  // exact (Sterbenz)
      __builtin_memcpy(sc, &hi, sizeof hi);
      __builtin_memcpy(sc + b.ow_pad, &E[o], sizeof(Vec));
      if constexpr (Abs) {
        const Vec ahi = B[o] - b.a0[o];
        __builtin_memcpy(sc + 2 * b.ow_pad, &ahi, sizeof ahi);
        __builtin_memcpy(sc + 3 * b.ow_pad, &F[o], sizeof(Vec));
      }
    }
  }
  decide_block<Abs>(b, OCB);
}

// The same sums with the lanes across output channels instead of columns, for
// short output rows (COLS ≤ 4 columns; the lowered BWD_W problem's rows are the
// kernel width): lane o of column j runs output (oc0 + o, j) through exactly the
// operations run_block gives it, in the same order. The block's weights are packed
// [c][tap][w: V][|w|: V] (zero past the block's channels), a0, bias and err hold V
// entries; lanes past `ocb` compute and are dropped.
template <int COLS, int V, bool Fma, bool Abs>
[[gnu::always_inline]] inline void run_block_channels(const Block& b, int ocb) {
  using Vec = Lanes<V>;
  const Vec a0 = load<V>(b.a0), bias = load<V>(b.bias);
  Vec abias;
  for (int l = 0; l < V; ++l) abias[l] = std::fabs(bias[l]);
  Vec A[COLS], E[COLS], B[COLS], F[COLS];
#pragma GCC unroll 4
  for (int j = 0; j < COLS; ++j) {
    A[j] = a0 + bias;
    E[j] = bias - ((a0 + bias) - a0);
    if constexpr (Abs) {
      B[j] = a0 + abias;
      F[j] = abias - ((a0 + abias) - a0);
    }
  }
  for (int c = 0; c < b.icg; ++c) {
    const double* xc = b.x + c * b.chan_stride;
    const double* axc = Abs ? b.ax + c * b.chan_stride : nullptr;
    const double* wc = b.w + c * b.taps * 2 * V;
    for (int t = 0; t < b.taps; ++t) {
      const Vec wv = load<V>(wc + t * 2 * V);
      Vec awv{};
      if constexpr (Abs) awv = load<V>(wc + t * 2 * V + V);
#pragma GCC unroll 4
      for (int j = 0; j < COLS; ++j) {
        const Vec xv = splat<V>(xc[b.tap_off[t] + j]);
        if constexpr (Fma) {
          const Vec s = fma<V>(wv, xv, A[j]);
          const Vec z = s - A[j];
          E[j] += fma<V>(wv, xv, -z);
          A[j] = s;
        } else {
          const Vec p = wv * xv;
          const Vec s = A[j] + p;
          E[j] += p - (s - A[j]);
          A[j] = s;
        }
        if constexpr (Abs) {
          const Vec axv = splat<V>(axc[b.tap_off[t] + j]);
          if constexpr (Fma) {
            const Vec sa = fma<V>(awv, axv, B[j]);
            const Vec za = sa - B[j];
            F[j] += fma<V>(awv, axv, -za);
            B[j] = sa;
          } else {
            const Vec pa = awv * axv;
            const Vec sa = B[j] + pa;
            F[j] += pa - (sa - B[j]);
            B[j] = sa;
          }
        }
      }
    }
  }
  for (int j = 0; j < COLS; ++j) {
    const Vec hi = A[j] - a0;  // exact (Sterbenz)
    Vec ahi{};
    if constexpr (Abs) ahi = B[j] - a0;
    for (int o = 0; o < ocb; ++o) {
      double* sc = b.scratch + 4 * o * b.ow_pad + j;
      sc[0] = hi[o];
      sc[b.ow_pad] = E[j][o];
      if constexpr (Abs) {
        sc[2 * b.ow_pad] = ahi[o];
        sc[3 * b.ow_pad] = F[j][o];
      }
    }
  }
  decide_block<Abs>(b, ocb);
}


}  // namespace certconv::fast_truth_detail
