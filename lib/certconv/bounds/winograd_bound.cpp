// Evaluation of the winograd order's componentwise bound (formula in
// winograd_bound.hpp; theorem and proof sketch in docs/winograd-bound.md, built on
// Higham 2002, Lemmas 3.1 and 3.3 and the underflow model of §2.1).
//
// Upward rounding: this file is compiled with -frounding-math (no constant folding
// or code motion that assumes round-to-nearest), and every worker switches its
// thread to FE_UPWARD before touching a number and restores the previous mode after
// its last store. Every operand is ≥ 0 (absolute values, |matrix entries|, u, η,
// γ_k), so every rounded sum or product is ≥ its exact value and the evaluated
// bound is ≥ the formula. γ_k = k·u/(1 − k·u): k·u and 1 − k·u are exact (k < 2^p,
// u = 2^−p, p ≤ 53), the quotient rounds up.
#include "certconv/bounds/winograd_bound.hpp"

#include <cfenv>
#include <cmath>
#include <limits>
#include <vector>

#include "certconv/core/col_block.hpp"
#include "certconv/core/isa.hpp"
#include "certconv/core/winograd_matrices.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

class UpwardRounding {
 public:
  UpwardRounding() : saved_(std::fegetround()) { std::fesetround(FE_UPWARD); }
  ~UpwardRounding() { std::fesetround(saved_); }
  UpwardRounding(const UpwardRounding&) = delete;
  UpwardRounding& operator=(const UpwardRounding&) = delete;

 private:
  int saved_;
};

// |Bᵀ|, |G|, |Aᵀ| rounded up, and the underflow weight E of the weight transform:
// E[i][j] = ν(i)·ρ(j) + ν(j), ν(i) the number of entries of row i of G whose
// product can underflow (non-integers), ρ(j) = Σ_k |G[j][k]|. Build under FE_UPWARD.
template <int M>
struct AbsKernel {
  static constexpr int a = M + 2;
  double bt[a][a], g[a][3], at[M][a], e[a * a];
};

template <int R, int K>
void abs_up(const winograd::Rational (&in)[R][K], double (&out)[R][K]) {
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < K; ++j)
      out[i][j] =
          static_cast<double>(in[i][j].num < 0 ? -in[i][j].num : in[i][j].num) / static_cast<double>(in[i][j].den);
}

template <int M>
AbsKernel<M> abs_kernel() {
  const winograd::Matrices<M>& w = winograd::matrices<M>();
  constexpr int A = M + 2;
  AbsKernel<M> k;
  abs_up(w.bt, k.bt);
  abs_up(w.g, k.g);
  abs_up(w.at, k.at);
  double nu[A], rho[A];
  for (int i = 0; i < A; ++i) {
    nu[i] = 0;
    rho[i] = 0;
    for (int j = 0; j < 3; ++j) {
      nu[i] += winograd::can_underflow(w.g[i][j]) ? 1 : 0;
      rho[i] += k.g[i][j];
    }
  }
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < A; ++j) k.e[i * A + j] = nu[i] * rho[j] + nu[j];
  return k;
}

// out (R×N) = mat · in, everything ≥ 0; zero entries skipped (0·inf would be NaN
// once a huge bound has overflowed to inf).
template <int R, int K, int N>
inline void left(const double (&mat)[R][K], const double* in, double* out) {
  for (int i = 0; i < R; ++i)
    for (int col = 0; col < N; ++col) {
      double acc = 0;
      for (int j = 0; j < K; ++j)
        if (mat[i][j] != 0) acc += mat[i][j] * in[j * N + col];
      out[i * N + col] = acc;
    }
}

// out (N×R) = in (N×K) · matᵀ.
template <int R, int K, int N>
inline void right(const double* in, const double (&mat)[R][K], double* out) {
  for (int row = 0; row < N; ++row)
    for (int i = 0; i < R; ++i) {
      double acc = 0;
      for (int j = 0; j < K; ++j)
        if (mat[i][j] != 0) acc += in[row * K + j] * mat[i][j];
      out[row * R + i] = acc;
    }
}

template <class T, int M>
Tensor<double> bound_impl(const ConvProblem<T>& p, int threads) {
  constexpr int A = M + 2, AA = A * A;
  constexpr int digits = std::numeric_limits<T>::digits;  // u = 2^−digits
  const ConvSpec& s = p.spec;
  const std::int64_t C = s.ic / s.g, ocg = s.oc / s.g;
  const std::int64_t k = winograd::rounding_depth(winograd::matrices<M>(), C, p.bias != nullptr);
  if (k >= (std::int64_t{1} << digits)) return {};  // k·u ≥ 1: no γ_k
  const std::int64_t th = (s.oh + M - 1) / M, tw = (s.ow + M - 1) / M;

  // |G||g_c||Gᵀ| per (oc, c).
  std::vector<double> ua(static_cast<std::size_t>(s.oc * C * AA));
  parallel_for(s.oc, threads, [&](std::int64_t b, std::int64_t e) {
    const UpwardRounding up;
    const AbsKernel<M> ak = abs_kernel<M>();
    double g[9], wt[A * 3];
    for (std::int64_t oc = b; oc < e; ++oc)
      for (std::int64_t c = 0; c < C; ++c) {
        for (int i = 0; i < 9; ++i) g[i] = std::fabs(static_cast<double>(p.w(oc, c, i / 3, i % 3)));
        left<A, 3, 3>(ak.g, g, wt);
        right<A, 3, A>(wt, ak.g, &ua[static_cast<std::size_t>((oc * C + c) * AA)]);
      }
  });

  Tensor<double> bound(s.y_shape());
  parallel_for(s.mb * s.g * th * tw, threads, [&](std::int64_t b, std::int64_t e) {
    const UpwardRounding up;
    const AbsKernel<M> ak = abs_kernel<M>();
    const double u = std::ldexp(1.0, -digits);
    const double ku = static_cast<double>(k) * u;
    const double gamma = ku / (1.0 - ku);
    const double underflow = (1.0 + gamma) * (static_cast<double>(std::numeric_limits<T>::denorm_min()) * 0.5);
    // dispatch_isa: the same operations, compiled for AVX2 where the CPU has it.
    dispatch_isa([&] {
      std::vector<double> va(static_cast<std::size_t>(C * AA));
      double d[AA], t1[AA], vsum[AA], f[AA], fz[M * A], ft[M * M], sm[AA], sz[M * A], st[M * M];
      for (std::int64_t item = b; item < e; ++item) {
        const std::int64_t tx = item % tw, ty = item / tw % th, grp = item / (tw * th) % s.g;
        const std::int64_t n = item / (tw * th * s.g);
        const std::int64_t y0 = ty * M - s.ph, x0 = tx * M - s.pw;
        for (int i = 0; i < AA; ++i) vsum[i] = 0;
        for (std::int64_t c = 0; c < C; ++c) {
          for (int r = 0; r < A; ++r)
            for (int q = 0; q < A; ++q) {
              const std::int64_t iy = y0 + r, ix = x0 + q;
              const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
              d[r * A + q] = inside ? std::fabs(static_cast<double>(p.x(n, grp * C + c, iy, ix))) : 0.0;
            }
          double* vc = &va[static_cast<std::size_t>(c * AA)];
          left<A, A, A>(ak.bt, d, t1);
          right<A, A, A>(t1, ak.bt, vc);
          for (int i = 0; i < AA; ++i) vsum[i] += vc[i];
        }
        // F = |Aᵀ|(C·J + E ⊙ Σ_c |Bᵀ||d_c||B|)|A|: the same for every oc of the group.
        for (int i = 0; i < AA; ++i) f[i] = static_cast<double>(C) + ak.e[i] * vsum[i];
        left<M, A, A>(ak.at, f, fz);
        right<M, A, M>(fz, ak.at, ft);
        for (std::int64_t oc = grp * ocg; oc < (grp + 1) * ocg; ++oc) {
          const double* uo = &ua[static_cast<std::size_t>(oc * C * AA)];
          for (int i = 0; i < AA; ++i) sm[i] = 0;
          for (std::int64_t c = 0; c < C; ++c)
            for (int i = 0; i < AA; ++i) sm[i] += uo[c * AA + i] * va[static_cast<std::size_t>(c * AA + i)];
          left<M, A, A>(ak.at, sm, sz);
          right<M, A, M>(sz, ak.at, st);
          const double bias_term =
              p.bias ? u * std::fabs(static_cast<double>(p.bias->data[static_cast<std::size_t>(oc)])) : 0.0;
          for (int r = 0; r < M && ty * M + r < s.oh; ++r)
            for (int q = 0; q < M && tx * M + q < s.ow; ++q)
              bound(n, oc, ty * M + r, tx * M + q) = gamma * st[r * M + q] + bias_term + underflow * ft[r * M + q];
        }
      }
    });
  });
  return bound;
}

}  // namespace

template <class T>
Tensor<double> winograd_bound(const ConvProblem<T>& p, int tile, int threads) {
  return tile == 2 ? bound_impl<T, 2>(p, threads) : bound_impl<T, 4>(p, threads);
}

template Tensor<double> winograd_bound(const ConvProblem<float>&, int, int);
template Tensor<double> winograd_bound(const ConvProblem<double>&, int, int);

}  // namespace certconv
