#include "certconv/report/result_rows.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "certconv/core/error.hpp"
#include "certconv/report/analyze_doc.hpp"

namespace certconv {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The document at path when it is an analyze document; InputError if not JSON.
std::optional<json> read_if_analyze(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  require(f.good(), path + ": cannot open");
  json doc;
  try {
    doc = json::parse(f);
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object() || doc.value("schema", "") != kAnalyzeSchema) return std::nullopt;
  require(doc.contains("observed") && doc["observed"].is_array(), path + ": analyze document without 'observed'");
  return doc;
}

int experiment_id(const json& doc) {
  if (doc.contains("batch") && doc["batch"].is_object() && doc["batch"].contains("experiment") &&
      doc["batch"]["experiment"].is_number_integer())
    return doc["batch"]["experiment"].get<int>();
  return INT_MAX;
}

std::optional<json> walk(const json& start, const std::string& path) {
  const json* cur = &start;
  const json* parent = nullptr;
  std::string key;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const std::size_t dot = path.find('.', pos);
    key = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!cur->is_object() || !cur->contains(key)) return std::nullopt;
    parent = cur;
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  if (cur->is_null() && parent && parent->contains(key + "_status")) return (*parent)[key + "_status"];
  return *cur;
}

}  // namespace

std::vector<LoadedDocument> load_analyze_documents(const std::vector<std::string>& paths) {
  std::vector<LoadedDocument> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      require(fs::exists(p, ec), p + ": no such file or directory");
      auto doc = read_if_analyze(p);
      require(doc.has_value(), p + ": not a " + kAnalyzeSchema + " document");
      out.push_back({p, std::move(*doc)});
      continue;
    }
    std::vector<LoadedDocument> here;
    for (const auto& f : fs::directory_iterator(p)) {
      if (!f.is_regular_file() || f.path().extension() != ".json") continue;
      if (auto doc = read_if_analyze(f.path().string())) here.push_back({f.path().string(), std::move(*doc)});
    }
    std::sort(here.begin(), here.end(), [](const LoadedDocument& a, const LoadedDocument& b) {
      const int ia = experiment_id(a.doc), ib = experiment_id(b.doc);
      return ia != ib ? ia < ib : a.path < b.path;
    });
    for (auto& d : here) out.push_back(std::move(d));
  }
  std::string list;
  for (const auto& p : paths) list += (list.empty() ? "" : " ") + p;
  require(!out.empty(), list + ": no " + kAnalyzeSchema + " documents found");
  return out;
}

std::vector<ResultRow> result_rows(const std::vector<LoadedDocument>& docs) {
  std::vector<ResultRow> rows;
  for (const auto& d : docs)
    for (const auto& o : d.doc["observed"]) rows.push_back({&d, &o});
  return rows;
}

const std::vector<std::pair<std::string, std::string>>& field_aliases() {
  static const std::vector<std::pair<std::string, std::string>> a{
      {"layer", "problem.name, or problem.desc when the name is empty"},
      {"desc", "problem.desc"},
      {"direction", "problem.direction; FWD_D (FWD_B with a bias file) for forward 2-D documents, which do not record it"},
      {"order", "observed.name"},
      {"kind", "observed.kind"},
      {"bound_kind", "observed.bound_kind"},
      {"dtype", "parameters.dtype"},
      {"dist", "inputs.dist"},
      {"seed", "inputs.seed"},
      {"experiment", "batch.experiment"},
      {"n", "problem.n_terms"},
      {"cond_median", "truth.cond.median"},
      {"cond_p99", "truth.cond.p99"},
      {"cond_max", "truth.cond.max"},
      {"file", "the document's file name"},
  };
  return a;
}

std::optional<json> field_value(const ResultRow& r, const std::string& field) {
  if (field == "file") return fs::path(r.doc->path).filename().string();
  if (field == "layer") {
    auto name = walk(r.doc->doc, "problem.name");
    if (name && name->is_string() && !name->get<std::string>().empty()) return name;
    return walk(r.doc->doc, "problem.desc");
  }
  if (field == "direction") {
    if (auto d = walk(r.doc->doc, "problem.direction")) return d;
    return walk(r.doc->doc, "inputs.files.bias") ? "FWD_B" : "FWD_D";
  }
  std::string path = field;
  for (const auto& [alias, target] : field_aliases())
    if (alias == field) path = target;
  if (path.find('.') == std::string::npos) path = "observed." + path;
  if (path.rfind("observed.", 0) == 0) return walk(*r.observed, path.substr(9));
  return walk(r.doc->doc, path);
}

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v.get<double>());
    return buf;
  }
  return v.dump();
}

std::optional<double> value_number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v == "+inf") return INFINITY;
  if (v == "-inf") return -INFINITY;
  if (v == "nan") return NAN;
  return std::nullopt;
}

RowFilter::RowFilter(const std::vector<std::string>& specs) {
  for (const auto& s : specs) {
    const auto eq = s.find('=');
    require(eq != std::string::npos && eq > 0, "filter: expected FIELD=VALUE, got '" + s + "'");
    any_of_[s.substr(0, eq)].push_back(s.substr(eq + 1));
  }
}

bool RowFilter::keep(const ResultRow& r) const {
  for (const auto& [field, values] : any_of_) {
    const auto v = field_value(r, field);
    if (!v || std::find(values.begin(), values.end(), value_text(*v)) == values.end()) return false;
  }
  return true;
}

void RowFilter::check_fields(const std::vector<ResultRow>& rows) const {
  for (const auto& [field, values] : any_of_) require_field(rows, field, "filter");
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

void require_field(const std::vector<ResultRow>& rows, const std::string& field, const std::string& what) {
  for (const auto& r : rows)
    if (field_value(r, field)) return;
  throw InputError(what + ": no document has the field '" + field +
                   "' (see docs/batch.md: aliases, observed keys such as max_norm_err, or dotted paths)");
}

}  // namespace certconv
