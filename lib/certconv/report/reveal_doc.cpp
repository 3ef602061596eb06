// Schema certconv.reveal/1: the document from a RevealResult (report/reveal_doc.hpp).
#include "certconv/report/reveal_doc.hpp"

#include "certconv/core/parallel.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/metadata.hpp"

namespace certconv {

json reveal_document(const RevealRequest& q, const RevealResult& r) {
  json doc = document_header(kRevealSchema, resolve_threads(q.threads));
  doc["problem"] = problem_json(q.spec);
  doc["dtype"] = dtype_name(q.dtype);
  doc["bias"] = q.has_bias;
  doc["inputs"] = {{"source", "generator"},
                   {"dist", "probes (ones and +-M), then kaiming: x ~ N(0, 1), w and bias ~ U(+-1/sqrt(terms))"},
                   {"seed", q.options.seed}};
  doc["black_box"] = q.black_box;
  doc["parameters"] = {{"dtype", dtype_name(q.dtype)},
                       {"threads", resolve_threads(q.threads)},
                       {"seed", q.options.seed},
                       {"max_classes", q.options.max_classes}};
  const bool tree = r.status == RevealStatus::tree;
  doc["status"] = reveal_status_name(r.status);
  doc["reason"] = r.reason.empty() ? json(nullptr) : json(r.reason);
  // Null when no tree was found, or no file was asked for (Python without tree_out).
  doc["order"] = tree && !q.order.empty() ? json(q.order) : json(nullptr);
  doc["tree_file"] = tree && !q.tree_file.empty() ? json(q.tree_file) : json(nullptr);
  const std::int64_t K = q.spec.n_terms();
  doc["terms"] = K;
  doc["leaves"] = K + (q.has_bias ? 1 : 0);
  json trees = json::array();
  for (std::size_t c = 0; c < r.trees.trees.size(); ++c)
    trees.push_back({{"class", c},
                     {"lanes", c < r.class_lanes.size() ? r.class_lanes[c] : 0},
                     {"depth", tree_depth(r.trees.trees[c])},
                     {"tree", tree_text(r.trees.trees[c], K)}});
  doc["trees"] = std::move(trees);
  doc["classes"] = {{"by", r.trees.trees.size() <= 1 ? "none"
                           : r.trees.channels == 1   ? "position"
                                                     : "channel_position"},
                    {"unexplained_lanes", r.unexplained_lanes}};
  auto numerics = [](const RevealNumerics& n) {
    return json{{"fma", tree_fma_name(n.fma)},
                {"first", n.first_lo ? "lo" : "hi"},
                {"input", n.rounding.bf16_input ? "bf16" : "f32"},
                {"ftz", n.rounding.ftz},
                {"dst", n.rounding.bf16_dst ? "bf16" : "f32"}};
  };
  json cands = json::array();
  for (const RevealNumerics& n : r.numerics) {
    cands.push_back(numerics(n));
    cands.back()["identical_fraction"] = n.identical_fraction;
  }
  doc["numerics"] = {{"chosen", tree ? numerics(r.chosen) : json(nullptr)}, {"candidates", std::move(cands)}};
  const std::int64_t oc = q.spec.oc;
  doc["cost"] = {{"calls", r.calls},
                 {"probe_calls", r.probe_calls},
                 {"probes", r.queries},
                 {"rounds", r.rounds},
                 {"probe_seconds", r.probe_seconds},
                 {"seconds", r.seconds},
                 {"all_pairs_calls", all_pairs_calls(K + (q.has_bias ? 1 : 0), oc)}};
  if (tree) {
    doc["replay"] = {{"inputs", "fresh random: x ~ N(0, 1), w and bias ~ U(+-1/sqrt(terms))"},
                     {"outputs", r.replay_outputs},
                     {"mismatches", r.replay_mismatches},
                     {"identical_fraction", r.replay_identical_fraction},
                     {"equality", "bitwise (-0.0 and +0.0 differ)"}};
  } else {
    doc["replay"] = nullptr;
  }
  if (tree && r.bounds_checked) {
    json b{{"bound_kind", "tree_gamma"}, {"violations", r.bound_violations}};
    put_number(b, "max_tightness", r.max_tightness);
    put_number(b, "max_ratio_to_order_free", r.max_bound_ratio);
    put_number(b, "median_ratio_to_order_free", r.median_bound_ratio);
    doc["bounds"] = std::move(b);
  } else {
    doc["bounds"] = nullptr;
  }
  return doc;
}

std::string reveal_dot(const ConvSpec& spec, const TreeFile& f) {
  const std::int64_t khw = spec.kh * spec.kw;
  std::string s = "digraph reveal {\n  node [shape=circle, label=\"+\", width=0.2, fontsize=8];\n";
  for (std::size_t c = 0; c < f.trees.size(); ++c) {
    const SumTree& t = f.trees[c];
    std::string id(1, 't');  // built piecewise: GCC 12 warns falsely (-Wrestrict) on "t" + to_string
    id += std::to_string(c);
    id += '_';
    s += "  subgraph cluster_" + std::to_string(c) + " {\n    label=\"class " + std::to_string(c) + "\";\n";
    for (std::size_t i = 0; i < t.nodes.size(); ++i) {
      const std::int64_t leaf = t.nodes[i].leaf;
      if (leaf >= 0) {
        s += "    " + id + std::to_string(i) + " [shape=box, label=\"";
        if (leaf == f.K) {
          s += 'b';
        } else {
          s += std::to_string(leaf / khw);
          s += ',';
          s += std::to_string(leaf % khw / spec.kw);
          s += ',';
          s += std::to_string(leaf % spec.kw);
        }
        s += "\"];\n";
      }
      for (const std::int32_t k : t.nodes[i].kids)
        s += "    " + id + std::to_string(i) + " -> " + id + std::to_string(k) + ";\n";
    }
    s += "  }\n";
  }
  return s + "}\n";
}

}  // namespace certconv
