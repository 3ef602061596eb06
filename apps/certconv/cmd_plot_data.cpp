// certconv plot-data: the CSV files of the standard figures (norm_err against
// cond; max tightness per layer) from analyze documents.
#include <cstdio>
#include <memory>

#include "certconv/report/plot_data.hpp"
#include "commands.hpp"

namespace certconv::app {

namespace {

struct PlotDataArgs {
  std::vector<std::string> paths, filters;
  std::string out;
};

}  // namespace

Runner add_plot_data(CLI::App& app) {
  auto a = std::make_shared<PlotDataArgs>();
  auto* cmd = app.add_subcommand("plot-data", "CSV for the figures: norm_err_vs_cond.csv, max_tightness_per_layer.csv");
  cmd->add_option("paths", a->paths, "batch output directories or analyze documents")->required();
  cmd->add_option("--out", a->out, "output directory")->required();
  cmd->add_option("--filter", a->filters, "FIELD=VALUE, repeatable, as for table");
  return [a] {
    const PlotDataSummary s = write_plot_data(load_analyze_documents(a->paths), a->filters, a->out);
    std::printf("wrote %s/norm_err_vs_cond.csv (%d points), %s/max_tightness_per_layer.csv (%d rows)\n",
                a->out.c_str(), s.points, a->out.c_str(), s.layer_rows);
    return 0;
  };
}

}  // namespace certconv::app
