#pragma once
// The certified truth of every direction and rank: each result (y, dx, dw, db)
// is lowered to a 2-D forward problem over the same products (core/lower.hpp),
// its truth computed there by compute_truth, and put back in the result's
// layout. Every field keeps compute_truth's guarantee.
#include <string>
#include <vector>

#include "certconv/core/direction.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/exact/truth.hpp"

namespace certconv {

struct ResultTruth {
  std::string result;  // "y", "dx", "dw" or "db"
  Truth truth;         // tensors in the result's shape
  std::int64_t n_terms = 0;  // terms per output of the lowered problem (inserted zeros included)
};

template <class T>
std::vector<ResultTruth> compute_result_truth(const ConvDesc& d, Direction dir, const Operands<T>& ops,
                                              const TruthOptions& opt);

// The same, for problems already lowered.
template <class T>
ResultTruth compute_result_truth(const Lowered<T>& l, const TruthOptions& opt);

}  // namespace certconv
