#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself here.
// A command's run() returns the exit code (0 ok, 1 a check failed); bad input
// is thrown as certconv::InputError and becomes exit code 2 in main().
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace certconv::app {

using Runner = std::function<int()>;

// Adds the subcommand to app and returns what to run when it is selected.
Runner add_truth(CLI::App& app);
Runner add_example(CLI::App& app);
Runner add_analyze(CLI::App& app);

// Splits "im2col,gemm-blocked:kc=256,fma=1" into orders (a piece with '=' but no
// ':' continues the previous order's parameters).
std::vector<std::string> split_order_list(const std::string& list);

}  // namespace certconv::app
