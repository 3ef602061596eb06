#define BOOST_TEST_MODULE table
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "certconv/core/error.hpp"
#include "certconv/report/plot_data.hpp"
#include "certconv/report/table.hpp"
#include "cli_util.hpp"

using namespace certconv;
using json = nlohmann::json;

namespace {

json observed(const std::string& name, double max_norm_err, double tightness) {
  return {{"name", name}, {"kind", "order"}, {"max_norm_err", max_norm_err}, {"max_tightness", tightness},
          {"worst", json::array({{{"cond", 10.0}, {"norm_err", max_norm_err}}, {{"cond", nullptr},
                                   {"cond_status", "+inf"}, {"norm_err", 0.5}}})}};
}

LoadedDocument doc(const std::string& layer, std::uint64_t seed, json obs) {
  return {"/r/" + layer + std::to_string(seed) + ".json",
          {{"schema", "certconv.analyze/1"},
           {"problem", {{"name", layer}, {"desc", "mb1ic3ih8oc4kh3n\"" + layer + "\""}}},
           {"parameters", {{"dtype", "f32"}}},
           {"inputs", {{"dist", "kaiming"}, {"seed", seed}}},
           {"observed", std::move(obs)}}};
}

// Two layers × two seeds × two orders; conv1/pairwise seed 2 has an infinite tightness.
std::vector<LoadedDocument> fixture() {
  json inf = observed("pairwise", 0.25, 0);
  inf["max_tightness"] = nullptr;
  inf["max_tightness_status"] = "+inf";
  return {doc("conv1", 1, {observed("im2col", 1.0, 0.1), observed("pairwise", 0.5, 0.2)}),
          doc("conv1", 2, {observed("im2col", 3.0, 0.3), inf}),
          doc("res_2", 1, {observed("im2col", 2.0, 0.4), observed("pairwise", 1.0, 0.5)}),
          doc("res_2", 2, {observed("im2col", 6.0, 0.6), observed("pairwise", 2.0, 0.7)})};
}

Table table(const std::string& rows, const std::string& cols, std::vector<std::string> metrics,
            const std::string& agg = "max", std::vector<std::string> filters = {}) {
  return build_table(fixture(), {rows, cols, std::move(metrics), agg, std::move(filters), 3});
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(aggregations) {
  const auto docs = fixture();
  const Table mx = table("layer", "order", {"max_norm_err"});
  BOOST_TEST(mx.row_labels == std::vector<std::string>({"conv1", "res_2"}));
  BOOST_TEST(mx.col_labels == std::vector<std::string>({"im2col", "pairwise"}));
  BOOST_TEST(*mx.cells[0][0] == 3.0);
  BOOST_TEST(*mx.cells[1][1] == 2.0);
  BOOST_TEST(*table("layer", "order", {"max_norm_err"}, "mean").cells[1][0] == 4.0);
  BOOST_TEST(*table("layer", "order", {"max_norm_err"}, "min").cells[1][0] == 2.0);
  BOOST_TEST(*table("order", "dtype", {"max_norm_err"}, "median").cells[0][0] == 2.5);  // 1, 2, 3, 6
  BOOST_TEST(std::isinf(*table("layer", "order", {"max_tightness"}).cells[0][1]));
}

BOOST_AUTO_TEST_CASE(filters_aliases_and_several_metrics) {
  const Table f = table("layer", "order", {"max_norm_err"}, "max", {"seed=1"});
  BOOST_TEST(*f.cells[0][0] == 1.0);
  BOOST_TEST(*f.cells[1][0] == 2.0);
  // Same field: either value; different fields: both.
  const Table g = table("layer", "seed", {"max_norm_err"}, "max", {"order=pairwise", "layer=res_2", "layer=conv1"});
  BOOST_TEST(*g.cells[1][1] == 2.0);
  BOOST_TEST(table("layer", "order", {"max_norm_err"}, "max", {"layer=res_2"}).row_labels.size() == 1u);
  const Table m = table("order", "metric", {"max_norm_err", "max_tightness"}, "max", {"layer=res_2"});
  BOOST_TEST(m.col_labels == std::vector<std::string>({"max_norm_err", "max_tightness"}));
  BOOST_TEST(*m.cells[0][1] == 0.6);
  BOOST_TEST(*table("problem.desc", "observed.name", {"observed.max_norm_err"}).cells[0][0] == 3.0);
}

BOOST_AUTO_TEST_CASE(bad_requests) {
  BOOST_TEST(
      contains(error_of([] { table("layer", "ordr", {"max_norm_err"}); }), "cols: no document has the field 'ordr'"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_er"}); }),
                      "metric: no document has the field 'max_norm_er'"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_err"}, "sum"); }),
                      "agg: expected max, min, median or mean, got 'sum'"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_err", "max_tightness"}); }), "several metrics"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_err"}, "max", {"sed=1"}); }),
                      "filter: no document has the field 'sed'"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_err"}, "max", {"seed=9"}); }), "no result row"));
  BOOST_TEST(contains(error_of([] { table("layer", "order", {"max_norm_err"}, "max", {"seed"}); }), "FIELD=VALUE"));
}

BOOST_AUTO_TEST_CASE(formats) {
  Table t;
  t.rows_field = "layer";
  t.cols_field = "order";
  t.title = "test";
  t.row_labels = {"res_50:a&b", "x|y,z"};
  t.col_labels = {"gemm-blocked", "pair"};
  t.cells = {{1.23456, std::nullopt}, {INFINITY, 1e-5}};
  BOOST_TEST(format_markdown(Table{"a", "b", "", {"r"}, {"c"}, {{1152.0}}}, 3) == "| a | c |\n|---|---:|\n| r | 1152 |\n");
  BOOST_TEST(format_latex(t, 3) ==
             "% certconv table: test\n\\begin{tabular}{l S S}\n\\toprule\n{layer} & {gemm-blocked} & {pair} \\\\\n"
             "\\midrule\nres\\_50:a\\&b & 1.23 &  \\\\\nx|y,z & {$\\infty$} & 1e-05 \\\\\n\\bottomrule\n"
             "\\end{tabular}\n");
  BOOST_TEST(format_markdown(t, 2) ==
             "| layer | gemm-blocked | pair |\n|---|---:|---:|\n| res_50:a&b | 1.2 |  |\n| x\\|y,z | inf | 1e-05 |\n");
  BOOST_TEST(format_csv(t) == "row,col,value\nres_50:a&b,gemm-blocked,1.23456\n\"x|y,z\",gemm-blocked,inf\n"
                              "\"x|y,z\",pair,1e-05\n");
  BOOST_TEST(contains(error_of([&] { format_table(t, "html", 3); }), "table format: expected latex"));
}

BOOST_AUTO_TEST_CASE(plot_data_files) {
  const auto dir = certconv::test::scratch_dir("plot-data");
  const auto docs = fixture();
  const PlotDataSummary s = write_plot_data(docs, {"order=im2col"}, dir.string());
  // 4 documents × 1 order × the one worst record with a finite cond.
  BOOST_TEST(s.points == 4);
  BOOST_TEST(s.layer_rows == 2);
  const std::string scatter = certconv::test::slurp(dir / "norm_err_vs_cond.csv");
  BOOST_TEST(scatter.rfind("cond,norm_err,order,layer,dtype,dist,seed,direction\n10,1,im2col,conv1,f32,kaiming,1,FWD_D\n", 0) == 0u,
             scatter);
  BOOST_TEST(certconv::test::slurp(dir / "max_tightness_per_layer.csv") ==
             "layer_index,layer,order,max_tightness,direction\n0,conv1,im2col,0.3,FWD_D\n1,res_2,im2col,0.6,FWD_D\n");
  write_plot_data(docs, {}, dir.string());
  BOOST_TEST(certconv::test::slurp(dir / "max_tightness_per_layer.csv") ==
             "layer_index,layer,order,max_tightness,direction\n0,conv1,im2col,0.3,FWD_D\n0,conv1,pairwise,inf,FWD_D\n"
             "1,res_2,im2col,0.6,FWD_D\n1,res_2,pairwise,0.7,FWD_D\n");
  std::filesystem::remove_all(dir);
}
