#pragma once
// Rebuilding a summation tree from swamping probes (FPRev: Xie, Gao, Xue, USENIX ATC
// 2025). A probe (i, j) sets every leaf to 1 but leaf i to +M and leaf j to −M, M so
// large that every partial sum holding one of them is exactly ±M: they cancel at the
// lowest common ancestor of i and j and every 1 below it is lost, so the sum tells
// l(i, j) = the number of leaves under LCA(i, j).
//
// The rebuild: a set G known to be the union of the children of a node with v leaves
// (at first: every leaf, v = n + 1) is split by a pivot q ∈ G: the leaves j with
// l(q, j) < v form q's child C; grouping C by l(q, j) = v_1 < … < v_m gives the path
// from q up to C's root: the node with v_k leaves has the node below it and the
// children made of G_k = {j : l(q, j) = v_k}, each G_k again a union of children. The
// rest G \ C is split the same way. Every set waiting for its pivot's answers is asked
// in the same round, so the rounds are the depth of this recursion (the pivots
// alternate between the lowest leaf, which is the bottom of a chain summed in leaf
// order, and a random leaf, which keeps the depth logarithmic in expectation).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "certconv/orders/sum_tree.hpp"

namespace certconv {

using ProbePair = std::pair<std::int64_t, std::int64_t>;

// Answers a round of probes: l(i, j) per pair, or −1 when the output is no valid
// count (not an integer in [2, n]).
using ProbeOracle = std::function<std::vector<std::int64_t>(const std::vector<ProbePair>&)>;

struct ReconstructResult {
  bool is_tree = false;
  std::string why_not;  // when !is_tree: the first answer that fits no tree
  SumTree tree;
  std::int64_t queries = 0, rounds = 0;
};

// The tree over leaves 0 … n−1 that the oracle's answers describe. per_call: the
// probes one black-box call answers (0: unknown), so that a round's spare slots ask a
// second pivot; `seed` picks the random pivots.
ReconstructResult reconstruct_tree(std::int64_t n, const ProbeOracle& oracle, std::int64_t per_call = 0,
                                   std::uint64_t seed = 1);

// l(i, j) for every pair of leaves of a tree with n leaves: what the oracle of that
// tree answers (for tests and for checking a tree against recorded answers).
class LcaCounts {
 public:
  LcaCounts(const SumTree& t, std::int64_t n);
  // Leaves under LCA(i, j).
  std::int64_t operator()(std::int64_t i, std::int64_t j) const;
  std::int32_t lca(std::int64_t i, std::int64_t j) const;
  // Leaves under each node among those with valid[leaf] set (all when valid is empty).
  std::vector<std::int64_t> counts(const std::vector<std::uint8_t>& valid) const;

 private:
  const SumTree& t_;
  std::vector<std::int32_t> parent_, depth_, leaf_node_, preorder_;
  std::vector<std::int64_t> size_;
};

}  // namespace certconv
