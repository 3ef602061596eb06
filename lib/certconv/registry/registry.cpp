// The registry of orders and backends (registry.hpp).
#include "certconv/registry/registry.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "certconv/backends/blas.hpp"
#include "certconv/backends/onednn.hpp"
#include "certconv/core/format.hpp"
#include "certconv/bounds/input_rounding.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/key_values.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/winograd.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

// identify tries every input format on float32 problems (float64 has none but f32).
std::vector<std::string> sweep_input_formats(const SweepContext& c) {
  if (c.dtype != Dtype::f32) return {};
  std::vector<std::string> v;
  for (const InputFormat f : {InputFormat::f32, InputFormat::bf16, InputFormat::fp16, InputFormat::tf32})
    v.push_back(input_format_name(f));
  return v;
}

const OrderParam kInputParam{"input", "f32",
                             "float32 orders: round x, w and bias to bf16, fp16 or tf32 (nearest-even) first; "
                             "bounds stay against the original inputs",
                             sweep_input_formats};

std::vector<OrderInfo> build_list() {
  std::vector<OrderInfo> v{
      make_direct_order(),        make_im2col_order(),      make_gemm_blocked_order(),
      make_onednn_avx512_order(), make_onednn_avx2_order(), make_pairwise_order(),
      make_kahan_order(),         make_split_k_order(),     make_winograd_order(),
      make_openblas_haswell_order(), make_onednn_avx512_bf16_order(), make_tree_order(),
      make_onednn_avx512_bwd_d_order(), make_onednn_avx512_bwd_w_order(), make_slow_conv_bwd_d_order(),
      make_onednn_avx2_bwd_d_order(), make_onednn_avx2_bwd_w_order(), make_onednn_dw_bwd_w_order(),
  };
  // The real libraries (OrderKind::backend), where the build found them.
#if CERTCONV_HAVE_ONEDNN
  v.push_back(make_onednn_order());
#endif
#if CERTCONV_HAVE_OPENBLAS
  v.push_back(make_blas_unfold_order());
  v.push_back(make_blas_slow_conv_order());
#endif
  for (OrderInfo& o : v) o.params.push_back(kInputParam);
  return v;
}

std::string known_names() {
  std::string s;
  for (const OrderInfo& o : order_list()) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

const OrderParam* find_param(const OrderInfo& info, const std::string& key) {
  for (const OrderParam& p : info.params)
    if (p.key == key) return &p;
  return nullptr;
}

// Unknown keys and the generic parameters' values; each order checks the rest.
void check_params(const OrderInfo& info, const std::map<std::string, std::string>& params) {
  for (const auto& [k, v] : params) {
    if (!find_param(info, k)) {
      std::string keys;
      for (const OrderParam& p : info.params) keys += (keys.empty() ? "" : ", ") + p.key;
      throw InputError("order '" + info.name + "': unknown parameter '" + k + "' (known: " + keys + ")");
    }
    if (k == "input") parse_input_format(v);
  }
}

}  // namespace

const std::vector<OrderInfo>& order_list() {
  static const std::vector<OrderInfo> list = build_list();
  return list;
}

const OrderInfo& find_order(std::string_view name) {
  for (const OrderInfo& o : order_list())
    if (o.name == name) return o;
  throw InputError("unknown order '" + std::string(name) + "' (known: " + known_names() + ")");
}

const OrderInfo& order_for_direction(std::string_view name, Direction dir, int rank, const std::string& what) {
  const OrderInfo& info = find_order(name);
  require(info.kind == OrderKind::order && applies_to(info, dir, rank <= 2),
          what + ": it does not apply to " + direction_name(dir) + " in " + std::to_string(rank) +
              "-D (docs/directions.md lists the orders that do)");
  return info;
}

OrderSpec parse_order(std::string_view text) {
  OrderSpec s;
  const auto [name, list] = split_name(text);
  s.name = name;
  const OrderInfo& info = find_order(s.name);
  if (!list) return s;
  require(!list->empty(), "order '" + s.name + "': empty parameter list after ':'");
  for (const KeyValue& kv : split_key_values(*list)) {
    require(kv.has_eq && !kv.key.empty() && !kv.value.empty(),
            "order '" + s.name + "': parameter '" + kv.item + "' is not key=value");
    require(s.params.emplace(kv.key, kv.value).second, "order '" + s.name + "': parameter '" + kv.key + "' given twice");
  }
  check_params(info, s.params);
  return s;
}

std::string order_str(const OrderSpec& o) {
  const OrderInfo& info = find_order(o.name);
  std::vector<const OrderParam*> ps;
  for (const OrderParam& p : info.params) ps.push_back(&p);
  std::sort(ps.begin(), ps.end(), [](const OrderParam* a, const OrderParam* b) { return a->key < b->key; });
  std::string s = o.name;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    const auto it = o.params.find(ps[i]->key);
    s += (i ? "," : ":") + ps[i]->key + "=" + (it == o.params.end() ? ps[i]->default_value : it->second);
  }
  return s;
}

template <class T>
OrderOutput<T> run_order(const OrderSpec& order, const ConvProblem<T>& p, const RunOptions& opt) {
  const FpEnvGuard fp_env;
  const OrderInfo& info = find_order(order.name);
  check_params(info, order.params);
  OrderSpec inner = order;
  const auto it = inner.params.find("input");
  const InputFormat fmt = it == inner.params.end() ? InputFormat::f32 : parse_input_format(it->second);
  if (it != inner.params.end()) inner.params.erase(it);
  if (fmt == InputFormat::f32) {
    if constexpr (std::is_same_v<T, float>)
      return info.run_f32(inner, p, opt);
    else
      return info.run_f64(inner, p, opt);
  } else {
    if constexpr (!std::is_same_v<T, float>) {
      throw InputError("order '" + order.name + "': input=" + std::string(input_format_name(fmt)) +
                       " rounds float32 inputs; it needs dtype f32, not f64");
    } else {
      // Round the inputs, run the order on them, then add the input-rounding term:
      // |ŷ − y| ≤ |ŷ − ỹ| + |ỹ − y|, ỹ the exact convolution of the rounded inputs.
      check_problem(p);
      const OwnedProblem<float> rounded = round_problem(p, fmt);
      OrderOutput<float> out = info.run_f32(inner, rounded.view(), opt);
      if (opt.want_bound && !out.bound.data.empty()) {
        const Tensor<double> e = input_rounding_error(p, rounded.view(), resolve_threads(opt.threads));
        for (std::size_t i = 0; i < e.data.size(); ++i) {
          out.bound.data[i] = add_up(out.bound.data[i], e.data[i]);
          if (!out.running_bound.data.empty()) out.running_bound.data[i] = add_up(out.running_bound.data[i], e.data[i]);
        }
        out.bound_kind.input_rounding = true;
      }
      return out;
    }
  }
}

template OrderOutput<float> run_order(const OrderSpec&, const ConvProblem<float>&, const RunOptions&);
template OrderOutput<double> run_order(const OrderSpec&, const ConvProblem<double>&, const RunOptions&);

}  // namespace certconv
