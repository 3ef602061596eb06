#pragma once
// Final evaluation of the per-element rigorous bounds of the emulated orders.
// Everything here runs in round to nearest; each formula is made rigorous by up()
// after every operation (core/format.hpp) and by explicit margins for the sums
// accumulated in the hot loops, proven beside each evaluator. The per-problem
// constants are computed once, so each element costs two or three operations.
#include <cmath>

#include "certconv/core/format.hpp"

namespace certconv {

// Margin lemma (used by both evaluators). Let s be computed in round to nearest in a
// format with unit roundoff v and smallest subnormal e, by any sequence of additions
// and FMAs of nonnegative operands in which every term passes through at most L
// roundings. Each rounding satisfies fl(z) ≥ z(1 − v) − e/2 (the model of Higham
// 2002, §2.1), and (1 − v)^L ≥ 1 − L·v, so the exact sum S satisfies
//   S ≤ (s + L·e/2) / (1 − L·v)   (e = 0 when only additions round: they are exact
//                                   in the subnormal range).

// Up by one binary64 step for r ≥ 0 (−0 counts as +0): the next bit pattern, and
// +∞ stays +∞. Branch-free, for the per-element loops.
inline double up_nonneg(double r) {
  r = r + 0.0;  // −0 → +0
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(r) + (r < kInf ? 1 : 0));
}

// Tree bound (Higham 2002, Lemma 3.1 and §3.1, with the underflow model):
//   |ŷ − y| ≤ Σ γ_{h_i}|p_i| + M·(η/2)(1+u)^H ≤ (u·D + M·η/2) / (1 − H·u),
// using γ_h ≤ h·u/(1 − H·u) for h ≤ H and (1+u)^H ≤ 1/(1 − H·u).
// d_hat is D = Σ h_i|p_i| (+ h_b|bias|) computed in the format `acc` (unit roundoff v,
// subnormal e) by an FMA chain in which each term passes at most L roundings, from
// weights already rounded up; by the margin lemma D ≤ (d_hat + L·e/2)/(1 − L·v), so
//   bound = (d_hat + L·e/2)·u/((1 − L·v)(1 − H·u)) + (M·η/2)/(1 − H·u),
// evaluated as up(up(up(d_hat + c_l)·k) + c_m) with the constants rounded up.
// +∞ when H·u ≥ 1 or L·v ≥ 1 (no bound), and for a NaN d_hat (inf·0 after an overflow).
class TreeBound {
 public:
  TreeBound(double L, double H, double M, Dtype out, Dtype acc) {
    const FormatConsts f = format_consts(out), a = format_consts(acc);
    const double den_l = one_minus_ku(L, a.u), den_h = one_minus_ku(H, f.u);  // exact
    none_ = den_l == 0 || den_h == 0;
    if (none_) return;
    c_l_ = half_up(mul_up(L, a.eta));
    k_ = div_up(div_up(f.u, den_l), den_h);
    c_m_ = div_up(half_up(mul_up(M, f.eta)), den_h);
  }
  double operator()(double d_hat) const {
    const double b = up_nonneg(up_nonneg(up_nonneg(d_hat + c_l_) * k_) + c_m_);
    return none_ || !(d_hat >= 0) ? kInf : b;  // a select, so that the loops vectorize
  }

 private:
  bool none_ = false;
  double c_l_ = 0, k_ = 0, c_m_ = 0;
};

// Running error bound (Higham 2002, §3.3): |ŷ − y| ≤ u·μ + M·η/2 with μ the sum of
// the |results| of the rounded operations. mu_hat is μ accumulated in the format
// `acc` by additions of nonnegative numbers, each term passing at most L of them, so
// μ ≤ mu_hat/(1 − L·v) by the margin lemma (no underflow term: additions only), and
//   bound = up(up(mu_hat·k) + c_m),  k ≥ u/(1 − L·v),  c_m ≥ M·η/2.
class RunningBound {
 public:
  RunningBound(double L, double M, Dtype out, Dtype acc) {
    const FormatConsts f = format_consts(out), a = format_consts(acc);
    const double den = one_minus_ku(L, a.u);  // exact
    none_ = den == 0;
    if (none_) return;
    k_ = div_up(f.u, den);
    c_m_ = half_up(mul_up(M, f.eta));
  }
  double operator()(double mu_hat) const {
    const double b = up_nonneg(up_nonneg(mu_hat * k_) + c_m_);
    return none_ || !(mu_hat >= 0) ? kInf : b;
  }

 private:
  bool none_ = false;
  double k_ = 0, c_m_ = 0;
};

}  // namespace certconv
