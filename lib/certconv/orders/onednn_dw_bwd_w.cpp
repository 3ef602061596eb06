// onednn-dw-bwd-w:threads=N — oneDNN v2.6.3 depthwise backward weights,
// jit_dw:avx512_core (what PyTorch 1.13's autograd runs for dw of a float32
// depthwise conv2d, groups = channels, 3×3 kernels): src/cpu/x64/jit_uni_dw_convolution.cpp
// (execute_backward_weights, execute_reduction), jit_uni_dw_conv_kernel_utils.cpp
// (init_conf, balance) and jit_uni_dw_conv_kernel_f32.cpp (compute_h_loop,
// compute_ow_block_unroll, calculate_w_unrolling). `threads` is the OpenMP thread count.
//
// The split: nb_ch = ⌈g/16⌉, nthr_g = min(nb_ch, threads),
// nthr_mb = min(max(1, threads/nthr_g), mb); images cut by balance211 into nthr_mb chunks.
// The ow segments: one when OW ≤ 30; else uw = 15, trips = OW/15, tail = OW mod 15,
// r_pad = max(0, (OW − 1)·sw + kw − IW − pw); when (tail = 0 and r_pad ≠ 0) or
// (r_pad > 0 and r_pad ≥ tail): trips > 1 ? (tail += 15, trips −= 1)
// : (tail += uw − ⌊uw/2⌋, uw = ⌊uw/2⌋); segments: trips × uw, then tail.
//
// Exact accumulation order, per element dw[c][0][kh][kw]:
//   per thread t: P_t = 0; for its images ascending, for blocks of 15 output rows,
//     for the ow segments in order, for oh in the block ascending, for ow in the
//     segment ascending, taps inside the input only: P_t = fma(x[…], dy[n][c][oh][ow], P_t)
//   dw = P_0, then dw = fl(dw + P_t) for t = 1 … nthr_mb − 1    (execute_reduction)
// (The segment loop sits outside the row loop: the kernel walks a segment down the
// block's rows before the next.) Checked bit for bit against PyTorch at 1 and 2
// threads (16, 24, 32 channels; OW 14 … 64, one to five segments; strides 1 and 2).
// 2-D and 1-D; a 3-D depthwise layer is not a jit_dw problem (its od planes would
// run in order inside each image here).
//
// It runs on the BWD_W problem of core/lower.hpp, whose terms run n, od, oh, ow.
// Padded taps are fma(0, w, P) = P (driver.hpp).
#include <algorithm>
#include <string>

#include "certconv/orders/block_chains.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

// calculate_w_unrolling's segments of the output width.
std::vector<std::int64_t> ow_segments(const ConvAxis& W) {
  if (W.o <= 30) return {W.o};
  std::int64_t uw = 15, trips = W.o / uw, tail = W.o % uw;
  const std::int64_t r_pad = std::max<std::int64_t>(0, (W.o - 1) * W.s + W.k - W.i - W.p);
  if ((tail == 0 && r_pad != 0) || (r_pad > 0 && r_pad >= tail)) {
    if (trips > 1) {
      tail += uw;
      --trips;
    } else {
      tail += uw - uw / 2;
      uw /= 2;
    }
  }
  std::vector<std::int64_t> seg(static_cast<std::size_t>(trips), uw);
  if (tail > 0) seg.push_back(tail);
  return seg;
}

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const auto threads = static_cast<int>(ps.integer("threads", 1, 1, 4096));
  const ConvDesc& d = bwd_weights_origin(o, p);
  const ConvAxis &D = d.axis[0], &H = d.axis[1], &W = d.axis[2];
  const std::int64_t nthr_g = std::min<std::int64_t>((d.g + 15) / 16, threads);
  const std::int64_t nthr_mb = std::min<std::int64_t>(std::max<std::int64_t>(1, threads / nthr_g), d.mb);
  const std::vector<std::int64_t> seg = ow_segments(W);
  BlockChains ker;
  const std::vector<std::int64_t> chunks = balance211_starts(d.mb, nthr_mb);
  for (std::size_t t = 0; t + 1 < chunks.size(); ++t) {
    ker.starts.push_back(static_cast<std::int64_t>(ker.seq.size()));
    for (std::int64_t n = chunks[t]; n < chunks[t + 1]; ++n)
      for (std::int64_t z = 0; z < D.o; ++z)
        for (std::int64_t oh0 = 0; oh0 < H.o; oh0 += 15) {
          std::int64_t ow0 = 0;
          for (const std::int64_t len : seg) {
            for (std::int64_t oh = oh0; oh < std::min(H.o, oh0 + 15); ++oh)
              for (std::int64_t ow = ow0; ow < ow0 + len; ++ow) ker.seq.push_back(((n * D.o + z) * H.o + oh) * W.o + ow);
            ow0 += len;
          }
        }
  }
  ker.starts.push_back(static_cast<std::int64_t>(ker.seq.size()));
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_onednn_dw_bwd_w_order() {
  return {.name = "onednn-dw-bwd-w",
          .params = {onednn_threads_param("the split of the images")},
          .accumulation = "oneDNN 2.6.3 jit_uni_dw backward weights: images split over nthr_mb threads; per thread "
                          "P = 0, for its images, 15-row blocks, ow segments, oh, ow: P = fma(x, dy, P); dw = P_0 + "
                          "P_1 + … in thread order",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_weights};
}

}  // namespace certconv
