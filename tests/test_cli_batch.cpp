#define BOOST_TEST_MODULE cli_batch
#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_util.hpp"

using certconv::test::run_cli;
using certconv::test::slurp;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

json load(const fs::path& p) { return json::parse(slurp(p)); }

// Two tiny layers × two seeds, two orders: four experiments in well under a second.
fs::path write_config(const fs::path& dir, const std::string& extra = "") {
  const fs::path cfg = dir / "grid.json";
  std::ofstream(cfg) << R"({
    "description": "tiny grid for the CLI test",
    "problems": ["mb1ic3ih8oc4kh3ph1n\"tiny:conv\"", {"desc": "mb1ic4ih6oc4kh1", "name": "tiny:pointwise"}],
    "dtypes": ["f32"],
    "orders": ["im2col", "pairwise"],
    "dists": ["kaiming"],
    "seeds": [1, 2])" + extra + "}\n";
  return cfg;
}

// Result documents (not the index) in dir, by file name.
std::map<std::string, json> results(const fs::path& dir) {
  std::map<std::string, json> out;
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (name.ends_with(".json") && name.rfind("index", 0) != 0) out[name] = load(f.path());
  }
  return out;
}

json without_seconds(json j) {
  if (j.is_object()) {
    j.erase("seconds");
    for (auto& [k, v] : j.items()) v = without_seconds(std::move(v));
  } else if (j.is_array()) {
    for (auto& v : j) v = without_seconds(std::move(v));
  }
  return j;
}

// Everything a rerun must reproduce: the problem, inputs, parameters and results.
json comparable(const json& doc) {
  return without_seconds(json{{"problem", doc["problem"]}, {"inputs", doc["inputs"]},
                              {"parameters", doc["parameters"]}, {"truth", doc["truth"]},
                              {"observed", doc["observed"]}, {"params_hash", doc["batch"]["params_hash"]}});
}

fs::path source_root() {
  const char* root = std::getenv("CERTCONV_SOURCE_ROOT");
  return root ? root : ".";
}

}  // namespace

BOOST_AUTO_TEST_CASE(run_resume_and_documents) {
  const auto dir = certconv::test::scratch_dir("batch-run");
  const auto cfg = write_config(dir);
  const auto out = dir / "out";
  auto r = run_cli({"batch", cfg.string(), "--out", out.string(), "--jobs", "2"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  // Not a terminal: one plain line per finished experiment.
  BOOST_TEST(contains(r.err, "[4/4] done "), r.err);
  const json index = load(out / "index.json");
  BOOST_TEST(index["schema"] == "certconv.batch-index/1");
  BOOST_TEST(index["experiments_total"] == 4);
  BOOST_REQUIRE_EQUAL(index["experiments"].size(), 4u);
  for (const auto& e : index["experiments"]) BOOST_TEST(e["status"] == "done");
  auto docs = results(out);
  BOOST_REQUIRE_EQUAL(docs.size(), 4u);
  const std::string first = index["experiments"][0]["file"];
  BOOST_TEST(first.rfind("tiny_conv__f32__kaiming__s1__", 0) == 0u, first);
  const json& d = docs.at(first);
  BOOST_TEST(d["schema"] == "certconv.analyze/1");
  BOOST_TEST(d["problem"]["name"] == "tiny:conv");
  BOOST_TEST(d["inputs"]["seed"] == 1);
  BOOST_TEST(d["inputs"]["dtype"] == "f32");  // as analyze writes it (docs/json-schema.md), not the enum's number
  BOOST_TEST(d["parameters"]["threads"] == 1);
  BOOST_TEST(d["batch"]["experiment"] == 0);
  BOOST_TEST(d["batch"]["config"]["sha256"].get<std::string>().size() == 64u);
  BOOST_TEST(d["batch"]["params_hash"].get<std::string>().substr(0, 8) == first.substr(first.size() - 13, 8));
  BOOST_REQUIRE_EQUAL(d["observed"].size(), 2u);
  BOOST_TEST(d["observed"][1]["name"] == "pairwise");
  BOOST_TEST(d["observed"][0]["max_norm_err"].get<double>() > 0);

  // Delete one result: --resume recomputes exactly that one.
  const std::string victim = index["experiments"][2]["file"];
  std::map<std::string, fs::file_time_type> mtimes;
  for (const auto& [name, doc] : docs) mtimes[name] = fs::last_write_time(out / name);
  fs::remove(out / victim);
  r = run_cli({"batch", cfg.string(), "--out", out.string(), "--resume"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.err, "3 complete, 1 to run"), r.err);
  const json again = load(out / "index.json");
  for (const auto& e : again["experiments"]) {
    BOOST_TEST(e["status"] == "done");
    BOOST_TEST(e["resumed"] == (e["file"] != victim), e["file"]);
  }
  for (const auto& [name, t] : mtimes)
    if (name != victim) BOOST_TEST((fs::last_write_time(out / name) == t), name << " was rewritten");
  BOOST_TEST(comparable(load(out / victim)) == comparable(docs.at(victim)));

  // A truncated (corrupt) result is redone too.
  const std::string cut = index["experiments"][1]["file"];
  const std::string text = slurp(out / cut);
  std::ofstream(out / cut, std::ios::trunc) << text.substr(0, text.size() / 2);
  r = run_cli({"batch", cfg.string(), "--out", out.string(), "--resume"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.err, "3 complete, 1 to run"), r.err);
  BOOST_TEST(comparable(load(out / cut)) == comparable(docs.at(cut)));

  // A changed parameter changes every file name: nothing is complete any more.
  const auto cfg2 = write_config(dir, R"(, "rtol": 1e-3)");
  r = run_cli({"batch", cfg2.string(), "--out", out.string(), "--resume", "--dry-run"});
  BOOST_TEST(r.rc == 0);
  BOOST_TEST(contains(r.out, "0 complete, 4 to run"), r.out);
  BOOST_TEST(results(out).size() == 4u);  // --dry-run writes nothing
  fs::remove_all(dir);
}

// Gradients and other ranks in a batch: each document is the one `analyze --dir
// ... --gen` writes, and tables and plot data split them by direction.
BOOST_AUTO_TEST_CASE(directions_in_a_batch_table_and_plot_data) {
  const auto dir = certconv::test::scratch_dir("batch-directions");
  const fs::path cfg = dir / "grad.json";
  std::ofstream(cfg) << R"({
    "problems": [{"desc": "mb2ic4iw11oc6kw3pw1", "name": "audio"}, {"desc": "mb2ic3id4ih5oc4kd3kh3pd1ph1", "name": "video"}],
    "directions": ["BWD_D", "BWD_W"],
    "orders": ["direct", "onednn-avx512-bwd-d", "onednn-avx512-bwd-w:threads=2"],
    "skip_unsupported": true
  })";
  const auto out = dir / "out";
  auto r = run_cli({"batch", cfg.string(), "--out", out.string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  const json index = load(out / "index.json");
  BOOST_REQUIRE_EQUAL(index["experiments"].size(), 4u);
  BOOST_TEST(index["experiments"][1]["direction"] == "BWD_W");
  const std::string file = index["experiments"][3]["file"];
  BOOST_TEST(file.rfind("video__BWD_W__f32__kaiming__s1__", 0) == 0u, file);
  const json d = load(out / file);
  BOOST_TEST(d["problem"]["direction"] == "BWD_W");
  BOOST_TEST(d["problem"]["rank"] == 3);
  BOOST_TEST(d["problem"]["result"] == "dw");
  BOOST_REQUIRE_EQUAL(d["observed"].size(), 2u);  // the BWD_D kernel does not apply
  BOOST_TEST(d["observed"][1]["name"] == "onednn-avx512-bwd-w:threads=2");
  BOOST_TEST(d["observed"][1]["violations"] == 0);
  // The same experiment by hand.
  const auto single = dir / "single.json";
  r = run_cli({"analyze", "--spec", "mb2ic3id4ih5oc4kd3kh3pd1ph1", "--dir", "BWD_W", "--gen", "kaiming", "--seed", "1",
               "--orders", "direct,onednn-avx512-bwd-w:threads=2", "--json", single.string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  const json s = load(single);
  BOOST_TEST(without_seconds(s["truth"]) == without_seconds(d["truth"]));
  BOOST_TEST(without_seconds(s["observed"]) == without_seconds(d["observed"]));
  // A table by direction, and the plot data's direction column.
  r = run_cli({"table", out.string(), "--rows", "layer", "--cols", "direction", "--metric", "max_norm_err",
               "--filter", "order=direct", "--format", "csv"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.out, "audio,BWD_D,"), r.out);
  BOOST_TEST(contains(r.out, "video,BWD_W,"), r.out);
  r = run_cli({"plot-data", out.string(), "--out", (dir / "plot").string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  const std::string per_layer = slurp(dir / "plot" / "max_tightness_per_layer.csv");
  BOOST_TEST(contains(per_layer, "0,audio,direct,"), per_layer);
  BOOST_TEST(contains(per_layer, ",BWD_D\n"), per_layer);
  BOOST_TEST(contains(per_layer, "1,video,onednn-avx512-bwd-w:threads=2,"), per_layer);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(two_shards_and_merge_equal_the_whole_run) {
  const auto dir = certconv::test::scratch_dir("batch-shards");
  const auto cfg = write_config(dir);
  auto r = run_cli({"batch", cfg.string(), "--out", (dir / "all").string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  r = run_cli({"batch", cfg.string(), "--out", (dir / "s0").string(), "--shard", "0/2"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  // The second shard comes from a Slurm job array's environment.
  ::setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "2", 1);
  r = run_cli({"batch", cfg.string(), "--out", (dir / "s1").string()});
  ::unsetenv("SLURM_ARRAY_TASK_ID");
  ::unsetenv("SLURM_ARRAY_TASK_COUNT");
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(fs::exists(dir / "s1" / "index-shard-1-of-2.json"));
  BOOST_TEST(results(dir / "s0").size() == 2u);
  BOOST_TEST(results(dir / "s1").size() == 2u);

  r = run_cli({"merge", (dir / "s0").string(), "--out", (dir / "merged").string()});
  BOOST_TEST(r.rc == 1);  // shard 1 is missing
  BOOST_TEST(contains(r.out, "2 missing"), r.out);
  r = run_cli({"merge", (dir / "s0").string(), (dir / "s1").string(), "--out", (dir / "merged").string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.out + r.err);
  const auto whole = results(dir / "all"), merged = results(dir / "merged");
  BOOST_REQUIRE_EQUAL(merged.size(), whole.size());
  for (const auto& [name, doc] : whole) {
    BOOST_REQUIRE_MESSAGE(merged.count(name), name << " missing from the merge");
    BOOST_TEST(comparable(merged.at(name)) == comparable(doc), name);
  }
  const json index = load(dir / "merged" / "index.json");
  BOOST_TEST(index["missing"].empty());
  BOOST_TEST(index["conflicts"].empty());
  BOOST_REQUIRE_EQUAL(index["experiments"].size(), 4u);
  for (int i = 0; i < 4; ++i) BOOST_TEST(index["experiments"][i]["id"] == i);

  // A result that differs from another source's is a documented conflict.
  const std::string name = whole.begin()->first;
  json changed = whole.begin()->second;
  changed["observed"][0]["max_norm_err"] = 12345.0;
  std::ofstream(dir / "all" / name, std::ios::trunc) << changed.dump();
  r = run_cli({"merge", (dir / "merged").string(), (dir / "all").string(), "--out", (dir / "m2").string()});
  BOOST_TEST(r.rc == 1);
  const json conflicted = load(dir / "m2" / "index.json");
  BOOST_REQUIRE_EQUAL(conflicted["conflicts"].size(), 1u);
  BOOST_TEST(conflicted["conflicts"][0]["file"] == name);

  // Outputs of another config are refused.
  const auto other = write_config(dir, R"(, "atol": 0)");
  r = run_cli({"batch", other.string(), "--out", (dir / "other").string(), "--shard", "0/2"});
  BOOST_REQUIRE(r.rc == 0);
  r = run_cli({"merge", (dir / "s0").string(), (dir / "other").string(), "--out", (dir / "m3").string()});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "merge outputs of one config only"), r.err);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(interrupt_leaves_complete_files_and_resume_finishes) {
  const auto dir = certconv::test::scratch_dir("batch-term");
  const fs::path cfg = dir / "slow.json";
  std::ofstream(cfg) << R"({"problems": ["mb1ic32ih32oc32kh3ph1"], "orders": ["im2col"],
                           "seeds": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]})";
  const auto out = dir / "out";
  // SIGTERM as soon as the first experiment is reported done (waiting at most 30 s).
  const char* bin = std::getenv("CERTCONV_BIN");
  const std::string script = "cd " + certconv::test::shell_quote(dir.string()) + " || exit 1; " +
                             certconv::test::shell_quote(bin ? bin : "certconv") +
                             " batch slow.json --out out 2>err & pid=$!; "
                             "for i in $(seq 1500); do grep -q '\\[1/16\\] done' err 2>/dev/null && break; "
                             "kill -0 $pid 2>/dev/null || break; sleep 0.02; done; "
                             "kill -TERM $pid; wait $pid; echo $? > rc";
  std::system(("bash -c " + certconv::test::shell_quote(script)).c_str());
  BOOST_TEST(slurp(dir / "rc") == "143\n", slurp(dir / "err"));
  BOOST_TEST(contains(slurp(dir / "err"), "interrupted"));
  const json index = load(out / "index.json");
  int done = 0, pending = 0;
  for (const auto& e : index["experiments"]) {
    if (e["status"] == "done") {
      ++done;
      BOOST_TEST(load(out / e["file"].get<std::string>())["schema"] == "certconv.analyze/1");
    }
    pending += e["status"] == "pending";
  }
  BOOST_TEST(done >= 1);
  BOOST_TEST(pending >= 1);
  BOOST_TEST(done + pending == 16);
  BOOST_TEST(results(out).size() == static_cast<std::size_t>(done));  // no partial result file
  for (const auto& f : fs::directory_iterator(out)) BOOST_TEST(!contains(f.path().string(), ".tmp."));
  const auto r = run_cli({"batch", cfg.string(), "--out", out.string(), "--resume", "--jobs", "2"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(contains(r.err, std::to_string(done) + " complete, " + std::to_string(pending) + " to run"), r.err);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_configs_exit_2_naming_the_key) {
  const auto dir = certconv::test::scratch_dir("batch-bad");
  const auto check = [&](const std::string& body, const std::string& expect) {
    const fs::path cfg = dir / "bad.json";
    std::ofstream(cfg, std::ios::trunc) << body;
    const auto r = run_cli({"batch", cfg.string(), "--out", (dir / "out").string()});
    BOOST_TEST(r.rc == 2, body);
    BOOST_TEST(contains(r.err, expect), r.err);
    BOOST_TEST(contains(r.err, "bad.json"), r.err);
  };
  check(R"({"problems": ["mb1ic3ih8oc4kh3"], "orders": ["im2col", "nosuchorder"]})", "orders[1]");
  check(R"({"problems": ["mb1ic3ih8oc4kh3"], "orders": ["im2col", "nosuchorder"]})", "unknown order 'nosuchorder'");
  check(R"({"problems": ["mb1ic3ih8oc4kh3", {"desc": "mb1icXih8"}], "orders": ["im2col"]})", "problems[1].desc");
  check(R"({"problems": [{"desc": "mb1ic3ih8oc4kh3", "mb_override": 1}], "orders": ["im2col"]})",
        "problems[0].mb_override: unknown key");
  check(R"({"problems": ["mb1ic3ih8oc4kh3"], "orders": ["im2col"], "seed": [1]})", "seed: unknown key");
  BOOST_TEST(!fs::exists(dir / "out"));
  auto r = run_cli({"batch", (dir / "missing.json").string(), "--out", (dir / "out").string()});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "missing.json"), r.err);
  r = run_cli({"batch", write_config(dir).string(), "--out", (dir / "out").string(), "--shard", "2/2"});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(contains(r.err, "--shard"), r.err);
  r = run_cli({"table", (dir / "nothing").string(), "--rows", "layer", "--cols", "order", "--metric", "max_norm_err",
               "--format", "csv"});
  BOOST_TEST(r.rc == 2);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(table_matches_the_goldens) {
  const fs::path golden = source_root() / "data" / "golden";
  for (const auto& [format, ext] : std::map<std::string, std::string>{{"latex", "tex"}, {"markdown", "md"}, {"csv", "csv"}}) {
    const auto r = run_cli({"table", (golden / "batch").string(), "--rows", "layer", "--cols", "order", "--metric",
                            "max_norm_err", "--format", format});
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    BOOST_TEST(r.out == slurp(golden / ("table-max_norm_err." + ext)), format);
  }
  const auto r = run_cli({"table", (golden / "batch").string(), "--rows", "order", "--cols", "metric", "--metric",
                          "max_tightness,correctly_rounded_fraction,violations", "--agg", "mean", "--filter",
                          "layer=tiny:conv", "--filter", "layer=tiny:deep", "--format", "markdown"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(r.out == slurp(golden / "table-orders-conv-deep.md"));
}

BOOST_AUTO_TEST_CASE(plot_data_from_the_fixture) {
  const auto dir = certconv::test::scratch_dir("plot-data-cli");
  const auto r = run_cli({"plot-data", (source_root() / "data" / "golden" / "batch").string(), "--out", dir.string()});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  const std::string scatter = slurp(dir / "norm_err_vs_cond.csv");
  BOOST_TEST(scatter.rfind("cond,norm_err,order,layer,dtype,dist,seed,direction\n", 0) == 0u);
  BOOST_TEST(std::count(scatter.begin(), scatter.end(), '\n') > 10);
  const std::string per_layer = slurp(dir / "max_tightness_per_layer.csv");
  BOOST_TEST(per_layer.rfind("layer_index,layer,order,max_tightness,direction\n0,", 0) == 0u, per_layer);
  fs::remove_all(dir);
}
