// certconv batch: a grid of analyze experiments from a JSON config
// (docs/batch.md), resumable, shardable, one document per experiment.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "certconv/batch/config.hpp"
#include "certconv/batch/runner.hpp"
#include "certconv/batch/shard.hpp"
#include "certconv/core/progress.hpp"
#include "commands.hpp"

namespace certconv::app {

namespace {

struct BatchArgs {
  std::string config, out, shard;
  int jobs = 1;
  bool resume = false, dry_run = false;
};

// Set by SIGINT/SIGTERM: no new experiment starts; running ones finish and are
// written atomically. SA_RESETHAND: a second signal ends the process at once,
// which still leaves no partial file (temp file + rename).
std::atomic<bool> stop_requested{false};
volatile sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  stop_signal = sig;
  stop_requested.store(true);
}

struct SignalGuard {
  struct sigaction old_int {}, old_term {};
  SignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

std::string shard_text(const std::optional<Shard>& s) {
  return s ? "shard " + std::to_string(s->index) + "/" + std::to_string(s->count) : std::string("whole grid");
}

int run_batch_command(const BatchArgs& a) {
  const BatchConfig cfg = load_batch_config(a.config);
  std::optional<Shard> shard;
  if (!a.shard.empty())
    shard = parse_shard(a.shard, "--shard");
  else
    shard = shard_from_slurm([](const char* name) -> const char* { return std::getenv(name); });
  BatchPlan plan = plan_batch(cfg, a.out, shard, a.resume);
  const int to_run = plan.to_run();
  const int have = static_cast<int>(plan.experiments.size()) - to_run;

  if (a.dry_run) {
    for (std::size_t i = 0; i < plan.experiments.size(); ++i)
      std::printf("%4d  %-8s  %s\n", plan.experiments[i].id, plan.complete[i] ? "complete" : "to run",
                  plan.experiments[i].file.c_str());
    std::printf("%s: %zu of %zu experiments (%s), %d complete, %d to run; orders: %zu\n", a.config.c_str(),
                plan.experiments.size(), cfg.experiments.size(), shard_text(shard).c_str(), have, to_run,
                cfg.orders.size());
    return 0;
  }

  std::fprintf(stderr, "batch %s: %zu of %zu experiments (%s), %d complete, %d to run, %d jobs -> %s\n",
               a.config.c_str(), plan.experiments.size(), cfg.experiments.size(), shard_text(shard).c_str(), have,
               to_run, a.jobs, plan.index_path.c_str());
  const bool tty = ::isatty(STDERR_FILENO);
  Progress progress("batch", to_run, tty);
  int finished = 0;
  BatchRunOptions opt;
  opt.jobs = a.jobs;
  opt.stop = &stop_requested;
  opt.on_finished = [&](const nlohmann::json& e) {
    ++finished;
    progress.add(1);
    if (tty) return;
    const std::string file = e["file"];
    if (e["status"] == "done")
      std::fprintf(stderr, "[%d/%d] done %s (%.1f s, violations %lld)\n", finished, to_run, file.c_str(),
                   e.value("seconds", 0.0), static_cast<long long>(e.value("violations", std::int64_t{0})));
    else
      std::fprintf(stderr, "[%d/%d] FAILED %s: %s\n", finished, to_run, file.c_str(),
                   e.value("error", std::string()).c_str());
  };
  BatchSummary s;
  {
    const SignalGuard guard;
    s = run_batch(cfg, plan, opt);
  }
  if (tty)
    for (const auto& e : plan.entries)
      if (e["status"] == "failed")
        std::fprintf(stderr, "FAILED %s: %s\n", e["file"].get<std::string>().c_str(),
                     e.value("error", std::string()).c_str());
  std::fprintf(stderr, "batch: %d done (%d resumed), %d failed, %d pending; %lld bound violations; index %s\n", s.done,
               s.resumed, s.failed, s.pending, static_cast<long long>(s.violations), plan.index_path.c_str());
  if (stop_signal) {
    std::fprintf(stderr, "batch: interrupted; rerun with --resume to finish\n");
    return 128 + stop_signal;
  }
  return s.failed > 0 || s.violation_exit ? 1 : 0;
}

}  // namespace

Runner add_batch(CLI::App& app) {
  auto a = std::make_shared<BatchArgs>();
  auto* cmd = app.add_subcommand("batch", "run a grid of analyze experiments from a JSON config (docs/batch.md)");
  cmd->add_option("config", a->config, "batch config (JSON)")->required();
  cmd->add_option("--out", a->out, "output directory (result documents and index)")->required();
  cmd->add_option("--jobs", a->jobs, "experiments run in parallel")->check(CLI::Range(1, 1024));
  cmd->add_option("--shard", a->shard,
                  "I/N: run experiments k with k mod N == I (0-based); default from SLURM_ARRAY_TASK_ID/COUNT");
  cmd->add_flag("--resume", a->resume, "skip experiments whose result file is complete");
  cmd->add_flag("--dry-run", a->dry_run, "list the experiments and their files; run nothing");
  return [a] { return run_batch_command(*a); };
}

}  // namespace certconv::app
