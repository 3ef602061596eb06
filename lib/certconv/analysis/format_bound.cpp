#include "certconv/analysis/format_bound.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "certconv/bounds/any_order.hpp"
#include "certconv/bounds/output_rounding.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

const char* output_format_name(OutputFormat f) {
  switch (f) {
    case OutputFormat::f64: return "f64";
    case OutputFormat::bf16: return "bf16";
    case OutputFormat::fp16: return "fp16";
    case OutputFormat::f32: break;
  }
  return "f32";
}

std::string output_format_words(OutputFormat f) {
  switch (f) {
    case OutputFormat::f64: return "float64";
    case OutputFormat::f32: return "float32";
    default: return std::string(output_format_name(f)) + " (float32 accumulation)";
  }
}

OutputFormat parse_output_format(std::string_view s, const std::string& what) {
  for (const OutputFormat f : {OutputFormat::f64, OutputFormat::f32, OutputFormat::bf16, OutputFormat::fp16})
    if (s == output_format_name(f)) return f;
  throw InputError(what + ": format must be f64, f32, bf16 or fp16, got '" + std::string(s) + "'");
}

FormatModel format_model(OutputFormat f) {
  switch (f) {
    case OutputFormat::f64: return {.acc = Dtype::f64};
    case OutputFormat::f32: return {.acc = Dtype::f32};
    case OutputFormat::bf16: return {Dtype::f32, InputFormat::bf16, InputFormat::bf16, true};
    case OutputFormat::fp16: return {Dtype::f32, InputFormat::fp16, InputFormat::fp16, false};
  }
  return {};
}

double unit_roundoff(OutputFormat f) {
  switch (f) {
    case OutputFormat::f64: return 0x1p-53;
    case OutputFormat::bf16: return 0x1p-8;
    case OutputFormat::fp16: return 0x1p-11;
    case OutputFormat::f32: break;
  }
  return 0x1p-24;
}

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
    // The inputs as the kernel saw them: rounded, then flushed (orders/input_format.hpp,
    // kernel_inputs); e covers both exactly.
    require(m.acc == Dtype::f32, std::string("input=") + input_format_name(m.input) + " models float32 kernels");
    const OwnedProblem<float> seen = kernel_inputs(p, m.input, m.ftz);
    r.bound = any_order_bound(p, seen.view(), truth.absdot, m.ftz ? Underflow::flush : Underflow::gradual,
                              resolve_threads(threads));
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
