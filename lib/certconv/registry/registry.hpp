#pragma once
// The registry of orders and real backends, above both: the explicit list, the
// "NAME:key=value,key=value" syntax, and run_order, which adds the generic `input`
// parameter (reduced-precision inputs) to every order.
#include <string>
#include <string_view>
#include <vector>

#include "certconv/core/fp_env.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

// Parses "NAME[:k=v,...]"; throws InputError on syntax errors, unknown names or keys.
OrderSpec parse_order(std::string_view text);

// Canonical "NAME:k=v,..." with every parameter (defaults filled in, keys sorted),
// accepted back by parse_order.
std::string order_str(const OrderSpec& o);

const std::vector<OrderInfo>& order_list();
const OrderInfo& find_order(std::string_view name);  // InputError listing the known names

// The emulated order (not a backend) `name`, which must apply to the direction
// and rank (orders/order.hpp applies_to): else InputError "WHAT: it does not apply
// to DIR in R-D (...)".
const OrderInfo& order_for_direction(std::string_view name, Direction dir, int rank, const std::string& what);

// An entry point: runs under FpEnvGuard (core/fp_env.hpp), whatever the caller's
// floating-point environment.
template <class T>
OrderOutput<T> run_order(const OrderSpec& order, const ConvProblem<T>& p, const RunOptions& opt);

}  // namespace certconv
