// blas-unfold and blas-slow-conv — a convolution as im2col + the real BLAS GEMM.
//
// The unfolded matrix cols[K × L] of image n, group g has row k = c·KH·KW + ky·KW + kx
// (c within the group) and column l = oy·OW + ox, zeros at padded taps: what
// torch.nn.functional.unfold and PyTorch's unfolded2d_copy write.
//
// blas-unfold:    cblas_Xgemm(RowMajor, NoTrans, NoTrans, M = oc/g, N = L, K, 1,
//                             W_g, K, cols, L, 0, Y, L);  then Y = fl(Y + bias).
// blas-slow-conv: Y = bias;  cblas_Xgemm(ColMajor, NoTrans, NoTrans, m = L, n = oc/g,
//                             k = K, 1, cols, L, W_g, K, beta, Y, L), beta = 1 with
//                             a bias, else 0 (ConvolutionMM2d.cpp, slow_conv2d_update_
//                             output_frame, one call per group as at::convolution
//                             splits groups).
// OpenBLAS turns a row-major call into the column-major one with A and B swapped, so
// both arrangements are the same GEMM; they differ only in where the bias enters.
// Which kernel and blocking OpenBLAS uses, and so the summation order, is its own
// choice: the provenance records the core, and docs/orders.md lists the match.
#include "certconv/backends/blas.hpp"

#if CERTCONV_HAVE_OPENBLAS

#include <cblas.h>

#include <climits>
#include <cstdlib>
#include <type_traits>
#include <vector>

#include "certconv/backends/backend_bound.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

template <class T>
void gemm(CBLAS_ORDER order, blasint m, blasint n, blasint k, const T* a, blasint lda, const T* b, blasint ldb, T beta,
          T* c, blasint ldc) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(order, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  else
    cblas_dgemm(order, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// cols[k·L + l] for image n, group g.
template <class T>
void unfold(const ConvProblem<T>& p, std::int64_t n, std::int64_t g, T* cols) {
  const ConvSpec& s = p.spec;
  const std::int64_t icg = s.ic / s.g, L = s.oh * s.ow;
  for (std::int64_t c = 0; c < icg; ++c) {
    const T* plane = p.x.data.data() + (n * s.ic + g * icg + c) * s.ih * s.iw;
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx) {
        T* row = cols + ((c * s.kh + ky) * s.kw + kx) * L;
        for (std::int64_t oy = 0; oy < s.oh; ++oy) {
          const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1);
          for (std::int64_t ox = 0; ox < s.ow; ++ox) {
            const std::int64_t ix = ox * s.sw - s.pw + kx * (s.dw + 1);
            row[oy * s.ow + ox] = (iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw) ? plane[iy * s.iw + ix] : T(0);
          }
        }
      }
  }
}

const char* parallel_name(int v) {
  switch (v) {
    case 0: return "sequential";
    case 1: return "pthreads";
    case 2: return "openmp";
  }
  return "unknown";
}

}  // namespace

template <class T>
OrderOutput<T> blas_convolution(const ConvProblem<T>& p, BlasArrangement a, int threads) {
  check_problem(p);
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), L = s.oh * s.ow, ocg = s.oc / s.g;
  require(K <= INT_MAX && L <= INT_MAX,
          "problem " + to_benchdnn(s) + ": the GEMM dimensions exceed the BLAS integer range");
  openblas_set_num_threads(resolve_threads(threads));
  OrderOutput<T> out;
  out.y = Tensor<T>(s.y_shape());
  std::vector<T> cols(static_cast<std::size_t>(K * L));
  const blasint k = static_cast<blasint>(K), l = static_cast<blasint>(L), m = static_cast<blasint>(ocg);
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t g = 0; g < s.g; ++g) {
      unfold(p, n, g, cols.data());
      T* y = out.y.data.data() + (n * s.oc + g * ocg) * L;
      const T* w = p.w.data.data() + g * ocg * K;
      const T* bias = p.bias ? p.bias->data.data() + g * ocg : nullptr;
      if (a == BlasArrangement::unfold) {
        gemm<T>(CblasRowMajor, m, l, k, w, k, cols.data(), l, T(0), y, l);
        if (bias)
          for (std::int64_t o = 0; o < ocg; ++o)
            for (std::int64_t j = 0; j < L; ++j) y[o * L + j] += bias[o];
      } else {
        if (bias)
          for (std::int64_t o = 0; o < ocg; ++o)
            for (std::int64_t j = 0; j < L; ++j) y[o * L + j] = bias[o];
        gemm<T>(CblasColMajor, l, m, k, cols.data(), l, w, k, bias ? T(1) : T(0), y, l);
      }
    }
  const char* type = std::is_same_v<T, float> ? "sgemm" : "dgemm";
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  out.provenance = {
      {"library", openblas_get_config()},
      {"core", openblas_get_corename()},
      {"openblas_coretype_env", coretype ? coretype : "unset"},
      {"threads", std::to_string(openblas_get_num_threads())},
      {"parallel", parallel_name(openblas_get_parallel())},
      {"call", a == BlasArrangement::unfold
                   ? std::string("cblas_") + type + "(RowMajor, NoTrans, NoTrans, M=oc/g, N=oh*ow, K=ic/g*kh*kw, "
                                                    "beta=0) per image and group, then y = y + bias"
                   : std::string("y = bias; cblas_") + type +
                         "(ColMajor, NoTrans, NoTrans, m=oh*ow, n=oc/g, k=ic/g*kh*kw, beta=1, or 0 without bias) "
                         "per image and group"}};
  return out;
}

template OrderOutput<float> blas_convolution(const ConvProblem<float>&, BlasArrangement, int);
template OrderOutput<double> blas_convolution(const ConvProblem<double>&, BlasArrangement, int);

namespace {

template <class T, BlasArrangement A>
OrderOutput<T> run(const OrderSpec&, const ConvProblem<T>& p, const RunOptions& opt) {
  OrderOutput<T> out = blas_convolution(p, A, opt.threads);
  if (opt.want_bound) set_order_free_bound(out, p, opt.threads);
  return out;
}

}  // namespace

OrderInfo make_blas_unfold_order() {
  OrderInfo info{"blas-unfold",
                 {},
                 "unfold, then the real OpenBLAS gemm W[oc x K] . cols[K x oh*ow] (beta = 0), then + bias: the "
                 "kernel's order (docs/orders.md)",
                 run<float, BlasArrangement::unfold>,
                 run<double, BlasArrangement::unfold>};
  info.kind = OrderKind::backend;
  return info;
}

OrderInfo make_blas_slow_conv_order() {
  OrderInfo info{"blas-slow-conv",
                 {},
                 "PyTorch slow_conv2d: y = bias, then the real OpenBLAS gemm m = oh*ow, n = oc, k = K with beta = 1: "
                 "the kernel's order (docs/orders.md)",
                 run<float, BlasArrangement::slow_conv>,
                 run<double, BlasArrangement::slow_conv>};
  info.kind = OrderKind::backend;
  return info;
}

}  // namespace certconv

// OpenBLAS's own pthread_atfork handler; exec_blas_async restarts the pool when it
// finds it stopped (driver/others/blas_server.c, 0.3.21).
extern "C" int blas_thread_shutdown_(void);

void certconv::blas_threads_stop() { blas_thread_shutdown_(); }

#else

void certconv::blas_threads_stop() {}

#endif
