#include "inputs.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "certconv/core/error.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/core/text.hpp"
#include "certconv/report/json.hpp"

namespace certconv::app {

void InputArgs::add_to(CLI::App& cmd, bool files_required) {
  cmd.add_option("--spec", spec,
                 "problem as a benchdnn descriptor, e.g. mb1ic3ih224oc64oh112kh7sh2ph3 (default: read off the "
                 "shapes of --x and --w with --stride, --padding, --dilation, --groups)");
  cmd.add_option("--mb", mb, "override the descriptor's minibatch (with --spec)");
  auto* xo = cmd.add_option("--x", x, "input activations, NCHW .npy (<f4 or <f8)");
  auto* wo = cmd.add_option("--w", w, "weights, OIHW .npy, same dtype as x");
  if (files_required) {
    xo->required();
    wo->required();
  }
  cmd.add_option("--bias", bias, "bias, 1-D .npy of length oc, same dtype as x");
  cmd.add_option("--stride", stride, "as torch's conv2d: an int or H,W (default 1)");
  cmd.add_option("--padding", padding, "as torch's conv2d: an int or H,W (default 0)");
  cmd.add_option("--dilation", dilation, "as torch's conv2d, 1 = none: an int or H,W (default 1)");
  cmd.add_option("--groups", groups, "as torch's conv2d: an int (default 1)");
}

namespace {

// A PyTorch-style option: an int for both dimensions or "H,W"; nullopt when not
// given. Three values would be a 3-D convolution, which the 2-D problem cannot hold.
std::optional<std::array<std::int64_t, 2>> hw_option(const std::string& text, const std::string& option,
                                                     std::int64_t least, bool pair_allowed = true) {
  if (text.empty()) return std::nullopt;
  std::vector<std::int64_t> v;
  for (std::size_t start = 0;;) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::int64_t n = 0;
    const char *first = text.data() + start, *last = text.data() + comma;
    const auto [end, ec] = std::from_chars(first, last, n);
    require(ec == std::errc{} && end == last && first != last,
            option + ": expected " + (pair_allowed ? "an int or H,W" : "an int") + ", got '" + text + "'");
    require(n >= least, option + ": " + std::to_string(n) + " must be >= " + std::to_string(least) +
                            (option == "--dilation" ? " (1 means no dilation)" : ""));
    v.push_back(n);
    if (comma == text.size()) break;
    start = comma + 1;
  }
  require(v.size() != 3 || !pair_allowed,
          option + ": '" + text + "' has three values, a 3-D convolution; certconv takes 2-D (an int or H,W)");
  require(v.size() == 1 || (pair_allowed && v.size() == 2),
          option + ": expected " + (pair_allowed ? "an int or H,W" : "an int") + ", got '" + text + "'");
  return std::array{v[0], v.back()};
}

// Given both, the PyTorch option must say what the descriptor says; `offset` maps
// PyTorch's value to oneDNN's (dilation: 1 = none there, 0 here).
void check_agrees(const std::optional<std::array<std::int64_t, 2>>& given, const std::string& option,
                  std::int64_t offset, std::array<std::int64_t, 2> in_spec, std::array<const char*, 2> fields,
                  const std::string& spec) {
  if (!given) return;
  for (int d = 0; d < 2; ++d)
    require((*given)[d] - offset == in_spec[d],
            option + ": " + std::to_string((*given)[d]) + " for the " + (d == 0 ? "height" : "width") +
                " disagrees with --spec " + spec + ", whose " + fields[d] + "=" + std::to_string(in_spec[d]) +
                (offset ? " (oneDNN counts dilation from 0: " + std::to_string(in_spec[d] + offset) + " in torch terms)"
                        : ""));
}

}  // namespace

ConvSpec InputArgs::resolve_spec(const std::vector<std::int64_t>& x_shape,
                                 const std::vector<std::int64_t>& w_shape) const {
  const auto st = hw_option(stride, "--stride", 1), pd = hw_option(padding, "--padding", 0),
             dl = hw_option(dilation, "--dilation", 1), gr = hw_option(groups, "--groups", 1, false);
  if (!spec.empty()) {
    ConvSpec s = parse_benchdnn(spec, mb);
    check_agrees(st, "--stride", 0, {s.sh, s.sw}, {"sh", "sw"}, spec);
    check_agrees(pd, "--padding", 0, {s.ph, s.pw}, {"ph", "pw"}, spec);
    check_agrees(dl, "--dilation", 1, {s.dh, s.dw}, {"dh", "dw"}, spec);
    require(!gr || (*gr)[0] == s.g, "--groups: " + groups + " disagrees with --spec " + spec + ", whose g=" +
                                        std::to_string(s.g));
    return s;  // the operand shapes are checked against it with the values (check_problem)
  }
  require(!mb, "--mb: only with --spec (without it the minibatch is x's first dimension)");
  require(x_shape.size() == 4, x + ": x must be 4-D NCHW to read the problem off its shape, got " +
                                   shape_text(x_shape) + " (or give --spec)");
  require(w_shape.size() == 4, w + ": w must be 4-D OIHW to read the problem off its shape, got " +
                                   shape_text(w_shape) + " (or give --spec)");
  const std::int64_t g = gr ? (*gr)[0] : 1;
  require(w_shape[1] * g == x_shape[1],
          w + ": " + std::to_string(w_shape[1]) + " input channels per group (dimension 1) × groups " +
              std::to_string(g) + " != " + std::to_string(x_shape[1]) + ", the channels of x (" + x +
              ", dimension 1)");
  const auto s1 = st.value_or(std::array<std::int64_t, 2>{1, 1}), p0 = pd.value_or(std::array<std::int64_t, 2>{0, 0}),
             d1 = dl.value_or(std::array<std::int64_t, 2>{1, 1});
  return from_pytorch(x_shape[0], x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[2], w_shape[3], s1[0],
                      s1[1], p0[0], p0[1], d1[0], d1[1], g);
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
  AnyTensor x = read_npy(a.x), w = read_npy(a.w);
  const auto shape = [](const AnyTensor& t) { return std::visit([](const auto& v) { return v.shape; }, t); };
  ConvSpec spec = a.resolve_spec(shape(x), shape(w));
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
