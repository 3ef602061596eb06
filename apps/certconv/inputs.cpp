#include "inputs.hpp"

#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/report/json.hpp"

namespace certconv::app {

void InputArgs::add_to(CLI::App& cmd, bool files_required) {
  cmd.add_option("--spec", spec, "problem descriptor in benchdnn syntax, e.g. mb1ic3ih224oc64oh112kh7sh2ph3")->required();
  cmd.add_option("--mb", mb, "override the descriptor's minibatch");
  auto* xo = cmd.add_option("--x", x, "input activations, NCHW .npy (<f4 or <f8)");
  auto* wo = cmd.add_option("--w", w, "weights, OIHW .npy, same dtype as x");
  if (files_required) {
    xo->required();
    wo->required();
  }
  cmd.add_option("--bias", bias, "bias, 1-D .npy of length oc, same dtype as x");
}

nlohmann::json InputArgs::files_json() const {
  nlohmann::json j{{"x", file_json(x)}, {"w", file_json(w)}};
  if (!bias.empty()) j["bias"] = file_json(bias);
  return j;
}

namespace {

const char* dtype_name(const AnyTensor& t) { return t.index() == 0 ? "float32" : "float64"; }

template <class T>
OwnedProblem<T> assemble(ConvSpec spec, AnyTensor x, AnyTensor w, std::optional<AnyTensor> bias) {
  OwnedProblem<T> in{std::move(spec), std::get<Tensor<T>>(std::move(x)), std::get<Tensor<T>>(std::move(w)), {}};
  if (bias) in.bias = std::get<Tensor<T>>(std::move(*bias));
  check_problem(in.view());
  return in;
}

}  // namespace

AnyInputs load_inputs(const InputArgs& a) {
  ConvSpec spec = parse_benchdnn(a.spec, a.mb);
  AnyTensor x = read_npy(a.x), w = read_npy(a.w);
  require(x.index() == w.index(), a.w + ": dtype " + dtype_name(w) + " differs from x (" + a.x + ": " +
                                      dtype_name(x) + "); x and w must share one dtype");
  std::optional<AnyTensor> bias;
  if (!a.bias.empty()) {
    bias = read_npy(a.bias);
    require(bias->index() == x.index(), a.bias + ": dtype " + dtype_name(*bias) + " differs from x (" +
                                            dtype_name(x) + "); bias must share x's dtype");
  }
  const std::string files = " (x: " + a.x + ", w: " + a.w + (a.bias.empty() ? "" : ", bias: " + a.bias) + ")";
  try {
    if (x.index() == 0) return assemble<float>(std::move(spec), std::move(x), std::move(w), std::move(bias));
    return assemble<double>(std::move(spec), std::move(x), std::move(w), std::move(bias));
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + files);
  }
}

Dtype parse_dtype(const std::string& dtype, const std::string& option) {
  if (dtype == "f32" || dtype == "float32") return Dtype::f32;
  if (dtype == "f64" || dtype == "float64") return Dtype::f64;
  throw InputError(option + ": unknown dtype '" + dtype + "' (use f32 or f64)");
}

}  // namespace certconv::app
