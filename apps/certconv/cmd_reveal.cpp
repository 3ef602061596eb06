// certconv reveal: recover the summation order of a convolution run as a black box
// (a registry order or backend, or a shell command), bound it and replay it. Exit 0
// when the revealed trees replay every output of a fresh random input bit for bit,
// 1 otherwise (not a tree, non-deterministic, or a replay below 1), 2 on bad input
// (including a command that fails, times out or writes a wrong output).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/json.hpp"
#include "certconv/report/reveal_doc.hpp"
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

// A temporary directory, removed with everything in it when this goes out of scope
// (also when an error unwinds).
class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "certconv-reveal-XXXXXX").string();
    require(mkdtemp(t.data()) != nullptr, "cannot create a temporary directory under " +
                                              std::filesystem::temp_directory_path().string());
    path_ = t;
    require(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-") == std::string::npos,
            "the temporary directory " + t + " has characters a shell would interpret; set TMPDIR");
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string tail_of(const std::string& path, std::size_t n) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > n ? "..." + s.substr(s.size() - n) : s;
}

// `sh -c CMD` with stdout and stderr to `log`, killed (its process group) after
// `timeout` seconds. Returns the exit status, or −1 after a timeout.
int run_shell(const std::string& cmd, const std::string& log, double timeout) {
  const pid_t pid = fork();
  require(pid >= 0, "--command: fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) s.replace(i, from.size(), to);
  return s;
}

// The command as a black box: x, w, bias written as .npy in the temporary directory,
// {x} {w} {bias} {y} replaced by their quoted paths, y read back.
template <class T>
BlackBox<T> command_box(const std::string& cmd, const TempDir& dir, double timeout) {
  return [&cmd, &dir, timeout](const ConvProblem<T>& p) {
    const std::string x = dir.file("x.npy"), w = dir.file("w.npy"), b = dir.file("bias.npy"), y = dir.file("y.npy"),
                      log = dir.file("log.txt");
    write_npy(x, p.x);
    write_npy(w, p.w);
    if (p.bias) write_npy(b, *p.bias);
    std::filesystem::remove(y);
    // Unquoted, so that the command may quote them itself: TempDir checks the characters.
    const std::string line =
        replace_all(replace_all(replace_all(replace_all(cmd, "{x}", x), "{w}", w), "{bias}", b), "{y}", y);
    const int rc = run_shell(line, log, timeout);
    require(rc != -1, "--command timed out after " + std::to_string(timeout) + " s; its output: " + tail_of(log, 2000));
    require(rc == 0, "--command failed (exit status " + std::to_string(rc) + "); its output: " + tail_of(log, 2000));
    require(std::filesystem::exists(y), "--command exited 0 but wrote no {y}; its output: " + tail_of(log, 2000));
    return read_npy_as<T>(y, "{y}");
  };
}

template <class T>
int run_reveal(const RevealArgs& a, const ConvSpec& spec) {
  const bool has_bias = !a.no_bias;
  RevealOptions opt;
  opt.seed = a.seed;
  opt.threads = a.threads;
  nlohmann::json black_box;
  std::unique_ptr<TempDir> dir;
  BlackBox<T> box;
  if (!a.backend.empty()) {
    const OrderSpec o = parse_order(a.backend);
    black_box = {{"kind", order_kind_name(find_order(o.name).kind)}, {"order", order_str(o)}};
    box = [o, threads = a.threads](const ConvProblem<T>& p) {
      RunOptions ro;
      ro.threads = threads;
      ro.want_bound = false;
      return run_order(o, p, ro).y;
    };
  } else {
    require(has_bias || a.command.find("{bias}") == std::string::npos,
            "--command uses {bias}, but --no-bias says the problem has none");
    require(a.command.find("{y}") != std::string::npos, "--command must write its output to {y}");
    black_box = {{"kind", "command"}, {"command", a.command}, {"timeout_s", a.timeout}};
    dir = std::make_unique<TempDir>();
    box = command_box<T>(a.command, *dir, a.timeout);
  }
  const RevealResult r = reveal_conv<T>(spec, has_bias, box, opt);
  dir.reset();

  const bool tree = r.status == RevealStatus::tree;
  std::string order;
  if (tree) {
    write_tree_file(a.tree_out, r.trees);
    order = order_str(parse_order("tree:file=" + a.tree_out + ",fma=" + tree_fma_name(r.chosen.fma) +
                                  ",first=" + (r.chosen.first_lo ? "lo" : "hi")));
  }
  if (tree && !a.dot.empty()) write_file_atomic(a.dot, reveal_dot(spec, r.trees));
  const RevealRequest q{spec, has_bias, dtype_of<T>(), a.threads, black_box, order, a.tree_out, opt};
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
    std::printf("), numerics fma=%s first=%s\n", tree_fma_name(r.chosen.fma), r.chosen.first_lo ? "lo" : "hi");
    std::printf("replay on fresh random inputs: %.6f identical (%lld of %lld differ)\n", r.replay_identical_fraction,
                static_cast<long long>(r.replay_mismatches), static_cast<long long>(r.replay_outputs));
    if (r.bounds_checked)
      std::printf("tree bound: %lld violations, max err/bound %.3g, bound/order-free median %.3g max %.3g\n",
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
  cmd->add_option("--spec", a->spec, "the problem, benchdnn descriptor (e.g. mb1ic3ih224oc64oh112kh7sh2ph3)")->required();
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
