// certconv reveal's cost: black-box calls (against FPRev's all-pairs count), rounds,
// probes and seconds, with the replay fraction, per layer and black box, one thread.
// Layers: conv1 (147 terms + bias; target ≤ 30 calls) and a 3×3 layer over 256
// channels (2,304 terms + bias; target ≤ 60 calls). Black boxes: the real backends
// built in and three emulated orders.
// Usage: bench_reveal > reveal.json
#include <iostream>
#include <string>

#include "certconv/core/spec.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/metadata.hpp"
#include "certconv/reveal/reveal.hpp"

using namespace certconv;

int main() {
  std::vector<std::string> boxes{"onednn-avx512", "openblas-haswell", "pairwise"};
  for (const OrderInfo& o : order_list())
    if (o.kind == OrderKind::backend) boxes.push_back(o.name);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [desc, target] :
       {std::pair{"mb1ic3ih224oc64oh112kh7sh2ph3", 30}, std::pair{"mb1ic256ih28oc256kh3ph1", 60}}) {
    const ConvSpec s = parse_benchdnn(desc);
    for (const std::string& name : boxes) {
      const OrderSpec o = parse_order(name);
      const BlackBox<float> box = [&o](const ConvProblem<float>& p) { return run_order(o, p, RunOptions{1, false}).y; };
      RevealOptions opt;
      opt.check_bounds = false;  // the truth is not the reveal's cost
      const RevealResult r = reveal_conv<float>(s, true, box, opt);
      const std::int64_t n = s.n_terms() + 1;
      rows.push_back({{"problem", to_benchdnn(s)},
                      {"black_box", order_str(o)},
                      {"status", reveal_status_name(r.status)},
                      {"trees", r.trees.trees.size()},
                      {"calls", r.calls},
                      {"calls_target", target},
                      {"probe_calls", r.probe_calls},
                      {"all_pairs_calls", all_pairs_calls(n, s.oc)},
                      {"rounds", r.rounds},
                      {"probes", r.queries},
                      {"probe_seconds", r.probe_seconds},
                      {"seconds", r.seconds},
                      {"replay_identical_fraction", r.replay_identical_fraction}});
    }
  }
  nlohmann::json j = document_header("certconv.bench.reveal/1", 1);
  j["parameters"] = {{"dtype", "f32"}, {"bias", true}, {"threads", 1}, {"seed", RevealOptions{}.seed}};
  j["rows"] = std::move(rows);
  std::cout << j.dump(2) << "\n";
  return 0;
}
