#pragma once
// Direction: which convolution of a layer is computed, with benchdnn's names.
//   FWD_D   y  = conv(x, w)                 FWD_B  y = conv(x, w) + bias
//   BWD_D   dx = the transposed convolution of dy with w (PyTorch's conv_transpose)
//   BWD_W   dw = the correlation of dy with x, summed over the minibatch
//   BWD_WB  dw as BWD_W, and db = Σ dy over minibatch and space
// Operands: x, w, bias, dy (diff_dst); results: y, dx, dw, db.
#include <optional>
#include <string>
#include <string_view>

namespace certconv {

enum class Direction { fwd_d, fwd_b, bwd_d, bwd_w, bwd_wb };

// "FWD_D", "FWD_B", "BWD_D", "BWD_W", "BWD_WB".
const char* direction_name(Direction d);
// Those names, in either case; nullopt for anything else.
std::optional<Direction> parse_direction(std::string_view text);

inline bool is_forward(Direction d) { return d == Direction::fwd_d || d == Direction::fwd_b; }

}  // namespace certconv
