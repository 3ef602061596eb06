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

// Schema certconv.batch-index/1, the one builder: schema, tool, updated_utc,
// config, orders, experiments_total, shard (null for a whole grid) and the
// entries. `certconv merge` adds its merged_from, missing and conflicts.
nlohmann::json batch_index_document(nlohmann::json config, nlohmann::json orders, std::int64_t experiments_total,
                                    const std::optional<Shard>& shard, nlohmann::json entries);

// The index document of a run of config c around `entries`.
nlohmann::json index_document(const BatchConfig& c, const std::optional<Shard>& shard, const nlohmann::json& entries);

// The result document at path when it is complete: valid JSON, schema
// certconv.analyze/1, with observed results and the expected parameters hash.
std::optional<nlohmann::json> read_complete_result(const std::string& path, const std::string& params_hash);

// Reads a JSON file; InputError naming the file when it is missing or not JSON.
nlohmann::json read_json_file(const std::string& path);

}  // namespace certconv
