#pragma once
// Reading analyze documents back for tables and figures (docs/batch.md,
// "Fields"). A result row is one observed entry of one document; a field is a
// path into the document ("problem.oc", "truth.cond.median"), into the row's
// observed entry ("observed.max_norm_err"), a bare observed key
// ("max_norm_err"), or an alias (layer, order, dtype, dist, seed, ...).
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace certconv {

struct LoadedDocument {
  std::string path;
  nlohmann::json doc;
};

// Every certconv.analyze/1 document among `paths` (files, or directories whose
// *.json files are read, not recursively; other schemas such as the batch index
// are passed over). Order: arguments as given; within a directory by the batch
// experiment id when present, then by file name. InputError naming the file for
// unreadable or invalid JSON, or when nothing is found.
std::vector<LoadedDocument> load_analyze_documents(const std::vector<std::string>& paths);

struct ResultRow {
  const LoadedDocument* doc;
  const nlohmann::json* observed;
};
std::vector<ResultRow> result_rows(const std::vector<LoadedDocument>& docs);

// The aliases and their meaning, for --help and the docs.
const std::vector<std::pair<std::string, std::string>>& field_aliases();

// The value of `field` in the row; nullopt when absent. Non-finite numbers
// (null with a "<key>_status" sibling) come back as the status string.
std::optional<nlohmann::json> field_value(const ResultRow& r, const std::string& field);

// Text of a field value for labels and filters: strings as they are, integers
// in decimal, other numbers as %g, "+inf"/"-inf"/"nan" for non-finite ones.
std::string value_text(const nlohmann::json& v);

// A numeric field value (±inf, nan from status strings); nullopt if not a number.
std::optional<double> value_number(const nlohmann::json& v);

// --filter FIELD=VALUE: rows whose field's text equals VALUE. Filters on the
// same field are alternatives (OR), different fields must all hold (AND).
class RowFilter {
 public:
  explicit RowFilter(const std::vector<std::string>& specs);  // InputError for text without '='
  bool keep(const ResultRow& r) const;
  // InputError when a filtered field occurs in no row (likely a typo).
  void check_fields(const std::vector<ResultRow>& rows) const;

 private:
  std::map<std::string, std::vector<std::string>> any_of_;
};

// A CSV field: quoted (RFC 4180) only when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

// InputError (naming `what`, the request's part that asked for it) when `field`
// occurs in none of the rows.
void require_field(const std::vector<ResultRow>& rows, const std::string& field, const std::string& what);

}  // namespace certconv
