#pragma once
// Lowering: every direction and spatial rank as a 2-D forward convolution over
// the same products, so that one engine (exact truth, MPFI, orders, bounds,
// metrics) serves all of them. Each lowering only moves values (and inserts
// exact zeros), so the sums, and hence the truth, are unchanged:
//
//  BWD_D   dx = the forward convolution, stride 1, of dy spread out by the
//          stride (zeros between) and padded by (k-1)(d+1)-p, with w flipped in
//          every spatial axis and its two channel dimensions swapped per group.
//  BWD_W   dw[oc][c] = Σ_n,o dy[n][oc][o] · x[n][c][o·s - p + k(d+1)]: a forward
//          convolution whose minibatch is c, whose channels are (group, n),
//          whose kernel is dy (size o) and whose output is the kernel position:
//          the stride becomes the dilation and the dilation the stride.
//  db      db[oc] = Σ_n,o dy[n][oc][o] · 1: one output per group of mb channels.
//  3-D     the depth is folded into the channels: x'[n·od + z][c·kd + t] =
//          x[n][c][z·sd - pd + t(dd+1)] (zero outside), w reshaped, so the 2-D
//          terms are c → t → kh → kw, oneDNN's reference order.
//  1-D     a 2-D problem of height 1.
// Padding taps that the 2-D engine skips stay skipped; the inserted zeros are
// explicit terms 0·w, which change no sum and no absdot (docs/directions.md).
#include <cstdint>
#include <string>
#include <vector>

#include "certconv/core/direction.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// The operands a direction reads (null: not given). Tensors have the problem's
// rank: x [mb, ic, i...], w [oc, ic/g, k...], bias [oc], dy [mb, oc, o...].
template <class T>
struct Operands {
  const Tensor<T>* x = nullptr;
  const Tensor<T>* w = nullptr;
  const Tensor<T>* bias = nullptr;
  const Tensor<T>* dy = nullptr;
};

// One result of a direction ("y", "dx", "dw" or "db") as a 2-D forward problem.
template <class T>
struct Lowered {
  std::string result;
  std::vector<std::int64_t> shape;  // the result's own shape
  OwnedProblem<T> problem;          // its output holds the result's values, permuted
  // to_natural[i]: where the lowered output i goes in the result (flat C order);
  // empty when the two layouts are the same.
  std::vector<std::int64_t> to_natural;
};

// The operand names and shapes a direction needs, and its results' shapes.
std::vector<std::string> operand_names(Direction dir);  // e.g. {"x", "dy"} for BWD_W
std::vector<std::int64_t> operand_shape(const ConvDesc& d, const std::string& operand);
std::vector<std::string> result_names(Direction dir);   // {"dw", "db"} for BWD_WB
std::vector<std::int64_t> result_shape(const ConvDesc& d, const std::string& result);

// Checks that the direction's operands are given (and no others), have their
// shapes and hold finite values: InputError naming operand, dimension and field.
template <class T>
void check_operands(const ConvDesc& d, Direction dir, const Operands<T>& ops);

// The direction's results as 2-D forward problems (checks the operands first).
template <class T>
std::vector<Lowered<T>> lower(const ConvDesc& d, Direction dir, const Operands<T>& ops);

// The lowered result whose shape is `shape` (BWD_WB's dw or db are told apart by
// it); InputError "WHAT: shape ... does not match the DIR result of DESC, which is
// dw (...) or db (...)".
template <class T>
const Lowered<T>& result_with_shape(const std::vector<Lowered<T>>& ls, const ConvDesc& d, Direction dir,
                                    const std::vector<std::int64_t>& shape, const std::string& what);

// A lowered output tensor in the result's layout, and a result-layout tensor in
// the lowered one (for observed outputs).
template <class U, class T>
Tensor<U> to_result_layout(const Lowered<T>& l, const Tensor<U>& lowered);
template <class U, class T>
Tensor<U> to_lowered_layout(const Lowered<T>& l, const Tensor<U>& result);

}  // namespace certconv
