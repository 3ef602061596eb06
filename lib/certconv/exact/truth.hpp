#pragma once
// Per-layer certified truth: for every output of a convolution, the exact value
// y = Σ w·x (+ bias) rounded once, explicitly, plus an enclosure, absdot and cond.
#include <cstdint>
#include <string>

#include "certconv/core/fp_env.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// auto_: the integer method below on layers where it is the faster (binary32, one
// group, unit stride, ≥ 32 input and output channels, ≥ 1,024 terms, an AVX-512
// VNNI CPU, operands the moduli reach), else the fast binary64 path
// (exact/fast_truth.hpp); the exact path for the outputs either leaves undecided.
// Every field equals method exact's.
// exact: the exact accumulator for every output.
// mpfi: the independent interval method.
// integer: exact integer sums on the int8 dot-product units
// (exact/integer_truth.hpp; binary32 inputs, CPUs with AVX-512 VNNI), the exact
// path for what it leaves.
// binary64: the fast binary64 path alone (what auto does where it does not take the
// integer method), the exact path for what it leaves.
enum class TruthMethod { auto_, exact, mpfi, integer, binary64 };

// "auto", "exact", "mpfi", "integer", "binary64" (CLI and JSON spelling).
const char* truth_method_name(TruthMethod m);
// The method of that name; InputError naming the choices otherwise.
TruthMethod parse_truth_method(const std::string& name);

struct TruthOptions {
  TruthMethod method = TruthMethod::auto_;
  int precision = 256;  // MPFI working precision in bits (method mpfi)
  int threads = 1;      // 0 = hardware concurrency
  bool progress = false;
  // false: absdot is not computed and Truth::absdot stays empty (the fast method
  // then skips its Σ|w·x| pass, half of its work).
  bool absdot = true;
};

// Methods auto and exact: every field is certified as described. Method mpfi (the
// independent second method): lo/hi are the MPFI enclosure rounded outward and
// absdot its upper end; y is certified only where lo == hi, elsewhere it is the
// midpoint of [lo, hi] and counted in `undetermined` (y32 = y rounded to binary32).
struct Truth {
  Tensor<double> y;       // correctly rounded binary64 (round-to-nearest-even)
  Tensor<float> y32;      // correctly rounded binary32 of the exact value (no double rounding)
  Tensor<double> lo, hi;  // lo ≤ exact ≤ hi; lo == hi exactly when exact is a binary64 number
  Tensor<double> absdot;  // Σ|w·x| + |bias|, rounded up (empty unless TruthOptions::absdot)
  std::int64_t exact_zeros = 0;   // outputs whose exact value is 0 (mpfi: enclosure [0, 0])
  std::int64_t undetermined = 0;  // outputs whose y is not certified correctly rounded (mpfi only)
  // Outputs evaluated by the exact accumulator path: those the fast path left
  // undecided (auto), every output (exact), none (mpfi).
  std::int64_t fallback = 0;
  // What computed the outputs: "exact", "mpfi", "binary64" or "integer, N moduli"
  // (method auto names the one it took).
  std::string kernel;
};

// An entry point: runs under FpEnvGuard (core/fp_env.hpp), whatever the caller's
// floating-point environment.
template <class T>
Truth compute_truth(const ConvProblem<T>& p, const TruthOptions& opt);

// cond = absdot / |y|, +inf when y = 0 (the vocabulary's cond).
double cond_of(double absdot, double y);

}  // namespace certconv
