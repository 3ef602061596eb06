// winograd:tile=2|4,fma=0|1 — Winograd minimal filtering F(m×m, 3×3), m = tile,
// after Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR
// 2016 (arXiv:1509.09308), with their Bᵀ, G, Aᵀ (core/winograd_matrices.hpp),
// every step in the working precision T (binary32 or binary64, round to nearest).
// Only 3×3 kernels, stride 1, no dilation; groups and padding as in ConvSpec.
//
// Exact order of operations (α = m + 2, C = ic/g channels per group):
//  0. Ĝ = G with every entry rounded to T (1/6, 1/12, 1/24 are not representable;
//     1/2, 1/4 are); Bᵀ and Aᵀ are small integers, exact.
//  1. Weight transform, once per (oc, c): W = Ĝ·g (α×3), then U = W·Ĝᵀ (α×α).
//  2. Per output tile (n, group, ty, tx), whose outputs are rows ty·m .. ty·m+m−1
//     and columns tx·m .. tx·m+m−1: for every channel c of the group, the α×α input
//     tile d[r][s] = x(n, group·C + c, ty·m − ph + r, tx·m − pw + s), zero outside the input
//     (padding, and beyond the bottom/right edge); T₁ = Bᵀ·d, then V = T₁·B.
//  3. For every oc of the group and every tile entry (i, j):
//     M = 0; for c = 0 .. C−1 in order: M = M + U_c·V_c (product rounded, then the
//     sum; fma=1: M = fma(U_c, V_c, M), one rounding).
//  4. Z = Aᵀ·M (m×α), then Y = Z·A (m×m); outputs outside oh×ow are dropped.
//  5. With a bias: y = Y + bias[oc] (one rounded addition); else y = Y.
// Every matrix product (steps 1, 2, 4) sums each output entry sequentially over the
// nonzero coefficients of the matrix row in increasing column order, starting from
// the first term; each term is the rounded product coefficient·value (exact for
// coefficients ±2^j). No FMA outside step 3. This is the algorithm as published;
// libraries that implement it (oneDNN's wino_4x3, cuDNN) may order the same
// operations differently, so it is not claimed bit-exact with any of them.
//
// Bound: bounds/winograd_bound.cpp, derived in docs/winograd-bound.md.
#include "certconv/orders/winograd.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "certconv/bounds/winograd_bound.hpp"
#include "certconv/core/error.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/params.hpp"
#include "certconv/core/winograd_matrices.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

template <class T, int M>
struct Kernel {
  static constexpr int a = M + 2;
  T bt[a][a], g[a][3], at[M][a];
};

template <class T, int R, int K>
constexpr void round_matrix(const winograd::Rational (&in)[R][K], T (&out)[R][K]) {
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < K; ++j) out[i][j] = static_cast<T>(in[i][j].num) / static_cast<T>(in[i][j].den);
}

// Evaluated at compile time: the entries are the round-to-nearest values in T.
template <class T, int M>
constexpr Kernel<T, M> make_kernel(const winograd::Matrices<M>& w) {
  Kernel<T, M> k{};
  round_matrix(w.bt, k.bt);
  round_matrix(w.g, k.g);
  round_matrix(w.at, k.at);
  return k;
}

template <class T, int M>
inline constexpr Kernel<T, M> kKernel = make_kernel<T, M>(winograd::matrices<M>());

// Σ_j m[j]·v[j·stride] over the nonzero m[j], left to right; the first product is
// the initial value (not added to 0). Products commute exactly, so m·v = v·m.
template <class T, int K>
inline T sparse_dot(const T (&m)[K], const T* v, int stride) {
  T acc = 0;
  bool first = true;
  for (int j = 0; j < K; ++j) {
    if (m[j] == 0) continue;
    const T term = m[j] * v[j * stride];
    acc = first ? term : acc + term;
    first = false;
  }
  return acc;
}

// out (R×N) = mat (R×K) · in (K×N), all row-major.
template <class T, int R, int K, int N>
inline void left(const T (&mat)[R][K], const T* in, T* out) {
  for (int i = 0; i < R; ++i)
    for (int col = 0; col < N; ++col) out[i * N + col] = sparse_dot(mat[i], in + col, N);
}

// out (N×R) = in (N×K) · matᵀ, mat R×K, all row-major.
template <class T, int R, int K, int N>
inline void right(const T* in, const T (&mat)[R][K], T* out) {
  for (int row = 0; row < N; ++row)
    for (int i = 0; i < R; ++i) out[row * R + i] = sparse_dot(mat[i], in + row * K, 1);
}

template <class T, int M, bool Fma>
Tensor<T> winograd_conv(const ConvProblem<T>& p, int threads) {
  constexpr int A = M + 2, AA = A * A;
  const Kernel<T, M>& k = kKernel<T, M>;
  const ConvSpec& s = p.spec;
  const std::int64_t C = s.ic / s.g, ocg = s.oc / s.g;
  const std::int64_t th = (s.oh + M - 1) / M, tw = (s.ow + M - 1) / M;

  // Step 1: U[oc][c] (α×α each).
  std::vector<T> U(static_cast<std::size_t>(s.oc * C * AA));
  parallel_for(s.oc, threads, [&](std::int64_t b, std::int64_t e) {
    T wt[A * 3];
    for (std::int64_t oc = b; oc < e; ++oc)
      for (std::int64_t c = 0; c < C; ++c) {
        const T* g = &p.w(oc, c, 0, 0);
        left<T, A, 3, 3>(k.g, g, wt);
        right<T, A, 3, A>(wt, k.g, &U[static_cast<std::size_t>((oc * C + c) * AA)]);
      }
  });

  Tensor<T> y(s.y_shape());
  // Threads split tiles; each tile's outputs are computed by one thread alone.
  // dispatch_isa: the same IEEE operations, compiled for AVX2 where the CPU has it.
  parallel_for(s.mb * s.g * th * tw, threads, [&](std::int64_t b, std::int64_t e) {
    dispatch_isa([&] {
      std::vector<T> V(static_cast<std::size_t>(C * AA));
      T d[AA], t1[AA], m[AA], z[M * A], yt[M * M];
      for (std::int64_t item = b; item < e; ++item) {
        const std::int64_t tx = item % tw, ty = item / tw % th, grp = item / (tw * th) % s.g;
        const std::int64_t n = item / (tw * th * s.g);
        const std::int64_t y0 = ty * M - s.ph, x0 = tx * M - s.pw;
        // Step 2.
        for (std::int64_t c = 0; c < C; ++c) {
          for (int r = 0; r < A; ++r)
            for (int q = 0; q < A; ++q) {
              const std::int64_t iy = y0 + r, ix = x0 + q;
              const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
              d[r * A + q] = inside ? p.x(n, grp * C + c, iy, ix) : T(0);
            }
          left<T, A, A, A>(k.bt, d, t1);
          right<T, A, A, A>(t1, k.bt, &V[static_cast<std::size_t>(c * AA)]);
        }
        for (std::int64_t oc = grp * ocg; oc < (grp + 1) * ocg; ++oc) {
          // Step 3.
          const T* u = &U[static_cast<std::size_t>(oc * C * AA)];
          for (int i = 0; i < AA; ++i) m[i] = 0;
          for (std::int64_t c = 0; c < C; ++c) {
            const T* uc = u + c * AA;
            const T* vc = &V[static_cast<std::size_t>(c * AA)];
            if constexpr (Fma)
              for (int i = 0; i < AA; ++i) m[i] = std::fma(uc[i], vc[i], m[i]);
            else
              for (int i = 0; i < AA; ++i) m[i] = m[i] + uc[i] * vc[i];
          }
          // Steps 4 and 5.
          left<T, M, A, A>(k.at, m, z);
          right<T, M, A, M>(z, k.at, yt);
          for (int r = 0; r < M && ty * M + r < s.oh; ++r)
            for (int q = 0; q < M && tx * M + q < s.ow; ++q) {
              const T v = yt[r * M + q];
              y(n, oc, ty * M + r, tx * M + q) = p.bias ? v + p.bias->data[static_cast<std::size_t>(oc)] : v;
            }
        }
      }
    });
  });
  return y;
}

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const ConvSpec& s = p.spec;
  const OrderParams params(o);
  const std::string tile = params.choice("tile", "4", {"2", "4"});
  const bool fma = params.flag("fma", false);
  require(s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.dh == 0 && s.dw == 0,
          "winograd: needs a 3x3 kernel with stride 1 and no dilation; got kh" + std::to_string(s.kh) + "kw" +
              std::to_string(s.kw) + "sh" + std::to_string(s.sh) + "sw" + std::to_string(s.sw) + "dh" +
              std::to_string(s.dh) + "dw" + std::to_string(s.dw));
  check_problem(p);
  const int threads = resolve_threads(opt.threads);
  const int m = tile == "2" ? 2 : 4;
  OrderOutput<T> out;
  if (m == 2)
    out.y = fma ? winograd_conv<T, 2, true>(p, threads) : winograd_conv<T, 2, false>(p, threads);
  else
    out.y = fma ? winograd_conv<T, 4, true>(p, threads) : winograd_conv<T, 4, false>(p, threads);
  out.bound_kind = {.theorem = Theorem::none};
  if (opt.want_bound) {
    out.bound = winograd_bound(p, m, threads);
    if (out.bound.size() > 0) {
      out.bound_kind = {.theorem = Theorem::winograd_transform};
      // The bound assumes no overflow; an overflow anywhere on an output's paths
      // makes that output ±inf or NaN (no operation here turns inf back into a
      // finite number), so a finite output had none.
      for (std::int64_t i = 0; i < out.y.size(); ++i)
        if (!std::isfinite(out.y.data[static_cast<std::size_t>(i)]))
          out.bound.data[static_cast<std::size_t>(i)] = std::numeric_limits<double>::infinity();
    }
  }
  return out;
}

}  // namespace

OrderInfo make_winograd_order() {
  OrderInfo info;
  info.name = "winograd";
  info.params = {{"tile", "4", "output tile m of F(m×m,3×3): 2 or 4", sweep_over({"2", "4"})},
                 {"fma", "0", "1: channel sum as fma(U, V, M)", sweep_over({"0", "1"})}};
  info.accumulation = "Lavin–Gray F(m×m,3×3): U = ĜgĜᵀ, V = BᵀdB, M = Σ_c U⊙V sequential from 0, Y = AᵀMA, then + bias";
  info.run_f32 = run<float>;
  info.run_f64 = run<double>;
  return info;
}

}  // namespace certconv
