#pragma once
// The machinery shared by the emulated orders: the row of an im2col block that a
// kernel reads (the loop over blocks is core/col_block.hpp) and the evaluation of
// value, running bound and tree bound around an order's kernel.
//
// A kernel computes one block of outputs: `len` consecutive outputs (n, oc, oy,
// ox0 .. ox0+len−1) of one output channel. Its input is the im2col block of that
// (n, group, oy, ox0..): K rows of `len` values, row k holding the input that term
// k = c·KH·KW + ky·KW + kx (c within the group) multiplies, or 0 where that tap
// falls into the padding. The kernel applies its summation order to every one of the
// `len` outputs (the loops over outputs are innermost, so they vectorize; each
// output's own sequence of operations is exactly the order's).
//
// Orders whose source skips padded taps see zero products here instead. That leaves
// every value unchanged: the kernels add them as fl(a + (±0)) or fma(0, w, a), which
// return a exactly when a ≠ 0. Only the sign of an accumulator that is zero can
// change (+0 + −0 = +0), and that difference survives only into an output that is
// itself ±0, since fl(±0 + z) = fl(z) for z ≠ 0. Kahan's compensated sum is the
// exception: a zero term still applies the compensation, so orders/kahan.cpp treats
// padded taps as zero terms by definition.
//
// Kernel concept: `template <class P> void row(const Row<T>&, const typename P::Rows& out) const`
// with P one of the policies of bounds/policies.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "certconv/core/col_block.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/isa.hpp"
#include "certconv/bounds/policies.hpp"
#include "certconv/bounds/tree_bound.hpp"
#include "certconv/orders/order.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

template <class T>
struct Row {
  const T* col;  // col[k·ld + j]: the input of term k for output j of the block
  std::int64_t ld, len, K;
  const T* w;     // the K weights of this output channel, term order
  const T* bias;  // this channel's bias; nullptr when the problem has none
  // Where output j sits in the GEMM of its image and group, C[OH·OW × OC/G] as
  // unfold + GEMM computes it: row m0 + j (= oy·OW + ox), column gemm_n (the
  // channel within the group). Only kernels whose order depends on the tile an
  // output falls into read it.
  std::int64_t m0 = 0, gemm_n = 0;
  const T* x(std::int64_t k) const { return col + k * ld; }
};

// The summation tree of a kernel, read off by running it once with TreePolicy on
// structural inputs: lane j has the single leaf x_j·w_j = 1 and all others 0, so its
// D is h_j (the roundings term j passes); a last run with zero terms and bias 1
// gives h_bias. H, M and Ops do not depend on the values. A kernel whose tree
// depends on where an output sits (openblas_haswell.cpp) returns, under TreePolicy,
// a node that covers every tree it uses (cover() in bounds/policies.hpp).
struct TreeShape {
  std::vector<double> h;
  double h_bias = 0, H = 0, M = 0, Ops = 0;
};

template <class T, class Kernel>
TreeShape tree_shape(const Kernel& ker, std::int64_t K, bool has_bias) {
  using P = TreePolicy<T>;
  TreeShape s;
  s.h.assign(static_cast<std::size_t>(K), 0);
  constexpr std::int64_t kLanes = 256;
  const std::vector<T> ones(static_cast<std::size_t>(K), T(1));
  const T zero_b = 0, one_b = 1;
  std::vector<T> col(static_cast<std::size_t>(K * std::min(K, kLanes)));
  std::vector<TreeNode> out(static_cast<std::size_t>(std::min(K, kLanes)));
  for (std::int64_t j0 = 0; j0 < K; j0 += kLanes) {
    const std::int64_t len = std::min(kLanes, K - j0);
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t j = 0; j < len; ++j) col[static_cast<std::size_t>(k * len + j)] = (k == j0 + j) ? T(1) : T(0);
    const Row<T> r{.col = col.data(), .ld = len, .len = len, .K = K, .w = ones.data(),
                   .bias = has_bias ? &zero_b : nullptr};
    ker.template row<P>(r, {out.data()});
    for (std::int64_t j = 0; j < len; ++j) {
      const TreeNode& nd = out[static_cast<std::size_t>(j)];
      s.h[static_cast<std::size_t>(j0 + j)] = nd.D;
      s.H = std::max(s.H, nd.H);
      s.M = std::max(s.M, nd.M);
      s.Ops = std::max(s.Ops, nd.Ops);
    }
  }
  if (has_bias) {
    std::fill(col.begin(), col.begin() + K, T(0));
    ker.template row<P>(Row<T>{.col = col.data(), .ld = 1, .len = 1, .K = K, .w = ones.data(), .bias = &one_b},
                        {out.data()});
    s.h_bias = out[0].D;
  }
  return s;
}

// h·|v| rounded up into T.
template <class T>
T weight_up(double h, T v) {
  const double hv = mul_up(h, std::fabs(static_cast<double>(v)));  // exact for T = float and h < 2^29
  if constexpr (std::is_same_v<T, float>)
    return to_float_up(hv);
  else
    return hv;
}

// An order's output for the checked problem p: y allocated, the bound's theorem named.
template <class T>
OrderOutput<T> checked_output(const ConvProblem<T>& p, Theorem theorem) {
  check_problem(p);
  OrderOutput<T> out;
  out.y = Tensor<T>(p.spec.y_shape());
  out.bound_kind = {.theorem = theorem};
  return out;
}

// Runs a tree-shaped order: the observed output and, when asked, per element the
// tree bound (Theorem::tree_gamma) and the running error bound.
//
// D = Σ h_k|w_k x_k| + h_b|bias| is evaluated per output as an FMA chain in T over
// the same im2col block, from weights c_k = h_k|w_k| rounded up; by linearity of D in
// the leaf magnitudes this equals the D of TreePolicy run on the actual leaves.
template <class T, class Kernel>
OrderOutput<T> run_tree_order(const ConvProblem<T>& p, const RunOptions& opt, const Kernel& ker) {
  OrderOutput<T> out = checked_output(p, Theorem::tree_gamma);
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), ocg = s.oc / s.g;
  const int threads = resolve_threads(opt.threads);
  const T* w = p.w.data.data();
  const T* bias = p.bias ? p.bias->data.data() : nullptr;
  auto yrow = [&](std::int64_t n, std::int64_t oc, std::int64_t oy, std::int64_t ox0) {
    return (out.y.data.data() + ((n * s.oc + oc) * s.oh + oy) * s.ow + ox0);
  };
  // The row of output channel oc (in group g) over the block's len outputs from (oy, ox0).
  auto row_of = [&](const T* col, std::int64_t len, std::int64_t g, std::int64_t oc, std::int64_t oy,
                    std::int64_t ox0) {
    return Row<T>{.col = col, .ld = len, .len = len, .K = K, .w = w + oc * K, .bias = bias ? bias + oc : nullptr,
                  .m0 = oy * s.ow + ox0, .gemm_n = oc - g * ocg};
  };
  if (!opt.want_bound) {
    for_each_col_block(p, threads, [&](auto n, auto g, auto oy, auto ox0, auto len, const T* col) {
      dispatch_isa([&] {
        for (std::int64_t oc = g * ocg; oc < (g + 1) * ocg; ++oc)
          ker.template row<ValuePolicy<T>>(row_of(col, len, g, oc, oy, ox0), {yrow(n, oc, oy, ox0)});
      });
    });
    return out;
  }

  const TreeShape shape = tree_shape<T>(ker, K, bias != nullptr);
  std::vector<T> cw(static_cast<std::size_t>(s.oc * K)), cb(static_cast<std::size_t>(s.oc), T(0));
  for (std::int64_t oc = 0; oc < s.oc; ++oc) {
    for (std::int64_t k = 0; k < K; ++k)
      cw[static_cast<std::size_t>(oc * K + k)] = weight_up(shape.h[static_cast<std::size_t>(k)], w[oc * K + k]);
    if (bias) cb[static_cast<std::size_t>(oc)] = weight_up(shape.h_bias, bias[oc]);
  }
  // Roundings a term passes: the D chain has K FMAs; μ gets at most two additions
  // per operation on the way to the root (RunningPolicy::add).
  constexpr Dtype dt = dtype_of<T>();
  const TreeBound tree(static_cast<double>(K), shape.H, shape.M, dt, dt);
  const RunningBound running(2 * shape.Ops + 2, shape.M, dt, dt);
  out.bound = Tensor<double>(s.y_shape());
  if (opt.want_running) out.running_bound = Tensor<double>(s.y_shape());
  using RP = RunningPolicy<T>;
  for_each_col_block(p, threads, [&](auto n, auto g, auto oy, auto ox0, auto len, const T* col) {
    T* mu = scratch<T, struct DriverMu>(static_cast<std::size_t>(len));
    T* d = scratch<T, struct DriverD>(static_cast<std::size_t>(len));
    for (std::int64_t oc = g * ocg; oc < (g + 1) * ocg; ++oc) {
      T* y = yrow(n, oc, oy, ox0);
      dispatch_isa([&] {
        // The values go straight to the output, μ to scratch.
        const Row<T> r = row_of(col, len, g, oc, oy, ox0);
        if (opt.want_running)
          ker.template row<RP>(r, {y, mu});
        else
          ker.template row<ValuePolicy<T>>(r, {y});
        std::fill(d, d + len, cb[static_cast<std::size_t>(oc)]);
        for (std::int64_t k = 0; k < K; ++k) {
          const T c = cw[static_cast<std::size_t>(oc * K + k)];
          const T* xk = col + k * len;
          for (std::int64_t j = 0; j < len; ++j) d[j] = std::fma(c, std::fabs(xk[j]), d[j]);
        }
        // The bounds assume no overflow. An overflow makes the output ±∞ or NaN (no
        // operation here turns ∞ back into a finite number), so a finite output had none.
        double* b = out.bound.data.data() + (y - out.y.data.data());
        for (std::int64_t j = 0; j < len; ++j)
          b[j] = std::fabs(y[j]) <= std::numeric_limits<T>::max() ? tree(d[j]) : kInf;
        if (opt.want_running) {
          double* rb = out.running_bound.data.data() + (y - out.y.data.data());
          for (std::int64_t j = 0; j < len; ++j)
            rb[j] = std::fabs(y[j]) <= std::numeric_limits<T>::max() ? running(mu[j]) : kInf;
        }
      });
    }
  });
  return out;
}

}  // namespace certconv
