#pragma once
// Which theorem produced a rigorous error bound, and whether the input-rounding
// term (bounds/input_rounding.hpp) and the output-rounding term
// (bounds/output_rounding.hpp) were added to it; bound_kind_name gives the string
// the documents carry ("tree-gamma", "order-free+input-rounding+output-rounding", …).
#include <string>

namespace certconv {

enum class Theorem {
  not_computed,        // a real library asked for no bound (the documents leave the kind empty)
  none,                // no bound is proven (the bound, if any, is +∞)
  tree_gamma,          // the summation tree's γ bound (bounds/tree_bound.hpp)
  running_kahan,       // the running bound of compensated summation (orders/kahan.cpp)
  winograd_transform,  // the Winograd transforms' bound (bounds/winograd_bound.hpp)
  order_free,          // any order of summing the products (bounds/order_free.hpp)
  probabilistic,       // holds with the stated probability (bounds/probabilistic.hpp)
};

struct BoundKind {
  Theorem theorem = Theorem::not_computed;
  bool input_rounding = false;   // plus the error of rounding x, w and bias to a reduced format
  bool output_rounding = false;  // plus the rounding of the result to a narrower output format
  bool proven() const { return theorem != Theorem::not_computed && theorem != Theorem::none; }
  bool operator==(const BoundKind&) const = default;
};

inline const char* theorem_name(Theorem t) {
  switch (t) {
    case Theorem::tree_gamma:
      return "tree-gamma";
    case Theorem::running_kahan:
      return "running-kahan";
    case Theorem::winograd_transform:
      return "winograd-transform";
    case Theorem::order_free:
      return "order-free";
    case Theorem::probabilistic:
      return "probabilistic";
    case Theorem::none:
      return "none";
    case Theorem::not_computed:
      break;
  }
  return "";
}

inline std::string bound_kind_name(const BoundKind& k) {
  return std::string(theorem_name(k.theorem)) + (k.input_rounding ? "+input-rounding" : "") +
         (k.output_rounding ? "+output-rounding" : "");
}

}  // namespace certconv
