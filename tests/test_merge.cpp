#define BOOST_TEST_MODULE merge
// batch/merge.cpp called directly: shard directories written by hand, merged, and
// the merged index and files checked (the CLI end-to-end test is test_cli_batch).
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "certconv/batch/index.hpp"
#include "certconv/batch/merge.hpp"
#include "certconv/core/error.hpp"
#include "cli_util.hpp"

using namespace certconv;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// prefix + id (appended: GCC 12 warns falsely on "literal" + std::string here, -Wrestrict).
std::string tagged(const char* prefix, int id, const char* suffix = "") {
  std::string s = prefix;
  s += std::to_string(id);
  s += suffix;
  return s;
}

const json kConfig = {{"path", "cfg.json"}, {"sha256", "c0ffee"}, {"description", "merge test"}};

// A complete result of experiment `id` whose observed section carries `value`.
json result(int id, double value, double seconds) {
  return {{"schema", "certconv.analyze/1"},
          {"batch", {{"params_hash", tagged("h", id)}}},
          {"observed", json::array({{{"name", "im2col"}, {"max_norm_err", value}, {"seconds", seconds}}})},
          {"truth", {{"exact_zeros", 0}}},
          {"status", {{"violations", 0}}}};
}

json entry(int id, const std::string& status) {
  return {{"id", id}, {"file", tagged("e", id, ".json")}, {"params_hash", tagged("h", id)},
          {"status", status}};
}

// A shard directory: its index (shard i of n) and the result files of its done entries.
void write_shard(const fs::path& dir, int i, int n, const json& entries, const std::vector<json>& docs,
                 const json& config = kConfig) {
  fs::create_directories(dir);
  std::ofstream(dir / index_file_name(Shard{i, n})) << index_document(config, {"im2col"}, 4, Shard{i, n}, entries).dump();
  for (const json& d : docs) {
    const int id = std::stoi(d["batch"]["params_hash"].get<std::string>().substr(1));
    std::ofstream(dir / (tagged("e", id, ".json"))) << d.dump();
  }
}

json read(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(shards_merge_into_one_index) {
  const fs::path root = certconv::test::scratch_dir("merge-union");
  // Shard 0: experiments 0 (done) and 2 (pending); shard 1: 1 (done), 2 (done), 0 (failed).
  write_shard(root / "a", 0, 2, json::array({entry(0, "done"), entry(2, "pending")}), {result(0, 1.5, 0.1)});
  json failed = entry(0, "failed");
  failed["error"] = "killed";
  write_shard(root / "b", 1, 2, json::array({entry(1, "done"), entry(2, "done"), failed}),
              {result(1, 2.5, 0.2), result(2, 3.5, 0.3)});
  const MergeSummary s = merge_batches({(root / "a").string(), (root / "b").string()}, (root / "out").string());
  BOOST_TEST(s.done == 3);  // the done result wins over a failed or pending one
  BOOST_TEST(s.failed == 0);
  BOOST_TEST(s.pending == 0);
  BOOST_TEST(s.missing == 1);  // experiment 3 is in no source
  BOOST_TEST(s.conflicts == 0);
  const json idx = read(root / "out" / "index.json");
  BOOST_TEST(idx["schema"] == "certconv.batch-index/1");
  BOOST_TEST(idx["shard"].is_null());
  BOOST_TEST(idx["missing"] == json::array({3}));
  BOOST_TEST(idx["merged_from"].size() == 2u);
  BOOST_TEST(idx["config"] == kConfig);
  BOOST_REQUIRE(idx["experiments"].size() == 3u);
  for (const json& e : idx["experiments"]) BOOST_TEST(e["status"] == "done");
  // Result files are copied byte for byte.
  BOOST_TEST(read(root / "out" / "e2.json") == result(2, 3.5, 0.3));
  fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(differing_results_are_conflicts_and_timings_are_not) {
  const fs::path root = certconv::test::scratch_dir("merge-conflict");
  write_shard(root / "a", 0, 2, json::array({entry(0, "done"), entry(1, "done")}),
              {result(0, 1.5, 0.1), result(1, 2.0, 0.1)});
  // Experiment 0 again with another timing only (no conflict), experiment 1 with another value.
  write_shard(root / "b", 1, 2, json::array({entry(0, "done"), entry(1, "done")}),
              {result(0, 1.5, 9.0), result(1, 2.25, 0.1)});
  const MergeSummary s = merge_batches({(root / "a").string(), (root / "b").string()}, (root / "out").string());
  BOOST_TEST(s.done == 2);
  BOOST_TEST(s.conflicts == 1);
  const json idx = read(root / "out" / "index.json");
  BOOST_REQUIRE(idx["conflicts"].size() == 1u);
  BOOST_TEST(idx["conflicts"][0]["id"] == 1);
  BOOST_TEST(read(root / "out" / "e1.json") == result(1, 2.0, 0.1));  // the first source's file is kept
  fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(sources_of_different_configs_are_refused) {
  const fs::path root = certconv::test::scratch_dir("merge-configs");
  write_shard(root / "a", 0, 2, json::array({entry(0, "pending")}), {});
  json other = kConfig;
  other["sha256"] = "beef";
  write_shard(root / "b", 1, 2, json::array({entry(1, "pending")}), {}, other);
  BOOST_CHECK_EXCEPTION(merge_batches({(root / "a").string(), (root / "b").string()}, (root / "out").string()),
                        InputError, [&](const InputError& e) {
                          const std::string m = e.what();
                          return m.find("index-shard-1-of-2.json") != std::string::npos &&
                                 m.find("index-shard-0-of-2.json") != std::string::npos &&
                                 m.find("one config only") != std::string::npos;
                        });
  BOOST_TEST(!fs::exists(root / "out" / "index.json"));  // nothing half-written
  BOOST_CHECK_THROW(merge_batches({(root / "none").string()}, (root / "out").string()), InputError);
  fs::remove_all(root);
}
