#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
// A command's run() returns the exit code (0 ok, 1 a check failed); bad input
// is thrown as certconv::InputError and becomes exit code 2 in main().
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "certconv/analysis/explain.hpp"
#include "certconv/core/problem.hpp"

namespace certconv::app {

using Runner = std::function<int()>;

// Adds the subcommand to app and returns what to run when it is selected.
Runner add_truth(CLI::App& app);
Runner add_example(CLI::App& app);
Runner add_analyze(CLI::App& app);
Runner add_explain(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_orders(CLI::App& app);
Runner add_identify(CLI::App& app);
Runner add_reveal(CLI::App& app);
Runner add_batch(CLI::App& app);
Runner add_merge(CLI::App& app);
Runner add_table(CLI::App& app);
Runner add_plot_data(CLI::App& app);

// The explain flow shared by `explain` and `example seed`: truth, explain(),
// the optional float64 rerun by two orders, stdout, JSON. Returns the exit code.
using F64Orders = std::optional<std::pair<std::string, std::string>>;
template <class TI, class TA, class TB>
int explain_and_report(const ConvProblem<TI>& p, const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req,
                       const F64Orders& f64, int threads, const std::string& json_out, nlohmann::json inputs);

// Splits "im2col,gemm-blocked:kc=256,fma=1" into orders (a piece with '=' but no
// ':' continues the previous order's parameters).
std::vector<std::string> split_order_list(const std::string& list);

}  // namespace certconv::app
