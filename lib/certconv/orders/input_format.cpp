#include "certconv/orders/input_format.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "certconv/core/error.hpp"
#include "certconv/core/text.hpp"
#include "certconv/orders/vdpbf16ps.hpp"

namespace certconv {

namespace {

struct Params {
  int p;       // significand bits, hidden bit included
  int emin;    // exponent of the smallest normal number
  double max;  // largest finite number
};

Params params(InputFormat f) {
  switch (f) {
    case InputFormat::bf16:
      return {8, -126, std::ldexp(2.0 - std::ldexp(1.0, -7), 127)};
    case InputFormat::fp16:
      return {11, -14, 65504.0};
    case InputFormat::tf32:
      return {11, -126, std::ldexp(2.0 - std::ldexp(1.0, -10), 127)};
    case InputFormat::f32:
      break;
  }
  return {24, -126, std::numeric_limits<float>::max()};
}

}  // namespace

InputFormat parse_input_format(std::string_view s) {
  if (s == "f32") return InputFormat::f32;
  if (s == "bf16") return InputFormat::bf16;
  if (s == "fp16") return InputFormat::fp16;
  if (s == "tf32") return InputFormat::tf32;
  throw InputError("parameter 'input' must be f32, bf16, fp16 or tf32; got '" + std::string(s) + "'");
}

const char* input_format_name(InputFormat f) {
  switch (f) {
    case InputFormat::bf16:
      return "bf16";
    case InputFormat::fp16:
      return "fp16";
    case InputFormat::tf32:
      return "tf32";
    case InputFormat::f32:
      break;
  }
  return "f32";
}

float round_to_format(float v, InputFormat f) {
  if (f == InputFormat::f32 || v == 0 || !std::isfinite(v)) return v;
  const Params fp = params(f);
  // q: the spacing of the format's numbers at v (the subnormal spacing below emin).
  // v/q and r·q are exact in binary64 (scaling by powers of two, far from its range
  // limits), and nearbyint rounds to the nearest integer, ties to even, in the
  // default rounding mode: together, round-to-nearest-even to p bits.
  const int e = std::max(std::ilogb(v), fp.emin);
  const double q = std::ldexp(1.0, e - (fp.p - 1));
  const double r = std::nearbyint(static_cast<double>(v) / q) * q;
  if (std::fabs(r) > fp.max) return std::copysign(std::numeric_limits<float>::infinity(), v);
  return static_cast<float>(r);  // exact: r has at most p ≤ 11 bits inside the float32 range
}

Tensor<float> round_tensor(const Tensor<float>& t, InputFormat f, const std::string& what) {
  Tensor<float> r = t;
  for (std::size_t i = 0; i < r.data.size(); ++i) {
    r.data[i] = round_to_format(t.data[i], f);
    if (std::isfinite(t.data[i]) && !std::isfinite(r.data[i]))
      throw InputError(what + ": value " + std::to_string(t.data[i]) + " at flat index " + std::to_string(i) +
                       " overflows " + input_format_name(f));
  }
  return r;
}

void require_in_format(const Tensor<float>& t, InputFormat f, const std::string& what) {
  for (std::size_t i = 0; i < t.data.size(); ++i)
    if (std::isfinite(t.data[i]) && round_to_format(t.data[i], f) != t.data[i])
      throw InputError(what + ": " + number_text(t.data[i], 9) + " at index " +
                       index_text(t.shape, static_cast<std::int64_t>(i)) + " is not a " + input_format_name(f) +
                       " value");
}

OwnedProblem<float> round_problem(const ConvProblem<float>& p, InputFormat f) {
  OwnedProblem<float> r{p.spec, round_tensor(p.x, f, "x"), round_tensor(p.w, f, "w"), {}};
  if (p.bias) r.bias = round_tensor(*p.bias, f, "bias");
  return r;
}

OwnedProblem<float> kernel_inputs(const ConvProblem<float>& p, InputFormat f, bool daz) {
  OwnedProblem<float> r = round_problem(p, f);
  if (daz)
    for (Tensor<float>* t : {&r.x, &r.w})
      for (float& v : t->data) v = flush_subnormal(v);
  return r;
}

}  // namespace certconv
