#include "certconv/batch/index.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "certconv/core/error.hpp"
#include "certconv/report/analyze_doc.hpp"
#include "certconv/report/metadata.hpp"

namespace certconv {

using json = nlohmann::json;

std::string index_file_name(const std::optional<Shard>& shard) {
  if (!shard) return "index.json";
  return "index-shard-" + std::to_string(shard->index) + "-of-" + std::to_string(shard->count) + ".json";
}

std::vector<std::string> find_index_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = f.path().filename().string();
    if (f.is_regular_file() && (name == "index.json" || (name.rfind("index-shard-", 0) == 0 && name.ends_with(".json"))))
      out.push_back(f.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

json index_entry(const Experiment& e) {
  return {{"id", e.id},       {"file", e.file}, {"params_hash", e.params_hash}, {"layer", e.desc.name},
          {"desc", e.params["desc"]}, {"direction", direction_name(e.dir)}, {"dtype", dtype_name(e.dtype)},
          {"dist", e.dist}, {"seed", e.seed}, {"status", "pending"}};
}

json index_document(const json& config, const json& orders, std::size_t total, const std::optional<Shard>& shard,
                    const json& entries, const std::optional<MergedFrom>& merged) {
  json j = {{"schema", kBatchIndexSchema},
            {"tool", tool_json()},
            {"updated_utc", utc_now()},
            {"config", config},
            {"orders", orders},
            {"experiments_total", total},
            {"shard", nullptr},
            {"experiments", std::move(entries)}};
  if (shard) j["shard"] = {{"index", shard->index}, {"count", shard->count}};
  if (merged) {
    j["merged_from"] = merged->sources;
    j["missing"] = merged->missing;
    j["conflicts"] = merged->conflicts;
  }
  return j;
}

json index_document(const BatchConfig& c, const std::optional<Shard>& shard, const json& entries) {
  return index_document({{"path", c.path}, {"sha256", c.sha256}, {"description", c.description}}, c.orders,
                        c.experiments.size(), shard, entries);
}

json read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  require(f.good(), path + ": cannot open");
  try {
    return json::parse(f);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
}

std::optional<json> read_complete_result(const std::string& path, const std::string& params_hash) {
  std::ifstream f(path, std::ios::binary);
  if (!f.good()) return std::nullopt;
  json doc = json::parse(f, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("schema", "") != kAnalyzeSchema) return std::nullopt;
  const json* hash = doc.contains("batch") && doc["batch"].is_object() && doc["batch"].contains("params_hash")
                         ? &doc["batch"]["params_hash"]
                         : nullptr;
  if (!hash || *hash != params_hash) return std::nullopt;
  if (!doc.contains("observed") || !doc["observed"].is_array() || !doc.contains("status")) return std::nullopt;
  return doc;
}

}  // namespace certconv
