// Summation trees and tree files (sum_tree.hpp).
#include "certconv/orders/sum_tree.hpp"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"

namespace certconv {

std::int32_t SumTree::add_leaf(std::int64_t leaf) {
  nodes.push_back({leaf, {}});
  return static_cast<std::int32_t>(nodes.size() - 1);
}

std::int32_t SumTree::add_node(std::vector<std::int32_t> kids) {
  nodes.push_back({-1, std::move(kids)});
  return static_cast<std::int32_t>(nodes.size() - 1);
}

namespace {

void put(const SumTree& t, std::int32_t i, std::int64_t bias_leaf, std::string& s) {
  const SumTree::Node& n = t.nodes[static_cast<std::size_t>(i)];
  if (n.leaf >= 0) {
    s += n.leaf == bias_leaf ? "b" : std::to_string(n.leaf);
    return;
  }
  s += '(';
  for (std::size_t c = 0; c < n.kids.size(); ++c) {
    if (c) s += ' ';
    put(t, n.kids[c], bias_leaf, s);
  }
  s += ')';
}

struct Parser {
  std::string_view s;
  std::size_t i = 0;
  std::int64_t K;
  const std::string& what;
  SumTree t;

  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(what + ": " + why + " at offset " + std::to_string(i));
  }
  void skip() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) ++i;
  }
  std::int32_t node() {
    skip();
    if (i >= s.size()) fail("unexpected end of tree");
    if (s[i] == '(') {
      ++i;
      std::vector<std::int32_t> kids;
      for (skip(); i < s.size() && s[i] != ')'; skip()) kids.push_back(node());
      if (i >= s.size()) fail("missing ')'");
      ++i;
      if (kids.size() < 2) fail("a node needs two or more children");
      return t.add_node(std::move(kids));
    }
    if (s[i] == 'b') {
      ++i;
      return t.add_leaf(K);
    }
    std::int64_t v = 0;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 12) v = v * 10 + (s[i++] - '0');
    if (i == start) fail("expected '(', 'b' or a term index");
    return t.add_leaf(v);
  }
};

}  // namespace

std::string tree_text(const SumTree& t, std::int64_t bias_leaf) {
  std::string s;
  put(t, t.root, bias_leaf, s);
  return s;
}

SumTree parse_tree(std::string_view text, std::int64_t K, bool has_bias, const std::string& what) {
  Parser p{text, 0, K, what, {}};
  p.t.root = p.node();
  p.skip();
  if (p.i != text.size()) p.fail("text after the tree");
  // Every leaf exactly once: the tree sums each term (and the bias) once.
  std::vector<int> seen(static_cast<std::size_t>(K + 1), 0);
  for (const SumTree::Node& n : p.t.nodes) {
    if (n.leaf < 0) continue;
    require(n.leaf <= K && (n.leaf < K || has_bias), what + ": leaf " + std::to_string(n.leaf) +
                                                         " is not a term of this problem (" + std::to_string(K) +
                                                         " terms" + (has_bias ? " and the bias" : ", no bias") + ")");
    require(seen[static_cast<std::size_t>(n.leaf)]++ == 0,
            what + ": leaf " + (n.leaf == K ? std::string("b") : std::to_string(n.leaf)) + " appears twice");
  }
  for (std::int64_t k = 0; k < K + (has_bias ? 1 : 0); ++k)
    require(seen[static_cast<std::size_t>(k)] == 1,
            what + ": leaf " + (k == K ? std::string("b") : std::to_string(k)) + " is missing");
  return p.t;
}

std::int64_t tree_depth(const SumTree& t) {
  std::int64_t best = 0;
  std::vector<std::pair<std::int32_t, std::int64_t>> stack{{t.root, 0}};
  while (!stack.empty()) {
    const auto [i, d] = stack.back();
    stack.pop_back();
    best = std::max(best, d);
    for (std::int32_t c : t.nodes[static_cast<std::size_t>(i)].kids) stack.emplace_back(c, d + 1);
  }
  return best;
}

TreeFile read_tree_file(const std::string& path) {
  std::ifstream in(path);
  require(static_cast<bool>(in), path + ": cannot open the tree file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not JSON (" + e.what() + ")");
  }
  auto field = [&](const char* key) -> const nlohmann::json& {
    require(j.is_object() && j.contains(key), path + ": missing field '" + key + "'");
    return j[key];
  };
  require(field("schema") == kTreeSchema, path + ": field 'schema' must be " + std::string(kTreeSchema));
  TreeFile f;
  try {
    f.K = field("terms").get<std::int64_t>();
    f.has_bias = field("bias").get<bool>();
    f.oh = field("oh").get<std::int64_t>();
    f.ow = field("ow").get<std::int64_t>();
    f.channels = field("channels").get<std::int64_t>();
    require(f.K >= 1 && f.oh >= 0 && f.ow >= 0 && f.channels >= 0,
            path + ": fields 'terms', 'oh', 'ow', 'channels' out of range");
    const nlohmann::json& trees = field("trees");
    require(trees.is_array() && !trees.empty(), path + ": field 'trees' must be a non-empty array");
    for (std::size_t c = 0; c < trees.size(); ++c)
      f.trees.push_back(
          parse_tree(trees[c].get<std::string>(), f.K, f.has_bias, path + ": trees[" + std::to_string(c) + "]"));
    f.lane_class = field("lane_class").get<std::vector<std::int32_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": " + e.what());
  }
  const bool one = f.lane_class.empty();
  require(one ? f.trees.size() == 1 : f.channels >= 1 && std::ssize(f.lane_class) == f.channels * f.oh * f.ow,
          path + ": 'lane_class' must be empty (one tree) or hold channels*oh*ow entries");
  for (std::int32_t c : f.lane_class)
    require(c >= 0 && c < std::ssize(f.trees),
            path + ": 'lane_class' names tree " + std::to_string(c) + " of " + std::to_string(f.trees.size()));
  return f;
}

void write_tree_file(const std::string& path, const TreeFile& f) {
  nlohmann::json trees = nlohmann::json::array();
  for (const SumTree& t : f.trees) trees.push_back(tree_text(t, f.K));
  const nlohmann::json j{{"schema", kTreeSchema},
                         {"terms", f.K},
                         {"bias", f.has_bias},
                         {"oh", f.oh},
                         {"ow", f.ow},
                         {"channels", f.channels},
                         {"trees", std::move(trees)},
                         {"lane_class", f.lane_class}};
  write_file_atomic(path, j.dump() + "\n");
}

}  // namespace certconv
