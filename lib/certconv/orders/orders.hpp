#pragma once
// The emulated summation orders, one file each; registry.cpp lists them.
#include <cstdint>
#include <string>
#include <vector>

#include "certconv/orders/order.hpp"
#include "certconv/orders/sum_tree.hpp"
#include "certconv/core/spec.hpp"

namespace certconv {

OrderInfo make_direct_order();
OrderInfo make_im2col_order();
OrderInfo make_gemm_blocked_order();
OrderInfo make_onednn_avx512_order();
OrderInfo make_onednn_avx2_order();
OrderInfo make_onednn_avx512_bf16_order();
OrderInfo make_pairwise_order();
OrderInfo make_kahan_order();
OrderInfo make_split_k_order();
OrderInfo make_openblas_haswell_order();
OrderInfo make_tree_order();
OrderInfo make_onednn_avx512_bwd_d_order();
OrderInfo make_onednn_avx512_bwd_w_order();
OrderInfo make_slow_conv_bwd_d_order();
OrderInfo make_onednn_avx2_bwd_d_order();
OrderInfo make_onednn_avx2_bwd_w_order();
OrderInfo make_onednn_dw_bwd_w_order();

// How oneDNN 2.6.3's jit:avx512_core backward-weights splits the reduction over
// its threads (balance() in jit_avx512_common_conv_kernel.cpp): `rows` reduction
// rows ((n, oh) pairs when rows_are_oh, else (n, od): images in 2-D), cut into nthr_mb contiguous
// chunks by balance211, each summed by one thread (onednn_avx512_bwd_w.cpp).
struct OnednnBwdWeightsSplit {
  bool rows_are_oh = false;
  std::int64_t rows = 0, nthr_mb = 1;
};
OnednnBwdWeightsSplit onednn_bwd_weights_split(const ConvDesc& d, int threads);

// How many threads share each 8×8-channel job of oneDNN 2.6.3's jit:avx2 backward
// weights (cpu_reducer.cpp's reduce_balancer_t::balance; onednn_avx2_bwd_w.cpp): the
// images are cut into that many chunks.
std::int64_t onednn_avx2_bwd_weights_npg(const ConvDesc& d, int threads);

// Which additions of the `tree` order are FMAs (tree.cpp): none (fma=0), every product
// leaf joining a sum (fma=1), or only where two product leaves meet (fma=pairs).
enum class TreeFma { none, all, pairs };
const char* tree_fma_name(TreeFma f);  // "0", "1", "pairs"

// The reduced-precision numerics of the `tree` order (tree.cpp): input=bf16 (in
// run_tree_file; the order string's input= is every order's, registry.cpp), ftz=1,
// dst=bf16. Float32 only.
struct TreeRounding {
  bool bf16_input = false, ftz = false, bf16_dst = false;
  bool any() const { return bf16_input || ftz || bf16_dst; }
};

// The `tree` order on trees in memory: what `tree:file=PATH,fma=..,first=..` runs once
// the file is read; checks the file against the problem.
template <class T>
OrderOutput<T> run_tree_file(const TreeFile& f, TreeFma fma, bool first_lo, const ConvProblem<T>& p,
                             const RunOptions& opt, TreeRounding rd = {});

// The sequential dot product of im2col.cpp, shared by `im2col` and `direct`
// (the same loop nest; fma=0|1).
template <class T>
OrderOutput<T> run_sequential(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt);

// The K blocks of OpenBLAS 0.3.21's level-3 driver (gemm_blocked.cpp): boundaries
// 0 = b[0] < b[1] < … < b.back() = K for GEMM_Q = q and GEMM_UNROLL_M = unroll;
// threaded: level3_thread.c's rule instead of level3.c's. The last boundary exceeds
// K when unroll is too large for q (the rounded half overruns; no real preset does).
// The driver cuts M by the same rule, with GEMM_P for q.
std::vector<std::int64_t> openblas_k_blocks(std::int64_t K, std::int64_t q, std::int64_t unroll, bool threaded);

// The K blocking an OpenBLAS order's parameters kc, unroll and driver choose
// (openblas_k_params(), read by openblas_k_blocking; f32 picks kc=auto's preset),
// and its blocks for K terms (an InputError when unroll overruns K).
struct OpenblasKBlocking {
  std::int64_t q, unroll;
  bool threaded;
};
class OrderParams;
std::vector<OrderParam> openblas_k_params();
OpenblasKBlocking openblas_k_blocking(const OrderParams& ps, bool f32);
std::vector<std::int64_t> openblas_k_blocks(const OrderParams& ps, const OpenblasKBlocking& bl, std::int64_t K);

// Which outputs of a one-thread OpenBLAS 0.3.21 Haswell SGEMM C[m × n] (column
// major) the kernel sums with split even/odd accumulators (openblas_haswell.cpp):
// split[j·m + i] = 1 for C(i, j).
std::vector<std::uint8_t> openblas_haswell_sgemm_split(std::int64_t m, std::int64_t n);

// The terms (k = c·KH·KW + kh·KW + kw) in the order of oneDNN's JIT kernels
// (onednn_avx512.cpp): channel blocks of `block` (one block when the group has
// fewer channels), inside a block kh, kw, then the channel. `starts` receives the
// sequence index of each block start, then the sequence length.
std::vector<std::int64_t> onednn_block_sequence(const ConvSpec& s, std::int64_t block,
                                                std::vector<std::int64_t>& starts);

// The channel blocks identify tries for the oneDNN orders: SIMD widths, the 1x1
// kernels' reduce blocks (80 and 128 channels and powers of two,
// jit_avx512_common_1x1_conv_kernel.cpp and jit_avx2_1x1_conv_kernel_f32.cpp) below
// the group's channels, and one block holding every channel.
std::vector<std::string> onednn_block_sweep(const SweepContext& c);

}  // namespace certconv
