#define BOOST_TEST_MODULE batch
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "certconv/batch/config.hpp"
#include "certconv/batch/index.hpp"
#include "certconv/batch/shard.hpp"
#include "certconv/core/error.hpp"
#include "cli_util.hpp"

using namespace certconv;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A shapes file with three 2-D layers (one commented out) in a fresh directory.
fs::path shapes_dir() {
  static const fs::path d = [] {
    const auto dir = certconv::test::scratch_dir("batch-config");
    std::ofstream(dir / "tiny") << "# tiny net\n"
                                   "mb2ic3ih8oc4kh3ph1n\"tiny:conv1\"\n"
                                   "# mb2ic4ih8oc4kh1n\"tiny:skipped\"\n"
                                   "mb2ic4ih8oc8kh1n\"tiny:res_a*2\"\n"
                                   "mb2ic8ih4oc8kh3ph1n\"tiny:res_b\"\n";
    return dir;
  }();
  return d;
}

BatchConfig parse(const std::string& text) { return parse_batch_config(text, "cfg.json", shapes_dir().string()); }

// The InputError message of parsing text (fails the test when it parses).
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  BOOST_FAIL("config was accepted: " << text);
  return {};
}

const char* kGrid = R"({
  "description": "unit test grid",
  "problems": ["mb1ic3ih8oc4kh3ph1n\"a\"", {"shapes": "tiny", "mb": 1, "filter": "res"}],
  "dtypes": ["f32", "f64"],
  "orders": ["im2col", "pairwise"],
  "dists": "kaiming",
  "seeds": [1, 2],
  "rtol": 1e-3
})";

}  // namespace

BOOST_AUTO_TEST_CASE(grid_expansion_order_and_names) {
  const BatchConfig c = parse(kGrid);
  BOOST_TEST(c.description == "unit test grid");
  // 3 problems (a, res_a, res_b) × 2 dtypes × 1 dist × 2 seeds.
  BOOST_REQUIRE_EQUAL(c.experiments.size(), 12u);
  for (std::size_t i = 0; i < c.experiments.size(); ++i) BOOST_TEST(c.experiments[i].id == static_cast<int>(i));
  const Experiment& e0 = c.experiments[0];
  BOOST_TEST(e0.desc.name == "a");
  BOOST_TEST((e0.dtype == Dtype::f32));
  BOOST_TEST(e0.seed == 1u);
  BOOST_TEST(c.experiments[1].seed == 2u);
  BOOST_TEST((c.experiments[2].dtype == Dtype::f64));
  BOOST_TEST(c.experiments[4].desc.name == "tiny:res_a*2");
  BOOST_TEST(c.experiments[4].desc.mb == 1);  // the mb override
  BOOST_TEST(c.experiments[8].desc.name == "tiny:res_b");
  BOOST_TEST(e0.file == "a__f32__kaiming__s1__" + e0.params_hash.substr(0, 8) + ".json");
  BOOST_TEST(c.experiments[4].file.rfind("tiny_res_a_2__f32__kaiming__s1__", 0) == 0u);
  BOOST_TEST(e0.params["rtol"] == 1e-3);
  BOOST_TEST(e0.params["orders"] == json({"im2col", "pairwise"}));
  std::set<std::string> files, hashes;
  for (const auto& e : c.experiments) {
    files.insert(e.file);
    hashes.insert(e.params_hash);
  }
  BOOST_TEST(files.size() == 12u);
  BOOST_TEST(hashes.size() == 12u);
}

BOOST_AUTO_TEST_CASE(parameters_hash_is_stable_and_covers_every_parameter) {
  const BatchConfig a = parse(kGrid), b = parse(kGrid);
  BOOST_TEST(a.experiments[3].params_hash == b.experiments[3].params_hash);
  std::string changed = kGrid;
  changed.replace(changed.find("1e-3"), 4, "1e-4");
  BOOST_TEST(parse(changed).experiments[3].params_hash != a.experiments[3].params_hash);
  // Threads do not change results, so they do not change the hash.
  std::string threads = kGrid;
  threads.insert(threads.rfind('}'), ", \"threads\": 2");
  const BatchConfig t = parse(threads);
  BOOST_TEST(t.threads == 2);
  BOOST_TEST(t.experiments[3].params_hash == a.experiments[3].params_hash);
}

BOOST_AUTO_TEST_CASE(defaults_regex_and_all_orders) {
  const BatchConfig c = parse(R"({"problems": [{"shapes": "tiny", "regex": "conv1$|res_b"}], "orders": "all"})");
  BOOST_REQUIRE_EQUAL(c.experiments.size(), 2u);
  BOOST_TEST(c.experiments[0].desc.name == "tiny:conv1");
  BOOST_TEST(c.experiments[0].desc.mb == 2);
  BOOST_TEST((c.experiments[0].dtype == Dtype::f32));
  BOOST_TEST(c.experiments[0].dist == "kaiming");
  BOOST_TEST(c.experiments[0].seed == 1u);
  BOOST_TEST(c.skip_unsupported);  // "all" lists orders that may reject a problem
  BOOST_TEST(c.orders.size() >= 9u);
  BOOST_TEST(c.threads == 1);
}

BOOST_AUTO_TEST_CASE(bad_configs_name_the_key) {
  const std::string base = R"("orders": ["im2col"])";
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "oders": ["im2col"]})"), "cfg.json: oders: unknown key"));
  const std::string mb = error_of(R"({"problems": ["mb1ic3ih8oc4kh3", {"shapes": "tiny", "mb_override": 1}], )" + base + "}");
  BOOST_TEST(contains(mb, "problems[1].mb_override: unknown key"), mb);
  const std::string order = error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "orders": ["im2col", "im2cl"]})");
  BOOST_TEST(contains(order, "orders[1]"), order);
  BOOST_TEST(contains(order, "im2cl"), order);
  const std::string desc = error_of(R"({"problems": [{"desc": "mb1ic3ih8oc4kh3zz9"}], )" + base + "}");
  BOOST_TEST(contains(desc, "problems[0].desc"), desc);
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "dists": ["kaiming", "gauss"], )" + base + "}"),
                      "dists[1]"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "seeds": [1, -2], )" + base + "}"), "seeds[1]"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "dtypes": ["f16"], )" + base + "}"), "dtypes[0]"));
  BOOST_TEST(contains(error_of(R"({"problems": [{"shapes": "tiny", "filter": "nothing"}], )" + base + "}"),
                      "problems[0]: no layer"));
  BOOST_TEST(contains(error_of(R"({"problems": [{"shapes": "tiny", "regex": "("}], )" + base + "}"),
                      "problems[0].regex"));
  BOOST_TEST(contains(error_of(R"({"problems": [{"shapes": "missing"}], )" + base + "}"), "problems[0].shapes"));
  BOOST_TEST(contains(error_of(R"({"problems": [{"desc": "mb1ic3ih8oc4kh3", "filter": "x"}], )" + base + "}"),
                      "problems[0].filter: only with 'shapes'"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3", "mb1ic3ih8oc4kh3"], )" + base + "}"),
                      "problems[1]: layer"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "dtypes": ["f64"], "orders": ["im2col:input=bf16"]})"),
                      "orders[0]"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "orders": ["im2col", "im2col"]})"), "listed twice"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"], "lambda": 0, )" + base + "}"), "lambda"));
  BOOST_TEST(contains(error_of(R"({"problems": [], )" + base + "}"), "problems"));
  BOOST_TEST(contains(error_of(R"({"problems": ["mb1ic3ih8oc4kh3"]})"), "orders: missing"));
  BOOST_TEST(contains(error_of("{\"problems\": ["), "cfg.json: not valid JSON"));
}

BOOST_AUTO_TEST_CASE(directions_and_ranks) {
  const BatchConfig c = parse(R"({"problems": ["mb2ic4iw11oc6kw3pw1n\"audio\"", "mb1ic3ih8oc4kh3ph1n\"a\"",
                                   "mb1ic2id4ih5oc3kd3kh3pd1ph1n\"video\""],
                                   "directions": ["FWD_D", "BWD_W", "BWD_D"], "orders": ["direct"]})");
  // 3 problems × 3 directions, in that order.
  BOOST_REQUIRE_EQUAL(c.experiments.size(), 9u);
  BOOST_TEST(c.experiments[0].desc.rank == 1);
  BOOST_TEST(c.experiments[6].desc.rank == 3);
  BOOST_TEST((c.experiments[1].dir == Direction::bwd_w));
  BOOST_TEST((c.experiments[5].dir == Direction::bwd_d));
  BOOST_TEST(c.experiments[1].file.rfind("audio__BWD_W__f32__kaiming__s1__", 0) == 0u, c.experiments[1].file);
  BOOST_TEST(c.experiments[1].params["direction"] == "BWD_W");
  BOOST_TEST(c.experiments[1].params["desc"] == "g1mb2ic4iw11oc6ow11kw3sw1pw1dw0n\"audio\"");
  // A forward experiment keeps the parameters, hash and name it had without the key.
  const BatchConfig f = parse(R"({"problems": ["mb1ic3ih8oc4kh3ph1n\"a\""], "orders": ["direct"]})");
  BOOST_TEST(!c.experiments[3].params.contains("direction"));
  BOOST_TEST(c.experiments[3].params_hash == f.experiments[0].params_hash);
  BOOST_TEST(c.experiments[3].file == f.experiments[0].file);
  // Shape files of any rank: 1-D and 3-D lines parse, skip_non_2d drops them.
  std::ofstream(shapes_dir() / "ranks") << "mb2ic4iw11oc6kw3pw1n\"r:1d\"\nmb1ic3ih8oc4kh3ph1n\"r:2d\"\n"
                                           "mb1ic2id4ih5oc3kd3kh3pd1ph1n\"r:3d\"\n";
  BOOST_TEST(parse(R"({"problems": [{"shapes": "ranks"}], "orders": "direct"})").experiments.size() == 3u);
  const BatchConfig two = parse(R"({"problems": [{"shapes": "ranks", "skip_non_2d": true}], "orders": "direct"})");
  BOOST_REQUIRE_EQUAL(two.experiments.size(), 1u);
  BOOST_TEST(two.experiments[0].desc.name == "r:2d");
  const std::string base = R"("problems": ["mb1ic3ih8oc4kh3"], "orders": ["direct"])";
  BOOST_TEST(contains(error_of("{" + base + R"(, "directions": ["BWD_WB"]})"), "directions[0]: expected"));
  BOOST_TEST(contains(error_of("{" + base + R"(, "directions": "FWD_B"})"), "directions: expected"));
  BOOST_TEST(contains(error_of("{" + base + R"(, "directions": ["BWD_D", "BWD_D"]})"), "BWD_D is listed twice"));
  const std::string gendot = error_of("{" + base + R"(, "directions": ["FWD_D", "BWD_W"], "dists": "gendot:cond=1e4"})");
  BOOST_TEST(contains(gendot, "problems[0]: dist 'gendot:cond=1e4' builds forward 2-D outputs only"), gendot);
}

BOOST_AUTO_TEST_CASE(sanitized_names) {
  BOOST_TEST(sanitize_name("resnet_50:res2a_branch1*4") == "resnet_50_res2a_branch1_4");
  BOOST_TEST(sanitize_name("gendot:cond=1e-2") == "gendot_cond_1e-2");
  BOOST_TEST(sanitize_name("a//b") == "a_b");
  BOOST_TEST(sanitize_name("***") == "_");
}

BOOST_AUTO_TEST_CASE(shard_syntax) {
  BOOST_TEST((parse_shard("0/2") == Shard{0, 2}));
  BOOST_TEST((parse_shard("15/16") == Shard{15, 16}));
  for (const char* bad : {"2/2", "1", "a/2", "-1/2", "1/0", "1/2x", ""})
    BOOST_CHECK_THROW(parse_shard(bad), InputError);
}

BOOST_AUTO_TEST_CASE(shard_from_slurm_variables) {
  std::map<std::string, std::string> env;
  const Getenv get = [&](const char* k) -> const char* {
    const auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  BOOST_TEST(!shard_from_slurm(get).has_value());
  env = {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "16"}};
  BOOST_TEST((shard_from_slurm(get) == Shard{3, 16}));
  // --array=1-16: made 0-based through SLURM_ARRAY_TASK_MIN.
  env = {{"SLURM_ARRAY_TASK_ID", "16"}, {"SLURM_ARRAY_TASK_COUNT", "16"}, {"SLURM_ARRAY_TASK_MIN", "1"}};
  BOOST_TEST((shard_from_slurm(get) == Shard{15, 16}));
  env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_STEP", "2"}};
  BOOST_TEST((shard_from_slurm(get) == Shard{2, 3}));
  env = {{"SLURM_ARRAY_TASK_ID", "3"}};
  BOOST_CHECK_THROW(shard_from_slurm(get), InputError);
  env = {{"SLURM_ARRAY_TASK_ID", "16"}, {"SLURM_ARRAY_TASK_COUNT", "16"}};
  BOOST_CHECK_THROW(shard_from_slurm(get), InputError);
}

BOOST_AUTO_TEST_CASE(shards_partition_the_grid) {
  const BatchConfig c = parse(kGrid);
  std::multiset<int> seen;
  for (int i = 0; i < 5; ++i)
    for (const auto& e : select_shard(c.experiments, {i, 5})) {
      BOOST_TEST(e.id % 5 == i);
      seen.insert(e.id);
    }
  BOOST_TEST(seen.size() == c.experiments.size());
  for (const auto& e : c.experiments) BOOST_TEST(seen.count(e.id) == 1u);
  BOOST_TEST(select_shard(c.experiments, {1, 5}).size() == 3u);  // ids 1, 6, 11
}

BOOST_AUTO_TEST_CASE(complete_results_and_index_names) {
  BOOST_TEST(index_file_name(std::nullopt) == "index.json");
  BOOST_TEST(index_file_name(Shard{2, 16}) == "index-shard-2-of-16.json");
  const auto dir = certconv::test::scratch_dir("batch-complete");
  const json good = {{"schema", "certconv.analyze/1"},
                     {"batch", {{"params_hash", "abc"}}},
                     {"observed", json::array()},
                     {"status", {{"violations", 0}}}};
  std::ofstream(dir / "good.json") << good.dump();
  std::ofstream(dir / "cut.json") << good.dump().substr(0, 40);
  BOOST_TEST(read_complete_result((dir / "good.json").string(), "abc").has_value());
  BOOST_TEST(!read_complete_result((dir / "good.json").string(), "abd").has_value());
  BOOST_TEST(!read_complete_result((dir / "cut.json").string(), "abc").has_value());
  BOOST_TEST(!read_complete_result((dir / "none.json").string(), "abc").has_value());
  std::ofstream(dir / "index-shard-1-of-2.json") << "{}";
  std::ofstream(dir / "index.json") << "{}";
  std::ofstream(dir / "index-other.json") << "{}";
  const auto idx = find_index_files(dir.string());
  BOOST_REQUIRE_EQUAL(idx.size(), 2u);
  BOOST_TEST(fs::path(idx[0]).filename() == "index-shard-1-of-2.json");
  BOOST_TEST(fs::path(idx[1]).filename() == "index.json");
  fs::remove_all(dir);
}
