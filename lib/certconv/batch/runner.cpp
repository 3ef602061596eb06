#include "certconv/batch/runner.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "certconv/analysis/analyze.hpp"
#include "certconv/batch/index.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/report/analyze_doc.hpp"
#include "certconv/report/json.hpp"

namespace certconv {

using json = nlohmann::json;

namespace {

template <class T>
json analyze_generated(const BatchConfig& c, const Experiment& e, int& exit_code) {
  AnalyzeRequest req;
  req.dtype = dtype_of<T>();
  req.orders = c.orders;
  req.rtol = c.rtol;
  req.atol = c.atol;
  req.lambda = c.lambda;
  req.threads = c.threads;
  req.allow_violations = c.allow_violations;
  req.skip_unsupported = c.skip_unsupported;
  const json inputs = {{"source", "generator"}, {"dist", e.dist}, {"seed", e.seed}, {"dtype", dtype_name(e.dtype)}};
  if (e.dir == Direction::fwd_d && e.desc.rank == 2) {
    const ConvSpec spec = spec_2d(e.desc);
    const Generated<T> g = generate_inputs<T>(spec, e.dist, e.seed);
    const AnalyzeResult r = analyze(ConvProblem<T>{spec, g.x, g.w, nullptr}, req);
    exit_code = r.exit_code;
    return analyze_document(spec, req, r, inputs);
  }
  // Any other direction or rank, as `analyze --dir D --gen`: x and w as for the
  // forward problem, then dy from the same stream.
  GeneratedOperands<T> g = generate_operands<T>(e.desc, e.dist, e.seed);
  Operands<T> ops;
  for (const std::string& name : operand_names(e.dir)) {
    if (name == "x") ops.x = &g.x;
    if (name == "w") ops.w = &g.w;
    if (name == "dy") ops.dy = &g.dy;
  }
  const AnalyzeResult r = analyze(e.desc, e.dir, ops, req);
  exit_code = r.exit_code;
  return analyze_document(e.desc, e.dir, req, r, inputs);
}

// Fills a finished entry from its (new or resumed) document.
void mark_done(json& entry, const json& doc) {
  entry["status"] = "done";
  entry["violations"] = doc["status"].value("violations", 0);
  entry["exit_code"] = doc["status"].value("exit_code", 0);
  entry.erase("error");
}

}  // namespace

int BatchPlan::to_run() const {
  return static_cast<int>(std::count(complete.begin(), complete.end(), false));
}

json run_experiment(const BatchConfig& c, const Experiment& e, const std::optional<Shard>& shard, int& exit_code) {
  const FpEnvGuard fp_env;
  json doc = e.dtype == Dtype::f64 ? analyze_generated<double>(c, e, exit_code) : analyze_generated<float>(c, e, exit_code);
  doc["batch"] = {{"config", {{"path", c.path}, {"sha256", c.sha256}}},
                  {"experiment", e.id},
                  {"experiments_total", c.experiments.size()},
                  {"shard", nullptr},
                  {"file", e.file},
                  {"params_hash", e.params_hash},
                  {"params", e.params}};
  if (shard) doc["batch"]["shard"] = {{"index", shard->index}, {"count", shard->count}};
  return doc;
}

BatchPlan plan_batch(const BatchConfig& c, const std::string& out_dir, const std::optional<Shard>& shard,
                     bool resume) {
  BatchPlan p;
  p.shard = shard;
  p.out_dir = out_dir;
  p.index_path = (std::filesystem::path(out_dir) / index_file_name(shard)).string();
  p.experiments = shard ? select_shard(c.experiments, *shard) : c.experiments;
  p.entries = json::array();
  for (const Experiment& e : p.experiments) {
    json entry = index_entry(e);
    const auto doc = resume ? read_complete_result((std::filesystem::path(out_dir) / e.file).string(), e.params_hash)
                            : std::nullopt;
    if (doc) {
      mark_done(entry, *doc);
      entry["resumed"] = true;
    }
    p.complete.push_back(doc.has_value());
    p.entries.push_back(std::move(entry));
  }
  return p;
}

BatchSummary run_batch(const BatchConfig& c, BatchPlan& plan, const BatchRunOptions& opt) {
  const FpEnvGuard fp_env;
  std::error_code ec;
  std::filesystem::create_directories(plan.out_dir, ec);
  require(!ec, plan.out_dir + ": cannot create output directory: " + ec.message());
  std::mutex m;  // guards plan.entries, the index file and on_finished
  write_json(plan.index_path, index_document(c, plan.shard, plan.entries));

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < plan.experiments.size(); ++i)
    if (!plan.complete[i]) todo.push_back(i);
  std::atomic<std::size_t> next{0};
  std::exception_ptr fatal;  // the index could not be written: stop everything
  auto worker = [&] {
    while (!(opt.stop && opt.stop->load())) {
      const std::size_t k = next++;
      if (k >= todo.size()) return;
      const std::size_t i = todo[k];
      const Experiment& e = plan.experiments[i];
      const auto t0 = std::chrono::steady_clock::now();
      json doc;
      std::string error;
      int exit_code = 0;
      try {
        doc = run_experiment(c, e, plan.shard, exit_code);
        write_json((std::filesystem::path(plan.out_dir) / e.file).string(), doc);
      } catch (const std::exception& err) {
        error = err.what();
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard lock(m);
      json& entry = plan.entries[i];
      if (error.empty()) {
        mark_done(entry, doc);
      } else {
        entry["status"] = "failed";
        entry["error"] = error;
      }
      entry["resumed"] = false;
      entry["seconds"] = sec;
      if (fatal) return;
      try {
        write_json(plan.index_path, index_document(c, plan.shard, plan.entries));
      } catch (...) {
        fatal = std::current_exception();
        next = todo.size();
        return;
      }
      if (opt.on_finished) opt.on_finished(entry);
    }
  };
  {
    std::vector<std::jthread> pool;
    const int jobs = std::max(1, std::min<int>(opt.jobs, static_cast<int>(todo.size())));
    for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  }
  if (fatal) std::rethrow_exception(fatal);

  BatchSummary s;
  for (const json& entry : plan.entries) {
    const std::string status = entry["status"];
    if (status == "done") {
      ++s.done;
      s.resumed += entry.value("resumed", false) ? 1 : 0;
      s.violations += entry.value("violations", std::int64_t{0});
      s.violation_exit = s.violation_exit || entry.value("exit_code", 0) == 1;
    } else if (status == "failed") {
      ++s.failed;
    } else {
      ++s.pending;
    }
  }
  return s;
}

}  // namespace certconv
