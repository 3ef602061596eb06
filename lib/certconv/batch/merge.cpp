#include "certconv/batch/merge.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "certconv/core/atomic_file.hpp"
#include "certconv/batch/index.hpp"
#include "certconv/core/error.hpp"
#include "certconv/report/json.hpp"

namespace certconv {

namespace fs = std::filesystem;

namespace {

struct Found {
  json entry;
  std::string path;  // result file in its source directory
  std::optional<json> doc;
};

// Timings differ from run to run; everything else must agree.
json without_seconds(json j) {
  if (j.is_object()) {
    j.erase("seconds");
    for (auto& [k, v] : j.items()) v = without_seconds(std::move(v));
  } else if (j.is_array()) {
    for (auto& v : j) v = without_seconds(std::move(v));
  }
  return j;
}

bool same_results(const json& a, const json& b) {
  return without_seconds(a.value("observed", json())) == without_seconds(b.value("observed", json())) &&
         without_seconds(a.value("truth", json())) == without_seconds(b.value("truth", json()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  require(f.good(), path + ": cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

MergeSummary merge_batches(const std::vector<std::string>& dirs, const std::string& out_dir) {
  require(!dirs.empty(), "merge: no source directories");
  json first;  // the first index: config and grid size
  std::string first_path;
  std::map<int, Found> chosen;
  json conflicts = json::array(), sources = json::array();
  for (const std::string& dir : dirs) {
    const auto files = find_index_files(dir);
    require(!files.empty(), dir + ": no index.json or index-shard-*.json (not a batch output directory)");
    for (const std::string& ipath : files) {
      const json idx = read_json_file(ipath);
      require(idx.is_object() && idx.value("schema", "") == kBatchIndexSchema,
              ipath + ": schema is not " + kBatchIndexSchema);
      require(idx.contains("experiments") && idx["experiments"].is_array() && idx.contains("config"),
              ipath + ": no 'experiments' array or 'config'");
      if (first.is_null()) {
        first = idx;
        first_path = ipath;
      } else {
        require(idx["config"].value("sha256", "") == first["config"].value("sha256", ""),
                ipath + ": comes from config " + idx["config"].value("path", "?") + " (sha256 " +
                    idx["config"].value("sha256", "?") + "), but " + first_path + " from " +
                    first["config"].value("path", "?") + " (sha256 " + first["config"].value("sha256", "?") +
                    "); merge outputs of one config only");
      }
      sources.push_back(ipath);
      for (const json& entry : idx["experiments"]) {
        require(entry.contains("id") && entry["id"].is_number_integer() && entry.contains("file") &&
                    entry["file"].is_string() && entry.contains("params_hash"),
                ipath + ": an entry of 'experiments' lacks id, file or params_hash");
        Found f{entry, (fs::path(dir) / entry["file"].get<std::string>()).string(), std::nullopt};
        if (entry.value("status", "") == "done") {
          f.doc = read_complete_result(f.path, entry["params_hash"]);
          if (!f.doc) {
            f.entry["status"] = "failed";
            f.entry["error"] = f.path + ": result file missing or incomplete";
          }
        }
        const int id = entry["id"];
        auto it = chosen.find(id);
        if (it == chosen.end()) {
          chosen.emplace(id, std::move(f));
        } else if (it->second.doc && f.doc) {
          if (!same_results(*it->second.doc, *f.doc))
            conflicts.push_back({{"id", id},
                                 {"file", entry["file"]},
                                 {"kept", it->second.path},
                                 {"differs", f.path},
                                 {"reason", "observed or truth sections differ"}});
        } else if (f.doc || (f.entry["status"] == "failed" && it->second.entry["status"] == "pending")) {
          it->second = std::move(f);
        }
      }
    }
  }

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  require(!ec, out_dir + ": cannot create output directory: " + ec.message());
  MergeSummary s;
  json entries = json::array();
  for (auto& [id, f] : chosen) {
    if (f.doc) {
      const fs::path dest = fs::path(out_dir) / f.entry["file"].get<std::string>();
      if (!(fs::exists(dest) && fs::equivalent(dest, f.path))) {
        const std::string bytes = read_bytes(f.path);
        if (!fs::exists(dest) || read_bytes(dest.string()) != bytes) write_file_atomic(dest.string(), bytes);
      }
      ++s.done;
      s.violation_exit = s.violation_exit || f.entry.value("exit_code", 0) == 1;
    } else if (f.entry["status"] == "failed") {
      ++s.failed;
    } else {
      ++s.pending;
    }
    entries.push_back(f.entry);
  }
  json missing = json::array();
  const int total = first.value("experiments_total", 0);
  for (int id = 0; id < total; ++id)
    if (!chosen.count(id)) missing.push_back(id);
  s.missing = static_cast<int>(missing.size());
  s.conflicts = static_cast<int>(conflicts.size());

  const json merged = index_document(first["config"], first.value("orders", json::array()),
                                     static_cast<std::size_t>(total), std::nullopt, entries,
                                     MergedFrom{sources, missing, conflicts});
  write_json((fs::path(out_dir) / "index.json").string(), merged);
  return s;
}

}  // namespace certconv
