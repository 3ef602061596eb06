#pragma once
// The analysis behind `certconv analyze` (and the batch runner and the Python
// module): certified truth, then every requested emulated order, real backend
// and user-supplied output measured against it. Returns plain results; the
// certconv.analyze/1 document is built from them by report/analyze_doc.hpp.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "certconv/analysis/metrics.hpp"
#include "certconv/analysis/truth_summary.hpp"
#include "certconv/analysis/format_bound.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/core/problem.hpp"

namespace certconv {

// A user-supplied output of the problem, already in memory.
struct Observed {
  std::string name;
  std::string source;  // where it came from, for messages and the document: a path, or "<array>"
  std::variant<Tensor<float>, Tensor<double>> y;
  // Its format (analysis/format_bound.hpp); unset: f64 or f32 from y's type. bf16
  // and fp16 are float32 tensors holding that format's values (each checked).
  std::optional<OutputFormat> format;
  // "file", or "backend" for a real library's output computed by the caller
  // (with its provenance and time).
  std::string kind = "file";
  std::optional<std::map<std::string, std::string>> provenance;
  std::optional<double> seconds;
};

struct AnalyzeRequest {
  Dtype dtype = Dtype::f32;            // compute dtype of the orders
  std::vector<std::string> orders;     // order strings, "all" expanded by the caller
  std::vector<Observed> observed;      // user outputs
  double rtol = 1e-5, atol = 1e-8;     // isclose against the truth
  double lambda = 5;                   // probabilistic bound parameter
  int threads = 0;
  bool allow_violations = false;
  bool skip_unsupported = false;  // orders that reject the problem are listed as skipped (for "all")
};

// The a-posteriori running bound some orders also give (Higham 2002 §3.3).
struct RunningBoundCheck {
  std::int64_t violations = 0;
  double max_tightness = 0;
};

// One order, backend or user output against the truth.
struct ObservedResult {
  std::string name, kind, params;  // kind: "order", "backend" or "file"; params: order string or source
  Dtype dtype = Dtype::f32;
  OutputFormat format = OutputFormat::f32;  // f32/f64 as dtype; bf16/fp16 for such files
  double u = 0;
  std::string bound_kind;
  ObservedMetrics metrics;          // violations include the running bound's
  ProbabilisticBound probabilistic{};  // γ̃_n(λ) at absdot = 1, and its probability
  std::optional<RunningBoundCheck> running_bound;
  std::optional<std::map<std::string, std::string>> provenance;  // orders and backends only
  std::optional<double> seconds;                                  // orders and backends only
  // Fraction bit-identical to each other observed output; nullopt across dtypes.
  std::map<std::string, std::optional<double>> identical_fraction;
};

struct SkippedOrder {
  std::string order, reason;
};

struct AnalyzeResult {
  TruthSummary truth;
  double truth_seconds = 0;
  std::vector<ObservedResult> observed;
  std::vector<SkippedOrder> skipped;
  std::int64_t violations = 0;  // over every observed output
  int exit_code = 0;            // 1 when a rigorous bound is violated and not allowed
  // From the analyze of a direction and rank: its result ("y", "dx", "dw", "db")
  // and the 2-D problem it was lowered to (what the document's problem block names).
  std::string result;
  std::optional<ConvSpec> lowered;
};

// Every order name in the registry with kind "order" (what --orders all means),
// plus the real backends built into this binary; not the orders that need an
// argument (the tree order's file: needs_argument in orders/order.hpp).
std::vector<std::string> all_order_names();

// x/w of type TI (the stored inputs), orders computed in req.dtype.
template <class TI>
AnalyzeResult analyze(const ConvProblem<TI>& p, const AnalyzeRequest& req);

// What --orders all means for a direction and rank: the orders that apply
// (orders/order.hpp applies_to) and, where built, the backend onednn.
std::vector<std::string> order_names_for(Direction dir, int rank);

// One result of any direction and rank, lowered to the 2-D engine (core/lower.hpp):
// observed outputs in the result's shape; the orders that apply to the direction
// (orders/order.hpp applies_to) and the real backend "onednn" (float32; run on the
// operands as they are); others are an InputError, or dropped when
// req.skip_unsupported. Records and samples
// come back in the result's layout. BWD_WB has two results: InputError.
template <class TI>
AnalyzeResult analyze(const ConvDesc& d, Direction dir, const Operands<TI>& ops, AnalyzeRequest req);

}  // namespace certconv
