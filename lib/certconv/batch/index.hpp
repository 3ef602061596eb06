#pragma once
// The files of a batch output directory (docs/batch.md): one result document
// per experiment and an index (schema certconv.batch-index/1) listing every
// experiment of the run with its status: "done", "failed" (with the error) or
// "pending" (not run yet, or interrupted).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "certconv/batch/config.hpp"
#include "certconv/batch/shard.hpp"

namespace certconv {

inline constexpr const char* kBatchIndexSchema = "certconv.batch-index/1";

// "index.json" for a whole grid, "index-shard-I-of-N.json" for a shard, so that
// shards may share one output directory.
std::string index_file_name(const std::optional<Shard>& shard);

// Index files in dir (index.json and index-shard-*.json), sorted; empty if none.
std::vector<std::string> find_index_files(const std::string& dir);

// A pending entry: id, file, params_hash, layer, desc, dtype, dist, seed.
nlohmann::json index_entry(const Experiment& e);

// What a merged index adds: the index files merged, the ids no source has, and
// the experiments two sources disagree on (batch/merge.hpp).
struct MergedFrom {
  nlohmann::json sources, missing, conflicts;
};

// The index document (schema certconv.batch-index/1), its only builder: `config`
// is {path, sha256, description}, `shard` null for a whole grid, `merged` set for
// the output of `certconv merge`.
nlohmann::json index_document(const nlohmann::json& config, const nlohmann::json& orders, std::size_t total,
                              const std::optional<Shard>& shard, const nlohmann::json& entries,
                              const std::optional<MergedFrom>& merged = std::nullopt);
// The same for a run of config c.
nlohmann::json index_document(const BatchConfig& c, const std::optional<Shard>& shard, const nlohmann::json& entries);

// The result document at path when it is complete: valid JSON, schema
// certconv.analyze/1, with observed results and the expected parameters hash.
std::optional<nlohmann::json> read_complete_result(const std::string& path, const std::string& params_hash);

// Reads a JSON file; InputError naming the file when it is missing or not JSON.
nlohmann::json read_json_file(const std::string& path);

}  // namespace certconv
