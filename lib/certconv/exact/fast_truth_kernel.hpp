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
// the blocking or the thread count.
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
  const double* ax;  // |x|, same layout
  std::int64_t chan_stride;
  const std::int64_t* tap_off;
  int taps, icg;
  // The block's weights packed as [c][tap][w, |w|][o]: the 2·OCB values one tap
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

// Decides n outputs from their enclosures (high and low parts of Σ w·x and of
// Σ|w·x|, one error bound for all): writes every field (meaningless where
// undecided) and flags[i] = decided + 2·(decided and the exact value is 0).
// Vectorizes.
[[gnu::always_inline]] inline void decide_row(const double* __restrict y_hi, const double* __restrict y_lo,
                                              const double* __restrict a_hi, const double* __restrict a_lo,
                                              double err, int n, double* __restrict y, double* __restrict lo,
                                              double* __restrict hi, float* __restrict y32,
                                              double* __restrict absdot, std::int64_t* __restrict flags) {
  for (int i = 0; i < n; ++i) {
    const EnclosureRoundings r = round_enclosure(y_hi[i], y_lo[i], err);
    double ad;
    const bool decided = round_up_enclosure(a_hi[i], a_lo[i], err, ad);
    y[i] = r.nearest;
    lo[i] = r.down;
    hi[i] = r.up;
    y32[i] = r.nearest_f32;
    absdot[i] = ad;
    const bool both = r.decided && decided;
    flags[i] = both | (std::int64_t{both && r.zero} << 1);
  }
}

template <int OCB, int V, bool Fma>
[[gnu::always_inline]] inline void run_block(const Block& b) {
  for (int ox0 = 0; ox0 < b.ow; ox0 += V) {
    double A[OCB][V], E[OCB][V], B[OCB][V], F[OCB][V];
    for (int o = 0; o < OCB; ++o) {
      const double a0 = b.a0[o], bias = b.bias[o], abias = std::fabs(bias);
      for (int l = 0; l < V; ++l) {
        A[o][l] = a0 + bias;
        E[o][l] = bias - (A[o][l] - a0);
        B[o][l] = a0 + abias;
        F[o][l] = abias - (B[o][l] - a0);
      }
    }
    for (int c = 0; c < b.icg; ++c) {
      const double* xc = b.x + c * b.chan_stride + ox0;
      const double* axc = b.ax + c * b.chan_stride + ox0;
      const double* wc = b.w + c * b.taps * 2 * OCB;
      for (int t = 0; t < b.taps; ++t) {
        const double* xr = xc + b.tap_off[t];
        const double* axr = axc + b.tap_off[t];
        for (int o = 0; o < OCB; ++o) {
          const double wv = wc[t * 2 * OCB + o], awv = wc[t * 2 * OCB + OCB + o];
          for (int l = 0; l < V; ++l) {
            if constexpr (Fma) {
              const double s = std::fma(wv, xr[l], A[o][l]);
              const double z = s - A[o][l];
              E[o][l] += std::fma(wv, xr[l], -z);
              A[o][l] = s;
              const double sa = std::fma(awv, axr[l], B[o][l]);
              const double za = sa - B[o][l];
              F[o][l] += std::fma(awv, axr[l], -za);
              B[o][l] = sa;
            } else {
              const double p = wv * xr[l];
              const double s = A[o][l] + p;
              E[o][l] += p - (s - A[o][l]);
              A[o][l] = s;
              const double pa = awv * axr[l];
              const double sa = B[o][l] + pa;
              F[o][l] += pa - (sa - B[o][l]);
              B[o][l] = sa;
            }
          }
        }
      }
    }
    for (int o = 0; o < OCB; ++o) {
      double* sc = b.scratch + 4 * o * b.ow_pad + ox0;
      for (int l = 0; l < V; ++l) {
        sc[l] = A[o][l] - b.a0[o];  // exact (Sterbenz)
        sc[b.ow_pad + l] = E[o][l];
        sc[2 * b.ow_pad + l] = B[o][l] - b.a0[o];
        sc[3 * b.ow_pad + l] = F[o][l];
      }
    }
  }
  for (int o = 0; o < OCB; ++o) {
    const double* sc = b.scratch + 4 * o * b.ow_pad;
    const std::int64_t i0 = b.out0 + o * b.out_stride;
    decide_row(sc, sc + b.ow_pad, sc + 2 * b.ow_pad, sc + 3 * b.ow_pad, b.err[o], b.ow, b.y + i0, b.lo + i0,
               b.hi + i0, b.y32 + i0, b.absdot + i0, b.flags);
    for (int l = 0; l < b.ow; ++l) {
      if (!(b.flags[l] & 1)) b.undecided->push_back(i0 + l);
      *b.zeros += b.flags[l] >> 1;
    }
  }
}

}  // namespace certconv::fast_truth_detail
