// Evaluated in round to nearest with up() after every operation (core/format.hpp):
// all operands are ≥ 0 and the formulas are monotone, so the result is ≥ the exact
// formula. n·u and 1 − n·u are exact (one_minus_ku).
#include "certconv/bounds/order_free.hpp"

#include "certconv/core/error.hpp"

namespace certconv {

double order_free_bound(double absdot, std::int64_t n, Dtype dtype, Products products, Underflow underflow) {
  if (!(absdot >= 0) || absdot == kInf) return kInf;
  const FormatConsts f = format_consts(dtype);
  const double nd = static_cast<double>(n);
  if (products == Products::rounded) {
    require(underflow == Underflow::gradual, "order_free_bound: flush to zero is bounded for Products::fused only");
    const double nm1 = nd > 0 ? nd - 1 : 0;
    const double coef = add_up(nd * f.u, mul_up(nm1, f.u * f.u));
    const double under = mul_up(half_up(mul_up(nd, f.eta)), add_up(1, mul_up(nm1, f.u)));
    return add_up(mul_up(coef, absdot), under);
  }
  const double den = one_minus_ku(nd, f.u);
  if (den == 0) return kInf;
  // The absolute underflow errors: n·η/2 (products or FMAs; additions with a
  // subnormal result are exact), or (2n − 1)·2^emin under flush to zero, 2^emin =
  // η/(2u) and 2n − 1 exact (powers of two and an integer below 2^53).
  const double under = underflow == Underflow::flush ? mul_up(nd > 0 ? 2 * nd - 1 : 0, f.eta / (2 * f.u))
                                                     : half_up(mul_up(nd, f.eta));
  return div_up(add_up(mul_up(nd * f.u, absdot), under), den);
}

}  // namespace certconv
