// Rebuilding a summation tree from swamping probes (reconstruct.hpp).
#include "certconv/reveal/reconstruct.hpp"

#include <algorithm>
#include <map>
#include <random>

namespace certconv {

namespace {

// A set of leaves that is the union of the children of node `parent` (v leaves).
struct Split {
  std::vector<std::int64_t> leaves;
  std::int64_t v;
  std::int32_t parent;
  bool lowest_pivot;
  // This round: the pivot is leaves[0]; a second pivot, asked in slots the round's
  // calls have to spare, is leaves[second] (0: none). Where their answers start.
  std::size_t second = 0, first_answer = 0, second_answer = 0;
};

class Rebuild {
 public:
  Rebuild(std::int64_t n, std::int64_t per_call, std::uint64_t seed) : n_(n), per_call_(per_call), rng_(seed) {}

  ReconstructResult run(const ProbeOracle& oracle) {
    ReconstructResult r;
    // The root's children, under a virtual parent with n + 1 leaves.
    const std::int32_t top = t_.add_node({});
    std::vector<Split> todo{{all_leaves(), n_ + 1, top, true}};
    while (!todo.empty() && ok_) {
      std::vector<Split> asked;
      std::vector<ProbePair> pairs;
      for (Split& s : todo) {
        if (s.leaves.size() == 1) {
          attach(s.parent, t_.add_leaf(s.leaves[0]));
          continue;
        }
        const std::size_t p = pivot(s);
        std::swap(s.leaves[0], s.leaves[p]);
        s.first_answer = pairs.size();
        for (std::size_t i = 1; i < s.leaves.size(); ++i) pairs.emplace_back(s.leaves[0], s.leaves[i]);
        asked.push_back(std::move(s));
      }
      todo.clear();
      if (pairs.empty()) break;
      second_pivots(asked, pairs);
      const std::vector<std::int64_t> l = oracle(pairs);
      r.queries += static_cast<std::int64_t>(pairs.size());
      ++r.rounds;
      for (std::size_t a = 0; a < asked.size() && ok_; ++a) split(asked[a], l, todo);
    }
    r.is_tree = ok_;
    if (!ok_) {
      r.why_not = why_;
      return r;
    }
    const SumTree::Node& root = t_.nodes[static_cast<std::size_t>(top)];
    if (root.kids.size() != 1) {
      r.is_tree = false;
      r.why_not = "the leaves form " + std::to_string(root.kids.size()) + " separate sums";
      return r;
    }
    t_.root = root.kids[0];
    r.tree = std::move(t_);
    return r;
  }

 private:
  std::int64_t n_, per_call_;
  std::mt19937_64 rng_;
  SumTree t_;
  bool ok_ = true;
  std::string why_;

  std::vector<std::int64_t> all_leaves() const {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n_));
    for (std::int64_t i = 0; i < n_; ++i) v[static_cast<std::size_t>(i)] = i;
    return v;
  }
  std::size_t pivot(const Split& s) {
    if (s.lowest_pivot)
      return static_cast<std::size_t>(std::min_element(s.leaves.begin(), s.leaves.end()) - s.leaves.begin());
    return static_cast<std::size_t>(rng_() % s.leaves.size());
  }
  // Fills the slots the round's last call has to spare with a second pivot's probes,
  // largest splits first: the other end of the leaf order (the bottom of a chain
  // summed backwards) or, after a random pivot, the lowest leaf. Free in calls.
  void second_pivots(std::vector<Split>& asked, std::vector<ProbePair>& pairs) const {
    if (per_call_ <= 0) return;
    const auto q = static_cast<std::int64_t>(pairs.size());
    std::int64_t spare = (q + per_call_ - 1) / per_call_ * per_call_ - q;
    std::vector<Split*> by_size;
    for (Split& s : asked) by_size.push_back(&s);
    std::stable_sort(by_size.begin(), by_size.end(),
                     [](const Split* a, const Split* b) { return a->leaves.size() > b->leaves.size(); });
    for (Split* s : by_size) {
      const auto m = static_cast<std::int64_t>(s->leaves.size());
      if (m < 3 || m - 1 > spare) continue;
      const auto it = s->lowest_pivot ? std::max_element(s->leaves.begin(), s->leaves.end())
                                      : std::min_element(s->leaves.begin(), s->leaves.end());
      s->second = static_cast<std::size_t>(it - s->leaves.begin());
      if (s->second == 0) continue;
      s->second_answer = pairs.size();
      for (std::size_t i = 0; i < s->leaves.size(); ++i)
        if (i != s->second) pairs.emplace_back(s->leaves[s->second], s->leaves[i]);
      spare -= m - 1;
    }
  }

  // The larger of the groups pivot answers a split into: the smaller, the fewer rounds.
  static std::size_t largest_group(const std::vector<std::int64_t>& a, std::int64_t v) {
    std::map<std::int64_t, std::size_t> count;
    for (const std::int64_t x : a) ++count[x < v ? x : v];
    std::size_t m = 0;
    for (const auto& [x, c] : count) m = std::max(m, c);
    return m;
  }

  void attach(std::int32_t parent, std::int32_t child) {
    t_.nodes[static_cast<std::size_t>(parent)].kids.push_back(child);
  }
  void fail(const std::string& why) {
    if (ok_) why_ = why;
    ok_ = false;
  }

  // The round's answers l for split s: of its pivot leaves[0] (and of leaves[second]);
  // the pivot whose groups are smaller splits it.
  void split(Split s, const std::vector<std::int64_t>& answers, std::vector<Split>& todo) {
    const std::size_t m = s.leaves.size();
    std::vector<std::int64_t> l(answers.begin() + static_cast<std::ptrdiff_t>(s.first_answer),
                                answers.begin() + static_cast<std::ptrdiff_t>(s.first_answer + m - 1));
    if (s.second != 0) {
      // Answers of the second pivot for leaves[1 …], leaves[0] moved to its place.
      std::vector<std::int64_t> l2(answers.begin() + static_cast<std::ptrdiff_t>(s.second_answer),
                                   answers.begin() + static_cast<std::ptrdiff_t>(s.second_answer + m - 1));
      if (largest_group(l2, s.v) < largest_group(l, s.v)) {
        std::swap(s.leaves[0], s.leaves[s.second]);
        // l2 is in leaf order without the second pivot; its first entry is the old pivot's.
        std::vector<std::int64_t> moved(m - 1);
        for (std::size_t i = 1; i < m; ++i) moved[i - 1] = i == s.second ? l2[0] : l2[i < s.second ? i : i - 1];
        l = std::move(moved);
      }
    }
    const std::int64_t q = s.leaves[0];
    std::map<std::int64_t, std::vector<std::int64_t>> path;  // v_k → G_k, within q's child
    std::vector<std::int64_t> rest;                          // the other children of s.parent
    for (std::size_t i = 1; i < s.leaves.size(); ++i) {
      const std::int64_t li = l[i - 1];
      if (li < 2 || li > s.v) {
        return fail("probe (" + std::to_string(q) + ", " + std::to_string(s.leaves[i]) + ") answered " +
                    (li < 0 ? std::string("no leaf count") : "l = " + std::to_string(li)) + ", outside [2, " +
                    std::to_string(s.v) + "]");
      }
      (li == s.v ? rest : path[li]).push_back(s.leaves[i]);
    }
    // Up the path from q: the node with v_k leaves holds the node below and G_k.
    std::int32_t below = t_.add_leaf(q);
    std::int64_t size = 1;
    for (auto& [vk, g] : path) {
      size += static_cast<std::int64_t>(g.size());
      if (size != vk)
        return fail("pivot " + std::to_string(q) + ": " + std::to_string(size) + " leaves share an ancestor with " +
                    std::to_string(vk) + " leaves");
      const std::int32_t node = t_.add_node({below});
      todo.push_back({std::move(g), vk, node, !s.lowest_pivot});
      below = node;
    }
    attach(s.parent, below);
    if (!rest.empty()) todo.push_back({std::move(rest), s.v, s.parent, !s.lowest_pivot});
  }
};

}  // namespace

ReconstructResult reconstruct_tree(std::int64_t n, const ProbeOracle& oracle, std::int64_t per_call,
                                   std::uint64_t seed) {
  if (n == 1) {
    ReconstructResult r;
    r.is_tree = true;
    r.tree.root = r.tree.add_leaf(0);
    return r;
  }
  return Rebuild(n, per_call, seed).run(oracle);
}

LcaCounts::LcaCounts(const SumTree& t, std::int64_t n) : t_(t) {
  const std::size_t m = t.nodes.size();
  parent_.assign(m, -1);
  depth_.assign(m, 0);
  leaf_node_.assign(static_cast<std::size_t>(n), -1);
  // Preorder from the root: parents before children.
  std::vector<std::int32_t> order{t.root};
  for (std::size_t i = 0; i < order.size(); ++i)
    for (std::int32_t c : t.nodes[static_cast<std::size_t>(order[i])].kids) {
      parent_[static_cast<std::size_t>(c)] = order[i];
      depth_[static_cast<std::size_t>(c)] = depth_[static_cast<std::size_t>(order[i])] + 1;
      order.push_back(c);
    }
  preorder_ = order;
  for (std::int32_t i : order)
    if (t.nodes[static_cast<std::size_t>(i)].leaf >= 0)
      leaf_node_[static_cast<std::size_t>(t.nodes[static_cast<std::size_t>(i)].leaf)] = i;
  size_ = counts({});
}

std::vector<std::int64_t> LcaCounts::counts(const std::vector<std::uint8_t>& valid) const {
  std::vector<std::int64_t> c(t_.nodes.size(), 0);
  for (std::size_t k = 0; k < leaf_node_.size(); ++k)
    if (valid.empty() || valid[k]) c[static_cast<std::size_t>(leaf_node_[k])] = 1;
  // Children before parents: the reverse preorder.
  for (auto it = preorder_.rbegin(); it != preorder_.rend(); ++it)
    if (parent_[static_cast<std::size_t>(*it)] >= 0)
      c[static_cast<std::size_t>(parent_[static_cast<std::size_t>(*it)])] += c[static_cast<std::size_t>(*it)];
  return c;
}

std::int32_t LcaCounts::lca(std::int64_t i, std::int64_t j) const {
  std::int32_t a = leaf_node_[static_cast<std::size_t>(i)], b = leaf_node_[static_cast<std::size_t>(j)];
  while (depth_[static_cast<std::size_t>(a)] > depth_[static_cast<std::size_t>(b)])
    a = parent_[static_cast<std::size_t>(a)];
  while (depth_[static_cast<std::size_t>(b)] > depth_[static_cast<std::size_t>(a)])
    b = parent_[static_cast<std::size_t>(b)];
  while (a != b) {
    a = parent_[static_cast<std::size_t>(a)];
    b = parent_[static_cast<std::size_t>(b)];
  }
  return a;
}

std::int64_t LcaCounts::operator()(std::int64_t i, std::int64_t j) const {
  return size_[static_cast<std::size_t>(lca(i, j))];
}

}  // namespace certconv
