// onednn-avx512-bwd-d — oneDNN v2.6.3 backward data, jit:avx512_core (what PyTorch
// 1.13's autograd runs for dx of a float32 conv2d on an AVX-512 CPU):
// src/cpu/x64/jit_avx512_common_conv_kernel.cpp, jit_avx512_common_conv_bwd_data_kernel_f32
// (compute_loop_fma, store_output), driven by jit_avx512_common_convolution.cpp,
// execute_backward_data_2d and _3d. float32 uses FMA throughout; no parameters.
//
// Exact accumulation order, per element dx[n][ic][id][ih][iw]:
//   for each block of 16 output channels oc (ascending; the driver's ocb loop; a
//   group with fewer channels is one block, oneDNN pads it with zero channels)
//     P = 0                                               (prepare_output: vpxord)
//     for kd ascending over the taps that reach a dy plane (3-D: compute_loop_fma's
//       kd_label loop around the kh loop; d_lo, d_lo + sd, … from the driver),
//     for kh ascending over the taps that reach a dy row (k_lo, k_lo + sh, …),
//       for kw ascending (taps that reach a dy column),
//         for oc in the block:  P = fma(w[oc][ic][kh][kw], dy[n][oc][oh][ow], P)
//     first block: dx = P;  later blocks: dx = fl(P + dx)  (store_output: vaddps)
// Threads, ur_w and the iw blocking split only independent elements, so the order
// does not depend on the thread count (checked against PyTorch at 1 and 2 threads).
//
// Dilation changes only which taps are valid (checked against PyTorch, dilation 2).
// Depthwise layers run jit_dw:avx512_core (jit_uni_dw_convolution.cpp,
// execute_backward_data; apply_filter): P = 0, for kh, kw ascending P = fma(dy, w, P),
// dx = P — the same order, one channel per group.
//
// It runs on the BWD_D problem of core/lower.hpp, whose channels are dy's and whose
// taps are flipped (k' = K − 1 − k): kh ascending is k' descending; a 3-D problem's
// lowered channel is oc·KD + kd' (fold_depth). The zeros the lowering inserts for
// the stride are fma(0, w, P) = P, as are padded taps (the driver.hpp argument;
// oneDNN skips them). 1-D, 2-D and 3-D.
#include <algorithm>

#include "certconv/orders/block_chains.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  OrderParams{o};  // no parameters: rejects any
  return run_tree_order(p, opt, bwd_data_chains(p.spec, 16, 16));
}

}  // namespace

OrderInfo make_onednn_avx512_bwd_d_order() {
  return {.name = "onednn-avx512-bwd-d",
          .params = {},
          .accumulation = "oneDNN 2.6.3 jit_avx512_common backward data: per 16-oc block: P = 0; for kd, kh, kw "
                          "ascending (valid taps), oc in the block: P = fma(w, dy, P); first block dx = P, then "
                          "dx = P + dx",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_data};
}

}  // namespace certconv
