#pragma once
// `certconv table`: result rows (one per document × observed entry) filtered,
// grouped by a row field and a column field, one metric aggregated per cell,
// printed as LaTeX (booktabs rules, siunitx S columns), a Markdown pipe table,
// or tidy CSV (row,col,value; one line per non-empty cell) for pgfplots.
// Labels keep their first appearance order (documents in grid order).
#include <optional>
#include <string>
#include <vector>

#include "certconv/report/result_rows.hpp"

namespace certconv {

struct TableRequest {
  std::string rows, cols;
  // One metric, or several when rows or cols is the pseudo-field "metric".
  std::vector<std::string> metrics;
  std::string agg = "max";  // max | min | median | mean (NaN values are left out)
  std::vector<std::string> filters;
  int digits = 3;  // significant digits in LaTeX and Markdown; CSV always has 6
};

struct Table {
  std::string rows_field, cols_field, title;
  std::vector<std::string> row_labels, col_labels;
  std::vector<std::vector<std::optional<double>>> cells;  // [row][col]; nullopt when no data
};

// InputError for an unknown aggregation, a field found in no document, several
// metrics without the "metric" pseudo-field, or no row left after the filters.
Table build_table(const std::vector<LoadedDocument>& docs, const TableRequest& req);

std::string format_latex(const Table& t, int digits);
std::string format_markdown(const Table& t, int digits);
std::string format_csv(const Table& t);

// "latex" | "markdown" | "csv"; InputError naming the format otherwise.
std::string format_table(const Table& t, const std::string& format, int digits);

}  // namespace certconv
