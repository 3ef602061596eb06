#pragma once
// Schema certconv.reveal/1 (docs/json-schema.md, docs/reveal.md): the one place that
// builds it, for `certconv reveal`; and the Graphviz text of revealed trees.
#include <nlohmann/json.hpp>
#include <string>

#include "certconv/core/format.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/reveal/reveal.hpp"

namespace certconv {

inline constexpr const char* kRevealSchema = "certconv.reveal/1";

// What was revealed and how to replay it: `black_box` describes it (order, backend
// or command), `order` is the `tree:file=...` order (empty when no tree was found),
// tree_file where the trees were written.
struct RevealRequest {
  const ConvSpec& spec;
  bool has_bias;
  Dtype dtype;
  int threads;
  nlohmann::json black_box;
  std::string order, tree_file;
  RevealOptions options;
};

nlohmann::json reveal_document(const RevealRequest& q, const RevealResult& r);

// One digraph with a cluster per tree: inner nodes are the roundings, leaves the terms
// as (c,kh,kw) and the bias as b.
std::string reveal_dot(const ConvSpec& spec, const TreeFile& f);

}  // namespace certconv
