#pragma once
// Running a batch: plan (which experiments of this shard still need to run),
// then run them on `jobs` workers. Each finished experiment is written at once,
// atomically, and the index is rewritten after every change, so an interrupted
// run leaves complete results, an index that says which are pending, and no
// partial file.
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "certconv/batch/config.hpp"
#include "certconv/batch/shard.hpp"

namespace certconv {

struct BatchPlan {
  std::optional<Shard> shard;
  std::string out_dir, index_path;
  std::vector<Experiment> experiments;  // this shard's, in grid order
  nlohmann::json entries;               // index entries, one per experiment
  std::vector<bool> complete;           // found complete under --resume
  int to_run() const;
};

// Experiments of the shard (all when none); with resume, those whose result
// file is complete are marked done (and "resumed") instead of being rerun.
BatchPlan plan_batch(const BatchConfig& c, const std::string& out_dir, const std::optional<Shard>& shard, bool resume);

struct BatchSummary {
  int done = 0, failed = 0, pending = 0, resumed = 0;
  std::int64_t violations = 0;  // outputs beyond their rigorous bound, over all done experiments
  bool violation_exit = false;  // some experiment's own exit code is 1 (violations not allowed)
};

struct BatchRunOptions {
  int jobs = 1;
  // Polled before each experiment starts: once true no new experiment starts;
  // running ones finish and are written.
  const std::atomic<bool>* stop = nullptr;
  // Called (serialized) after each experiment finishes, with its index entry.
  std::function<void(const nlohmann::json& entry)> on_finished;
};

BatchSummary run_batch(const BatchConfig& c, BatchPlan& plan, const BatchRunOptions& opt);

// One experiment: inputs from the generator, analyze(), the full document
// (header, inputs, analysis, and the `batch` block). exit_code as analyze's.
nlohmann::json run_experiment(const BatchConfig& c, const Experiment& e, const std::optional<Shard>& shard,
                              int& exit_code);

}  // namespace certconv
