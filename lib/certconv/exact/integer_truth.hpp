#pragma once
// Integer certified truth (TruthMethod::integer): each output's Σ w·x computed
// exactly in integer arithmetic on the CPU's int8 dot-product units (AVX-512 VNNI),
// by residues modulo small coprime moduli and the Chinese remainder theorem — the
// modular form of the Ozaki scheme (Ozaki, Uchino, Imamura 2024, "Ozaki scheme II").
// How and why it is exact: docs/integer-truth.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certconv/exact/truth.hpp"

namespace certconv {

struct IntegerTruthOptions {
  int threads = 1;     // 0 = hardware concurrency
  bool absdot = true;  // false: t.absdot untouched
};

// Why the method cannot run p here (empty: it can): no AVX-512 VNNI on this CPU,
// grouped convolutions, or operands whose exponent spread needs more than the
// sixteen moduli hold. threads: for the scan of the operands' exponents.
std::string integer_truth_refusal(const ConvProblem<float>& p, int threads = 1);

// The contract of fast_truth (fast_truth.hpp): fills y, y32, lo, hi (absdot if
// asked for) and counts exact_zeros for every output it decides, names itself in
// t.kernel ("integer, N moduli"), returns the flat
// indices of the others in increasing order. Outputs are undecided only where the
// bias makes the final sum inexact near a rounding boundary. Requires
// integer_truth_refusal(p) to be empty, else throws InputError naming the reason.
std::vector<std::int64_t> integer_truth(const ConvProblem<float>& p, const IntegerTruthOptions& opt, Truth& t);
// The same, or nothing (t untouched) where the method cannot run.
std::optional<std::vector<std::int64_t>> try_integer_truth(const ConvProblem<float>& p,
                                                            const IntegerTruthOptions& opt, Truth& t);

}  // namespace certconv
