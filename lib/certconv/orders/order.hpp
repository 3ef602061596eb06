#pragma once
// The contract between an order (or backend) and the registry above it: what an
// order is given (OrderSpec, the problem, RunOptions), what it returns
// (OrderOutput) and how it describes itself (OrderInfo). Each order lives in its
// own file under orders/ (backends under backends/) and is listed by
// registry/registry.cpp through its make_<name>_order() function.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "certconv/bounds/bound_kind.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/direction.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

struct OrderSpec {
  std::string name;
  std::map<std::string, std::string> params;  // as given by the user
};

struct RunOptions {
  int threads = 1;
  bool want_bound = true;  // compute the rigorous per-element bound alongside
  // With want_bound, also the running error bound where the order has one (a second
  // <f8 tensor and the pass that accumulates μ).
  bool want_running = true;
};

template <class T>
struct OrderOutput {
  Tensor<T> y;                   // the observed output, NCHW
  Tensor<double> bound;          // rigorous per-element bound on |y − truth| (empty if not requested)
  BoundKind bound_kind;          // which theorem produced `bound` (Theorem::none if none is proven)
  Tensor<double> running_bound;  // a posteriori running error bound (Higham 2002 §3.3); empty if none
  // What actually ran, for the JSON documents: e.g. oneDNN's impl_info_str and ISA,
  // OpenBLAS's config and core. Empty for emulated orders.
  std::map<std::string, std::string> provenance;
};

// What `certconv identify` knows of a problem when it asks a parameter which
// values to try.
struct SweepContext {
  const ConvSpec& spec;
  Dtype dtype;
  bool has_bias;
};

using Sweep = std::function<std::vector<std::string>(const SweepContext&)>;

struct OrderParam {
  std::string key, default_value, help;
  // The values `certconv identify` tries (the settings real libraries use); unset,
  // or no values for this problem: the default only.
  Sweep sweep = {};
};

// A sweep over fixed values, whatever the problem.
inline Sweep sweep_over(std::vector<std::string> values) {
  return [values = std::move(values)](const SweepContext&) { return values; };
}

// A sweep over where the bias enters, for problems that have one.
inline Sweep sweep_bias(std::vector<std::string> values) {
  return [values = std::move(values)](const SweepContext& c) {
    return c.has_bias ? values : std::vector<std::string>{};
  };
}

// An order emulated here, or a real library run through its API.
enum class OrderKind { order, backend };

// "order" | "backend", as the documents and `certconv orders` name the kinds.
inline const char* order_kind_name(OrderKind k) { return k == OrderKind::order ? "order" : "backend"; }

// Where an order applies. forward: forward 2-D (and 1-D) problems as given (the
// library kernels it reproduces). generic: every direction and rank, run on the
// lowered problem (core/lower.hpp; its order per direction in docs/directions.md).
// backward_data / backward_weights: it emulates that direction's kernel, on that
// direction's lowered problem only.
enum class OrderScope { forward, generic, backward_data, backward_weights };

struct OrderInfo {
  std::string name;
  std::vector<OrderParam> params;
  std::string accumulation;  // the accumulation order in one line
  std::function<OrderOutput<float>(const OrderSpec&, const ConvProblem<float>&, const RunOptions&)> run_f32;
  std::function<OrderOutput<double>(const OrderSpec&, const ConvProblem<double>&, const RunOptions&)> run_f64;
  OrderKind kind = OrderKind::order;
  OrderScope scope = OrderScope::forward;
};

// Whether identify and analyze offer the order for this direction and rank.
inline bool applies_to(const OrderInfo& o, Direction dir, bool forward_2d) {
  switch (o.scope) {
    case OrderScope::generic: return true;
    case OrderScope::forward: return forward_2d && is_forward(dir);
    case OrderScope::backward_data: return dir == Direction::bwd_d;
    case OrderScope::backward_weights: return dir == Direction::bwd_w || dir == Direction::bwd_wb;
  }
  return false;
}

// An order with a parameter that has no default (the `tree` order's file): identify
// cannot sweep it, so it never tries that order.
inline bool needs_argument(const OrderInfo& o) {
  for (const OrderParam& p : o.params)
    if (p.default_value.empty()) return true;
  return false;
}

}  // namespace certconv
