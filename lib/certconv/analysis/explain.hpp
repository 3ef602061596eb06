#pragma once
// The seed question, answered: two outputs A and B of the same convolution
// "don't match". explain() measures each against the certified truth, checks
// whether each is consistent with *some* summation order in its precision (its
// error within the order-free rigorous bound), lists torch.isclose(A, B)
// failures with their cond, derives a certified tolerance for comparing A and
// B, and writes a plain-language verdict (schema certconv.explain/1).
#include <string>

#include "certconv/exact/truth.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/report/json.hpp"

namespace certconv {

struct ExplainRequest {
  std::string name_a = "A", name_b = "B";
  double rtol = 1e-3, atol = 1e-8;  // the comparison the user made
  std::size_t max_listed = 1000;    // failing outputs listed in the JSON (all are counted)
};

struct ExplainResult {
  json doc;          // observed, isclose, certified_tolerance, consistent, verdict
  std::string text;  // the verdict and a summary, for stdout
  bool consistent = true;  // both outputs within the order-free rigorous bound
};

// A and B in the same dtype T (the working precision they were computed in).
template <class T>
ExplainResult explain(const ConvSpec& spec, const Truth& truth, bool bias, const Tensor<T>& a, const Tensor<T>& b,
                      const ExplainRequest& req);

// The same question in float64: A and B recomputed from p's inputs (converted
// exactly) by two orders or backends, then explained against the same truth.
template <class TI>
ExplainResult explain_f64(const ConvProblem<TI>& p, const Truth& truth, const std::string& order_a,
                          const std::string& order_b, const ExplainRequest& req, int threads);

}  // namespace certconv
