#pragma once
// Loading a problem for a subcommand: --x, --w, [--bias] with matching dtypes,
// and the problem either as a benchdnn --spec or in PyTorch terms (--stride,
// --padding, --dilation, --groups, the rest read off the operand shapes); given
// both, they must agree. Every error names the file, option and dimension.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "certconv/core/direction.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/spec.hpp"

namespace certconv::app {

struct InputArgs {
  std::string spec, x, w, bias, dir, dy;
  std::optional<std::int64_t> mb;
  // PyTorch's conv2d arguments as given (empty: not given): an int or "h,w".
  std::string stride, padding, dilation, groups;
  // Registers --spec, --mb, --x, --w, --bias and the PyTorch options on cmd;
  // with directions also --dir and --dy (then the loader checks which operand
  // files the direction needs).
  void add_to(CLI::App& cmd, bool files_required = true, bool directions = false);
  // True when the problem needs the general loader: a --dir or --dy, or a
  // problem that is not 2-D (by --spec, or by x's shape without it).
  bool general() const;
  // The problem of operands with these shapes: --spec (checked against the
  // PyTorch options given), or the PyTorch options over the shapes.
  ConvSpec resolve_spec(const std::vector<std::int64_t>& x_shape, const std::vector<std::int64_t>& w_shape) const;
  // {"x": {path, sha256, bytes}, "w": ..., "bias": ...} for the JSON documents.
  nlohmann::json files_json() const;
};

using AnyInputs = std::variant<OwnedProblem<float>, OwnedProblem<double>>;

// Reads the files, checks that x, w and bias share one dtype and fit the spec.
AnyInputs load_inputs(const InputArgs& a);

// Operands of any direction and rank, as read from their files.
template <class T>
struct GeneralInputs {
  ConvDesc desc;
  Direction dir = Direction::fwd_d;
  std::optional<Tensor<T>> x, w, bias, dy;
  Operands<T> operands() const {
    return {x ? &*x : nullptr, w ? &*w : nullptr, bias ? &*bias : nullptr, dy ? &*dy : nullptr};
  }
};
using AnyGeneral = std::variant<GeneralInputs<float>, GeneralInputs<double>>;

// Reads the operand files the direction needs (one dtype), resolves the problem
// (--spec; for forward directions also from x/w shapes and the PyTorch options
// with one value per spatial axis) and checks every operand against it.
AnyGeneral load_general(const InputArgs& a);

// --dir, or FWD_D (FWD_B with --bias) without it.
Direction direction_of(const InputArgs& a);

// `--gen DIST --seed S` for any direction and rank: --spec's problem and the
// operands the direction reads, drawn by generate_operands (exact/generate.hpp).
template <class T>
GeneralInputs<T> generate_general(const InputArgs& a, const std::string& dist, std::uint64_t seed);

// "f32" / "f64" (or "float32" / "float64"); anything else → InputError naming the option.
Dtype parse_dtype(const std::string& dtype, const std::string& option = "--dtype");

}  // namespace certconv::app
