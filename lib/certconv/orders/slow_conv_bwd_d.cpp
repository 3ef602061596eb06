// slow-conv-bwd-d:kc=…,unroll=…,driver=… — PyTorch 1.13's slow path for dx (what
// autograd runs for conv1d/conv2d/conv3d when oneDNN is not chosen, e.g. a single
// small image): aten/src/ATen/native/ConvolutionMM2d.cpp
// (slow_conv2d_backward_update_grad_input_frame) and ConvolutionMM3d.cpp
// (slow_conv3d_backward_update_grad_input_frame): per image the columns
// C = wᵀ·dy [icg·KD·KH·KW × OD·OH·OW] by OpenBLAS 0.3.21 SGEMM (K = oc/g, beta = 0),
// then col2im adds the columns into the zeroed dx: cpu/Unfold2d.cpp (unfolded2d_acc)
// and Unfold3d.cpp (Unfold3dAccCPU), both looping c, kd, kh, kw, then positions.
//
// Exact accumulation order, per element dx[n][c][i...] (c within group g):
//   dx = 0
//   for kd, kh, kw ascending, the taps k with an output position o
//   (i + p − k(d+1) = o·s inside dy):
//     col = 0                                       (GEMM_BETA zeroes C, beta = 0)
//     for each K block [ls, ls + min_l) of the group's oc (openblas_k_blocks):
//       acc = 0; for oc in the block ascending: acc = fma(w[oc][c][k], dy[n][oc][o], acc)
//       col = fl(col + acc)                         (the kernel's store, alpha = 1)
//     dx = fl(dx + col)                             (col2im's +=)
// (The SkylakeX SGEMM kernel keeps one accumulator per output, gemm_blocked.cpp.)
// A 1×1 kernel without stride or padding skips col2im (the GEMM writes dx): the
// same values, as 0 + col = col. Threads split images and channels only; OpenBLAS's
// threads split M and N, and change the K blocks only through driver=threaded.
//
// It runs on the BWD_D problem of core/lower.hpp: channels are dy's, taps flipped
// (k' = K − 1 − k), and for 3-D the lowered channel is oc·KD + kd' (fold_depth).
// Taps outside dy are zero products here, fma(0, w, acc) = acc, and add ±0 to col
// and dx (driver.hpp's argument: only signed zeros could differ).
#include <algorithm>

#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

struct SlowBwdDKernel {
  std::vector<std::int64_t> seq;      // per tap in col2im order, its oc chain's terms
  std::vector<std::int64_t> taps;     // seq index where each tap starts, then seq.size()
  std::vector<std::int64_t> kblocks;  // K blocks within one tap's chain: 0 < … < oc/g

  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    const auto acc = P::template scratch_rows<struct SlowBwdDAcc>(static_cast<std::size_t>(r.len));
    const auto col = P::template scratch_rows<struct SlowBwdDCol>(static_cast<std::size_t>(r.len));
    for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::zero());
    for (std::size_t t = 0; t + 1 < taps.size(); ++t) {
      for (std::int64_t j = 0; j < r.len; ++j) col.set(j, P::zero());
      for (std::size_t b = 0; b + 1 < kblocks.size(); ++b) {
        for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, P::zero());
        for (std::int64_t i = taps[t] + kblocks[b]; i < taps[t] + kblocks[b + 1]; ++i) {
          const std::int64_t k = seq[static_cast<std::size_t>(i)];
          const auto w = r.w[k];
          const auto* x = r.x(k);
          for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, P::fma(x[j], w, acc.get(j)));
        }
        for (std::int64_t j = 0; j < r.len; ++j) col.set(j, P::add(col.get(j), acc.get(j)));
      }
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), col.get(j)));
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const ConvSpec& s = p.spec;
  const std::int64_t KD = s.origin ? s.origin->axis[0].k : 1, ocg = s.ic / s.g / KD;
  SlowBwdDKernel ker;
  ker.kblocks = openblas_k_blocks(ps, openblas_k_blocking(ps, sizeof(T) == 4), ocg);
  for (std::int64_t kd = 0; kd < KD; ++kd)
    for (std::int64_t kh = 0; kh < s.kh; ++kh)
      for (std::int64_t kw = 0; kw < s.kw; ++kw) {
        ker.taps.push_back(static_cast<std::int64_t>(ker.seq.size()));
        for (std::int64_t oc = 0; oc < ocg; ++oc)
          ker.seq.push_back(((oc * KD + KD - 1 - kd) * s.kh + s.kh - 1 - kh) * s.kw + s.kw - 1 - kw);
      }
  ker.taps.push_back(static_cast<std::int64_t>(ker.seq.size()));
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_slow_conv_bwd_d_order() {
  return {.name = "slow-conv-bwd-d",
          .params = openblas_k_params(),
          .accumulation = "PyTorch 1.13 slow_conv2d/3d backward input: dx = 0; for kd, kh, kw ascending: col = 0; "
                          "per OpenBLAS K block of oc: acc = 0, acc = fma(w, dy, acc) over oc ascending, col = col + "
                          "acc; dx = dx + col (col2im)",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::backward_data};
}

}  // namespace certconv
