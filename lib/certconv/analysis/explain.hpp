#pragma once
// The seed question, answered: two outputs A and B of the same convolution
// "don't match". explain() measures each against the certified truth in its own
// format (float64, float32, bf16 or fp16: A and B may differ, as a float64
// manual result against the float32 library one), checks whether each is
// consistent with *some* summation order in that format (its error within the
// order-free rigorous bound of analysis/format_bound.hpp), lists
// torch.isclose(A, B) failures with their cond and the side whose error
// dominates, derives a certified tolerance for |A − B| (bound_A + bound_B), and
// writes a plain-language verdict. Returns plain results; the certconv.explain/1
// document is built by report/explain_doc.hpp.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certconv/analysis/format_bound.hpp"
#include "certconv/analysis/metrics.hpp"
#include "certconv/analysis/stats.hpp"
#include "certconv/analysis/truth_summary.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv {

struct ExplainRequest {
  std::string name_a = "A", name_b = "B";
  double rtol = 1e-3, atol = 1e-8;  // the comparison the user made
  std::size_t max_listed = 1000;    // failing outputs listed (all are counted)
  // The format of A and of B; bf16/fp16 outputs are float32 tensors holding them.
  std::array<OutputFormat, 2> formats = {OutputFormat::f32, OutputFormat::f32};
  // A lowered problem (core/lower.hpp): where each of its outputs lies in the
  // result, and the result's shape, so that records and the verdict name the
  // result's indices; result_shape empty: a forward 2-D problem.
  std::vector<std::int64_t> to_natural, result_shape;
};

// A or B against the truth.
struct ExplainSide {
  std::string name;
  OutputFormat format = OutputFormat::f32;
  BoundKind bound_kind;         // of the order-free bound in that format
  ObservedMetrics metrics;      // against the order-free rigorous bound
  bool consistent = true;       // no output certainly beyond that bound
  std::string suggested_cause;  // when not consistent: which wider model explains the errors
};

// A cond sample: its distribution and the fractions above 1e3 and 1e6.
struct CondSummary {
  Distribution cond;
  double fraction_above_1e3 = 0, fraction_above_1e6 = 0;
};

// One output where torch.isclose(A, B) is false.
struct IscloseFailure {
  std::vector<std::int64_t> index;  // in the result's shape: [n, c, h, w] for a 2-D y
  double cond = 0, truth = 0, a = 0, b = 0, err_a = 0, err_b = 0, bound_a = 0, bound_b = 0;
  int dominant = 0;  // 0: |A − y| ≥ |B − y| there, 1: B's error is the larger
};

struct ExplainResult {
  double rtol = 0, atol = 0;   // the comparison the user made
  std::array<ExplainSide, 2> sides;
  bool consistent = true;      // both outputs within the order-free rigorous bound
  std::int64_t failures = 0;   // outputs where isclose(A, B) is false
  std::array<std::int64_t, 2> failures_dominated = {0, 0};  // of those, where A's (B's) error is the larger
  std::vector<IscloseFailure> failing;  // the first max_listed of them
  CondSummary cond_all, cond_failing;
  double certified_atol = 0;   // guaranteed with rtol = 0: max of bound_A + bound_B
  double certified_rtol = 0;   // guaranteed together with the requested atol
  double max_abs_diff = 0;     // max |A − B|
  std::string verdict;         // in plain words, for stdout and the document
};

// A (TA) and B (TB) in the formats req.formats, each side's rigorous bound
// per output in bounds (format_bound of its format).
template <class TA, class TB>
ExplainResult explain(const ConvSpec& spec, const Truth& truth, bool bias, const std::array<FormatBound, 2>& bounds,
                      const Tensor<TA>& a, const Tensor<TB>& b, const ExplainRequest& req);

// The same question in float64: A and B recomputed from p's inputs (converted
// exactly) by two orders or backends, then explained against the same truth.
template <class TI>
ExplainResult explain_f64(const ConvProblem<TI>& p, const Truth& truth, const std::string& order_a,
                          const std::string& order_b, const ExplainRequest& req, int threads);

// The whole question for a problem, as `certconv explain`, `example seed` and the
// Python module ask it: the truth of p, A and B explained against it and, when
// f64_orders names two orders or backends, A and B recomputed by them in float64.
struct ExplainOutcome {
  TruthSummary truth;
  ExplainResult result;
  std::optional<ExplainResult> f64;
};

// bf16/fp16 sides must hold that format's values (InputError naming the side).
template <class TI, class TA, class TB>
ExplainOutcome explain_problem(const ConvProblem<TI>& p, const Tensor<TA>& a, const Tensor<TB>& b,
                               const ExplainRequest& req,
                               const std::optional<std::pair<std::string, std::string>>& f64_orders,
                               const TruthOptions& truth_options);

// One result of any direction and rank (core/lower.hpp): A and B in the result's
// shape; records, samples and the verdict name the result's indices. With
// f64_orders, both must apply to the direction and rank (orders/order.hpp).
template <class TI, class TA, class TB>
ExplainOutcome explain_problem(const Lowered<TI>& l, Direction dir, int rank, const Tensor<TA>& a,
                               const Tensor<TB>& b, ExplainRequest req,
                               const std::optional<std::pair<std::string, std::string>>& f64_orders,
                               const TruthOptions& truth_options);

}  // namespace certconv
