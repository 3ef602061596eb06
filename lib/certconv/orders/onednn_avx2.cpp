// onednn-avx2:fma=0|1,block=8 — oneDNN v2.6.3 forward convolution
// src/cpu/x64/jit_avx2_conv_kernel_f32.cpp (jit_avx2_conv_fwd_kernel_f32), driven by
// jit_avx2_convolution.cpp::execute_forward: one kernel call per block of 8 input
// channels (jcp.ic_block = simd_w = 8; one block of all channels when the group has
// fewer than 8: `flat`); a trailing partial block stands for zero-padded channels.
//
// Exact accumulation order, per output:
//   width_blk_step, load_output_bias_and_add_bias:
//     first block (FLAG_IC_FIRST): acc = bias (vmovups), or 0 (vpxor) without bias;
//     later blocks: acc = dst, reloaded as stored: no rounding;
//   for kh (rows in the padding skipped: kh_padding from the driver),
//     for kw (taps in the padding skipped: jj_start/jj_end of oh_step_unroll_kw),
//       for ic in the block: acc = fma(x, w, acc)   (vfmadd231ps; fma=0: the AVX
//                                                    path, vmulps then vaddps)
//   store acc to dst.
// So each output is one chain from the bias through every block. binary64 runs the
// same order in double (a what-if). With bias = −0 an output that is exactly zero may
// come out +0 where oneDNN stores −0 (orders/driver.hpp: padded taps are zero products).
#include <vector>

#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

template <bool Fused>
struct Avx2Kernel {
  std::vector<std::int64_t> seq;  // the terms in the kernel's order

  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    const auto c0 = r.bias ? P::exact(*r.bias) : P::zero();
    for (std::int64_t j = 0; j < r.len; ++j) out.set(j, c0);
    for (const std::int64_t k : seq) {
      const auto w = r.w[k];
      const auto* x = r.x(k);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, mac<P, Fused>(x[j], w, out.get(j)));
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const std::int64_t block = ps.integer("block", 8, 1, 1 << 20);
  std::vector<std::int64_t> starts;
  std::vector<std::int64_t> seq = onednn_block_sequence(p.spec, block, starts);
  if (ps.flag("fma", true)) return run_tree_order(p, opt, Avx2Kernel<true>{std::move(seq)});
  return run_tree_order(p, opt, Avx2Kernel<false>{std::move(seq)});
}

}  // namespace

OrderInfo make_onednn_avx2_order() {
  return {.name = "onednn-avx2",
          .params = {{"block", "8", "input channels per block (all of them when the group has fewer)",
                      onednn_block_sweep},
                     {"fma", "1", "0: the AVX (no FMA) path, vmulps then vaddps", sweep_over({"0", "1"})}},
          .accumulation =
              "oneDNN 2.6.3 jit_avx2: one chain acc = bias or 0; per 8-channel block, for kh, kw (padding skipped), "
              "ic: acc = fma(x, w, acc)",
          .run_f32 = run<float>,
          .run_f64 = run<double>};
}

}  // namespace certconv
