#pragma once
// Arithmetic policies for the emulated summation orders. Every order's kernel is
// written once, as a template on a policy P, and runs with:
//   ValuePolicy<T>    the observed value: plain binary32/binary64 operations
//                     (round to nearest, FMA only where the kernel asks for it);
//   RunningPolicy<T>  the same values plus μ = Σ over the kernel's operations of
//                     |computed result|, for the running error bound;
//   TreePolicy<T>     the summation tree itself: per node A = Σ|leaf|,
//                     D = Σ h_i·|leaf_i| with h_i the roundings leaf i has passed,
//                     H = max h_i, M = the roundings that can underflow (products
//                     and FMAs), Ops = every operation (rounding or not), and
//                     Leaves = the number of leaves below.
// A policy provides Node, zero() (the literal 0 an accumulator starts from),
// exact(b) (an exact leaf such as the bias), prod(x, w) (the product rounded),
// add(a, b) (one rounded addition) and fma(x, w, c) (one rounding of x·w + c), and
// Rows, the storage of one node per output of a block, read with get(i) and written
// with set(i, node); scratch_rows<Slot>(n) gives per-thread temporary rows.
// Scratch slots are tag types (`struct GemmAcc;`) declared in the file that uses
// them, so that two kernels, or two rows of one kernel, never share an array.
//
// Adding the literal zero is exact (fl(0 + a) = a), so TreePolicy does not count it
// as a rounding; it counts every other addition and FMA even when its operands
// happen to make it exact (a rounding with δ = 0 is still covered by the model).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace certconv {

// Per-thread scratch arrays, one per (node type, Slot tag), grown on demand.
template <class N, class Slot>
N* scratch(std::size_t n) {
  thread_local std::vector<N> v;
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Nodes stored as one array of structures.
template <class N>
struct NodeArray {
  N* p;
  N get(std::ptrdiff_t i) const { return p[i]; }
  void set(std::ptrdiff_t i, const N& n) const { p[i] = n; }
  template <class Slot>
  static NodeArray make(std::size_t n) {
    return {scratch<N, Slot>(n)};
  }
};

template <class T>
struct ValuePolicy {
  using In = T;
  using Node = T;
  static Node zero() { return T(0); }
  static Node exact(T b) { return b; }
  static Node prod(T x, T w) { return x * w; }
  static Node add(Node a, Node b) { return a + b; }
  static Node fma(T x, T w, Node c) { return std::fma(x, w, c); }
  using Rows = NodeArray<T>;
  template <class Slot>
  static Rows scratch_rows(std::size_t n) {
    return Rows::template make<Slot>(n);
  }
};

// Running error analysis (Higham 2002, §3.3): each rounded operation with computed
// result r adds at most u·|r| (+ η/2 when it can underflow) to the error, and in a
// sum of terms these errors add up without amplification, so
//   |ŷ − y| ≤ u·μ + M·η/2,   μ = Σ_ops |r_op|.
// μ is accumulated here in T with round to nearest; the caller inflates it by a
// proven margin (bounds/tree_bound.hpp).
template <class T>
struct RunningPolicy {
  using In = T;
  struct Node {
    T v, mu;
  };
  static Node zero() { return {T(0), T(0)}; }
  static Node exact(T b) { return {b, T(0)}; }
  static Node prod(T x, T w) {
    const T v = x * w;
    return {v, std::fabs(v)};
  }
  static Node add(Node a, Node b) {
    const T v = a.v + b.v;
    return {v, (a.mu + b.mu) + std::fabs(v)};
  }
  static Node fma(T x, T w, Node c) {
    const T v = std::fma(x, w, c.v);
    return {v, c.mu + std::fabs(v)};
  }
  // Values and μ in separate arrays: the loops over outputs vectorize without shuffles.
  struct Rows {
    T *v, *mu;
    Node get(std::ptrdiff_t i) const { return {v[i], mu[i]}; }
    void set(std::ptrdiff_t i, const Node& n) const {
      v[i] = n.v;
      mu[i] = n.mu;
    }
  };
  // The slot's two arrays, apart from ValuePolicy's array of the same slot.
  template <class Slot>
  struct Values;
  template <class Slot>
  struct Mu;
  template <class Slot>
  static Rows scratch_rows(std::size_t n) {
    return {scratch<T, Values<Slot>>(n), scratch<T, Mu<Slot>>(n)};
  }
};

// The tracker of the summation tree (Higham 2002, Lemma 3.1 and §3.1): with the
// model fl(a op b) = (a op b)(1 + δ) + ε, the computed sum is Σ p_i·Π(1 + δ) over
// the h_i roundings above leaf i, plus each ε carried through at most H roundings:
//   |ŷ − y| ≤ Σ γ_{h_i}|p_i| + M·(η/2)(1+u)^H ≤ (u·D + M·η/2) / (1 − H·u).
// Used on structural inputs (leaves 0 or 1, exact in binary64) to read off h_i.
struct TreeNode {
  double A, D, H, M, Ops, Leaves;
};

template <class T>
struct TreePolicy {
  using In = T;
  using Node = TreeNode;
  static Node zero() { return {0, 0, 0, 0, 0, 0}; }
  static Node exact(T b) { return {std::fabs(double(b)), 0, 0, 0, 0, 1}; }
  static Node prod(T x, T w) {
    const double p = std::fabs(double(x)) * std::fabs(double(w));
    return {p, p, 1, 1, 1, 1};
  }
  static Node add(const Node& a, const Node& b) {
    const double r = (a.Leaves > 0 && b.Leaves > 0) ? 1 : 0;  // adding the literal zero is exact
    const double A = a.A + b.A;
    return {A, a.D + b.D + r * A, std::max(a.H, b.H) + r, a.M + b.M, a.Ops + b.Ops + 1, a.Leaves + b.Leaves};
  }
  static Node fma(T x, T w, const Node& c) {
    const double A = c.A + std::fabs(double(x)) * std::fabs(double(w));
    return {A, c.D + A, c.H + 1, c.M + 1, c.Ops + 1, c.Leaves + 1};
  }
  using Rows = NodeArray<TreeNode>;
  template <class Slot>
  static Rows scratch_rows(std::size_t n) {
    return Rows::template make<Slot>(n);
  }
};

// A node whose bound covers both a and b (the same leaves, summed by two trees): for a
// kernel whose tree depends on where an output sits, read off once for all outputs.
inline TreeNode cover(const TreeNode& a, const TreeNode& b) {
  return {std::max(a.A, b.A),   std::max(a.D, b.D),     std::max(a.H, b.H),
          std::max(a.M, b.M),   std::max(a.Ops, b.Ops), std::max(a.Leaves, b.Leaves)};
}

// acc ← acc + x·w: one FMA when Fused, else the rounded product, then the sum.
template <class P, bool Fused>
inline typename P::Node mac(typename P::In x, typename P::In w, const typename P::Node& acc) {
  if constexpr (Fused)
    return P::fma(x, w, acc);
  else
    return P::add(acc, P::prod(x, w));
}

}  // namespace certconv
