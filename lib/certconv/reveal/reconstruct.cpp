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
};

class Rebuild {
 public:
  Rebuild(std::int64_t n, std::uint64_t seed) : n_(n), rng_(seed) {}

  ReconstructResult run(const ProbeOracle& oracle) {
    ReconstructResult r;
    // The root's children, under a virtual parent with n + 1 leaves.
    const std::int32_t top = t_.add_node({});
    std::vector<Split> todo{{all_leaves(), n_ + 1, top, true}};
    while (!todo.empty() && ok_) {
      std::vector<Split> asked;
      std::vector<ProbePair> pairs;
      std::vector<std::size_t> first;  // where each split's answers start
      for (Split& s : todo) {
        if (s.leaves.size() == 1) {
          attach(s.parent, t_.add_leaf(s.leaves[0]));
          continue;
        }
        const std::size_t p = pivot(s);
        std::swap(s.leaves[0], s.leaves[p]);
        first.push_back(pairs.size());
        for (std::size_t i = 1; i < s.leaves.size(); ++i) pairs.emplace_back(s.leaves[0], s.leaves[i]);
        asked.push_back(std::move(s));
      }
      todo.clear();
      if (pairs.empty()) break;
      const std::vector<std::int64_t> l = oracle(pairs);
      r.queries += static_cast<std::int64_t>(pairs.size());
      ++r.rounds;
      for (std::size_t a = 0; a < asked.size() && ok_; ++a) split(asked[a], l.data() + first[a], todo);
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
  std::int64_t n_;
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
  void attach(std::int32_t parent, std::int32_t child) {
    t_.nodes[static_cast<std::size_t>(parent)].kids.push_back(child);
  }
  void fail(const std::string& why) {
    if (ok_) why_ = why;
    ok_ = false;
  }

  // s.leaves[0] is the pivot q and l[i − 1] = l(q, s.leaves[i]).
  void split(const Split& s, const std::int64_t* l, std::vector<Split>& todo) {
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

ReconstructResult reconstruct_tree(std::int64_t n, const ProbeOracle& oracle, std::uint64_t seed) {
  if (n == 1) {
    ReconstructResult r;
    r.is_tree = true;
    r.tree.root = r.tree.add_leaf(0);
    return r;
  }
  return Rebuild(n, seed).run(oracle);
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
