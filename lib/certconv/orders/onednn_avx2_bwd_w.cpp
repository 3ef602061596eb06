// onednn-avx2-bwd-w:threads=N — oneDNN v2.6.3 backward weights, jit:avx2 (what
// PyTorch 1.13's autograd runs for dw of a float32 conv1d/conv2d with 4…15 input
// channels per group on an AVX-512 CPU): src/cpu/x64/jit_avx2_conv_kernel_f32.cpp
// (jit_avx2_conv_bwd_weights_kernel_f32: dw stays in memory between rows, so one
// FMA chain per thread), driven by jit_avx2_convolution.cpp (execute_backward_weights,
// init_balancers) and cpu_reducer.cpp (reduce_balancer_t::balance, reduce_nolock).
// `threads` is the OpenMP thread count the library ran with (torch.get_num_threads()).
//
// The split (reduce_balancer_t::balance, nthr = threads, reduction size = mb,
// max buffer 2^21): jobs are 8×8 channel blocks, njobs = g·⌈icg/8⌉·⌈ocg/8⌉,
// job size kh·kw·64; start from min_njpg = max(1, njobs/nthr) jobs per group,
// ngroups = min(njobs/min_njpg, nthr), npg = min(nthr/ngroups, mb), cost njobs·size·mb;
// for c = min_njpg … njobs − 1: cg = min(njobs/c, nthr), cn = min(nthr/cg, mb),
// cub = ⌈njobs/cg⌉, skipped when cn > 1 and cub > max(1, 2^21/(nthr·size)); cost
// size·cub·(⌈mb/cn⌉ + (cn ≠ 1)), taken when strictly lower. npg threads share a job.
//
// Exact accumulation order, per element dw[oc][ic][kh][kw]:
//   the images are cut by balance211 into npg contiguous chunks;
//   per thread t: P_t = 0; for its images ascending, oh ascending, ow ascending,
//     taps inside the input only: P_t = fma(dy[n][oc][oh][ow], x[…], P_t)
//   dw = P_0, then dw = fl(dw + P_t) for t = 1 … npg − 1       (reduce_nolock)
// Checked bit for bit against PyTorch at 1 and 2 threads (ic 4, 5, 6, 7, 8, 12, 15;
// strides 1 and 2; chunks of 1 and 2 threads). A 3-D problem runs x64:gemm:jit in
// oneDNN; here its images would hold their od planes in order (not a library's).
//
// It runs on the BWD_W problem of core/lower.hpp, whose terms run n, od, oh, ow:
// each image is a contiguous stretch. Padded taps are fma(0, w, P) = P (driver.hpp).
#include <algorithm>
#include <string>

#include "certconv/orders/block_chains.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

std::int64_t onednn_avx2_bwd_weights_npg(const ConvDesc& d, int threads) {
  const auto div_up = [](std::int64_t a, std::int64_t b) { return (a + b - 1) / b; };
  const std::int64_t nthr = threads, mb = d.mb, icg = d.ic / d.g, ocg = d.oc / d.g;
  const std::int64_t njobs = d.g * div_up(icg, 8) * div_up(ocg, 8);
  const std::int64_t size = d.axis[0].k * d.axis[1].k * d.axis[2].k * 64;
  const std::int64_t min_njpg = std::max<std::int64_t>(1, njobs / nthr);
  const std::int64_t max_njpg = std::max<std::int64_t>(1, (std::int64_t{1} << 21) / (nthr * size));
  std::int64_t npg = std::min(nthr / std::min(njobs / min_njpg, nthr), mb), cost = njobs * size * mb;
  for (std::int64_t c = min_njpg; c < njobs; ++c) {
    const std::int64_t cg = std::min(njobs / c, nthr), cn = std::min(nthr / cg, mb), cub = div_up(njobs, cg);
    if (cn > 1 && cub > max_njpg) continue;
    const std::int64_t cc = size * cub * (div_up(mb, cn) + (cn != 1));
    if (cc < cost) npg = cn, cost = cc;
  }
  return npg;
}

namespace {

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const auto threads = static_cast<int>(ps.integer("threads", 1, 1, 4096));
  const ConvDesc& d = bwd_weights_origin(o, p);
  const BlockChains ker = row_chunks(p.spec.n_terms(), d.mb, onednn_avx2_bwd_weights_npg(d, threads));
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_onednn_avx2_bwd_w_order() {
  return {.name = "onednn-avx2-bwd-w",
          .params = {onednn_threads_param("the reduce balancer's split of the images")},
          .accumulation = "oneDNN 2.6.3 jit_avx2 backward weights: images split over the balancer's npg threads; per "
                          "thread P = 0, for its images, oh, ow: P = fma(dy, x, P); dw = P_0 + P_1 + … in thread order",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_weights};
}

}  // namespace certconv
