// onednn-avx512-bwd-w:threads=N — oneDNN v2.6.3 backward weights, jit:avx512_core
// (what PyTorch 1.13's autograd runs for dw of a float32 conv1d/2d/3d on an AVX-512
// CPU with ic = 1…3 or ic ≥ 16; ic 4…15 runs jit:avx2, onednn_avx2_bwd_w.cpp):
// src/cpu/x64/jit_avx512_common_conv_kernel.cpp, jit_avx512_common_conv_bwd_weights_kernel_f32
// (compute_ic_block_step_fma loads the accumulators from dw, FMAs, stores them back;
// balance() splits the threads), driven by jit_avx512_common_convolution.cpp
// (compute_diff_weights[_2d|_3d], reduce_diff_weights[_3d]). `threads` is the
// OpenMP thread count the library ran with (torch.get_num_threads()): it decides
// the split.
//
// Exact accumulation order, per element dw[oc][ic][kd][kh][kw]:
//   the reduction rows are (n, oh) pairs, n-major, for a 2-D problem with dh = 0 and
//   oh > 9 (harness_2d_reduction), else (n, od) pairs (harness_3d_reduction, and
//   the mb harness: whole images in 1-D/2-D); balance() picks nthr_mb, and
//   balance211 gives thread t the contiguous rows [r_t, r_t+1) (the first
//   R mod nthr_mb threads one more);
//   per thread t: P_t = 0; for its rows ascending, for oh (unless rows are (n, oh)),
//     for ow ascending, taps inside the input only: P_t = fma(dy[n][oc][o], x[…], P_t)
//   dw = P_0, then dw = fl(dw + P_t) for t = 1 … nthr_mb − 1    (reduce_diff_weights)
// The output-channel and input-channel thread splits (nthr_oc_b, nthr_ic_b) cut dw
// into disjoint slices and change no sum. Checked bit for bit against PyTorch at 1,
// 2 and 4 threads (ResNet-50 conv1 and res2a_branch2b, 32→24 layers, 3-D layers
// with rows split inside an image, dilation 2).
//
// It runs on the BWD_W problem of core/lower.hpp, whose terms are already in the
// order n, od, oh, ow (channels (group, n, od), kernel = dy): the rows are contiguous
// stretches of terms. Padded taps are fma(0, w, P) = P (driver.hpp). 1-D, 2-D, 3-D.
#include <algorithm>
#include <string>

#include "certconv/orders/block_chains.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

std::int64_t div_up(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

OnednnBwdWeightsSplit onednn_bwd_weights_split(const ConvDesc& d, int threads) {
  // jit_avx512_common_conv_bwd_weights_kernel_f32::balance (v2.6.3), min_oh_reduce = 9;
  // integer costs evaluated left to right as there.
  const ConvAxis &D = d.axis[0], &H = d.axis[1], &W = d.axis[2];
  const std::int64_t g = d.g, mb = d.mb, icg = d.ic / g, ocg = d.oc / g;
  const bool first_conv = icg < 16;
  const std::int64_t ic_block = first_conv ? icg : 16;
  const std::int64_t nb_ic = first_conv ? 1 : div_up(icg, 16), nb_oc = div_up(ocg, 16);
  OnednnBwdWeightsSplit r;
  // harness_2d_reduction is chosen for 2-D problems only (init_conf: ndims == 4).
  r.rows_are_oh = d.rank == 2 && H.d == 0 && H.o > 9;
  const std::int64_t ih_reduce = r.rows_are_oh ? H.i : 1, oh_reduce = r.rows_are_oh ? H.o : 1;
  const std::int64_t ih_no = r.rows_are_oh ? 1 : H.i, oh_no = r.rows_are_oh ? 1 : H.o;
  const std::int64_t nthr_oh_reduce = std::max<std::int64_t>(1, oh_reduce / 9);
  r.rows = mb * D.o * oh_reduce;
  if (threads < g) return r;  // nthr_g = nthreads, nthr_mb = 1
  const std::int64_t nthr_g = g, nthr = threads / nthr_g;
  const auto mem = [&](std::int64_t nmb, std::int64_t noc, std::int64_t nic) {
    return div_up(mb * ih_reduce, nmb) * div_up(g, nthr_g) * div_up(nb_ic, nic) * ic_block * ih_no * W.i * D.i / D.s /
               H.s / W.s +
           div_up(mb * oh_reduce, nmb) * div_up(g, nthr_g) * div_up(nb_oc, noc) * 16 * oh_no * W.o * D.o +
           8 * div_up(g, nthr_g) * div_up(nb_oc, noc) * div_up(nb_ic, nic) * H.k * W.k * D.k * ic_block * 16;
  };
  const auto comp = [&](std::int64_t nmb, std::int64_t noc, std::int64_t nic) {
    return div_up(mb * oh_reduce, nmb) * div_up(g, nthr_g) * div_up(nb_oc, noc) * div_up(nb_ic, nic);
  };
  std::int64_t best[3] = {1, 1, 1};
  std::int64_t best_mem = mem(1, 1, 1);
  const std::int64_t nmb_max = std::min(nthr, mb * D.o * nthr_oh_reduce);
  for (std::int64_t nmb = 1; nmb <= nmb_max; ++nmb)
    for (std::int64_t noc = 1; noc <= std::min(nthr / nmb, nb_oc); ++noc) {
      const std::int64_t nic = std::min(nthr / nmb / noc, nb_ic), m = mem(nmb, noc, nic);
      if (m <= best_mem) best_mem = m, best[0] = nmb, best[1] = noc, best[2] = nic;
    }
  std::int64_t best_comp = comp(best[0], best[1], best[2]);
  for (std::int64_t nmb = 1; nmb <= nmb_max; ++nmb)
    for (std::int64_t noc = 1; noc <= std::min(nthr / nmb, nb_oc); ++noc) {
      const std::int64_t nic = std::min(nthr / nmb / noc, nb_ic), m = mem(nmb, noc, nic), c = comp(nmb, noc, nic);
      if ((c <= best_comp && static_cast<double>(m) < 1.1 * static_cast<double>(best_mem)) || 4 * c <= 3 * best_comp)
        best_comp = c, best[0] = nmb, best[1] = noc, best[2] = nic;
    }
  if (best[0] > threads / 2 && best[0] < threads) best[0] = std::min<std::int64_t>(mb * D.o * nthr_oh_reduce, threads);
  r.nthr_mb = best[0];
  return r;
}

namespace {

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const auto threads = static_cast<int>(ps.integer("threads", 1, 1, 4096));
  const OnednnBwdWeightsSplit split = onednn_bwd_weights_split(bwd_weights_origin(o, p), threads);
  // The lowered terms run n, od, oh, ow (core/lower.hpp); a row is (n, oh) or (n, od).
  const BlockChains ker = row_chunks(p.spec.n_terms(), split.rows, split.nthr_mb);
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_onednn_avx512_bwd_w_order() {
  return {.name = "onednn-avx512-bwd-w",
          .params = {onednn_threads_param("the split of the (n, oh|od) rows")},
          .accumulation = "oneDNN 2.6.3 jit_avx512_common backward weights: rows (n, oh) or (n, od) split over "
                          "nthr_mb threads; per thread P = 0, for its rows, ow: P = fma(dy, x, P); dw = P_0 + P_1 + "
                          "… in thread order",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_weights};
}

}  // namespace certconv
