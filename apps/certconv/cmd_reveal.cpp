// certconv reveal: recover the summation order of a convolution run as a black box
// (a registry order or backend, or a shell command), bound it and replay it. Exit 0
// when the revealed trees replay every output of a fresh random input bit for bit,
// 1 otherwise (not a tree, non-deterministic, or a replay below 1), 2 on bad input
// (including a command that fails, times out or writes a wrong output).
#include <cstdio>
#include <memory>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/reveal_doc.hpp"
#include "black_box.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct RevealArgs {
  std::string spec, backend, command, dtype, json_out, tree_out, dot;
  bool no_bias = false;
  int threads = 1;
  double timeout = 600;
  std::uint64_t seed = 1;
};

template <class T>
int run_reveal(const RevealArgs& a, const ConvSpec& spec) {
  const bool has_bias = !a.no_bias;
  RevealOptions opt;
  opt.seed = a.seed;
  opt.threads = a.threads;
  require(has_bias || a.command.find("{bias}") == std::string::npos,
          "--command uses {bias}, but --no-bias says the problem has none");
  const BlackBoxSpec bs{a.backend, a.command, a.timeout, a.threads};
  AppBlackBox<T> box(bs);
  const RevealResult r = reveal_conv<T>(spec, has_bias, box.fn, opt);
  box.close();

  const bool tree = r.status == RevealStatus::tree;
  std::string order;
  if (tree) {
    write_tree_file(a.tree_out, r.trees);
    order = order_str(parse_order("tree:file=" + a.tree_out + tree_numerics_params(r.chosen)));
  }
  if (tree && !a.dot.empty()) write_file_atomic(a.dot, reveal_dot(spec, r.trees));
  const RevealRequest q{spec, has_bias, dtype_of<T>(), a.threads, box.describe, order, a.tree_out, opt};
  write_json(a.json_out, reveal_document(q, r));

  std::printf("%s, %lld terms%s: %s\n", to_benchdnn(spec).c_str(), static_cast<long long>(spec.n_terms()),
              has_bias ? " + bias" : "", reveal_status_name(r.status));
  std::printf("calls %lld (probes %lld in %lld rounds, %lld calls; FPRev all pairs: %lld calls), %.2f s\n",
              static_cast<long long>(r.calls), static_cast<long long>(r.queries), static_cast<long long>(r.rounds),
              static_cast<long long>(r.probe_calls),
              static_cast<long long>(all_pairs_calls(spec.n_terms() + (has_bias ? 1 : 0), spec.oc)), r.seconds);
  if (!tree) {
    std::printf("%s\n", r.reason.c_str());
  } else {
    std::printf("trees %zu (depth", r.trees.trees.size());
    for (const SumTree& t : r.trees.trees) std::printf(" %lld", static_cast<long long>(tree_depth(t)));
    std::printf("), numerics %s\n", tree_numerics_params(r.chosen).substr(1).c_str());
    std::printf("replay on fresh random inputs: %.6f identical (%lld of %lld differ)\n", r.replay_identical_fraction,
                static_cast<long long>(r.replay_mismatches), static_cast<long long>(r.replay_outputs));
    // The order's bound (tree.cpp): the bf16 kernels' order-free one with ftz or a bf16 dst.
    const TreeRounding& rd = r.chosen.rounding;
    const char* bound = rd.ftz || rd.bf16_dst ? "bf16 kernel bound"
                        : rd.bf16_input       ? "tree bound + input rounding"
                                              : "tree bound";
    if (r.bounds_checked)
      std::printf("%s: %lld violations, max err/bound %.3g, bound/order-free median %.3g max %.3g\n", bound,
                  static_cast<long long>(r.bound_violations), r.max_tightness, r.median_bound_ratio, r.max_bound_ratio);
    std::printf("order: %s\n", order.c_str());
  }
  std::printf("wrote %s\n", a.json_out.c_str());
  return tree && r.replay_identical_fraction == 1.0 ? 0 : 1;
}

}  // namespace

Runner add_reveal(CLI::App& app) {
  auto a = std::make_shared<RevealArgs>();
  auto* cmd = app.add_subcommand("reveal", "recover a black box's summation order by probes, then bound and replay it");
  cmd->add_option("--spec", a->spec, "the problem, benchdnn descriptor (e.g. mb1ic3ih224oc64oh112kh7sh2ph3)")
      ->required();
  auto* be = cmd->add_option("--backend", a->backend, "a registry order or backend NAME[:k=v,...] as the black box");
  auto* co = cmd->add_option("--command", a->command,
                             "a shell command as the black box: {x} {w} {bias} are .npy inputs, it writes {y}");
  be->excludes(co);
  co->excludes(be);
  cmd->add_flag("--no-bias", a->no_bias, "the problem has no bias (default: it has one)");
  add_dtype_option(*cmd, a->dtype, "the precision the black box computes in")->required();
  add_json_option(*cmd, a->json_out, "write the result (schema certconv.reveal/1)")->required();
  cmd->add_option("--tree-out", a->tree_out, "the tree file the order reads (default: the --json path, .tree.json)");
  cmd->add_option("--dot", a->dot, "write the trees as Graphviz");
  cmd->add_option("--timeout", a->timeout, "seconds one --command call may take")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "random pivots and inputs");
  add_threads_option(*cmd, a->threads);
  return [a] {
    require(!a->backend.empty() || !a->command.empty(), "reveal needs --backend or --command");
    ConvSpec spec = parse_benchdnn(a->spec);
    if (a->tree_out.empty()) {
      const std::string& j = a->json_out;
      a->tree_out = (j.size() > 5 && j.ends_with(".json") ? j.substr(0, j.size() - 5) : j) + ".tree.json";
    }
    return parse_dtype(a->dtype) == Dtype::f32 ? run_reveal<float>(*a, spec) : run_reveal<double>(*a, spec);
  };
}

}  // namespace certconv::app
