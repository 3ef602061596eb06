#pragma once
// The rigorous bound of a real library's output. Its summation order is not known
// (only observed), so the bound is the order-free one (bounds/order_free.hpp, after
// Jeannerod & Rump 2013): valid for any order of the n products (+ bias), fused or
// not, with the underflow term. Winograd-type algorithms are not sums of the
// products, so they get no bound (Theorem::none).
#include "certconv/orders/absdot.hpp"  // absdot_upper
#include "certconv/orders/order.hpp"
#include "certconv/core/problem.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

// Sets out.bound to the order-free bound per element and out.bound_kind to
// "order-free" (outputs that overflowed get +∞, as the bound assumes none).
template <class T>
void set_order_free_bound(OrderOutput<T>& out, const ConvProblem<T>& p, int threads);

// For algorithms that are not a summation of the products (Winograd): every
// element's bound is +∞ and bound_kind is Theorem::none.
template <class T>
void set_no_bound(OrderOutput<T>& out);

}  // namespace certconv
