// openblas-haswell:bias=first|last — unfold + the GEMM of Debian's OpenBLAS 0.3.21
// on its Haswell core (what DYNAMIC_ARCH picks on Haswell … Zen CPUs), one thread:
// the output C[m × n] of each image and group, m = OH·OW, n = OC/G, k = K (column
// major, A = the unfolded input, B = the weights, as blas-slow-conv and blas-unfold
// call it). bias=first: C starts from the bias (slow_conv2d, beta = 1); bias=last:
// C = GEMM + bias (unfold + matmul). Every product is fused (vfmadd231ps/pd).
//
// K blocks (driver/level3/level3.c): Q when ≥ 2Q remain, the half rounded up to
// GEMM_UNROLL_M between Q and 2Q, else the rest; SGEMM Q = 320, unroll 8; DGEMM
// Q = 256, unroll 4 (param.h, HASWELL). Per K block [k0, k1) of kc terms, per output:
//   one accumulator:  acc = 0; for k in the block: acc = fma(a_k, b_k, acc)
//   split (float32, the tiles below): with k8 = k0 + 8·⌊kc/8⌋,
//                     even = 0, odd = 0;
//                     for k = k0, k0+2, …, k8−2: even = fma(a_k, b_k, even),
//                                                odd = fma(a_k+1, b_k+1, odd);
//                     for k in [k8, k1): even = fma(a_k, b_k, even);
//                     acc = fl(even + odd)                        (SAVE: vaddps)
//   C = fl(C + acc)   (the store: vfmadd213ps (C), alpha = 1; beta = 0 zeroes C first)
// bias=last: C = fl(C + bias) after the last block.
//
// Which outputs are split (kernel/x86_64/sgemm_kernel_8x4_haswell_2.c, with the
// calls the driver makes): M is cut into blocks like K, with P = 320, unroll 8. In
// the first M block the kernel is called per column chunk (12 columns while 12
// remain, else 4 while more than 4 remain, else the rest); in later M blocks once
// over all n columns. A call groups its columns as 12s, then at most one 8, 4, 2, 1,
// and its rows as 8-row panels, then 4-, 2-, 1-row tails. Split are:
//   - 4-column groups: every 8-row panel (KERNEL_k2m8n4);
//   - 12-column groups of a call with ≥ 16 rows: in the left 6 columns panel 0
//     (COMPUTE_H_m8n6), and the last panel in the left 6 columns when the call has
//     an even number of panels, in the right 6 when odd (COMPUTE_T_m8n6: the panel
//     left over after pairing panels into 16-row tiles).
// Everything else (16-row tiles, 8-, 2-, 1-column groups, row tails, calls with
// fewer than 16 rows) keeps one accumulator. DGEMM (dgemm_kernel_4x8_haswell.S)
// keeps one accumulator everywhere. Several threads partition M and N differently,
// so the split set, and the bits, change with the thread count: this is the
// one-thread order.
#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "certconv/orders/driver.hpp"
#include "certconv/orders/openblas_presets.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/params.hpp"

namespace certconv {

namespace {

// SGEMM_DEFAULT_P and GEMM_UNROLL_N (param.h, HASWELL); UNROLL_M is the preset's.
constexpr std::int64_t kSgemmP = 320, kSgemmUnrollN = 4;
constexpr std::int64_t kSgemmR = 104512;  // N block: (BUFFER_SIZE − P·Q·4) / (Q·4), rounded as setparam-ref.c

// Marks the split outputs of one kernel call covering rows [r0, r0 + rows) and
// columns [c0, c0 + cols) of C (column major, m rows).
void mark_call(std::vector<std::uint8_t>& split, std::int64_t m, std::int64_t r0, std::int64_t rows, std::int64_t c0,
               std::int64_t cols) {
  const std::int64_t panels = rows / 8;
  auto mark = [&](std::int64_t col0, std::int64_t ncols, std::int64_t p0, std::int64_t p1) {
    for (std::int64_t c = col0; c < col0 + ncols; ++c)
      std::fill_n(split.begin() + c * m + r0 + 8 * p0, 8 * (p1 - p0), std::uint8_t{1});
  };
  std::int64_t c = c0, left = cols;
  for (; left >= 12; left -= 12, c += 12) {
    if (rows < 16) continue;
    mark(c, 6, 0, 1);
    if (panels % 2 == 0)
      mark(c, 6, panels - 1, panels);
    else
      mark(c + 6, 6, panels - 1, panels);
  }
  for (const std::int64_t g : {8, 4, 2, 1})
    if (left >= g) {
      if (g == 4) mark(c, 4, 0, panels);
      left -= g;
      c += g;
    }
}

}  // namespace

std::vector<std::uint8_t> openblas_haswell_sgemm_split(std::int64_t m, std::int64_t n) {
  std::vector<std::uint8_t> split(static_cast<std::size_t>(m * n), 0);
  for (std::int64_t js = 0; js < n; js += kSgemmR) {
    const std::int64_t nj = std::min(kSgemmR, n - js);
    const std::vector<std::int64_t> mb = openblas_k_blocks(m, kSgemmP, kHaswellS.unroll_m, false);  // M cut as K
    for (std::size_t b = 0; b + 1 < mb.size(); ++b) {
      const std::int64_t is = mb[b], mi = mb[b + 1] - is;
      if (is == 0) {
        for (std::int64_t jj = 0; jj < nj;) {
          const std::int64_t rest = nj - jj;
          const std::int64_t w =
              rest >= 3 * kSgemmUnrollN ? 3 * kSgemmUnrollN : rest > kSgemmUnrollN ? kSgemmUnrollN : rest;
          mark_call(split, m, is, mi, js + jj, w);
          jj += w;
        }
      } else {
        mark_call(split, m, is, mi, js, nj);
      }
    }
  }
  return split;
}

namespace {

template <class T>
struct HaswellKernel {
  std::vector<std::int64_t> blocks;  // K block boundaries
  std::vector<std::uint8_t> split;   // per output of C (column major, m rows); empty: none split
  std::int64_t m = 0;
  bool bias_last = false;

  // acc[a, b) = the sum of one K block, one accumulator or split even/odd.
  template <class P>
  static void block_sum(const Row<T>& r, std::int64_t k0, std::int64_t k1, bool is_split, std::int64_t a,
                        std::int64_t b, const typename P::Rows& acc) {
    for (std::int64_t j = a; j < b; ++j) acc.set(j, P::zero());
    const auto odd = P::template scratch_rows<struct HaswellOdd>(static_cast<std::size_t>(r.len));
    std::int64_t k = k0;
    if (is_split) {
      for (std::int64_t j = a; j < b; ++j) odd.set(j, P::zero());
      for (const std::int64_t k8 = k0 + (k1 - k0) / 8 * 8; k < k8; k += 2) {
        const T w0 = r.w[k], w1 = r.w[k + 1];
        const T *x0 = r.x(k), *x1 = r.x(k + 1);
        for (std::int64_t j = a; j < b; ++j) {
          acc.set(j, P::fma(x0[j], w0, acc.get(j)));
          odd.set(j, P::fma(x1[j], w1, odd.get(j)));
        }
      }
    }
    // The one accumulator, or the split tile's tail, which goes into the even chain.
    for (; k < k1; ++k) {
      const T w = r.w[k];
      const T* x = r.x(k);
      for (std::int64_t j = a; j < b; ++j) acc.set(j, P::fma(x[j], w, acc.get(j)));
    }
    if (is_split)
      for (std::int64_t j = a; j < b; ++j) acc.set(j, P::add(acc.get(j), odd.get(j)));
  }

  // Outputs [a, b) of the row, all split or all not.
  template <class P>
  void run(const Row<T>& r, bool is_split, std::int64_t a, std::int64_t b, const typename P::Rows& out) const {
    const auto acc = P::template scratch_rows<struct HaswellAcc>(static_cast<std::size_t>(r.len));
    const auto c0 = r.bias && !bias_last ? P::exact(*r.bias) : P::zero();
    for (std::int64_t j = a; j < b; ++j) out.set(j, c0);
    for (std::size_t i = 0; i + 1 < blocks.size(); ++i) {
      block_sum<P>(r, blocks[i], blocks[i + 1], is_split, a, b, acc);
      for (std::int64_t j = a; j < b; ++j) out.set(j, P::add(out.get(j), acc.get(j)));
    }
    if (r.bias && bias_last) {
      const auto bias = P::exact(*r.bias);
      for (std::int64_t j = a; j < b; ++j) out.set(j, P::add(out.get(j), bias));
    }
  }

  template <class P>
  void row(const Row<T>& r, const typename P::Rows& out) const {
    if constexpr (std::is_same_v<P, TreePolicy<T>>) {
      // The bound's tree (read off once, not per output) must cover both shapes.
      run<P>(r, false, 0, r.len, out);
      if (split.empty()) return;
      const auto other = P::template scratch_rows<struct HaswellOtherTree>(static_cast<std::size_t>(r.len));
      run<P>(r, true, 0, r.len, other);
      for (std::int64_t j = 0; j < r.len; ++j) out.set(j, cover(out.get(j), other.get(j)));
    } else {
      const std::uint8_t* s = split.empty() ? nullptr : split.data() + r.gemm_n * m + r.m0;
      for (std::int64_t a = 0; a < r.len;) {
        const bool is_split = s && s[a];
        std::int64_t b = a + 1;
        while (b < r.len && (s && s[b]) == is_split) ++b;
        run<P>(r, is_split, a, b, out);
        a = b;
      }
    }
  }
};

template <class T>
OrderOutput<T> run(const OrderSpec& o, const ConvProblem<T>& p, const RunOptions& opt) {
  const OrderParams ps(o);
  const std::string bias = ps.choice("bias", "first", {"first", "last"});
  constexpr bool f32 = std::is_same_v<T, float>;
  HaswellKernel<T> ker;
  constexpr OpenblasPreset preset = f32 ? kHaswellS : kHaswellD;
  ker.blocks = openblas_k_blocks(p.spec.n_terms(), preset.q, preset.unroll_m, false);
  ker.m = p.spec.oh * p.spec.ow;
  if constexpr (f32) ker.split = openblas_haswell_sgemm_split(ker.m, p.spec.oc / p.spec.g);
  ker.bias_last = bias == "last";
  return run_tree_order(p, opt, ker);
}

}  // namespace

OrderInfo make_openblas_haswell_order() {
  return {.name = "openblas-haswell",
          .params = {{"bias", "first",
                      "first: C starts from the bias (slow_conv2d, beta = 1); last: C = GEMM + bias (unfold + "
                      "matmul)",
                      sweep_bias({"first", "last"})}},
          .accumulation =
              "OpenBLAS 0.3.21 Haswell GEMM, one thread: per K block (Q 320 f32 / 256 f64) acc = fma chain, or "
              "for SGEMM's m8n6/m8n4 tiles even and odd k in two chains then even + odd; C = C + acc",
          .run_f32 = run<float>,
          .run_f64 = run<double>};
}

}  // namespace certconv
