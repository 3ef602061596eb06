#pragma once
// The real oneDNN convolution (dnnl::convolution_forward, Debian's libdnnl 2.6.3) as
// an observed implementation: the backend order "onednn". Present only when the
// build found oneDNN (CERTCONV_HAVE_ONEDNN).
#include <string>

#include "certconv/core/config.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

#if CERTCONV_HAVE_ONEDNN

struct OnednnConfig {
  bool inference = false;     // prop_kind forward_inference instead of forward_training
  std::string alg = "direct"; // convolution_direct | convolution_auto | convolution_winograd
  bool src_any = true;        // src format any (as PyTorch asks) instead of nchw
};

// Runs the convolution in float32 and returns y (NCHW) with provenance: the
// implementation that ran (impl_info_str), the effective ISA, ONEDNN_MAX_CPU_ISA,
// the OpenMP threads. `threads` (0 = all cores) is applied to oneDNN's OpenMP
// runtime. Throws InputError when oneDNN has no implementation for the problem.
OrderOutput<float> onednn_convolution(const ConvProblem<float>& p, const OnednnConfig& c, int threads);

OrderInfo make_onednn_order();

#endif

}  // namespace certconv
