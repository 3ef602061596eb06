// kahan:fma=0|1 — Kahan's compensated summation of the products (Kahan 1965;
// Higham 2002, §4.3, Algorithm 4.2), in im2col order.
//
// Exact accumulation order, per output, over k = ic·KH·KW + kh·KW + kw (padded taps
// are zero terms: each still applies the compensation, s = fl(s − c)):
//   s = bias (or 0), c = 0
//   for k = 0 .. K−1:
//     y = fl(fl(x_k·w_k) − c)         fma=1: y = fma(x_k, w_k, −c), one rounding
//     t = fl(s + y)
//     c = fl(fl(t − s) − y)
//     s = t
//   y = s (the final compensation c is not added back, as in Kahan's algorithm).
//
// Bound (running, a posteriori; derived here, after Higham 2002 §3.3 and §4.3).
// Write e1, e2, e3, e4 for the rounding errors of y, t, d = fl(t − s) and the new c,
// p_k for the exact product and x̂_k = fl(x_k·w_k) (x̂_k = p_k with fma=1). With
// σ = s − c, one step gives exactly
//   σ' − σ = x̂_k + e1 − e3 − e4        (e2 cancels: σ' = t − c' = s + y − e3 − e4),
// and σ_0 = bias, so after the last step
//   s − (bias + Σ p_k) = c + Σ_k (e1 − e3 − e4) + Σ_k (x̂_k − p_k).
// Each rounding error of an addition is at most u·|its result| (no underflow term:
// subnormal sums are exact); a product or FMA adds at most u·|result| + η/2. Hence
//   |ŷ − y| ≤ |c| + u·μ + K·η/2,  μ = Σ_k (|y| + |d| + |c'| (+ |x̂_k| for fma=0)),
// with μ accumulated in the working format and inflated by the margin lemma of
// bounds/tree_bound.hpp (at most 4K additions). This is the order's `bound`
// (Theorem::running_kahan) and its running bound; there is no summation tree.
#include <cmath>

#include "certconv/core/format.hpp"
#include "certconv/bounds/tree_bound.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

// The observed value: plain operations.
template <class T>
struct KahanValue {
  using In = T;
  struct Log {};
  using Node = T;
  static T prod(T x, T w, Log&) { return x * w; }
  static T fms(T x, T w, T c, Log&) { return std::fma(x, w, -c); }
  static T sub(T a, T b, Log&) { return a - b; }
  static Node finish(T s, T, const Log&) { return s; }
};

// The same values, logging the |result| of every operation whose error enters the
// bound (all but t = s + y).
template <class T>
struct KahanRunning {
  using In = T;
  struct Log {
    T mu;
  };
  struct Node {
    T v, c, mu;
  };
  static T prod(T x, T w, Log& l) {
    const T v = x * w;
    l.mu += std::fabs(v);
    return v;
  }
  static T fms(T x, T w, T c, Log& l) {
    const T v = std::fma(x, w, -c);
    l.mu += std::fabs(v);
    return v;
  }
  static T sub(T a, T b, Log& l) {
    const T v = a - b;
    l.mu += std::fabs(v);
    return v;
  }
  static Node finish(T s, T c, const Log& l) { return {s, c, l.mu}; }
};

template <bool Fused>
struct KahanKernel {
  template <class P>
  void row(const Row<typename P::In>& r, typename P::Node* out) const {
    using T = typename P::In;
    using Log = typename P::Log;
    T* s = scratch<T, struct KahanSum>(static_cast<std::size_t>(r.len));
    T* c = scratch<T, struct KahanCompensation>(static_cast<std::size_t>(r.len));
    Log* log = scratch<Log, struct KahanLog>(static_cast<std::size_t>(r.len));
    for (std::int64_t j = 0; j < r.len; ++j) {
      s[j] = r.bias ? *r.bias : T(0);
      c[j] = 0;
      log[j] = Log{};
    }
    for (std::int64_t k = 0; k < r.K; ++k) {
      const T w = r.w[k];
      const T* x = r.x(k);
      for (std::int64_t j = 0; j < r.len; ++j) {
        const T y = Fused ? P::fms(x[j], w, c[j], log[j]) : P::sub(P::prod(x[j], w, log[j]), c[j], log[j]);
        const T t = s[j] + y;
        const T d = P::sub(t, s[j], log[j]);
        c[j] = P::sub(d, y, log[j]);
        s[j] = t;
      }
    }
    for (std::int64_t j = 0; j < r.len; ++j) out[j] = P::finish(s[j], c[j], log[j]);
  }
};

template <class T, class Kernel>
OrderOutput<T> run_kahan(const ConvProblem<T>& p, const RunOptions& opt, const Kernel& ker) {
  OrderOutput<T> out = checked_output(p, Theorem::running_kahan);
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), ocg = s.oc / s.g;
  if (opt.want_bound) {
    out.bound = Tensor<double>(s.y_shape());
    out.running_bound = Tensor<double>(s.y_shape());
  }
  const T* w = p.w.data.data();
  const T* bias = p.bias ? p.bias->data.data() : nullptr;
  constexpr Dtype dt = dtype_of<T>();
  const RunningBound running(4 * static_cast<double>(K) + 1, static_cast<double>(K), dt, dt);
  for_each_col_block(p, resolve_threads(opt.threads), [&](auto n, auto g, auto oy, auto ox0, auto len, const T* col) {
    using RN = typename KahanRunning<T>::Node;
    RN* nodes = scratch<RN, struct KahanNodes>(static_cast<std::size_t>(len));
    for (std::int64_t oc = g * ocg; oc < (g + 1) * ocg; ++oc) {
      const Row<T> r{.col = col, .ld = len, .len = len, .K = K, .w = w + oc * K, .bias = bias ? bias + oc : nullptr};
      const std::size_t at = static_cast<std::size_t>(((n * s.oc + oc) * s.oh + oy) * s.ow + ox0);
      T* y = out.y.data.data() + at;
      if (!opt.want_bound) {
        dispatch_isa([&] { ker.template row<KahanValue<T>>(r, y); });
        continue;
      }
      dispatch_isa([&] { ker.template row<KahanRunning<T>>(r, nodes); });
      for (std::int64_t j = 0; j < len; ++j) {
        y[j] = nodes[j].v;
        // A finite s with an overflow inside leaves c = ±∞ or NaN: the bound is then +∞.
        const double b = up_nonneg(std::fabs(static_cast<double>(nodes[j].c)) + running(nodes[j].mu));
        out.bound.data[at + j] = out.running_bound.data[at + j] = std::isfinite(y[j]) && b >= 0 ? b : kInf;
      }
    }
  });
  return out;
}

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  return OrderParams(o).flag("fma", false) ? run_kahan(p, opt, KahanKernel<true>{})
                                           : run_kahan(p, opt, KahanKernel<false>{});
}

}  // namespace

OrderInfo make_kahan_order() {
  return {.name = "kahan",
          .params = {OrderParam{"fma", "0", "1: y = fma(x, w, −c) instead of fl(x·w) − c", sweep_over({"0", "1"})}},
          .accumulation =
              "Kahan compensated sum in im2col order (padding as zero terms): s = bias or 0, c = 0; "
              "y = x·w − c, t = s + y, c = (t − s) − y, s = t; result s",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
