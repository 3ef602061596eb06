#define BOOST_TEST_MODULE orders
#include <bit>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/orders/vdpbf16ps.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/spec.hpp"

using namespace certconv;

namespace {

// ---------------------------------------------------------------------------
// Slow reference versions of every order: one output at a time, written straight
// from the source each order reproduces (the comment at the top of its file). They
// skip padded taps where the source does, and are the oracle for the fast kernels.

template <class T>
using Problem = OwnedProblem<T>;

// One output's term k = c·KH·KW + ky·KW + kx: (x, w), x = 0 in the padding.
template <class T>
struct Taps {
  const Problem<T>& p;
  std::int64_t n, oc, oy, ox;
  bool padded(std::int64_t k) const {
    const ConvSpec& s = p.spec;
    const std::int64_t ky = k / s.kw % s.kh, kx = k % s.kw;
    const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1), ix = ox * s.sw - s.pw + kx * (s.dw + 1);
    return iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw;
  }
  T x(std::int64_t k) const {
    if (padded(k)) return 0;
    const ConvSpec& s = p.spec;
    const std::int64_t icg = s.ic / s.g, c = k / (s.kh * s.kw), ky = k / s.kw % s.kh, kx = k % s.kw;
    const std::int64_t iy = oy * s.sh - s.ph + ky * (s.dh + 1), ix = ox * s.sw - s.pw + kx * (s.dw + 1);
    return p.x(n, oc / (s.oc / s.g) * icg + c, iy, ix);
  }
  T w(std::int64_t k) const { return p.w.data[static_cast<std::size_t>(oc * p.spec.n_terms() + k)]; }
  const T* bias() const { return p.bias ? &p.bias->data[static_cast<std::size_t>(oc)] : nullptr; }
};

template <class T>
using RefFn = std::function<T(const Taps<T>&)>;

template <class T>
Tensor<T> reference(const Problem<T>& p, const RefFn<T>& f) {
  const ConvSpec& s = p.spec;
  Tensor<T> y(s.y_shape());
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t oc = 0; oc < s.oc; ++oc)
      for (std::int64_t oy = 0; oy < s.oh; ++oy)
        for (std::int64_t ox = 0; ox < s.ow; ++ox) y(n, oc, oy, ox) = f(Taps<T>{p, n, oc, oy, ox});
  return y;
}

template <class T>
T mac(bool fused, T x, T w, T acc) {
  return fused ? std::fma(x, w, acc) : acc + x * w;
}

// oneDNN ref_convolution.cpp: d = 0; ic → kh → kw, padding skipped; acc = 0 + d; + bias.
template <class T>
T ref_direct(const Taps<T>& t, bool fused) {
  T d = 0;
  for (std::int64_t k = 0; k < t.p.spec.n_terms(); ++k)
    if (!t.padded(k)) d = mac(fused, t.x(k), t.w(k), d);
  T acc = 0;
  acc += d;
  return t.bias() ? acc + *t.bias() : acc;
}

template <class T>
T ref_im2col(const Taps<T>& t, bool fused) {
  T acc = 0;
  for (std::int64_t k = 0; k < t.p.spec.n_terms(); ++k) acc = mac(fused, t.x(k), t.w(k), acc);
  return t.bias() ? acc + *t.bias() : acc;
}

// OpenBLAS level3.c blocking, written out again from the source.
template <class T>
T ref_gemm(const Taps<T>& t, std::int64_t q, std::int64_t unroll, bool threaded, bool fused, bool bias_last = false) {
  const std::int64_t K = t.p.spec.n_terms();
  T c = t.bias() && !bias_last ? *t.bias() : T(0);
  std::int64_t min_l = 0;
  for (std::int64_t ls = 0; ls < K; ls += min_l) {
    min_l = K - ls;
    if (min_l >= q * 2)
      min_l = q;
    else if (min_l > q)
      min_l = threaded ? (min_l + 1) / 2 : ((min_l / 2 + unroll - 1) / unroll) * unroll;
    T acc = 0;
    for (std::int64_t k = ls; k < ls + min_l; ++k) acc = mac(fused, t.x(k), t.w(k), acc);
    c = std::fma(T(1), acc, c);  // the kernel's store: alpha·acc + C, alpha = 1
  }
  return t.bias() && bias_last ? c + *t.bias() : c;
}

// oneDNN jit_avx512_common: blocks of `block` channels; kh, kw (padding skipped), ic.
// bias_init: the 1x1 kernels, the first block's accumulator starts from the bias.
template <class T>
T ref_avx512(const Taps<T>& t, std::int64_t block, bool bias_init = false) {
  const ConvSpec& s = t.p.spec;
  const std::int64_t icg = s.ic / s.g;
  if (icg < block) block = icg;
  T dst = 0;
  for (std::int64_t c0 = 0; c0 < icg; c0 += block) {
    T acc = c0 == 0 && bias_init && t.bias() ? *t.bias() : T(0);
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx)
        for (std::int64_t c = c0; c < std::min(icg, c0 + block); ++c) {
          const std::int64_t k = (c * s.kh + ky) * s.kw + kx;
          if (!t.padded(k)) acc = std::fma(t.w(k), t.x(k), acc);
        }
    if (c0 > 0)
      dst = acc + dst;
    else
      dst = t.bias() && !bias_init ? acc + *t.bias() : acc;
  }
  return dst;
}

// oneDNN jit_avx2: one chain from the bias; blocks of `block` channels; kh, kw, ic.
template <class T>
T ref_avx2(const Taps<T>& t, std::int64_t block, bool fused) {
  const ConvSpec& s = t.p.spec;
  const std::int64_t icg = s.ic / s.g;
  if (icg < block) block = icg;
  T acc = t.bias() ? *t.bias() : T(0);
  for (std::int64_t c0 = 0; c0 < icg; c0 += block)
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx)
        for (std::int64_t c = c0; c < std::min(icg, c0 + block); ++c) {
          const std::int64_t k = (c * s.kh + ky) * s.kw + kx;
          if (!t.padded(k)) acc = mac(fused, t.x(k), t.w(k), acc);
        }
  return acc;
}

template <class T>
T pairwise_sum(const Taps<T>& t, std::int64_t lo, std::int64_t hi, bool fused) {
  if (hi - lo == 1) return t.x(lo) * t.w(lo);
  if (fused && hi - lo == 2) return std::fma(t.x(lo + 1), t.w(lo + 1), t.x(lo) * t.w(lo));
  const std::int64_t mid = lo + (hi - lo) / 2;
  return pairwise_sum(t, lo, mid, fused) + pairwise_sum(t, mid, hi, fused);
}

template <class T>
T ref_pairwise(const Taps<T>& t, bool fused) {
  const T s = pairwise_sum(t, 0, t.p.spec.n_terms(), fused);
  return t.bias() ? s + *t.bias() : s;
}

template <class T>
T ref_kahan(const Taps<T>& t, bool fused) {
  T s = t.bias() ? *t.bias() : T(0), c = 0;
  for (std::int64_t k = 0; k < t.p.spec.n_terms(); ++k) {
    const T y = fused ? std::fma(t.x(k), t.w(k), -c) : t.x(k) * t.w(k) - c;
    const T u = s + y;
    c = (u - s) - y;
    s = u;
  }
  return s;
}

template <class T>
T ref_split_k(const Taps<T>& t, std::int64_t parts, bool fused) {
  const std::int64_t K = t.p.spec.n_terms();
  T y = 0;
  for (std::int64_t i = 0; i < parts; ++i) {
    T part = 0;
    for (std::int64_t k = i * K / parts; k < (i + 1) * K / parts; ++k) part = mac(fused, t.x(k), t.w(k), part);
    y = i == 0 ? part : y + part;
  }
  return t.bias() ? y + *t.bias() : y;
}

// OpenBLAS 0.3.21 Haswell SGEMM, one thread: whether C(i, j) of C[m × n] is summed
// by a split even/odd tile, found for this one output by following the driver's
// calls (M blocks of 320; in the first, column chunks of 12/4/rest) and the kernel's
// column groups (12s, then 8, 4, 2, 1) and 8-row panels.
bool ref_haswell_split(std::int64_t m, std::int64_t n, std::int64_t i, std::int64_t j) {
  auto cut = [](std::int64_t rest, std::int64_t q, std::int64_t u) {
    return rest >= 2 * q ? q : rest > q ? ((rest / 2 + u - 1) / u) * u : rest;
  };
  std::int64_t is = 0, rows = cut(m, 320, 8);
  while (i >= is + rows) {
    is += rows;
    rows = cut(m - is, 320, 8);
  }
  std::int64_t call_cols = n, c = j;  // the call's width, j's column within it
  if (is == 0)
    for (std::int64_t jj = 0;; jj += call_cols) {
      const std::int64_t rest = n - jj;
      call_cols = rest >= 12 ? 12 : rest > 4 ? 4 : rest;
      if (j < jj + call_cols) {
        c = j - jj;
        break;
      }
    }
  std::int64_t group = 0, start = 0;
  for (std::int64_t left = call_cols; group == 0;) {
    const std::int64_t g = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    if (c < start + g) group = g;
    else {
      start += g;
      left -= g;
    }
  }
  c -= start;
  const std::int64_t r = i - is, panels = rows / 8, panel = r / 8;
  if (panel >= panels) return false;  // row tails
  if (group == 4) return true;
  if (group != 12 || rows < 16) return false;
  const bool last = panel == panels - 1;
  return c < 6 ? (panel == 0 || (last && panels % 2 == 0)) : (last && panels % 2 == 1);
}

template <class T>
T ref_openblas_haswell(const Taps<T>& t, bool bias_last) {
  const ConvSpec& s = t.p.spec;
  const std::int64_t K = s.n_terms(), ocg = s.oc / s.g;
  const bool split = sizeof(T) == 4 && ref_haswell_split(s.oh * s.ow, ocg, t.oy * s.ow + t.ox, t.oc % ocg);
  T c = t.bias() && !bias_last ? *t.bias() : T(0);
  for (std::int64_t k0 = 0, kc = 0; k0 < K; k0 += kc) {
    const std::int64_t q = sizeof(T) == 4 ? 320 : 256, u = sizeof(T) == 4 ? 8 : 4, rest = K - k0;
    kc = rest >= 2 * q ? q : rest > q ? ((rest / 2 + u - 1) / u) * u : rest;
    T even = 0, odd = 0;
    const std::int64_t k8 = split ? k0 + kc / 8 * 8 : k0;
    for (std::int64_t k = k0; k < k8; k += 2) {
      even = std::fma(t.x(k), t.w(k), even);
      odd = std::fma(t.x(k + 1), t.w(k + 1), odd);
    }
    for (std::int64_t k = k8; k < k0 + kc; ++k) even = std::fma(t.x(k), t.w(k), even);
    c = c + (split ? even + odd : even);
  }
  return t.bias() && bias_last ? c + *t.bias() : c;
}

// Every order variant with its reference.
template <class T>
std::vector<std::pair<std::string, RefFn<T>>> variants() {
  const bool f32 = sizeof(T) == 4;
  return {
      {"direct", [](const Taps<T>& t) { return ref_direct(t, false); }},
      {"direct:fma=1", [](const Taps<T>& t) { return ref_direct(t, true); }},
      {"im2col", [](const Taps<T>& t) { return ref_im2col(t, false); }},
      {"im2col:fma=1", [](const Taps<T>& t) { return ref_im2col(t, true); }},
      {"gemm-blocked", [f32](const Taps<T>& t) { return ref_gemm(t, f32 ? 448 : 384, 16, false, true); }},
      {"gemm-blocked:kc=7,unroll=4,fma=0", [](const Taps<T>& t) { return ref_gemm(t, 7, 4, false, false); }},
      {"gemm-blocked:kc=haswell-s", [](const Taps<T>& t) { return ref_gemm(t, 320, 8, false, true); }},
      {"gemm-blocked:kc=5,driver=threaded", [](const Taps<T>& t) { return ref_gemm(t, 5, 16, true, true); }},
      {"gemm-blocked:kc=5,unroll=2,bias=last", [](const Taps<T>& t) { return ref_gemm(t, 5, 2, false, true, true); }},
      {"onednn-avx512", [](const Taps<T>& t) { return ref_avx512(t, 16); }},
      {"onednn-avx512:block=4", [](const Taps<T>& t) { return ref_avx512(t, 4); }},
      {"onednn-avx512:block=4,bias=init", [](const Taps<T>& t) { return ref_avx512(t, 4, true); }},
      {"onednn-avx2", [](const Taps<T>& t) { return ref_avx2(t, 8, true); }},
      {"onednn-avx2:block=3,fma=0", [](const Taps<T>& t) { return ref_avx2(t, 3, false); }},
      {"pairwise", [](const Taps<T>& t) { return ref_pairwise(t, false); }},
      {"pairwise:fma=1", [](const Taps<T>& t) { return ref_pairwise(t, true); }},
      {"kahan", [](const Taps<T>& t) { return ref_kahan(t, false); }},
      {"kahan:fma=1", [](const Taps<T>& t) { return ref_kahan(t, true); }},
      {"split-k", [](const Taps<T>& t) { return ref_split_k(t, 4, true); }},
      {"split-k:parts=3,fma=0", [](const Taps<T>& t) { return ref_split_k(t, 3, false); }},
      {"split-k:parts=100", [](const Taps<T>& t) { return ref_split_k(t, 100, true); }},
      {"openblas-haswell", [](const Taps<T>& t) { return ref_openblas_haswell(t, false); }},
      {"openblas-haswell:bias=last", [](const Taps<T>& t) { return ref_openblas_haswell(t, true); }},
  };
}

template <class T>
Problem<T> make_problem(const std::string& desc, const std::string& dist, std::uint64_t seed, bool with_bias) {
  Problem<T> p;
  p.spec = parse_benchdnn(desc);
  Generated<T> g = generate_inputs<T>(p.spec, dist, seed);
  p.x = std::move(g.x);
  p.w = std::move(g.w);
  if (with_bias) {
    Rng rng(seed + 1);
    p.bias = dist == "integer" ? Tensor<T>({p.spec.oc}, T(2)) : normal_tensor<T>({p.spec.oc}, rng);
  }
  return p;
}

template <class T>
auto bits(T v) {
  return std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(v);
}

template <class T>
OrderOutput<T> run(const std::string& order, const Problem<T>& p, int threads = 2, bool bound = false) {
  return run_order(parse_order(order), p.view(), RunOptions{threads, bound});
}

// Groups, stride, padding (asymmetric through oh/ow), dilation, and enough channels
// for several oneDNN blocks.
const char* const kShapes[] = {
    "mb2ic3ih9iw8oc4oh5kh3kw2sh2sw2ph1pw1",  // stride, padding
    "g2mb1ic36ih6oc4oh6kh3ph1dh0",           // groups, 18 channels per group: two avx512 blocks
    "mb1ic5ih11oc3oh4kh3sh2ph0dh2",          // dilation
    "mb1ic20ih4iw5oc2oh4ow5kh1kw1",          // 1x1, 20 channels
};

}  // namespace

BOOST_AUTO_TEST_CASE(fast_kernels_match_the_slow_reference_bit_for_bit) {
  auto check = [](auto tag) {
    using T = decltype(tag);
    for (const char* shape : kShapes)
      for (bool with_bias : {false, true}) {
        const Problem<T> p = make_problem<T>(shape, "normal", 7, with_bias);
        for (const auto& [name, ref] : variants<T>()) {
          const Tensor<T> want = reference(p, ref);
          for (bool bound : {false, true}) {
            const OrderOutput<T> got = run(name, p, 2, bound);
            BOOST_REQUIRE(got.y.shape == want.shape);
            std::size_t bad = 0;
            for (std::size_t i = 0; i < want.data.size(); ++i) bad += bits(got.y.data[i]) != bits(want.data[i]);
            BOOST_TEST(bad == 0u, name << " on " << shape << (with_bias ? " with bias" : "")
                                       << (bound ? " (with bounds)" : "") << ": " << bad << " outputs differ");
          }
        }
      }
  };
  check(float{});
  check(double{});
}

// The split-tile map of openblas-haswell against the per-output walk of the
// reference, on shapes with several M blocks, 12-column groups, and 8/4/2/1 column
// and row tails; and the count worked by hand for conv1 (m = 112·112, n = 64): each
// of the 39 M blocks of 320 rows (40 panels, even) has per 12 columns the left 6 in
// panels 0 and 39 split (5 groups · 6 · 16) plus the trailing 4 columns (4 · 320):
// 1760; the last block of 64 rows (8 panels): 5 · 6 · 16 + 4 · 64 = 736.
BOOST_AUTO_TEST_CASE(openblas_haswell_split_map) {
  for (const auto& [m, n] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {20, 4}, {15, 12}, {16, 12}, {24, 12}, {100, 30}, {576, 31}, {700, 17}, {1000, 64}, {12544, 64}}) {
    const std::vector<std::uint8_t> split = openblas_haswell_sgemm_split(m, n);
    std::int64_t bad = 0, count = 0;
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t i = 0; i < m; ++i) {
        const bool s = split[static_cast<std::size_t>(j * m + i)] != 0;
        bad += s != ref_haswell_split(m, n, i, j);
        count += s;
      }
    BOOST_TEST(bad == 0, m << " x " << n);
    if (m == 12544) BOOST_TEST(count == 39 * 1760 + 736);
    if (m == 15) BOOST_TEST(count == 0);  // fewer than 16 rows: the m8n12 kernel, one accumulator
  }
}

BOOST_AUTO_TEST_CASE(openblas_haswell_matches_the_reference_on_split_tiles) {
  // m = 576 (two M blocks of 288), n = 30 (chunks 12, 12, 4, 2), K = 360 (blocks 184, 176).
  const Problem<float> p = make_problem<float>("mb1ic40ih24oc30oh24kh3ph1", "normal", 5, true);
  for (bool last : {false, true}) {
    const Tensor<float> want =
        reference<float>(p, [last](const Taps<float>& t) { return ref_openblas_haswell(t, last); });
    for (bool bound : {false, true}) {
      const OrderOutput<float> got = run(last ? "openblas-haswell:bias=last" : "openblas-haswell", p, 2, bound);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < want.data.size(); ++i) bad += bits(got.y.data[i]) != bits(want.data[i]);
      BOOST_TEST(bad == 0u);
    }
  }
  // The split tiles change bits: without them (one accumulator per K block) the
  // result is gemm-blocked's, which differs from it here.
  const Tensor<float> plain = run("gemm-blocked:kc=haswell-s", p).y, haswell = run("openblas-haswell", p).y;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < plain.data.size(); ++i) differ += bits(plain.data[i]) != bits(haswell.data[i]);
  BOOST_TEST(differ > 0u);
}

// (a) Integer inputs small enough that every partial sum is exact: every order, both
// dtypes, fma on and off, gives the exact result.
BOOST_AUTO_TEST_CASE(integer_inputs_give_the_exact_result_in_every_order) {
  auto check = [](auto tag) {
    using T = decltype(tag);
    for (const char* shape : kShapes) {
      const Problem<T> p = make_problem<T>(shape, "integer", 3, true);
      const Tensor<T> exact = reference<T>(p, [](const Taps<T>& t) {
        long long s = 2;  // the bias
        for (std::int64_t k = 0; k < t.p.spec.n_terms(); ++k)
          s += static_cast<long long>(t.x(k)) * static_cast<long long>(t.w(k));
        return static_cast<T>(s);
      });
      std::vector<std::string> names;
      for (const auto& v : variants<T>()) names.push_back(v.first);
      if (sizeof(T) == 4) names.push_back("pairwise:input=bf16");  // small integers are bf16 numbers
      for (const std::string& name : names) {
        const OrderOutput<T> got = run(name, p, 1, true);
        for (std::size_t i = 0; i < exact.data.size(); ++i)
          BOOST_TEST(bits(got.y.data[i]) == bits(exact.data[i]), name << " on " << shape << " at " << i);
      }
    }
  };
  check(float{});
  check(double{});
}

// (b) Known answers, worked by hand. One output, terms x_k·w_k in the order given;
// u = 2^-24 (binary32), ulp(1) = 2u, ties round to even.
namespace {

Problem<float> dot_problem(std::vector<float> x, std::vector<float> w) {
  const auto n = static_cast<std::int64_t>(x.size());
  Problem<float> p;
  p.spec = parse_benchdnn("mb1ic" + std::to_string(n) + "ih1iw1oc1oh1ow1kh1kw1");
  p.x = Tensor<float>({1, n, 1, 1});
  p.w = Tensor<float>({1, n, 1, 1});
  p.x.data = std::move(x);
  p.w.data = std::move(w);
  return p;
}

float one(const std::string& order, const Problem<float>& p) { return run(order, p).y.data[0]; }

}  // namespace

BOOST_AUTO_TEST_CASE(known_answers_where_orders_differ_in_the_last_bit) {
  const float u = 0x1p-24f;
  // Terms 1, u, u, u (exact 1 + 3u).
  const Problem<float> p = dot_problem({1, 1, 1, 1}, {1, u, u, u});
  // Sequential: 1 + u is a tie between 1 and 1 + 2u; it rounds to even, 1, every time.
  BOOST_TEST(one("direct", p) == 0x1p0f);
  BOOST_TEST(one("direct:fma=1", p) == 0x1p0f);
  BOOST_TEST(one("im2col", p) == 0x1p0f);
  BOOST_TEST(one("onednn-avx2", p) == 0x1p0f);
  BOOST_TEST(one("onednn-avx512", p) == 0x1p0f);
  // Pairwise: (1 + u → 1) + (u + u = 2u) = 1 + 2u.
  BOOST_TEST(one("pairwise", p) == 0x1.000002p0f);
  // Blocks of 2 (4 ≥ 2·Q: Q, then the rest): (1 + u → 1), then 1 + (u + u) = 1 + 2u.
  BOOST_TEST(one("gemm-blocked:kc=2", p) == 0x1.000002p0f);
  BOOST_TEST(one("split-k:parts=2", p) == 0x1.000002p0f);
  // Q = 3, unroll 3: 4 > Q gives ((2 + 2)/3)·3 = 3, so blocks 3 + 1: (1 + u + u → 1) + u → 1.
  BOOST_TEST(one("gemm-blocked:kc=3,unroll=3", p) == 0x1p0f);
  // The threaded driver halves instead, (4 + 1)/2 = 2: blocks 2 + 2 as above.
  BOOST_TEST(one("gemm-blocked:kc=3,driver=threaded", p) == 0x1.000002p0f);
  // Kahan: after 1, u: s = 1, c = −u; then y = u + u = 2u, s = 1 + 2u, c = 0; then
  // 1 + 2u + u = 1 + 3u is a tie between 1 + 2u (odd) and 1 + 4u (even): s = 1 + 4u.
  BOOST_TEST(one("kahan", p) == 0x1.000004p0f);

  // FMA: terms −1 and (1 + 2^-12)² = 1 + 2^-11 + 2^-24. Rounded, the second product
  // is 1 + 2^-11 (the 2^-24 is half an ulp; 1 + 2^-11 is even): the sum is 2^-11.
  // Fused, fma(x, w, −1) = 2^-11 + 2^-24 = 0x1.0008p-11 exactly.
  const float a = 1 + 0x1p-12f;
  const Problem<float> q = dot_problem({-1, a}, {1, a});
  BOOST_TEST(one("direct", q) == 0x1p-11f);
  BOOST_TEST(one("direct:fma=1", q) == 0x1.0008p-11f);
  BOOST_TEST(one("pairwise", q) == 0x1p-11f);
  BOOST_TEST(one("pairwise:fma=1", q) == 0x1.0008p-11f);
  BOOST_TEST(one("gemm-blocked:fma=0", q) == 0x1p-11f);
  BOOST_TEST(one("gemm-blocked", q) == 0x1.0008p-11f);
  BOOST_TEST(one("onednn-avx2:fma=0", q) == 0x1p-11f);
  BOOST_TEST(one("onednn-avx2", q) == 0x1.0008p-11f);
  // Kahan with fma: y = fma(x, w, −0) rounds the product as well: 2^-11.
  BOOST_TEST(one("kahan:fma=1", q) == 0x1p-11f);

  // oneDNN blocks: 18 channels, terms 1 then 17 × u. avx512 sums channels 0..15
  // (1 + u … → 1) and 16..17 (2u) apart, then 1 + 2u; avx2 is one chain: 1.
  std::vector<float> w18(18, u);
  w18[0] = 1;
  const Problem<float> r = dot_problem(std::vector<float>(18, 1), w18);
  BOOST_TEST(one("onednn-avx512", r) == 0x1.000002p0f);
  BOOST_TEST(one("onednn-avx2", r) == 0x1p0f);
  BOOST_TEST(one("direct", r) == 0x1p0f);
}

BOOST_AUTO_TEST_CASE(openblas_k_blocking_rule) {
  // SkylakeX SGEMM, K = 1000: 1000 ≥ 896 → 448; 552 > 448 → ((276 + 15)/16)·16 = 288; rest 264.
  BOOST_TEST(openblas_k_blocks(1000, 448, 16, false) == (std::vector<std::int64_t>{0, 448, 736, 1000}));
  // The threaded driver halves without unroll rounding: (552 + 1)/2 = 276.
  BOOST_TEST(openblas_k_blocks(1000, 448, 16, true) == (std::vector<std::int64_t>{0, 448, 724, 1000}));
  BOOST_TEST(openblas_k_blocks(147, 448, 16, false) == (std::vector<std::int64_t>{0, 147}));
  // Haswell DGEMM, K = 600: 600 ≥ 512 → 256; 344 > 256 → ((172 + 3)/4)·4 = 172; rest 172.
  BOOST_TEST(openblas_k_blocks(600, 256, 4, false) == (std::vector<std::int64_t>{0, 256, 428, 600}));
}

BOOST_AUTO_TEST_CASE(onednn_block_sequence_is_blocks_then_kh_kw_channel) {
  ConvSpec s = parse_benchdnn("mb1ic3ih2iw1oc1oh1ow1kh2kw1");
  std::vector<std::int64_t> starts;
  // Fewer channels than the block: one block; k = (c·KH + ky)·KW + kx.
  BOOST_TEST(onednn_block_sequence(s, 16, starts) == (std::vector<std::int64_t>{0, 2, 4, 1, 3, 5}));
  BOOST_TEST(starts == (std::vector<std::int64_t>{0, 6}));
  BOOST_TEST(onednn_block_sequence(s, 2, starts) == (std::vector<std::int64_t>{0, 2, 1, 3, 4, 5}));
  BOOST_TEST(starts == (std::vector<std::int64_t>{0, 4, 6}));
}

// (e) Threads split outputs only: 1 and 3 threads give the same bits, bounds included.
BOOST_AUTO_TEST_CASE(thread_count_does_not_change_any_bit) {
  const Problem<float> p = make_problem<float>("g2mb2ic8ih13oc6oh7kh3sh2ph1", "normal", 11, true);
  for (const auto& [name, ref] : variants<float>()) {
    const OrderOutput<float> a = run(name, p, 1, true), b = run(name, p, 3, true);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < a.y.data.size(); ++i)
      bad += bits(a.y.data[i]) != bits(b.y.data[i]) || a.bound.data[i] != b.bound.data[i] ||
             a.running_bound.data[i] != b.running_bound.data[i];
    BOOST_TEST(bad == 0u, name);
  }
}

BOOST_AUTO_TEST_CASE(registry_lists_parses_and_prints_orders) {
  std::vector<std::string> names;
  for (const OrderInfo& o : order_list()) names.push_back(o.name);
  for (const char* n :
       {"direct", "im2col", "gemm-blocked", "onednn-avx512", "onednn-avx2", "pairwise", "kahan", "split-k"})
    BOOST_TEST((std::find(names.begin(), names.end(), n) != names.end()), n);

  const OrderSpec s = parse_order("gemm-blocked:kc=haswell-s,fma=0");
  BOOST_TEST(s.name == "gemm-blocked");
  BOOST_TEST(s.params.at("kc") == "haswell-s");
  BOOST_TEST(order_str(s) == "gemm-blocked:bias=first,driver=serial,fma=0,input=f32,kc=haswell-s,unroll=auto");
  BOOST_TEST(order_str(parse_order(order_str(s))) == order_str(s));
  BOOST_TEST(order_str(parse_order("direct")) == "direct:fma=0,input=f32");

  auto error_of = [](const std::string& text) -> std::string {
    try {
      const OrderSpec o = parse_order(text);
      const Problem<float> p = dot_problem({1, 2}, {3, 4});
      run_order(o, p.view(), RunOptions{});
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  auto error_of_k18 = [](const std::string& text) -> std::string {
    try {
      const Problem<float> p = dot_problem(std::vector<float>(18, 1), std::vector<float>(18, 1));
      run_order(parse_order(text), p.view(), RunOptions{});
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  BOOST_TEST(error_of("nosuch").find("unknown order 'nosuch'") != std::string::npos);
  BOOST_TEST(error_of("nosuch").find("pairwise") != std::string::npos);  // lists the known names
  BOOST_TEST(error_of("direct:bogus=1").find("unknown parameter 'bogus'") != std::string::npos);
  BOOST_TEST(error_of("direct:fma=2").find("'fma'") != std::string::npos);
  BOOST_TEST(error_of("direct:fma").find("'fma' is not key=value") != std::string::npos);
  BOOST_TEST(error_of("direct:fma=1,fma=0").find("given twice") != std::string::npos);
  BOOST_TEST(error_of("direct:").find("empty parameter list") != std::string::npos);
  BOOST_TEST(error_of("direct:input=fp8").find("'input'") != std::string::npos);
  BOOST_TEST(error_of("gemm-blocked:kc=big").find("'kc'") != std::string::npos);
  BOOST_TEST(error_of("gemm-blocked:kc=0").find("'kc'") != std::string::npos);
  BOOST_TEST(error_of("gemm-blocked:driver=fast").find("'driver'") != std::string::npos);
  BOOST_TEST(error_of("gemm-blocked:bias=init").find("'bias'") != std::string::npos);
  // A choice lists every value it takes (OrderParams::choice).
  BOOST_TEST(error_of("gemm-blocked:driver=fast").find("'driver' must be serial or threaded; got 'fast'") !=
             std::string::npos);
  BOOST_TEST(error_of("winograd:tile=3").find("'tile' must be 2 or 4; got '3'") != std::string::npos);
  BOOST_TEST(error_of("onednn-avx512:bias=last").find("'bias'") != std::string::npos);
  BOOST_TEST(error_of("split-k:parts=0").find("'parts'") != std::string::npos);
  // K = 18, Q = 5, U = 16: after 5 + 5 the rest 8 > Q gives ((4 + 15)/16)·16 = 16 > 8.
  BOOST_TEST(openblas_k_blocks(18, 5, 16, false).back() == 26);
  BOOST_TEST(error_of_k18("gemm-blocked:kc=5").find("'unroll'") != std::string::npos);
  BOOST_TEST(error_of_k18("gemm-blocked:kc=5,unroll=2").empty());
  BOOST_TEST(error_of("onednn-avx512:block=x").find("'block'") != std::string::npos);
  BOOST_TEST(error_of("pairwise:fma=1").empty());

  // input= is for float32 orders only.
  Problem<double> d;
  d.spec = parse_benchdnn("mb1ic1ih1oc1oh1kh1");
  d.x = Tensor<double>({1, 1, 1, 1}, 1);
  d.w = Tensor<double>({1, 1, 1, 1}, 1);
  BOOST_CHECK_EXCEPTION(run("direct:input=bf16", d), InputError, [](const InputError& e) {
    return std::string(e.what()).find("it needs dtype f32, not f64") != std::string::npos;
  });
}

// Arb-style randomized loop: random shapes (groups, stride, padding, dilation, 1×1
// and rectangular kernels) × every order variant × both dtypes × input families
// (normal, integer, wide exponents, subnormal and huge scales, GenDot ill-conditioned).
// Each case checks the fast kernel against its slow reference bit for bit and the
// rigorous bound against the exact truth. CERTCONV_SOAK=N runs N times as many cases
// (soak runs); CERTCONV_SEED=S starts from another seed. A failure names its seed.
namespace {

std::int64_t env_int(const char* name, std::int64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoll(v, nullptr, 10) : def;
}

// A random valid benchdnn descriptor, small enough for the slow references.
std::string random_shape(Rng& rng) {
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(rng.uniform01() * static_cast<double>(hi - lo + 1));
  };
  const std::int64_t g = pick(1, 3), icg = pick(1, 6), ocg = pick(1, 4), mb = pick(1, 2);
  const std::int64_t ih = pick(1, 9), iw = pick(1, 9), ph = pick(0, 2), pw = pick(0, 2);
  const std::int64_t dh = pick(0, 1), dw = pick(0, 1), sh = pick(1, 3), sw = pick(1, 3);
  // Largest kernel extent that still leaves one output: (k − 1)(d + 1) + 1 ≤ i + 2p.
  const std::int64_t kh = pick(1, std::min<std::int64_t>(4, (ih + 2 * ph - 1) / (dh + 1) + 1));
  const std::int64_t kw = pick(1, std::min<std::int64_t>(4, (iw + 2 * pw - 1) / (dw + 1) + 1));
  const auto str = [](const char* k, std::int64_t v) { return k + std::to_string(v); };
  return str("g", g) + str("mb", mb) + str("ic", g * icg) + str("ih", ih) + str("iw", iw) + str("oc", g * ocg) +
         str("kh", kh) + str("kw", kw) + str("sh", sh) + str("sw", sw) + str("ph", ph) + str("pw", pw) +
         str("dh", dh) + str("dw", dw);
}

// A lower bound of |y − exact| from the enclosure [lo, hi] (0 inside it): the RN
// difference stepped down once is ≤ the exact difference.
double error_below(double y, double lo, double hi) {
  const double d = y < lo ? lo - y : (y > hi ? y - hi : 0.0);
  return d > 0 ? std::nextafter(d, 0.0) : 0.0;
}

template <class T>
void randomized_case(std::uint64_t seed) {
  Rng rng(seed);
  const std::string shape = random_shape(rng);
  const char* const dists[] = {"normal", "integer", "wide:decades=12", "gendot:cond=1e8", "normal", "normal"};
  int family = static_cast<int>(rng.uniform01() * 6);
  if (family == 3 && parse_benchdnn(shape).n_terms() < 6) family = 0;  // GenDot needs 6 terms
  Problem<T> p = make_problem<T>(shape, dists[family], seed, rng.uniform01() < 0.5);
  // Families 4 and 5: the normal inputs scaled into the subnormal range of the
  // products, or up to where the partial sums are near overflow.
  if (family >= 4) {
    const int e = family == 4 ? (sizeof(T) == 4 ? -70 : -540) : (sizeof(T) == 4 ? 55 : 500);
    for (auto* v : {&p.x, &p.w})
      for (T& a : v->data) a = std::ldexp(a, e);
    if (p.bias)
      for (T& a : p.bias->data) a = std::ldexp(a, 2 * e);
  }
  TruthOptions topt;
  topt.method = TruthMethod::exact;
  const Truth truth = compute_truth(p.view(), topt);
  const auto all = variants<T>();
  for (int pickn = 0; pickn < 4; ++pickn) {
    const auto& [name, ref] = all[static_cast<std::size_t>(rng.uniform01() * static_cast<double>(all.size()))];
    const std::string what = name + " on " + shape + " (" + dists[family] + (family >= 4 ? " scaled" : "") +
                             ", " + std::to_string(sizeof(T) * 8) + " bit, seed " + std::to_string(seed) + ")";
    const Tensor<T> want = reference(p, ref);
    const OrderOutput<T> got = run(name, p, 1 + static_cast<int>(seed % 2), true);
    std::size_t differ = 0, violations = 0;
    for (std::size_t i = 0; i < want.data.size(); ++i) {
      // ±0 may differ in sign where the source skips padded taps (orders/driver.hpp).
      const bool zeros = got.y.data[i] == 0 && want.data[i] == 0;
      differ += !zeros && bits(got.y.data[i]) != bits(want.data[i]);
      const double y = static_cast<double>(got.y.data[i]);
      if (std::isfinite(y))
        violations += error_below(y, truth.lo.data[i], truth.hi.data[i]) > got.bound.data[i];
    }
    BOOST_TEST(differ == 0u, what << ": " << differ << " outputs differ from the slow reference");
    BOOST_TEST(violations == 0u, what << ": " << violations << " outputs beyond the rigorous bound");
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(randomized_shapes_orders_and_inputs) {
  const std::int64_t cases = 200 * std::max<std::int64_t>(1, env_int("CERTCONV_SOAK", 1));
  const auto seed0 = static_cast<std::uint64_t>(env_int("CERTCONV_SEED", 20261204));
  for (std::int64_t c = 0; c < cases; ++c) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(c);
    if (c % 2 == 0)
      randomized_case<float>(seed);
    else
      randomized_case<double>(seed);
  }
  BOOST_TEST_MESSAGE(cases << " randomized cases from seed " << seed0);
}

// onednn-avx512-bf16 against a slow reference written from the kernels
// (orders/onednn_avx512_bf16.cpp): one output at a time, padded taps skipped, VDPBF16PS
// as orders/vdpbf16ps.hpp emulates it (tests/test_vdpbf16ps.cpp checks that against the
// instruction); and its bound on random, integer, subnormal-heavy and huge inputs.
namespace {

float bf16(float v) { return round_to_format(v, InputFormat::bf16); }

// isa=avx512_core: oneDNN's bf16_emulation_t, two FMAs (the odd pair first) and an
// integer nearest-even conversion, no DAZ/FTZ.
float emulated_dpbf16(float acc, float w_lo, float w_hi, float x_lo, float x_hi) {
  return std::fma(x_lo, w_lo, std::fma(x_hi, w_hi, acc));
}

float emulated_cvt(float v) {
  const std::uint32_t b = std::bit_cast<std::uint32_t>(v);
  return std::isinf(v) ? v : std::bit_cast<float>((b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u);
}

float ref_avx512_bf16(const Taps<float>& t, std::int64_t block, std::int64_t chunk, bool bf16_dst, bool bf16_bias,
                      bool native) {
  const auto dp = native ? vdpbf16ps_lane : emulated_dpbf16;
  const ConvSpec& s = t.p.spec;
  const std::int64_t icg = s.ic / s.g;
  block = std::min(block, icg);
  auto term = [&](std::int64_t c, std::int64_t ky, std::int64_t kx) { return (c * s.kh + ky) * s.kw + kx; };
  float part = 0;
  for (std::int64_t h0 = 0; h0 < icg; h0 += chunk) {
    const std::int64_t h1 = std::min(icg, h0 + chunk);
    float acc = 0;
    for (std::int64_t b0 = h0; b0 < h1; b0 += block)
      for (std::int64_t ky = 0; ky < s.kh; ++ky)
        for (std::int64_t kx = 0; kx < s.kw; ++kx) {
          if (t.padded(term(0, ky, kx))) continue;
          const std::int64_t b1 = std::min(h1, b0 + block);
          for (std::int64_t c = b0; c < b1; c += 2) {
            const std::int64_t lo = term(c, ky, kx), hi = term(c + 1, ky, kx);
            const bool pair = c + 1 < b1;
            acc = dp(acc, bf16(t.w(lo)), pair ? bf16(t.w(hi)) : 0.0f, bf16(t.x(lo)), pair ? bf16(t.x(hi)) : 0.0f);
          }
        }
    part = h0 == 0 ? acc : acc + part;
  }
  if (t.bias()) part = part + (bf16_bias ? bf16(*t.bias()) : *t.bias());
  if (!bf16_dst) return part;
  return native ? vcvtneps2bf16(part) : emulated_cvt(part);
}

// x and w scaled by 2^e (the bias by 2^2e): e = −62 puts the products around 2^-126
// (some flushed: FTZ), e = −66 below it, e = −130 makes x and w subnormal (DAZ);
// e = 60 gives products near 2^120.
Problem<float> scaled(Problem<float> p, int e) {
  for (auto* v : {&p.x, &p.w})
    for (float& a : v->data) a = std::ldexp(a, e);
  if (p.bias)
    for (float& a : p.bias->data) a = std::ldexp(a, 2 * e);
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(onednn_avx512_bf16_matches_its_slow_reference) {
  struct Variant {
    std::string params;
    std::int64_t block, chunk;
    bool bf16_dst, bf16_bias, native;
  };
  const std::vector<Variant> vs{{"", 16, 1 << 30, true, true, true},
                                {"dst=f32", 16, 1 << 30, false, true, true},
                                {"bias=f32,block=4", 4, 1 << 30, true, false, true},
                                {"chunk=6,dst=f32", 16, 6, false, true, true},
                                {"chunk=3,block=3", 3, 3, true, true, true},
                                {"isa=avx512_core", 16, 1 << 30, true, true, false},
                                {"isa=avx512_core,chunk=6,dst=f32", 16, 6, false, true, false}};
  for (const char* shape : kShapes)
    for (const bool with_bias : {false, true})
      for (const int e : {0, -62, -130, 60}) {
        const Problem<float> p = scaled(make_problem<float>(shape, "normal", 7, with_bias), e);
        for (const Variant& v : vs) {
          const std::string name = "onednn-avx512-bf16" + (v.params.empty() ? "" : ":" + v.params);
          const Tensor<float> want = reference<float>(p, [&](const Taps<float>& t) {
            return ref_avx512_bf16(t, v.block, v.chunk, v.bf16_dst, v.bf16_bias, v.native);
          });
          const Tensor<float> got = run(name, p).y;
          std::size_t bad = 0, flushed = 0;
          for (std::size_t i = 0; i < want.data.size(); ++i) {
            bad += !(got.data[i] == 0 && want.data[i] == 0) && bits(got.data[i]) != bits(want.data[i]);
            flushed += got.data[i] == 0;
          }
          BOOST_TEST(bad == 0u, name << " on " << shape << (with_bias ? " with bias" : "") << " scaled 2^" << e);
          if (e == -130 && !with_bias && v.native) BOOST_TEST(flushed == got.data.size(), "DAZ on " << shape);
        }
      }
}

BOOST_AUTO_TEST_CASE(onednn_avx512_bf16_bound_holds) {
  for (const char* shape : kShapes)
    for (const char* dist : {"normal", "integer"})
      for (const int e : {0, -62, -66, -130, 60, 1000})
        for (const char* dst : {"bf16", "f32", "bf16,isa=avx512_core"}) {
          if (std::string(dist) == "integer" && e != 0) continue;
          // e = 1000: x subnormal (DAZ) and w huge, 2^-130 and 2^125: products near 2^-5.
          Problem<float> p = make_problem<float>(shape, dist, 5, true);
          if (e == 1000) {
            for (float& a : p.x.data) a = std::ldexp(a, -130);
            for (float& a : p.w.data) a = std::ldexp(a, 125);
          } else {
            p = scaled(std::move(p), e);
          }
          const OrderOutput<float> got = run(std::string("onednn-avx512-bf16:dst=") + dst, p, 1, true);
          BOOST_TEST(bound_kind_name(got.bound_kind) == std::string("order-free+input-rounding") +
                                                            (dst == std::string("f32") ? "" : "+output-rounding"));
          const Truth truth = compute_truth(p.view(), {});
          std::size_t violations = 0;
          for (std::size_t i = 0; i < got.y.data.size(); ++i)
            violations += error_below(got.y.data[i], truth.lo.data[i], truth.hi.data[i]) > got.bound.data[i];
          BOOST_TEST(violations == 0u, shape << " " << dist << " scaled 2^" << e << " dst " << dst);
        }
}

BOOST_AUTO_TEST_CASE(onednn_avx512_bf16_rejects_bad_parameters) {
  const Problem<float> p = make_problem<float>("mb1ic4ih5oc2kh3", "normal", 1, true);
  for (const auto& [order, key] : std::vector<std::pair<std::string, std::string>>{
           {"onednn-avx512-bf16:dst=f16", "'dst'"},
           {"onednn-avx512-bf16:bias=f64", "'bias'"},
           {"onednn-avx512-bf16:chunk=0", "'chunk'"},
           {"onednn-avx512-bf16:block=1", "'block'"},
           {"onednn-avx512-bf16:isa=avx2", "'isa'"}}) {
    try {
      run(order, p);
      BOOST_ERROR(order << " ran");
    } catch (const InputError& err) {
      BOOST_TEST(std::string(err.what()).find(key) != std::string::npos, err.what());
    }
  }
  BOOST_CHECK_THROW(run("onednn-avx512-bf16", make_problem<double>("mb1ic4ih5oc2kh3", "normal", 1, true)), InputError);
}
