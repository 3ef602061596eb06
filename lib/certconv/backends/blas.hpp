#pragma once
// The real BLAS GEMM (OpenBLAS, Debian's libopenblas 0.3.21) behind a convolution, as
// an observed implementation: the backend orders "blas-unfold" and "blas-slow-conv".
// Present only when the build found OpenBLAS (CERTCONV_HAVE_OPENBLAS).
#include "certconv/core/config.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

#if CERTCONV_HAVE_OPENBLAS

enum class BlasArrangement {
  // unfold + matmul: Y[oc × L] = W[oc × K] · cols[K × L] (row-major, beta = 0), then
  // y = fl(y + bias) as a separate addition.
  unfold,
  // PyTorch's slow_conv2d (aten/src/ATen/native/ConvolutionMM2d.cpp): the output is
  // filled with the bias, then the column-major gemm m = L, n = oc, k = K with
  // beta = 1 (beta = 0 without a bias).
  slow_conv,
};

// y (NCHW) and the provenance (OpenBLAS config, core, threads, the call made), per
// (image, group) one GEMM with K = ic/g·kh·kw and L = oh·ow. `threads` (0 = all
// cores) is passed to openblas_set_num_threads.
template <class T>
OrderOutput<T> blas_convolution(const ConvProblem<T>& p, BlasArrangement a, int threads);

OrderInfo make_blas_unfold_order();
OrderInfo make_blas_slow_conv_order();

#endif

// OpenBLAS starts its worker threads when it is loaded, before main, and they spin
// on sched_yield for about 2^28 cycles before they sleep: on a small machine that
// takes a core from certconv's own workers. This stops them; the next BLAS call
// starts them again (OpenBLAS restarts its pool lazily, as after a fork). A no-op
// without OpenBLAS.
void blas_threads_stop();

}  // namespace certconv
