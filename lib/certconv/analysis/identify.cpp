#include "certconv/analysis/identify.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "certconv/core/format.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv {

namespace {

// The values tried for one parameter of one order.
std::vector<std::string> sweep(const OrderParam& param, const ConvSpec& s, bool f64, bool has_bias) {
  const std::string& key = param.key;
  if (key == "fma") return {"0", "1"};
  if (key == "input") return f64 ? std::vector<std::string>{"f32"} : std::vector<std::string>{"f32", "bf16", "fp16", "tf32"};
  if (key == "block") {
    // oneDNN's channel blocks: SIMD widths, the 1x1 kernels' reduce blocks (80 and
    // 128 channels and powers of two, jit_avx512_common_1x1_conv_kernel.cpp and
    // jit_avx2_1x1_conv_kernel_f32.cpp), and one block holding every channel.
    const std::int64_t icg = s.ic / s.g;
    std::vector<std::string> v;
    for (std::int64_t b : {4, 8, 16, 32, 64, 80, 128, 256, 512})
      if (b < icg) v.push_back(std::to_string(b));
    v.push_back(std::to_string(icg));
    return v;
  }
  if (key == "kc") return {"haswell-s", "haswell-d", "skylakex-s", "skylakex-d"};
  if (key == "driver") return {"serial", "threaded"};
  if (key == "parts") return {"2", "4", "8"};
  if (key == "tile") return {"2", "4"};
  if (key == "bias" && has_bias) {
    if (param.default_value == "first") return {"first", "last"};
    if (param.default_value == "store") return {"store", "init"};
  }
  return {param.default_value};
}

template <class T, class TI>
const Tensor<T>& as(const Tensor<TI>& t, Tensor<T>& store) {
  if constexpr (std::is_same_v<T, TI>) {
    return t;
  } else {
    store.shape = t.shape;
    store.data.assign(t.data.begin(), t.data.end());  // float → double: exact
    return store;
  }
}

// |d|/scale; +inf for d ≠ 0 at scale 0 and for NaN (non-finite values).
double norm(double d, double scale) {
  const double r = scale > 0 ? std::fabs(d) / scale : (d == 0 ? 0 : kInf);
  return std::isnan(r) ? kInf : r;
}

}  // namespace

std::vector<OrderSpec> identify_candidates(const ConvSpec& s, bool f64, bool has_bias) {
  std::vector<OrderSpec> out;
  for (const OrderInfo& info : order_list()) {
    if (info.kind != "order") continue;
    std::vector<OrderSpec> partial{OrderSpec{info.name, {}}};
    for (const OrderParam& param : info.params) {
      std::vector<OrderSpec> next;
      for (const OrderSpec& o : partial)
        for (const std::string& v : sweep(param, s, f64, has_bias)) {
          OrderSpec e = o;
          e.params[param.key] = v;
          next.push_back(std::move(e));
        }
      partial = std::move(next);
    }
    out.insert(out.end(), partial.begin(), partial.end());
  }
  return out;
}

template <class TI, class T>
IdentifyResult identify(const ConvProblem<TI>& p, const Tensor<T>& y, int threads) {
  const FpEnvGuard fp_env;
  check_problem(p);
  const ConvSpec& s = p.spec;
  require(y.shape == s.y_shape(), "the output to identify has the wrong shape for " + to_benchdnn(s));
  TruthOptions topt;
  topt.threads = threads;
  const Truth truth = compute_truth(p, topt);

  Tensor<T> xs, ws, bs;
  const Tensor<T>& x = as(p.x, xs);
  const Tensor<T>& w = as(p.w, ws);
  const Tensor<T>* bias = p.bias ? &as(*p.bias, bs) : nullptr;
  const ConvProblem<T> pt{s, x, w, bias};
  RunOptions opt;
  opt.threads = threads;
  opt.want_bound = false;
  const double u = format_consts<T>().u;

  IdentifyResult r;
  for (const OrderSpec& o : identify_candidates(s, std::is_same_v<T, double>, p.bias != nullptr)) {
    OrderOutput<T> out;
    try {
      out = run_order(o, pt, opt);
    } catch (const InputError& e) {
      r.skipped.emplace_back(order_str(o), e.what());
      continue;
    }
    IdentifyCandidate c{o, 0, 0, 0, 0};
    for (std::size_t i = 0; i < y.data.size(); ++i) {
      if (std::memcmp(&y.data[i], &out.y.data[i], sizeof(T)) == 0) continue;
      ++c.mismatches;
      const double yi = static_cast<double>(y.data[i]), scale = u * truth.absdot.data[i];
      c.max_norm_err_of_mismatches = std::max(c.max_norm_err_of_mismatches, norm(yi - truth.y.data[i], scale));
      c.max_norm_dist_of_mismatches =
          std::max(c.max_norm_dist_of_mismatches, norm(yi - static_cast<double>(out.y.data[i]), scale));
    }
    c.identical_fraction =
        y.data.empty() ? 1 : static_cast<double>(y.size() - c.mismatches) / static_cast<double>(y.size());
    r.candidates.push_back(std::move(c));
  }
  std::stable_sort(r.candidates.begin(), r.candidates.end(), [](const auto& a, const auto& b) {
    return a.identical_fraction > b.identical_fraction;
  });
  return r;
}

template IdentifyResult identify(const ConvProblem<float>&, const Tensor<float>&, int);
template IdentifyResult identify(const ConvProblem<float>&, const Tensor<double>&, int);
template IdentifyResult identify(const ConvProblem<double>&, const Tensor<double>&, int);

}  // namespace certconv
