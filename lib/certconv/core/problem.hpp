#pragma once
// ConvProblem: a spec plus its input tensors, passed by reference to truth,
// orders and backends. x is NCHW [mb, ic, ih, iw]; w is OIHW [oc, ic/g, kh, kw];
// bias, when present, is [oc].
#include <optional>

#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

template <class T>
struct ConvProblem {
  const ConvSpec& spec;
  const Tensor<T>& x;
  const Tensor<T>& w;
  const Tensor<T>* bias = nullptr;
};

// An owning problem: the spec and its tensors, viewed as a ConvProblem.
template <class T>
struct OwnedProblem {
  ConvSpec spec;
  Tensor<T> x, w;
  std::optional<Tensor<T>> bias;
  ConvProblem<T> view() const { return {spec, x, w, bias ? &*bias : nullptr}; }
};

// The problem with its tensors in another type (float → double is exact).
template <class To, class From>
OwnedProblem<To> problem_cast(const ConvProblem<From>& p) {
  OwnedProblem<To> r{p.spec, tensor_cast<To>(p.x), tensor_cast<To>(p.w), {}};
  if (p.bias) r.bias = tensor_cast<To>(*p.bias);
  return r;
}

// Checks shapes against the spec and that every value is finite. Throws
// InputError naming the tensor, the field and the first bad index.
template <class T>
void check_problem(const ConvProblem<T>& p);

}  // namespace certconv
