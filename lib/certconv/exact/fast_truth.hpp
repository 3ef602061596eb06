#pragma once
// Fast certified truth (TruthMethod::auto_): binary64 kernels produce, per output,
// an enclosure of the exact y = Σ w·x (+ bias) and of Σ|w·x| (+ |bias|) as a high
// part known exactly plus a low part with a rigorous error bound; wherever the
// enclosure determines RN/RD/RU binary64, RN binary32 and RU of absdot, those are
// written (they equal the exact path's by construction); the other outputs are
// returned for the exact path. How it works: fast_truth.cpp, fast_truth_kernel.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certconv/exact/truth.hpp"

namespace certconv {

// Kernel builds selected at run time; all give bit-identical results.
enum class KernelIsa { generic, avx2, avx512 };
std::string isa_name(KernelIsa isa);
// The builds this CPU can run, generic first.
std::vector<KernelIsa> supported_isas();

struct FastTruthOptions {
  int threads = 1;                // 0 = hardware concurrency
  std::optional<KernelIsa> isa;   // default: the best supported
  bool absdot = true;             // false: Σ|w·x| is not accumulated, t.absdot untouched
};

// Fills y, y32, lo, hi, absdot (absdot only if asked for; t's tensors already have the output shape) and
// counts exact_zeros for every output it decides; returns the flat indices of the
// undecided outputs in increasing order, whose fields hold meaningless values that
// the caller must overwrite.
template <class T>
std::vector<std::int64_t> fast_truth(const ConvProblem<T>& p, const FastTruthOptions& opt, Truth& t);

}  // namespace certconv
