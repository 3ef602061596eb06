#pragma once
// A summation tree over the K terms of one output (k = c·KH·KW + kh·KW + kw, the
// im2col order) and the bias, as `certconv reveal` recovers it and the `tree` order
// replays it; and the tree file, which holds one tree per class of output positions.
//
// Text form: an S-expression, a leaf is its term index or `b` (the bias), a node is
// `(child child ...)`; e.g. `(b ((0 1) 2))`. A node with more than two children sums
// them as the left fold c1 + c2 + … (the reveal makes such nodes only when its probes
// cannot tell the children apart).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace certconv {

struct SumTree {
  struct Node {
    std::int64_t leaf = -1;  // term index, K for the bias; −1 for an inner node
    std::vector<std::int32_t> kids;
  };
  std::vector<Node> nodes;  // nodes[root]; children before their parents need not hold
  std::int32_t root = -1;

  std::int32_t add_leaf(std::int64_t leaf);
  std::int32_t add_node(std::vector<std::int32_t> kids);
};

// The S-expression of t; `bias_leaf` (= K) is written `b`.
std::string tree_text(const SumTree& t, std::int64_t bias_leaf);

// Parses an S-expression; throws InputError (naming `what` and the offset) on syntax
// errors, and unless the leaves are exactly 0 … K−1 (and `b` when has_bias), each once.
SumTree parse_tree(std::string_view text, std::int64_t K, bool has_bias, const std::string& what);

// The most nodes above a leaf (a tree of one leaf has depth 0).
std::int64_t tree_depth(const SumTree& t);

// A tree file (JSON, schema certconv.tree/1): K terms (+ the bias) and the trees.
// With one tree, lane_class is empty (and oh = ow = channels = 0): every output uses
// it. Otherwise the output at position m = oy·OW + ox of output channel c (within its
// group) uses trees[lane_class[(c mod channels)·OH·OW + m]]: channels = 1 when the
// class depends on the position only.
struct TreeFile {
  std::int64_t K = 0;
  bool has_bias = false;
  std::int64_t oh = 0, ow = 0, channels = 0;
  std::vector<SumTree> trees;
  std::vector<std::int32_t> lane_class;
};

inline constexpr const char* kTreeSchema = "certconv.tree/1";

TreeFile read_tree_file(const std::string& path);  // InputError naming the file and field
void write_tree_file(const std::string& path, const TreeFile& f);

}  // namespace certconv
