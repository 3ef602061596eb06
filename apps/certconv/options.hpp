#pragma once
// The options several subcommands share, declared once so that each is spelled,
// described and validated the same way everywhere. A value outside the allowed
// range or choices is a usage error (exit code 2) before the command runs.
#include <CLI/CLI.hpp>
#include <string>

namespace certconv::app {

// --threads N: worker threads, 0 = all cores.
CLI::Option* add_threads_option(CLI::App& cmd, int& threads);

// --dtype f32|f64 (CLI11 lists the choices); `what`: whose precision it is, for the help.
CLI::Option* add_dtype_option(CLI::App& cmd, std::string& dtype, const std::string& what);

// --json PATH: where the command writes its JSON document (`what`, for the help).
CLI::Option* add_json_option(CLI::App& cmd, std::string& path, const std::string& what);

}  // namespace certconv::app
