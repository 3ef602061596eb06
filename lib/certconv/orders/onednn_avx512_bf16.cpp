// onednn-avx512-bf16:dst=bf16|f32,bias=bf16|f32,block=16,chunk=all,
// isa=avx512_core_bf16|avx512_core — oneDNN v2.6.3's bf16 forward convolutions on
// avx512_core_bf16, what PyTorch's bf16 conv2d runs on CPUs with AVX512_BF16 and
// without AMX:
//   src/cpu/x64/jit_avx512_core_bf16_conv_kernel.cpp (jit_bf16:avx512_core_bf16;
//     compute_loop, store_dst), driven by jit_avx512_core_bf16_convolution.cpp
//     (execute_forward_2d: one kernel call per output row and oc block, over all
//     input channels and the kh rows inside the image);
//   src/cpu/x64/jit_avx512_core_bf16_1x1_conv_kernel.cpp (jit_bf16_1x1:
//     avx512_core_bf16; reduce_loop, fma_block_fwd_bwd_d, store), whose driver calls
//     it once per chunk of reduce_blocking input channels.
// block = all channels of the group is the order measured for brgconv:avx512_core_bf16
// (prop=inference; jit_brgemm_conv.cpp), one chain over kh, kw and the channels.
// x, w (and the bias, bias=bf16 as PyTorch passes it) are rounded to bf16 first.
//
// Exact accumulation order, per output (VDPBF16PS as orders/vdpbf16ps.hpp emulates
// it: products exact, DAZ, the channel c+1 product added before the channel c one,
// each addition rounded to float32 and flushed to zero):
//   for each chunk of `chunk` input channels (1x1: reduce_blocking; the direct
//                                            kernel: all channels, one chunk)
//     acc = 0                                 (prepare_dst / init: vpxord)
//     for each block of `block` channels in the chunk (ic_block = 16; all channels of
//                                            the first conv, ic < 16: is_1stconv)
//       for kh (rows in the padding skipped: kh_padding),
//         for kw (taps in the padding skipped: get_ow_start/get_ow_end),
//           for c = c0, c0+2, … in the block: acc = vdpbf16ps(acc, (w_c, w_c+1), (x_c, x_c+1))
//                                           (an odd count pairs the last channel with 0)
//     part = acc for the first chunk, else part = fl(acc + part)   (vaddps with the
//                                            float32 store buffer; 1x1 only)
//   y = fl(part + bias)                       (vaddps, after the last chunk)
//   dst=bf16: y = vcvtneps2bf16(y)            (nearest-even, DAZ); dst=f32: y as is.
// The float32 additions run under the caller's MXCSR: certconv's, round to nearest
// without flushing, as PyTorch leaves it by default.
//
// isa=avx512_core: the same kernels on CPUs without AVX512_BF16 (jit_bf16:avx512_core,
// also what ONEDNN_MAX_CPU_ISA=AVX512_CORE selects) emulate the two instructions
// (bf16_emulation_t, jit_avx512_core_bf16cvt.hpp): VDPBF16PS as two vfmadd231ps, the
// odd pair first, under MXCSR (gradual underflow, no DAZ); VCVTNEPS2BF16 as integer
// nearest-even on the bits (subnormals rounded, not flushed; ±∞ kept).
//
// The bound is the order-free one of every bf16 kernel (orders/bf16_bound.hpp), not
// a bound of this tree: any order, flush to zero (which covers gradual underflow),
// input rounding (with DAZ for avx512_core_bf16) and output rounding.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "certconv/core/col_block.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/isa.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/orders/bf16_bound.hpp"
#include "certconv/orders/driver.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"
#include "certconv/orders/vdpbf16ps.hpp"

namespace certconv {

namespace {

struct Pair {
  std::int64_t lo, hi;  // term indices k of channels c and c+1; hi = −1 when c+1 is past the block
};

struct Bf16Kernel {
  std::vector<Pair> pairs;           // in the kernel's order
  std::vector<std::size_t> starts;   // index in `pairs` where each chunk starts, then pairs.size()
};

Bf16Kernel bf16_kernel(const ConvSpec& s, std::int64_t block, std::int64_t chunk) {
  const std::int64_t icg = s.ic / s.g;
  block = std::min(block, icg);
  Bf16Kernel k;
  auto term = [&](std::int64_t c, std::int64_t ky, std::int64_t kx) { return (c * s.kh + ky) * s.kw + kx; };
  for (std::int64_t h0 = 0; h0 < icg; h0 += chunk) {
    const std::int64_t h1 = std::min(icg, h0 + chunk);
    k.starts.push_back(k.pairs.size());
    for (std::int64_t b0 = h0; b0 < h1; b0 += block) {
      const std::int64_t b1 = std::min(h1, b0 + block);
      for (std::int64_t ky = 0; ky < s.kh; ++ky)
        for (std::int64_t kx = 0; kx < s.kw; ++kx)
          for (std::int64_t c = b0; c < b1; c += 2)
            k.pairs.push_back({term(c, ky, kx), c + 1 < b1 ? term(c + 1, ky, kx) : -1});
    }
  }
  k.starts.push_back(k.pairs.size());
  return k;
}

// 16 channels per block (jit_bf16), or all of them: brgconv:avx512_core_bf16
// (prop=inference) runs one chain over kh, kw and every channel of the group.
std::vector<std::string> block_sweep(const SweepContext& c) {
  const std::int64_t icg = c.spec.ic / c.spec.g;
  if (c.dtype != Dtype::f32 || icg <= 16) return {};
  return {"16", std::to_string(icg)};
}

// The 1x1 kernel's reduce_blocking candidates (jit_avx512_core_bf16_1x1_conv_kernel.cpp,
// init_conf): whole 16-channel blocks, capped at 160, 512 or 1024 by the spatial size
// and shrunk by the cache-aliasing check, so every multiple of 16 up to 1024 below
// the group's channels, and all of them.
std::vector<std::string> chunk_sweep(const SweepContext& c) {
  const std::int64_t icg = c.spec.ic / c.spec.g;
  std::vector<std::string> v;
  if (c.dtype != Dtype::f32 || c.spec.kh != 1 || c.spec.kw != 1) return v;
  for (std::int64_t h = 16; h < std::min<std::int64_t>(icg, 1025); h += 16) v.push_back(std::to_string(h));
  v.push_back("all");
  return v;
}

// bf16_emulation_t::vdpbf16ps and vcvtneps2bf16 (see the top).
float emulated_dpbf16(float acc, float a_lo, float a_hi, float b_lo, float b_hi) {
  return std::fma(b_lo, a_lo, std::fma(b_hi, a_hi, acc));
}

float emulated_cvt(float v) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
  if (std::isinf(v)) return v;
  return std::bit_cast<float>((b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u);
}

OrderOutput<float> run_f32(const OrderSpec& o, const ConvProblem<float>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const bool bf16_dst = ps.choice("dst", "bf16", {"bf16", "f32"}) == "bf16";
  const bool bf16_bias = ps.choice("bias", "bf16", {"bf16", "f32"}) == "bf16";
  const std::int64_t block = ps.integer("block", 16, 2, 1 << 20);
  const bool native = ps.choice("isa", "avx512_core_bf16", {"avx512_core_bf16", "avx512_core"}) == "avx512_core_bf16";
  const std::int64_t icg = p.spec.ic / p.spec.g;
  const std::int64_t chunk = ps.get("chunk", "all") == "all" ? icg : ps.integer("chunk", icg, 1, 1 << 30);
  OrderOutput<float> out = checked_output(p, Theorem::not_computed);
  OwnedProblem<float> r = round_problem(p, InputFormat::bf16);
  if (p.bias && !bf16_bias) r.bias = *p.bias;
  const ConvProblem<float> rv = r.view();
  const Bf16Kernel ker = bf16_kernel(p.spec, block, chunk);
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), ocg = s.oc / s.g;
  // dp: one VDPBF16PS lane, cvt: one VCVTNEPS2BF16 lane, as the ISA runs them.
  auto compute = [&](auto dp, auto cvt) {
    for_each_col_block(rv, resolve_threads(opt.threads), [&](auto n, auto g, auto oy, auto ox0, auto len,
                                                             const float* col) {
      std::vector<float> acc(static_cast<std::size_t>(len)), part(static_cast<std::size_t>(len));
      // x86-64-v3 where the CPU has it: std::fma becomes one instruction (same bits).
      dispatch_isa([&] {
        for (std::int64_t oc = g * ocg; oc < (g + 1) * ocg; ++oc) {
          const float* w = rv.w.data.data() + oc * K;
          for (std::size_t h = 0; h + 1 < ker.starts.size(); ++h) {
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (std::size_t i = ker.starts[h]; i < ker.starts[h + 1]; ++i) {
              const Pair pr = ker.pairs[i];
              const float* xlo = col + pr.lo * len;
              const float w_lo = w[pr.lo];
              if (pr.hi < 0) {
                for (std::int64_t j = 0; j < len; ++j) acc[j] = dp(acc[j], w_lo, 0.0f, xlo[j], 0.0f);
              } else {
                const float* xhi = col + pr.hi * len;
                const float w_hi = w[pr.hi];
                for (std::int64_t j = 0; j < len; ++j) acc[j] = dp(acc[j], w_lo, w_hi, xlo[j], xhi[j]);
              }
            }
            for (std::int64_t j = 0; j < len; ++j) part[j] = h == 0 ? acc[j] : acc[j] + part[j];
          }
          float* y = out.y.data.data() + ((n * s.oc + oc) * s.oh + oy) * s.ow + ox0;
          const float bias = rv.bias ? rv.bias->data[static_cast<std::size_t>(oc)] : 0.0f;
          for (std::int64_t j = 0; j < len; ++j) {
            const float v = rv.bias ? part[j] + bias : part[j];
            y[j] = bf16_dst ? cvt(v) : v;
          }
        }
      });
    });
  };
  // Lambdas, not function pointers, so that the lane operations inline.
  if (native)
    compute([](float a, float wl, float wh, float xl, float xh) { return vdpbf16ps_lane(a, wl, wh, xl, xh); },
            [](float v) { return vcvtneps2bf16(v); });
  else
    compute([](float a, float wl, float wh, float xl, float xh) { return emulated_dpbf16(a, wl, wh, xl, xh); },
            [](float v) { return emulated_cvt(v); });
  if (opt.want_bound)
    set_bf16_kernel_bound(out, p, kernel_inputs(p, InputFormat::bf16, native).view(), bf16_dst, opt.threads);
  return out;
}

OrderOutput<double> run_f64(const OrderSpec& o, const ConvProblem<double>&, const RunOptions&) {
  throw InputError("order '" + o.name + "': bf16 kernels accumulate in float32; it needs dtype f32, not f64");
}

}  // namespace

OrderInfo make_onednn_avx512_bf16_order() {
  return {.name = "onednn-avx512-bf16",
          .params = {{"dst", "bf16", "output data type: bf16 (VCVTNEPS2BF16, as PyTorch) or f32",
                      sweep_over({"bf16", "f32"})},
                     {"bias", "bf16", "bias data type: bf16 (rounded, as PyTorch passes it) or f32"},
                     {"block", "16", "input channels per block (ic_block; all of them when the group has fewer)",
                      block_sweep},
                     {"chunk", "all",
                      "input channels per partial sum stored in float32 (the 1x1 kernel's reduce_blocking), or all",
                      chunk_sweep},
                     {"isa", "avx512_core_bf16",
                      "avx512_core_bf16: the AVX512_BF16 instructions (DAZ, FTZ); avx512_core: oneDNN's emulation "
                      "of them with FMAs (gradual underflow)",
                      sweep_over({"avx512_core_bf16", "avx512_core"})}},
          .accumulation =
              "oneDNN 2.6.3 jit_avx512_core_bf16 (and _1x1): per chunk of channels (all, or 1x1 reduce_blocking): "
              "acc = 0; per 16-channel block, kh, kw (padding skipped), channel pair: acc = VDPBF16PS(acc, c+1 then "
              "c; products exact, DAZ/FTZ); part = acc + part; y = part + bias; dst bf16: VCVTNEPS2BF16",
          .run_f32 = run_f32,
          .run_f64 = run_f64};
}

}  // namespace certconv
