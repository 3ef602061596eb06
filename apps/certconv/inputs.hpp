#pragma once
// Loading a problem for a subcommand: --spec, --x, --w, [--bias] with matching
// dtypes and shapes; every error names the file and the field.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "certconv/core/format.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/spec.hpp"

namespace certconv::app {

struct InputArgs {
  std::string spec, x, w, bias;
  std::optional<std::int64_t> mb;
  // Registers --spec, --x, --w, --bias, --mb on cmd.
  void add_to(CLI::App& cmd, bool files_required = true);
  // {"x": {path, sha256, bytes}, "w": ..., "bias": ...} for the JSON documents.
  nlohmann::json files_json() const;
};

using AnyInputs = std::variant<OwnedProblem<float>, OwnedProblem<double>>;

// Reads the files, checks that x, w and bias share one dtype and fit the spec.
AnyInputs load_inputs(const InputArgs& a);

// "f32" / "f64" (or "float32" / "float64"); anything else → InputError naming the option.
Dtype parse_dtype(const std::string& dtype, const std::string& option = "--dtype");

}  // namespace certconv::app
