#pragma once
// Certified assertions for users' own convolution tests: instead of an atol tuned
// by hand until the test passes, an output is checked against the certified truth
// with a proven per-element bound. Boost.Test macros: certconv/testing_boost.hpp;
// GoogleTest: certconv/testing_gtest.hpp.
//
//   const auto r = certconv::check_conv(y, x, w, spec, certconv::rigorous("im2col"));
//   if (!r.passed) std::puts(r.message.c_str());  // lists the worst outputs
//
// An output is beyond the tolerance only when that is certain: ŷ outside
// [RD(lo − bound), RU(hi + bound)], [lo, hi] the truth's enclosure (as analyze
// decides violations), or ŷ not finite.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certconv/analysis/metrics.hpp"
#include "certconv/bounds/bound_kind.hpp"
#include "certconv/core/direction.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

struct Tolerance {
  enum class Kind {
    order,          // the rigorous bound of one summation order (the order the code claims)
    any_order,      // the order-free rigorous bound: any order of summation, FMA or not
    probabilistic,  // Higham–Mary's probabilistic bound: a model, not a theorem
  };
  Kind kind = Kind::any_order;
  std::string order;                     // Kind::order: "NAME[:k=v,...]", input=bf16|fp16|tf32 allowed
  // Working precision of the computation: default the observed output's dtype
  // (check_conv) or the inputs' (certified_tolerance); check_conv requires them equal.
  std::optional<Dtype> dtype;
  InputFormat input = InputFormat::f32;  // Kind::any_order: x, w, bias rounded to this format first
  // any_order, probabilistic: the accumulated result is then rounded to this format
  // (bf16, fp16), as reduced-precision kernels store their output; f32 = not rounded.
  InputFormat output = InputFormat::f32;
  // any_order: the kernel flushes subnormal x and w (DAZ) and results (FTZ) to zero,
  // as the x86 bf16 dot-product instructions (VDPBF16PS, TDPBF16PS) do; the bias is
  // added by an ordinary float32 addition (orders/input_format.hpp, kernel_inputs).
  bool ftz = false;
  double lambda = 5;                     // Kind::probabilistic
  int threads = 0;                       // truth and bound threads, 0 = all cores
  std::size_t worst = 10;                // outputs listed in CheckResult::worst

  std::string str() const;  // e.g. "im2col", "any-order:input=bf16,output=bf16,ftz=1", "probabilistic:lambda=5"
};

Tolerance rigorous(std::string order);
Tolerance rigorous_any_order(std::optional<Dtype> dtype = {}, InputFormat input = InputFormat::f32);
Tolerance probabilistic(double lambda = 5);

// "any-order[:dtype=f32|f64,input=bf16|fp16|tf32,output=bf16|fp16,ftz=0|1]",
// "probabilistic[:lambda=L,output=bf16|fp16]", or an order string (rigorous).
// Throws InputError naming the part at fault.
Tolerance parse_tolerance(std::string_view text);

struct CheckResult {
  bool passed = true;
  std::int64_t beyond = 0;          // outputs certainly beyond the tolerance
  std::int64_t outputs = 0;
  std::vector<OutputRecord> worst;  // those beyond first, then by |error|/bound, largest first
  BoundKind bound_kind;             // theorem behind the bound (bound_kind_name: "tree-gamma", "order-free", ...)
  std::string message;              // readable verdict listing the worst outputs
};

// observed in TO (the precision the code under test worked in), inputs in TI:
// float32 inputs may be checked against a float64 computation, not the reverse.
// With tol.output bf16 or fp16, observed holds that format's values widened to
// float32 (each checked representable). Bad inputs (shapes, non-finite x/w, unknown
// order, a value not in the output format) throw InputError.
template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const ConvProblem<TI>& p, const Tolerance& tol);

template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const Tensor<TI>& x, const Tensor<TI>& w, const ConvSpec& spec,
                       const Tolerance& tol, const Tensor<TI>* bias = nullptr) {
  return check_conv(observed, ConvProblem<TI>{spec, x, w, bias}, tol);
}

struct CertifiedTolerance {
  std::string result = "y";    // what per_element bounds: y, dx, dw or db (directions)
  Tensor<double> per_element;  // rigorous bound on |ŷ − y| per output, in the result's shape
  double atol = 0;             // |ŷ − y| ≤ atol at every output (with rtol = 0): the max of per_element
  double rtol = 0;             // |ŷ − y| ≤ rtol·|y| at every output (with atol = 0); +inf when some y may be 0
  BoundKind bound_kind;
};

// The per-element tolerance itself, for outputs computed in tol.dtype (default:
// the inputs' dtype; float64 on float32 inputs is allowed, not the reverse).
template <class TI>
CertifiedTolerance certified_tolerance(const ConvProblem<TI>& p, const Tolerance& tol);

template <class TI>
CertifiedTolerance certified_tolerance(const ConvSpec& spec, const Tensor<TI>& x, const Tensor<TI>& w, Dtype dtype,
                                       const Tensor<TI>* bias = nullptr) {
  return certified_tolerance(ConvProblem<TI>{spec, x, w, bias}, rigorous_any_order(dtype));
}

// Any direction and rank (docs/directions.md): gradients and 1-D/3-D problems,
// checked on their lowering to the 2-D engine (core/lower.hpp). observed is the
// direction's result in its own shape: y, dx or dw, and for BWD_WB dw or db, told
// apart by the shape. Records and the message name the result's own indices. An
// order tolerance must apply to the direction and rank (applies_to).
template <class TO, class TI>
CheckResult check_conv(const Tensor<TO>& observed, const ConvDesc& d, Direction dir, const Operands<TI>& ops,
                       const Tolerance& tol);

// One tolerance per result of the direction (BWD_WB: dw, then db).
template <class TI>
std::vector<CertifiedTolerance> certified_tolerance(const ConvDesc& d, Direction dir, const Operands<TI>& ops,
                                                    const Tolerance& tol);

}  // namespace certconv
