#include "certconv/report/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "certconv/core/error.hpp"

namespace certconv {

namespace {

std::size_t label_index(std::vector<std::string>& labels, const std::string& l) {
  const auto it = std::find(labels.begin(), labels.end(), l);
  if (it != labels.end()) return static_cast<std::size_t>(it - labels.begin());
  labels.push_back(l);
  return labels.size() - 1;
}

double aggregate(std::vector<double> v, const std::string& agg) {
  if (agg == "max") return *std::max_element(v.begin(), v.end());
  if (agg == "min") return *std::min_element(v.begin(), v.end());
  if (agg == "mean") {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  }
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

// Integers (counts, n) in full; everything else with `digits` significant digits.
std::string number(double v, int digits) {
  char buf[48];
  if (v == std::trunc(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string latex_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '_': case '&': case '%': case '$': case '#': case '{': case '}': o += '\\'; o += c; break;
      case '~': o += "\\textasciitilde{}"; break;
      case '^': o += "\\textasciicircum{}"; break;
      case '\\': o += "\\textbackslash{}"; break;
      default: o += c;
    }
  }
  return o;
}

std::string markdown_escape(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '|' ? std::string("\\|") : std::string(1, c);
  return o;
}

}  // namespace

Table build_table(const std::vector<LoadedDocument>& docs, const TableRequest& req) {
  require(req.agg == "max" || req.agg == "min" || req.agg == "median" || req.agg == "mean",
          "agg: expected max, min, median or mean, got '" + req.agg + "'");
  require(!req.metrics.empty(), "metric: no metric given");
  const bool by_metric = req.rows == "metric" || req.cols == "metric";
  require(req.metrics.size() == 1 || by_metric,
          "metric: several metrics need the rows or the columns to be 'metric'");
  require(req.rows != req.cols, "rows and columns name the same field '" + req.rows + "'");
  const auto rows = result_rows(docs);
  if (req.rows != "metric") require_field(rows, req.rows, "rows");
  if (req.cols != "metric") require_field(rows, req.cols, "cols");
  for (const auto& m : req.metrics) require_field(rows, m, "metric");
  const RowFilter filter(req.filters);
  filter.check_fields(rows);

  Table t;
  t.rows_field = req.rows;
  t.cols_field = req.cols;
  std::map<std::pair<std::size_t, std::size_t>, std::vector<double>> values;
  std::size_t kept = 0;
  for (const ResultRow& r : rows) {
    if (!filter.keep(r)) continue;
    for (const std::string& metric : req.metrics) {
      const auto text = [&](const std::string& field) -> std::optional<std::string> {
        if (field == "metric") return metric;
        const auto v = field_value(r, field);
        return v ? std::optional(value_text(*v)) : std::nullopt;
      };
      const auto rl = text(req.rows), cl = text(req.cols);
      const auto mv = field_value(r, metric);
      const auto x = mv ? value_number(*mv) : std::nullopt;
      if (!rl || !cl || !x) continue;
      ++kept;
      const std::size_t ri = label_index(t.row_labels, *rl), ci = label_index(t.col_labels, *cl);
      if (!std::isnan(*x)) values[{ri, ci}].push_back(*x);
    }
  }
  require(kept > 0, "table: no result row has all of the rows, cols and metric fields after the filters");
  t.cells.assign(t.row_labels.size(), std::vector<std::optional<double>>(t.col_labels.size()));
  for (const auto& [rc, v] : values) t.cells[rc.first][rc.second] = aggregate(v, req.agg);
  std::string ms;
  for (const auto& m : req.metrics) ms += (ms.empty() ? "" : ",") + m;
  t.title = "rows=" + req.rows + " cols=" + req.cols + " metric=" + ms + " agg=" + req.agg;
  for (const auto& f : req.filters) t.title += " filter " + f;
  return t;
}

std::string format_latex(const Table& t, int digits) {
  std::string o = "% certconv table: " + t.title + "\n\\begin{tabular}{l" ;
  for (std::size_t c = 0; c < t.col_labels.size(); ++c) o += " S";
  o += "}\n\\toprule\n{" + latex_escape(t.rows_field) + "}";
  for (const auto& c : t.col_labels) o += " & {" + latex_escape(c) + "}";
  o += " \\\\\n\\midrule\n";
  for (std::size_t r = 0; r < t.row_labels.size(); ++r) {
    o += latex_escape(t.row_labels[r]);
    for (const auto& cell : t.cells[r]) {
      o += " & ";
      if (!cell) continue;
      if (std::isinf(*cell))
        o += *cell > 0 ? "{$\\infty$}" : "{$-\\infty$}";
      else
        o += number(*cell, digits);
    }
    o += " \\\\\n";
  }
  return o + "\\bottomrule\n\\end{tabular}\n";
}

std::string format_markdown(const Table& t, int digits) {
  std::string o = "|";
  const auto cell = [&o](const std::string& text) {
    o += ' ';
    o += text;
    o += " |";
  };
  cell(markdown_escape(t.rows_field));
  for (const auto& c : t.col_labels) cell(markdown_escape(c));
  o += "\n|---|";
  for (std::size_t c = 0; c < t.col_labels.size(); ++c) o += "---:|";
  o += "\n";
  for (std::size_t r = 0; r < t.row_labels.size(); ++r) {
    o += '|';
    cell(markdown_escape(t.row_labels[r]));
    for (const auto& v : t.cells[r]) cell(v ? number(*v, digits) : std::string());
    o += "\n";
  }
  return o;
}

std::string format_csv(const Table& t) {
  std::string o = "row,col,value\n";
  for (std::size_t r = 0; r < t.row_labels.size(); ++r)
    for (std::size_t c = 0; c < t.col_labels.size(); ++c)
      if (const auto& cell = t.cells[r][c])
        o += csv_field(t.row_labels[r]) + "," + csv_field(t.col_labels[c]) + "," + number(*cell, 6) + "\n";
  return o;
}

std::string format_table(const Table& t, const std::string& format, int digits) {
  if (format == "latex") return format_latex(t, digits);
  if (format == "markdown") return format_markdown(t, digits);
  if (format == "csv") return format_csv(t);
  throw InputError("table format: expected latex, markdown or csv, got '" + format + "'");
}

}  // namespace certconv
