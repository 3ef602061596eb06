#pragma once
// Revealing the summation order of a convolution run as a black box (x, w, bias) → y,
// then choosing its numerics and checking the replay. The probes of reconstruct.hpp,
// laid out on a convolution: x ≡ 1, bias ≡ 1 and w ≡ 1 except +M and −M at the two
// taps (or the bias) of one probe per output channel, so one call answers one probe
// per output channel, at every output position at once. M = 2^127 (f32) or 2^1023
// (f64) swamps any partial sum of ones.
//
// Lanes: an output (channel c, position m) of image 0. Two calibration calls put the
// same probes on every channel; interior lanes (no padded taps) that answer them alike
// are taken to share a tree, one lane per channel is its representative, and the
// rebuild spreads its probes over those channels. Afterwards every lane whose answers
// (calibration and rebuild, each lane answering its own channel's probes) are those of
// the tree, over its valid taps for border lanes, takes the tree's class; the rest
// start the next class. Numerics the probes cannot see (FMA or not; which leaf of a
// bottom pair is rounded first; for bf16 kernels the inputs rounded to bf16, flush to
// zero and a bf16 output) are chosen by bit-exact replay on random inputs; a second,
// fresh random input is the replay check.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "certconv/core/format.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/sum_tree.hpp"

namespace certconv {

template <class T>
using BlackBox = std::function<Tensor<T>(const ConvProblem<T>&)>;

struct RevealOptions {
  std::uint64_t seed = 1;  // random pivots and the random inputs
  int threads = 1;         // for the replays and the truth
  int max_classes = 8;     // classes (rebuilds) at most
  bool check_bounds = true;
};

enum class RevealStatus { tree, not_a_tree, non_deterministic };
const char* reveal_status_name(RevealStatus s);  // "tree", "not_a_tree", "non_deterministic"

struct RevealNumerics {
  TreeFma fma = TreeFma::none;
  bool first_lo = true;
  TreeRounding rounding;          // tried only when no plain float32 choice replays half
  double identical_fraction = 0;  // of the lanes reproduced on every choosing input
};

// The tree order's parameters for these numerics: ",fma=..,first=..", then
// ",input=bf16", ",ftz=1", ",dst=bf16" where set.
std::string tree_numerics_params(const RevealNumerics& n);

struct RevealResult {
  RevealStatus status = RevealStatus::tree;
  std::string reason;  // for not_a_tree and non_deterministic
  TreeFile trees;
  std::vector<std::int64_t> class_lanes;  // lanes (channel, position) per class
  std::int64_t unexplained_lanes = 0;     // matched no class by their probes
  std::vector<RevealNumerics> numerics;   // every candidate, in the order tried
  RevealNumerics chosen;
  // Black-box calls in all; for calibration and rebuilds; probes; rounds of probes.
  std::int64_t calls = 0, probe_calls = 0, queries = 0, rounds = 0;
  double probe_seconds = 0, seconds = 0;
  // The replay check on a fresh random input.
  std::int64_t replay_outputs = 0, replay_mismatches = 0;
  double replay_identical_fraction = 0;
  // The order's bound on that input (the tree bound, Theorem tree_gamma; with the bf16
  // numerics as tree.cpp says), against the truth, and the float32 order-free bound
  // of the same n: violations, max err/bound, and bound ratios.
  bool bounds_checked = false;
  std::int64_t bound_violations = 0;
  double max_tightness = 0, max_bound_ratio = 0, median_bound_ratio = 0;
};

template <class T>
RevealResult reveal_conv(const ConvSpec& spec, bool has_bias, const BlackBox<T>& box, const RevealOptions& opt);

// The summation tree of FPRev's basic method: l(i, j) for every pair, n(n − 1)/2 probes
// of one per output channel: the calls it needs, for comparison.
std::int64_t all_pairs_calls(std::int64_t n, std::int64_t oc);

}  // namespace certconv
