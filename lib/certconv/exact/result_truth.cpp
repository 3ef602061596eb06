#include "certconv/exact/result_truth.hpp"

namespace certconv {

template <class T>
ResultTruth compute_result_truth(const Lowered<T>& l, const TruthOptions& opt) {
  Truth t = compute_truth(l.problem.view(), opt);
  t.y = to_result_layout(l, t.y);
  t.y32 = to_result_layout(l, t.y32);
  t.lo = to_result_layout(l, t.lo);
  t.hi = to_result_layout(l, t.hi);
  if (opt.absdot) t.absdot = to_result_layout(l, t.absdot);
  return {l.result, std::move(t), l.problem.spec.n_terms()};
}

template <class T>
std::vector<ResultTruth> compute_result_truth(const ConvDesc& d, Direction dir, const Operands<T>& ops,
                                              const TruthOptions& opt) {
  std::vector<ResultTruth> r;
  for (const Lowered<T>& l : lower(d, dir, ops)) r.push_back(compute_result_truth(l, opt));
  return r;
}

template ResultTruth compute_result_truth(const Lowered<float>&, const TruthOptions&);
template ResultTruth compute_result_truth(const Lowered<double>&, const TruthOptions&);
template std::vector<ResultTruth> compute_result_truth(const ConvDesc&, Direction, const Operands<float>&,
                                                       const TruthOptions&);
template std::vector<ResultTruth> compute_result_truth(const ConvDesc&, Direction, const Operands<double>&,
                                                       const TruthOptions&);

}  // namespace certconv
