// Evaluated in round to nearest with up() after every operation (core/format.hpp):
// every operand is ≥ 0 and the formula is monotone in them; u_o and the underflow
// term are powers of two, exact.
#include "certconv/bounds/output_rounding.hpp"

#include <cmath>

#include "certconv/core/error.hpp"
#include "certconv/core/format.hpp"

namespace certconv {

Tensor<double> output_rounding_bound(const Tensor<double>& acc, const Tensor<double>& magnitude, NarrowFormat f,
                                     bool flush_to_zero) {
  require(acc.shape == magnitude.shape, "output_rounding_bound: shapes differ");
  const double u = std::ldexp(1.0, -f.p);
  const double under = flush_to_zero ? std::ldexp(1.0, f.emin) : std::ldexp(1.0, f.emin - f.p);  // η_o/2
  Tensor<double> b(acc.shape);
  for (std::size_t i = 0; i < b.data.size(); ++i) {
    const double B = acc.data[i];
    b.data[i] = add_up(add_up(B, mul_up(u, add_up(magnitude.data[i], B))), under);
  }
  return b;
}

}  // namespace certconv
