// gemm-blocked:kc=…,unroll=…,driver=serial|threaded,bias=first|last,fma=0|1 —
// unfold + OpenBLAS 0.3.21 GEMM, as PyTorch's slow_conv2d calls it (aten/src/ATen/
// native/ConvolutionMM2d.cpp: the output is filled with the bias, then gemm with
// alpha = 1, beta = 1 if there is a bias, else beta = 0): bias=first. bias=last is
// unfold + matmul + bias (beta = 0, then one rounded addition of the bias), the
// blas-unfold arrangement.
//
// K-blocking, driver/level3/level3.c (serial driver), with Q = GEMM_Q and
// U = GEMM_UNROLL_M:
//   for (ls = 0; ls < K; ls += min_l) {
//     min_l = K − ls;
//     if (min_l >= 2·Q) min_l = Q;
//     else if (min_l > Q) min_l = ((min_l/2 + U − 1)/U)·U;
//   }
// driver=threaded uses driver/level3/level3_thread.c instead, whose middle case is
// min_l = (min_l + 1)/2 (no unroll rounding).
//
// Exact accumulation order, per output, with k = ic·KH·KW + kh·KW + kw (padded taps
// are zero products of the unfolded matrix):
//   C = bias (bias=first, beta = 1), or C = 0 (beta = 0: OpenBLAS's GEMM_BETA zeroes C);
//   for each K block [ls, ls + min_l):
//     acc = 0; for k in the block: acc = fma(x_k, w_k, acc)    (fma=0: acc + fl(x_k·w_k))
//     C = fl(C + acc)            the kernel's store: vfmadd213ps (C), alpha, acc with
//                                alpha = 1, i.e. one rounding of acc + C
//   bias=last: C = fl(C + bias)
// (kernel/x86_64/sgemm_kernel_16x4_skylakex_3.c: accumulators zeroed, one
// vfmadd231ps per k into the same register, SAVE as above.) With beta = 0 the first
// store is 0 + acc = acc, exact.
//
// Presets (param.h of 0.3.21, x86_64, non-Windows): kc=skylakex-s: SGEMM_DEFAULT_Q
// 448, SGEMM_DEFAULT_UNROLL_M 16; skylakex-d: DGEMM 384, 16; haswell-s: SGEMM 320, 8;
// haswell-d: DGEMM 256, 4. kc=auto picks skylakex-s for float32 and skylakex-d for
// float64; kc=<Q> takes Q with unroll=auto meaning the SkylakeX unroll (16).
#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "certconv/orders/driver.hpp"
#include "certconv/orders/openblas_presets.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

std::vector<std::int64_t> openblas_k_blocks(std::int64_t K, std::int64_t q, std::int64_t unroll, bool threaded) {
  std::vector<std::int64_t> b{0};
  for (std::int64_t ls = 0; ls < K;) {
    std::int64_t min_l = K - ls;
    if (min_l >= 2 * q)
      min_l = q;
    else if (min_l > q)
      min_l = threaded ? (min_l + 1) / 2 : ((min_l / 2 + unroll - 1) / unroll) * unroll;
    ls += min_l;
    b.push_back(ls);
  }
  return b;
}

OpenblasKBlocking openblas_k_blocking(const OrderParams& ps, bool f32) {
  const std::string kc = ps.get("kc", "auto");
  const std::string name = kc == "auto" ? (f32 ? kSkylakexS : kSkylakexD).name : kc;
  OpenblasKBlocking bl{.q = 0, .unroll = kSkylakexS.unroll_m, .threaded = false};
  const auto preset = std::find_if(std::begin(kOpenblasPresets), std::end(kOpenblasPresets),
                                   [&](const OpenblasPreset& p) { return name == p.name; });
  if (preset != std::end(kOpenblasPresets))
    bl = {.q = preset->q, .unroll = preset->unroll_m, .threaded = false};
  else if (!kc.empty() && kc.find_first_not_of("0123456789") == std::string::npos)
    bl.q = ps.integer("kc", 0, 1, std::int64_t{1} << 40);
  else
    ps.fail("kc", "auto, skylakex-s, skylakex-d, haswell-s, haswell-d or a positive integer");
  if (ps.get("unroll", "auto") != "auto") bl.unroll = ps.integer("unroll", 16, 1, 1 << 20);
  bl.threaded = ps.choice("driver", "serial", {"serial", "threaded"}) == "threaded";
  return bl;
}

std::vector<std::int64_t> openblas_k_blocks(const OrderParams& ps, const OpenblasKBlocking& bl, std::int64_t K) {
  std::vector<std::int64_t> b = openblas_k_blocks(K, bl.q, bl.unroll, bl.threaded);
  // The rounded half overruns K only when unroll is large for Q (never with the
  // presets); OpenBLAS would then read past its buffers, so there is no order to emulate.
  if (b.back() != K)
    ps.fail("unroll", "small enough for kc that the rounded half-block stays inside K = " + std::to_string(K) +
                          " (e.g. unroll ≤ kc/2)");
  return b;
}

std::vector<OrderParam> openblas_k_params() {
  // identify tries every preset.
  const Sweep presets = [](const SweepContext&) {
    std::vector<std::string> v;
    for (const OpenblasPreset& p : kOpenblasPresets) v.push_back(p.name);
    return v;
  };
  return {{"kc", "auto",
           "K block Q: auto (skylakex-s for f32, skylakex-d for f64), skylakex-s (448), skylakex-d (384), "
           "haswell-s (320), haswell-d (256), or an integer",
           presets},
          {"unroll", "auto", "GEMM_UNROLL_M of the rounding rule: auto (the preset's; 16 for an integer kc) or an integer"},
          {"driver", "serial", "serial (level3.c: unroll-rounded half) or threaded (level3_thread.c: (rest+1)/2)",
           sweep_over({"serial", "threaded"})}};
}

namespace {

template <bool Fused>
struct GemmBlockedKernel {
  std::vector<std::int64_t> blocks;
  bool bias_last;

  template <class P>
  void row(const Row<typename P::In>& r, const typename P::Rows& out) const {
    const auto acc = P::template scratch_rows<struct GemmAcc>(static_cast<std::size_t>(r.len));
    const auto c0 = r.bias && !bias_last ? P::exact(*r.bias) : P::zero();
    for (std::int64_t j = 0; j < r.len; ++j) out.set(j, c0);
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i) {
      for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, P::zero());
      for (std::int64_t k = blocks[i]; k < blocks[i + 1]; ++k) {
        const auto w = r.w[k];
        const auto* x = r.x(k);
        for (std::int64_t j = 0; j < r.len; ++j) acc.set(j, mac<P, Fused>(x[j], w, acc.get(j)));
      }
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), acc.get(j)));
    }
    if (r.bias && bias_last) {
      const auto b = P::exact(*r.bias);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, P::add(out.get(j), b));
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  std::vector<std::int64_t> b = openblas_k_blocks(ps, openblas_k_blocking(ps, sizeof(T) == 4), p.spec.n_terms());
  const bool bias_last = ps.choice("bias", "first", {"first", "last"}) == "last";
  if (ps.flag("fma", true)) return run_tree_order(p, opt, GemmBlockedKernel<true>{std::move(b), bias_last});
  return run_tree_order(p, opt, GemmBlockedKernel<false>{std::move(b), bias_last});
}

}  // namespace

OrderInfo make_gemm_blocked_order() {
  std::vector<OrderParam> params = openblas_k_params();
  params.push_back({"bias", "first",
                    "first: C starts from the bias (slow_conv2d, beta = 1); last: C = GEMM + bias (unfold + matmul)",
                    sweep_bias({"first", "last"})});
  params.push_back({"fma", "1", "0: acc + fl(x·w) inside a block instead of fma", sweep_over({"0", "1"})});
  return {.name = "gemm-blocked",
          .params = std::move(params),
          .accumulation =
              "OpenBLAS 0.3.21 GEMM: C = bias (first) or 0; per K block (Q, ~half, rest): acc = 0, "
              "acc = fma(x, w, acc) over the block; C = C + acc; bias=last: C = C + bias",
          .run_f32 = run<float>,
          .run_f64 = run<double>,
          .scope = OrderScope::generic};
}

}  // namespace certconv
