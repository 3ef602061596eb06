#pragma once
// The real oneDNN convolution (dnnl::convolution_forward, Debian's libdnnl 2.6.3) as
// an observed implementation: the backend order "onednn". Present only when the
// build found oneDNN (CERTCONV_HAVE_ONEDNN).
#include <map>
#include <string>
#include <vector>

#include "certconv/core/config.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

#if CERTCONV_HAVE_ONEDNN

struct OnednnConfig {
  bool inference = false;     // prop_kind forward_inference instead of forward_training
  std::string alg = "direct"; // convolution_direct | convolution_auto | convolution_winograd
  bool src_any = true;        // src format any (as PyTorch asks) instead of nchw
  // dt=bf16: src and weights in bf16 (rounded to nearest-even), the bias in
  // bias_dt, the result in dst_dt (bf16 or f32), as PyTorch's bf16 conv2d asks.
  bool bf16 = false;
  bool bf16_dst = true;
  bool bf16_bias = true;
};

// Runs the convolution in float32 (or bf16, c.bf16) and returns y (NCHW) with provenance: the
// implementation that ran (impl_info_str), the effective ISA, ONEDNN_MAX_CPU_ISA,
// the OpenMP threads. `threads` (0 = all cores) is applied to oneDNN's OpenMP
// runtime. bf16 inputs are p's rounded to bf16; a bf16 output is widened exactly
// into y. Throws InputError when oneDNN has no implementation for the problem.
OrderOutput<float> onednn_convolution(const ConvProblem<float>& p, const OnednnConfig& c, int threads);

OrderInfo make_onednn_order();

// The backward directions (and forward) of any rank, float32, as PyTorch asks for
// them: diff_dst, weights and src in format any, a forward_training hint, and the
// result reordered to the plain layout (dx NC[D]HW, dw O I/g [K]..., db [oc]).
// Returns one tensor per result of the direction (dw then db for BWD_WB) and the
// provenance (implementation, ISA, threads) as onednn_convolution does.
struct OnednnResults {
  std::vector<Tensor<float>> results;
  std::map<std::string, std::string> provenance;
};
OnednnResults onednn_direction(const ConvDesc& d, Direction dir, const Operands<float>& ops, int threads);

#endif

}  // namespace certconv
