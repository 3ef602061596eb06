#pragma once
// `certconv plot-data`: the CSV files behind the two standard figures, read by
// pgfplots (`\addplot table[col sep=comma, x=..., y=...]`):
//   norm_err_vs_cond.csv        cond,norm_err,order,layer,dtype,dist,seed — the
//                               `worst` records of every observed entry (log–log
//                               scatter; records with cond = ∞ or norm_err = 0
//                               cannot be placed on log axes and are left out)
//   max_tightness_per_layer.csv layer_index,layer,order,max_tightness — the
//                               largest max_tightness over the experiments of
//                               each (layer, order), layers in grid order
#include <string>
#include <vector>

#include "certconv/report/result_rows.hpp"

namespace certconv {

struct PlotDataSummary {
  int points = 0, layer_rows = 0;
};

// Rows passing `filters` (as table's --filter); files written atomically.
PlotDataSummary write_plot_data(const std::vector<LoadedDocument>& docs, const std::vector<std::string>& filters,
                                const std::string& out_dir);

}  // namespace certconv
