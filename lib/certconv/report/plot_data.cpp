#include "certconv/report/plot_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <tuple>

#include "certconv/core/atomic_file.hpp"
#include "certconv/core/error.hpp"

namespace certconv {

using json = nlohmann::json;

namespace {

std::string num(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A record's value when it is a finite positive number (placeable on a log axis), else NaN.
double positive_or_nan(const json& rec, const char* key) {
  if (!rec.contains(key) || !rec[key].is_number()) return NAN;
  const double v = rec[key].get<double>();
  return v > 0 ? v : NAN;
}

std::string text(const ResultRow& r, const std::string& field) {
  const auto v = field_value(r, field);
  return v ? value_text(*v) : std::string();
}

}  // namespace

PlotDataSummary write_plot_data(const std::vector<LoadedDocument>& docs, const std::vector<std::string>& filters,
                                const std::string& out_dir) {
  const auto rows = result_rows(docs);
  const RowFilter filter(filters);
  filter.check_fields(rows);
  PlotDataSummary s;
  std::string scatter = "cond,norm_err,order,layer,dtype,dist,seed,direction\n";
  std::vector<std::string> layers;
  // (layer index, order, direction), first appearance order
  using Key = std::tuple<std::size_t, std::string, std::string>;
  std::vector<Key> keys;
  std::map<Key, double> tight;
  for (const ResultRow& r : rows) {
    if (!filter.keep(r)) continue;
    const std::string order = text(r, "order"), layer = text(r, "layer"), dir = text(r, "direction");
    std::string tail;
    for (const std::string& f : {order, layer, text(r, "dtype"), text(r, "dist"), text(r, "seed"), dir}) {
      tail += ',';
      tail += csv_field(f);
    }
    tail += '\n';
    if (r.observed->contains("worst"))
      for (const auto& w : (*r.observed)["worst"]) {
        const double cond = positive_or_nan(w, "cond"), ne = positive_or_nan(w, "norm_err");
        if (!std::isfinite(cond) || !std::isfinite(ne)) continue;
        scatter += num(cond);
        scatter += ',';
        scatter += num(ne);
        scatter += tail;
        ++s.points;
      }
    const auto t = field_value(r, "max_tightness");
    const auto tv = t ? value_number(*t) : std::nullopt;
    if (!tv || std::isnan(*tv)) continue;
    auto li = std::find(layers.begin(), layers.end(), layer);
    if (li == layers.end()) li = layers.insert(layers.end(), layer);
    const Key key{static_cast<std::size_t>(li - layers.begin()), order, dir};
    const auto [it, fresh] = tight.emplace(key, *tv);
    if (fresh)
      keys.push_back(key);
    else
      it->second = std::max(it->second, *tv);
  }
  std::string per_layer = "layer_index,layer,order,max_tightness,direction\n";
  std::stable_sort(keys.begin(), keys.end(),
                   [](const Key& a, const Key& b) { return std::get<0>(a) < std::get<0>(b); });
  for (const auto& k : keys)
    per_layer += std::to_string(std::get<0>(k)) + "," + csv_field(layers[std::get<0>(k)]) + "," +
                 csv_field(std::get<1>(k)) + "," + num(tight[k]) + "," + std::get<2>(k) + "\n";
  s.layer_rows = static_cast<int>(keys.size());

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  require(!ec, out_dir + ": cannot create output directory: " + ec.message());
  write_file_atomic((std::filesystem::path(out_dir) / "norm_err_vs_cond.csv").string(), scatter);
  write_file_atomic((std::filesystem::path(out_dir) / "max_tightness_per_layer.csv").string(), per_layer);
  return s;
}

}  // namespace certconv
