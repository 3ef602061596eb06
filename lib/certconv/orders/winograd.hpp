#pragma once
// winograd:tile=2|4,fma=0|1 — Winograd F(2×2,3×3) / F(4×4,3×3) convolution in
// the working precision; the exact order of operations is at the top of winograd.cpp.
#include "certconv/orders/order.hpp"

namespace certconv {

OrderInfo make_winograd_order();

}  // namespace certconv
