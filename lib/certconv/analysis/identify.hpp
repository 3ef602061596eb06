#pragma once
// Order identification (`certconv identify`): which emulated summation order, with
// which parameters, reproduces a given output bit for bit.
//
// Candidates are every emulated order (OrderKind::order) over its parameter space
// (identify_candidates); each is run on the problem and compared with the given
// output element by element. Equality is bitwise: −0.0 and +0.0 differ, as they
// come from different operation sequences. For the elements where a candidate
// differs, the given output ŷ is measured against the certified truth y,
// norm_err = |ŷ − y|/(u·absdot) (u the unit roundoff of the output's dtype): small
// values say those elements are round-off of another order, not a bug; and the
// distance |ŷ − candidate|/(u·absdot) says how far the candidate is from ŷ there.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "certconv/core/format.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

struct IdentifyCandidate {
  OrderSpec order;  // every parameter given, so order_str(order) is what `certconv run --order` accepts
  double identical_fraction = 0;
  std::int64_t mismatches = 0;
  // Over the elements that differ (0 when none; +inf where absdot = 0 but the values differ):
  double max_norm_err_of_mismatches = 0;   // max |ŷ − truth|/(u·absdot)
  double max_norm_dist_of_mismatches = 0;  // max |ŷ − candidate|/(u·absdot)
};

struct IdentifyResult {
  std::vector<IdentifyCandidate> candidates;                  // best first; ties keep the candidate order
  std::vector<std::pair<std::string, std::string>> skipped;   // order string, why it rejected the problem
};

// Every emulated order with each of its parameters swept over the values the order
// declares (OrderParam::sweep: the settings real libraries use, such as fma 0/1,
// oneDNN's channel blocks, the OpenBLAS presets, for float32 the input formats, and
// where the bias enters when the problem has one), in the cartesian product of its
// parameters; parameters that declare none keep their defaults.
// dir and forward_2d select the orders that apply (orders/order.hpp applies_to).
std::vector<OrderSpec> identify_candidates(const ConvSpec& s, Dtype dtype, bool has_bias,
                                           Direction dir = Direction::fwd_d, bool forward_2d = true);

// y is the output to identify, computed in T from the inputs of p (TI = T, or
// float inputs widened to T = double). threads: 0 = all cores.
template <class TI, class T>
IdentifyResult identify(const ConvProblem<TI>& p, const Tensor<T>& y, int threads);

// Any direction and rank: y is the direction's result in its own shape; the
// candidates are the orders that apply, run on the lowered problem (core/lower.hpp).
// BWD_WB has two results: InputError (identify dw with BWD_W).
template <class TI, class T>
IdentifyResult identify(const ConvDesc& d, Direction dir, const Operands<TI>& ops, const Tensor<T>& y, int threads);

}  // namespace certconv
