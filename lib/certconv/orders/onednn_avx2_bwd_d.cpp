// onednn-avx2-bwd-d — oneDNN v2.6.3 backward data, jit:avx2 (what PyTorch 1.13's
// autograd runs for dx of a float32 conv1d/conv2d on an AVX2 CPU without AVX-512,
// or with ONEDNN_MAX_CPU_ISA=AVX2): src/cpu/x64/jit_avx2_conv_kernel_f32.cpp
// (jit_avx2_conv_bwd_data_kernel_f32: init_conf, compute_loop; the accumulators
// are zeroed per call and the loop over the call's 8-channel blocks sits outside
// kh and kw), driven by jit_avx2_convolution.cpp (execute_backward_data: one call per
// nb_oc_blocking blocks, `channel` ≠ 0 loads dx and adds). No parameters.
//
// nb_oc_blocking (init_conf): 4 when the output width OW < 15, 2 when OW < 40,
// else 1, for 1-D and 2-D; it stays 1 in 3-D (not checked against the library).
//
// Exact accumulation order, per element dx[n][ic][id][ih][iw]:
//   for each group of nb_oc_blocking·8 output channels (ascending; the last may be short)
//     P = 0
//     for each block of 8 output channels of the group, ascending,
//       for kd, kh, kw ascending over the taps that reach dy,
//         for oc in the block:  P = fma(w[oc][ic][k], dy[n][oc][o], P)
//     first group: dx = P;  later groups: dx = fl(P + dx)
// Threads split images, channel blocks and rows: not the sums. Checked bit for bit
// against PyTorch at 1 and 2 threads (OW 7 … 44, the three blockings and both
// edges OW = 15 and 40, 3 … 64 channels, 3×3 and 5×5, strides 1 and 2, groups).
//
// It runs on the BWD_D problem of core/lower.hpp (channels dy's, taps flipped,
// for 3-D the lowered channel oc·KD + kd'); padded and stride taps are
// fma(0, w, P) = P (driver.hpp).
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
  const ConvSpec& s = p.spec;
  require(s.origin.has_value(), "order '" + o.name + "' runs on a BWD_D problem (core/lower.hpp) only");
  const ConvDesc& d = *s.origin;
  const std::int64_t ow = d.axis[2].o, nb = d.rank == 3 ? 1 : ow < 15 ? 4 : ow < 40 ? 2 : 1;
  return run_tree_order(p, opt, bwd_data_chains(s, 8 * nb, 8));
}

}  // namespace

OrderInfo make_onednn_avx2_bwd_d_order() {
  return {.name = "onednn-avx2-bwd-d",
          .params = {},
          .accumulation = "oneDNN 2.6.3 jit_avx2 backward data: per group of nb_oc_blocking 8-oc blocks (4, 2, 1 by "
                          "OW < 15, < 40): P = 0; for its blocks, kd, kh, kw (valid taps), oc in the block: "
                          "P = fma(w, dy, P); first group dx = P, then dx = P + dx",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_data};
}

}  // namespace certconv
