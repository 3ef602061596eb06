// onednn-avx512:block=16 — oneDNN v2.6.3 forward convolution
// src/cpu/x64/jit_avx512_common_conv_kernel.cpp (jit_avx512_common_conv_fwd_kernel),
// driven by jit_avx512_common_convolution.cpp::execute_forward_2d. float32 uses FMA
// throughout (vfmadd231ps); there is no fma parameter.
//
// Channels are split into blocks of `block` = 16 (jcp.ic_block = simd_w); when the
// group has fewer than 16 input channels, one block holds them all (is_1stconv:
// ic_block = ic). A trailing partial block stands for oneDNN's zero-padded channels,
// whose products are zero.
//
// Exact accumulation order, per output:
//   for each channel block b = 0, 1, …   (the driver's icb loop, FLAG_IC_FIRST on b = 0)
//     acc = 0                                            (prepare_output: vpxord)
//     for kh (rows in the padding skipped: the driver passes kh_padding rows),
//       for kw (taps in the padding skipped: get_ow_start/get_ow_end),
//         for ic in the block:  acc = fma(w, x, acc)     (compute_loop_fma[_core])
//     store_output: b = 0:  dst = acc + bias (vaddps, one rounding) or dst = acc;
//                   b > 0:  dst = fl(acc + dst)           (vaddps with the stored dst)
// binary64 runs the same order in double (oneDNN has no f64 kernel: a what-if).
// oneDNN lowers the block to 8 or 4 for some grouped layers with few channels
// (ok_to_try_lower_zmm); block=8|4 reproduces that.
//
// bias=init is the order of the 1x1 kernels (jit_avx512_common_1x1_conv_kernel.cpp,
// jit_avx2_1x1_conv_kernel_f32.cpp), whose channel blocks are the reduce_blocking
// chunks: `init` loads the bias into the accumulator of the first chunk
// (FLAG_REDUCE_FIRST), 0 for later ones, and `store` adds later chunks to dst:
//   b = 0: acc = bias, …, dst = acc;   b > 0: acc = 0, …, dst = fl(acc + dst).
#include <algorithm>
#include <string>
#include <vector>

#include "certconv/orders/block_chains.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

std::vector<std::int64_t> onednn_block_sequence(const ConvSpec& s, std::int64_t block,
                                                std::vector<std::int64_t>& starts) {
  const std::int64_t icg = s.ic / s.g;
  if (icg < block) block = icg;
  std::vector<std::int64_t> seq;
  starts.clear();
  for (std::int64_t c0 = 0; c0 < icg; c0 += block) {
    starts.push_back(static_cast<std::int64_t>(seq.size()));
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx)
        for (std::int64_t c = c0; c < std::min(icg, c0 + block); ++c) seq.push_back((c * s.kh + ky) * s.kw + kx);
  }
  starts.push_back(static_cast<std::int64_t>(seq.size()));
  return seq;
}

std::vector<std::string> onednn_block_sweep(const SweepContext& c) {
  const std::int64_t icg = c.spec.ic / c.spec.g;
  std::vector<std::string> v;
  for (const std::int64_t b : {4, 8, 16, 32, 64, 80, 128, 256, 512})
    if (b < icg) v.push_back(std::to_string(b));
  v.push_back(std::to_string(icg));
  return v;
}

namespace {

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const std::int64_t block = ps.integer("block", 16, 1, 1 << 20);
  const std::string bias = ps.choice("bias", "store", {"store", "init"});
  BlockChains ker;
  ker.seq = onednn_block_sequence(p.spec, block, ker.starts);
  ker.bias_init = bias == "init";
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_onednn_avx512_order() {
  return {.name = "onednn-avx512",
          .params = {{"block", "16", "input channels per block (all of them when the group has fewer)",
                      onednn_block_sweep},
                     {"bias", "store",
                      "store: added to the first block's sum (jit conv); init: the first block's accumulator "
                      "starts from it (jit 1x1)",
                      sweep_bias({"store", "init"})}},
          .accumulation =
              "oneDNN 2.6.3 jit_avx512_common: per 16-channel block: acc = 0 (bias=init: the bias for the first); "
              "for kh, kw (padding skipped), ic: acc = fma(w, x, acc); first block dst = acc + bias, then "
              "dst = acc + dst",
          .run_f32 = run<float>,
          .run_f64 = run<double>};
}

}  // namespace certconv
