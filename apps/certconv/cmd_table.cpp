// certconv table: LaTeX, Markdown or CSV tables from analyze documents.
#include <cstdio>
#include <memory>

#include "certconv/core/atomic_file.hpp"
#include "certconv/report/table.hpp"
#include "commands.hpp"

namespace certconv::app {

namespace {

struct TableArgs {
  std::vector<std::string> paths, metrics, filters;
  std::string rows, cols, agg = "max", format, out;
  int digits = 3;
};

}  // namespace

Runner add_table(CLI::App& app) {
  auto a = std::make_shared<TableArgs>();
  auto* cmd = app.add_subcommand("table", "tables of analyze/batch results: latex (booktabs, siunitx), markdown, csv");
  cmd->add_option("paths", a->paths, "batch output directories or analyze documents")->required();
  cmd->add_option("--rows", a->rows, "field for the rows (e.g. layer, order, dtype, dist, seed, metric)")->required();
  cmd->add_option("--cols", a->cols, "field for the columns")->required();
  cmd->add_option("--metric", a->metrics, "metric field(s), comma-separated (e.g. max_norm_err, max_tightness)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--agg", a->agg, "aggregation per cell: max, min, median, mean");
  cmd->add_option("--filter", a->filters, "FIELD=VALUE, repeatable (same field: any of; different: all of)");
  cmd->add_option("--format", a->format, "latex, markdown or csv")->required();
  cmd->add_option("--digits", a->digits, "significant digits (latex, markdown)")->check(CLI::Range(1, 17));
  cmd->add_option("--out", a->out, "output file (default: stdout)");
  return [a] {
    TableRequest req{a->rows, a->cols, a->metrics, a->agg, a->filters, a->digits};
    const auto docs = load_analyze_documents(a->paths);
    const std::string text = format_table(build_table(docs, req), a->format, a->digits);
    if (a->out.empty())
      std::fputs(text.c_str(), stdout);
    else
      write_file_atomic(a->out, text);
    return 0;
  };
}

}  // namespace certconv::app
