#include "certconv/analysis/format_bound.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "certconv/bounds/any_order.hpp"
#include "certconv/bounds/input_rounding.hpp"
#include "certconv/bounds/output_rounding.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

// DAZ: inputs below float32's normal range are read as zero (sign kept).
void flush_subnormals(Tensor<float>& t) {
  for (float& v : t.data)
    if (std::fabs(v) < 0x1p-126f) v = std::copysign(0.0f, v);
}

}  // namespace

template <class TI>
FormatBound format_bound(const ConvProblem<TI>& p, const Truth& truth, const FormatModel& m, int threads) {
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  require(m.acc == Dtype::f64 || std::is_same_v<TI, float>,
          "float32 arithmetic needs float32 inputs; x and w are float64");
  require(m.acc == Dtype::f32 || !m.ftz, "ftz=1 models float32 kernels; the accumulation must be f32");
  require(m.output == InputFormat::f32 || m.acc == Dtype::f32,
          std::string("output=") + input_format_name(m.output) + " rounds a float32 accumulation");
  require(m.output == InputFormat::f32 || m.output == InputFormat::bf16 || m.output == InputFormat::fp16,
          std::string("output=") + input_format_name(m.output) + " is not a storage format (bf16, fp16, f32)");
  FormatBound r;
  if (m.input == InputFormat::f32 && !m.ftz) {
    r.bound = any_order_bound(truth.absdot, n, m.acc);
    r.kind = {.theorem = Theorem::order_free};
  } else if constexpr (std::is_same_v<TI, float>) {
    // The inputs as the kernel saw them: rounded, then flushed; e covers both exactly.
    OwnedProblem<float> seen = round_problem(p, m.input);
    if (m.ftz) {
      flush_subnormals(seen.x);
      flush_subnormals(seen.w);
      if (seen.bias) flush_subnormals(*seen.bias);
    }
    const Tensor<double> e = input_rounding_error(p, seen.view(), resolve_threads(threads));
    r.bound = any_order_bound(truth.absdot, n, m.acc, &e, m.ftz ? Underflow::flush : Underflow::gradual);
    r.kind = {.theorem = Theorem::order_free, .input_rounding = true};
  } else {
    throw InputError(std::string("input=") + input_format_name(m.input) + (m.ftz ? " with ftz=1" : "") +
                     " models float32 inputs; x and w are float64");
  }
  if (m.output == InputFormat::f32) return r;
  r.bound = with_output_rounding(r.bound, truth, m.output, m.ftz);
  r.kind.output_rounding = true;
  return r;
}

Tensor<double> with_output_rounding(const Tensor<double>& acc, const Truth& truth, InputFormat output, bool ftz) {
  require(output == InputFormat::bf16 || output == InputFormat::fp16,
          std::string("output=") + input_format_name(output) + " is not a storage format (bf16, fp16, f32)");
  Tensor<double> magnitude(truth.lo.shape);
  for (std::size_t i = 0; i < magnitude.data.size(); ++i)
    magnitude.data[i] = std::max(std::fabs(truth.lo.data[i]), std::fabs(truth.hi.data[i]));
  return output_rounding_bound(acc, magnitude, output == InputFormat::bf16 ? kBf16 : kFp16, ftz);
}

template FormatBound format_bound(const ConvProblem<float>&, const Truth&, const FormatModel&, int);
template FormatBound format_bound(const ConvProblem<double>&, const Truth&, const FormatModel&, int);

}  // namespace certconv
