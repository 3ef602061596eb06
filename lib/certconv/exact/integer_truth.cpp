// Integer certified truth. The argument, in full in docs/integer-truth.md:
//
// 1. Integers. A binary32 number is ±m·2^q, m < 2^24. With L_oc the lowest set bit
//    over row oc of w and L_n over image n of x, W = w·2^−L_oc and X = x·2^−L_n are
//    integers with |W| < 2^α_oc, |X| < 2^β_n (α, β: highest set bit − L + 1), and
//        Σ w·x = 2^(L_oc + L_n) · C,   C = Σ W·X   exactly,   |C| ≤ K·2^(α+β) =: B.
// 2. Residues. For the pairwise coprime moduli below and N of them with
//    M = m_1⋯m_N ≥ 4B, C is the only integer in [−M/2, M/2) with the residues
//    C mod m_j = Σ (X mod m_j)·(W mod m_j) mod m_j. X's residues are bytes in
//    [0, m_j), W's in [−m_j/2, m_j/2), so each product is at most 255·128 in
//    magnitude and the int32 sums of VPDPBUSD (four byte products per lane, added
//    exactly) cannot wrap for ≤ 65,536 terms: every GEMM below is exact, whatever
//    its order.
// 3. Reconstruction. With A_j the int32 sum for modulus j, M_j = M/m_j and
//    t_j = (A_j·(M_j⁻¹ mod m_j)) mod m_j, R = Σ t_j·M_j ≡ C (mod M) and C = R − q·M
//    with q the integer nearest to R/M = Σ t_j/m_j (|C/M| ≤ 1/4 leaves a margin the
//    binary64 sum cannot miss). R − q·M is summed exactly in four 40-bit limbs (integers below 2^53), the limbs
//    balanced by exact carries, and turned into a + b + e3 by three TwoSums
//    (e3 = 0 whenever C − a is a binary64 number).
// 4. y. Scaling by 2^(L_oc + L_n) ∈ [2^−298, 2^254] is exact; the bias joins the
//    high part by TwoSum, the rest by another: y = s + u + δ with |δ| ≤ err, handed
//    to round_enclosure (err = 0 unless those low parts are inexact; then an output
//    may stay undecided and goes to the exact path). absdot is the same
//    computation on |W|, |X| and |bias|.
#include "certconv/exact/integer_truth.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <mutex>

#include "certconv/core/error.hpp"
#include "certconv/core/format.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/taps.hpp"
#include "certconv/exact/round_enclosure.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CERTCONV_VNNI 1
// The residue and reconstruction loops, built for the CPUs that run the method.
#define CERTCONV_V4 [[gnu::target("arch=x86-64-v4,prefer-vector-width=512")]]
#else
#define CERTCONV_V4
#endif

namespace certconv {

namespace {

constexpr int kMaxModuli = 16;
// Pairwise coprime: 2^8, 3·5·17, 11·23, 13·19, 7·31 and primes; their product is < 2^125.
constexpr std::array<int, kMaxModuli> kModuli{256, 255, 253, 251, 247, 241, 239, 233,
                                              229, 227, 223, 217, 211, 199, 197, 193};
constexpr int kMaxTerms = 65536;  // padded terms per output: 65,536·255·128 < 2^31
constexpr int kLimbs = 4;         // of 40 bits: M < 2^128 < 2^160
constexpr double kLimb = 0x1p40;

struct Constants {
  std::array<float, kMaxModuli> inv{};                  // 1/m_j, rounded
  std::array<std::array<int, 128>, kMaxModuli> pow2{};  // [j][d]: 2^d mod m_j
  std::array<int, kMaxModuli + 1> log2_m{};             // ⌊log2(m_1⋯m_N)⌋ for N moduli
};

const Constants& constants() {
  static const Constants c = [] {
    Constants k;
    unsigned __int128 prod = 1;
    for (int j = 0; j < kMaxModuli; ++j) {
      const int m = kModuli[static_cast<std::size_t>(j)];
      k.inv[static_cast<std::size_t>(j)] = 1.0f / static_cast<float>(m);
      int p = 1 % m;
      for (int d = 0; d < 128; ++d, p = 2 * p % m) k.pow2[static_cast<std::size_t>(j)][static_cast<std::size_t>(d)] = p;
      prod *= static_cast<unsigned>(m);
      const auto hi = static_cast<std::uint64_t>(prod >> 64), lo = static_cast<std::uint64_t>(prod);
      k.log2_m[static_cast<std::size_t>(j + 1)] = hi ? 127 - std::countl_zero(hi) : 63 - std::countl_zero(lo);
    }
    return k;
  }();
  return c;
}

// The Chinese remainder constants of the first N moduli, M = m_1⋯m_N, M_j = M/m_j:
// C ≡ Σ t_j·M_j (mod M) with t_j = (C mod m_j)·(M_j⁻¹ mod m_j) mod m_j.
struct Crt {
  int n = 0;
  std::array<std::int64_t, kMaxModuli> mi{}, wi{};         // m_j, M_j⁻¹ mod m_j
  std::array<double, kMaxModuli> inv{};                     // 1/m_j rounded
  std::array<std::array<double, kMaxModuli>, kLimbs> mj{};  // [k][j]: limb k of M_j
  std::array<double, kLimbs> mm{};                          // limb k of M
};

Crt crt(int n) {
  Crt c;
  c.n = n;
  unsigned __int128 M = 1;
  for (int j = 0; j < n; ++j) M *= static_cast<unsigned>(kModuli[static_cast<std::size_t>(j)]);
  const auto limb = [](unsigned __int128 v, int k) {
    return static_cast<double>(static_cast<std::uint64_t>(v >> (40 * k)) & ((std::uint64_t{1} << 40) - 1));
  };
  for (int j = 0; j < n; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    const int m = kModuli[jj];
    const unsigned __int128 Mj = M / static_cast<unsigned>(m);
    const int r = static_cast<int>(Mj % static_cast<unsigned>(m));
    for (int v = 1; v < m; ++v)
      if (r * v % m == 1) c.wi[jj] = v;
    c.mi[jj] = m;
    c.inv[jj] = 1.0 / m;
    for (int k = 0; k < kLimbs; ++k) c.mj[static_cast<std::size_t>(k)][jj] = limb(Mj, k);
  }
  for (int k = 0; k < kLimbs; ++k) c.mm[static_cast<std::size_t>(k)] = limb(M, k);
  return c;
}

// a mod m for 0 ≤ a < 2^24: a and 1/m are binary32 numbers within a relative 2^−23
// of the exact ones after the product's rounding, so the truncated quotient is off
// by at most one (a/m < 2^24/217 and 2^−23·a/m < 1); one step each way corrects it.
[[gnu::always_inline]] inline int mod_small(int a, int m, float inv) {
  const int q = static_cast<int>(static_cast<float>(a) * inv);
  int r = a - q * m;
  r += r < 0 ? m : 0;
  r -= r >= m ? m : 0;
  return r;
}

// The lowest and highest set bits over binary32 values (±m·2^q, m < 2^24).
struct Bits {
  int lsb = 1 << 20, top = -(1 << 20);  // empty: no nonzero value
  bool empty() const { return top < lsb; }
  int width() const { return empty() ? 0 : top - lsb + 1; }
};
CERTCONV_V4 Bits bits_of_range(const float* f, std::int64_t n) {
  int lsb = 1 << 20, top = -(1 << 20);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(f[i]) & 0x7fffffffu;
    const int ex = static_cast<int>(u >> 23);
    const std::uint32_t m = (u & 0x7fffffu) | (ex ? 0x800000u : 0u);
    const int q = (ex ? ex : 1) - 150;
    // m & −m isolates the lowest set bit: ctz(m) = 31 − clz(m & −m).
    const int lo = q + 31 - std::countl_zero(m & (0u - m)), hi = q + 31 - std::countl_zero(m);
    lsb = std::min(lsb, u ? lo : 1 << 20);
    top = std::max(top, u ? hi : -(1 << 20));
  }
  return {lsb, top};
}

// v·2^−L = sig·2^d with |sig| < 2^24 and 0 ≤ d < 128 (L ≤ v's lowest set bit,
// v's top bit − L < 128); abs: |v|.
template <bool Abs>
[[gnu::always_inline]] inline void scaled(float v, int L, int& sig, int& d) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(v);
  const std::uint32_t u = bits & 0x7fffffffu;
  const int ex = static_cast<int>(u >> 23);
  const int m = static_cast<int>((u & 0x7fffffu) | (ex ? 0x800000u : 0u));
  const int sh = (ex ? ex : 1) - 150 - L;
  // sh < 0 only drops zero bits (L ≤ lowest set bit); m = 0 for v = 0.
  const int mm = sh >= 0 ? m : m >> std::min(-sh, 31);
  d = sh >= 0 ? sh : 0;
  sig = (!Abs && (bits >> 31)) ? -mm : mm;
}

// out[i] = (sig[i]·2^d[i]) mod m for i < n, in [0, m) or, centred, in [−m/2, m/2).
// Written for the vectorizer: no branches, no aliasing.
CERTCONV_V4 void residues(const int* __restrict sig, const int* __restrict d, std::int64_t n, int j, bool centred,
                          int* __restrict out) {
  const Constants& k = constants();
  const int m = kModuli[static_cast<std::size_t>(j)];
  const float inv = k.inv[static_cast<std::size_t>(j)];
  const int* __restrict pow2 = k.pow2[static_cast<std::size_t>(j)].data();
  const int top = centred ? m : 2 * m;  // 2r ≥ top: r − m
  for (std::int64_t i = 0; i < n; ++i) {
    const int v = sig[i];
    const int r0 = mod_small(v < 0 ? -v : v, m, inv);
    const int r1 = mod_small(r0 * pow2[d[i] & 127], m, inv);
    const int r = v < 0 && r1 != 0 ? m - r1 : r1;
    out[i] = 2 * r >= top ? r - m : r;
  }
}

// The same for values given as binary64 integers below 2^51 in magnitude (operands of
// width ≤ 51, the usual case): x + m·2^44 ∈ (0, 2^53) is exact and positive, its
// quotient by m in binary64, truncated, off by at most one (relative error < 2^−51).
// In 64-bit lanes with truncating conversions only: the loop vectorizes.
constexpr int kNarrow = 51;
CERTCONV_V4 void residues(const double* __restrict x, std::int64_t n, int j, bool centred, int* __restrict out) {
  const std::int64_t m = kModuli[static_cast<std::size_t>(j)];
  const double md = static_cast<double>(m), inv = 1.0 / md, bias = md * 0x1p44;
  const std::int64_t top = centred ? m : 2 * m;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = x[i] + bias;
    std::int64_t r = static_cast<std::int64_t>(v) - static_cast<std::int64_t>(v * inv) * m;
    r += r < 0 ? m : 0;
    r -= r >= m ? m : 0;
    out[i] = static_cast<int>(2 * r >= top ? r - m : r);
  }
}

// ---- the int8 kernel ----------------------------------------------------------------
//
// acc[r][i] = Σ_tap Σ_cq dot4(x[cq·plane + tap_off[tap] + i], w[r·wstride + tap·icq + cq])
// for R output channels and 16·NZ consecutive positions i: x words hold four input
// channels' residues (unsigned bytes), w words four weights' (signed bytes).

#ifdef CERTCONV_VNNI
template <int R, int NZ>
[[gnu::target("avx512f,avx512bw,avx512vnni")]] void tile(const std::uint32_t* w, std::int64_t wstride,
                                                          const std::uint32_t* x, std::int64_t plane,
                                                          const std::int64_t* tap_off, int taps, int icq,
                                                          std::int32_t* acc, std::int64_t astride) {
  __m512i c[R][NZ];
  for (int r = 0; r < R; ++r)
    for (int z = 0; z < NZ; ++z) c[r][z] = _mm512_setzero_si512();
  for (int t = 0; t < taps; ++t) {
    const std::uint32_t* xt = x + tap_off[t];
    const std::uint32_t* wt = w + static_cast<std::int64_t>(t) * icq;
    for (int cq = 0; cq < icq; ++cq) {
      __m512i xv[NZ];
      for (int z = 0; z < NZ; ++z) xv[z] = _mm512_loadu_si512(xt + cq * plane + 16 * z);
      for (int r = 0; r < R; ++r) {
        const __m512i wb = _mm512_set1_epi32(static_cast<int>(wt[r * wstride + cq]));
        for (int z = 0; z < NZ; ++z) c[r][z] = _mm512_dpbusd_epi32(c[r][z], xv[z], wb);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int z = 0; z < NZ; ++z) _mm512_storeu_si512(acc + r * astride + 16 * z, c[r][z]);
}

using TileFn = void (*)(const std::uint32_t*, std::int64_t, const std::uint32_t*, std::int64_t,
                        const std::int64_t*, int, int, std::int32_t*, std::int64_t);
constexpr int kRows = 6, kVecs = 4, kChunk = 16 * kVecs;

template <int R>
constexpr std::array<TileFn, kVecs> tiles_of() {
  return {tile<R, 1>, tile<R, 2>, tile<R, 3>, tile<R, 4>};
}
constexpr std::array<std::array<TileFn, kVecs>, kRows> kTiles{tiles_of<1>(), tiles_of<2>(), tiles_of<3>(),
                                                               tiles_of<4>(), tiles_of<5>(), tiles_of<6>()};
#endif

bool cpu_has_vnni() {
#ifdef CERTCONV_VNNI
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

// ---- layout -----------------------------------------------------------------------
//
// Per image and modulus: x's residues in a zero-padded layout [cq][row][phase][j]
// (core/taps.hpp's phase_rows, as in fast_truth.cpp; each word four channels), so
// that for every tap the inputs of consecutive output columns are consecutive words. Positions run in "runs": with
// stride 1 the whole image is one run over oy·row_len + j (the columns j ≥ ow are
// computed and dropped), otherwise one run per output row.

struct Geometry {
  std::int64_t icq, taps, kq;  // channel quads, taps, words per output channel
  std::int64_t rows, jp, row_len, plane;
  std::vector<std::int64_t> tap_off;
  struct Run {
    std::int64_t xbase, abase, len, oy0, rl;  // positions i < len: oy = oy0 + i / rl, ox = i % rl
  };
  std::vector<Run> runs;
  std::int64_t accq = 0;  // accumulator words per output channel
};

Geometry geometry(const ConvSpec& s) {
  Geometry G;
  G.icq = (s.ic + 3) / 4;
  G.taps = s.kh * s.kw;
  G.kq = G.taps * G.icq;
  PhaseRows r = phase_rows(s, s.ow);
  G.rows = r.rows;
  G.jp = r.jp;
  G.row_len = r.row_len;
  G.tap_off = std::move(r.tap_off);
  const auto pad16 = [](std::int64_t n) { return (n + 15) / 16 * 16; };
  if (s.sh == 1 && s.sw == 1) {
    G.runs.push_back({0, 0, s.oh * G.row_len, 0, G.row_len});
  } else {
    for (std::int64_t oy = 0; oy < s.oh; ++oy)
      G.runs.push_back({oy * s.sh * G.row_len, oy * pad16(s.ow), s.ow, oy, pad16(s.ow)});
  }
  std::int64_t reach = 0;
  for (const auto& r : G.runs) {
    G.accq = std::max(G.accq, r.abase + pad16(r.len));
    reach = std::max(reach, r.xbase + pad16(r.len));
  }
  G.plane = std::max(G.rows * G.row_len, reach + *std::max_element(G.tap_off.begin(), G.tap_off.end()));
  return G;
}

struct Scales {
  std::vector<int> w_lsb;  // per output channel
  int alpha = 0;           // max over channels of the weights' width
  std::vector<int> x_lsb;  // per image
  int beta = 0;
  int moduli = 0;          // N, or 0: more than kMaxModuli needed
};

Scales scales(const ConvProblem<float>& p, int threads) {
  const ConvSpec& s = p.spec;
  const std::int64_t K = s.n_terms(), xn = s.ic * s.ih * s.iw;
  // Per output channel, and per image in pieces of at most 2^16 values.
  const std::int64_t pieces = (xn + 65535) / 65536;
  std::vector<Bits> w_bits(static_cast<std::size_t>(s.oc)), x_bits(static_cast<std::size_t>(s.mb * pieces));
  parallel_for_dynamic(s.oc + s.mb * pieces, threads, 16, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      if (i < s.oc) {
        w_bits[static_cast<std::size_t>(i)] = bits_of_range(p.w.data.data() + i * K, K);
      } else {
        const std::int64_t n = (i - s.oc) / pieces, first = (i - s.oc) % pieces * 65536;
        x_bits[static_cast<std::size_t>(i - s.oc)] =
            bits_of_range(p.x.data.data() + n * xn + first, std::min<std::int64_t>(65536, xn - first));
      }
    }
  });
  Scales S;
  for (const Bits& b : w_bits) {
    S.w_lsb.push_back(b.empty() ? 0 : b.lsb);
    S.alpha = std::max(S.alpha, b.width());
  }
  for (std::int64_t n = 0; n < s.mb; ++n) {
    Bits b;
    for (std::int64_t q = 0; q < pieces; ++q) {
      const Bits& c = x_bits[static_cast<std::size_t>(n * pieces + q)];
      b = {std::min(b.lsb, c.lsb), std::max(b.top, c.top)};
    }
    S.x_lsb.push_back(b.empty() ? 0 : b.lsb);
    S.beta = std::max(S.beta, b.width());
  }
  // M ≥ 4·K·2^(α+β): ⌊log2 M⌋ ≥ α + β + ⌈log2 K⌉ + 2.
  const int need = S.alpha + S.beta + static_cast<int>(std::bit_width(static_cast<std::uint64_t>(K - 1))) + 2;
  const Constants& k = constants();
  for (int N = 1; N <= kMaxModuli && !S.moduli; ++N)
    if (k.log2_m[static_cast<std::size_t>(N)] >= need) S.moduli = N;
  return S;
}

// Residue words of output channel oc's weights, [j][oc][tap·icq + cq]; sig, d, res:
// scratch for the row's K values.
template <bool Abs>
CERTCONV_V4 void weight_row(const ConvProblem<float>& p, std::int64_t oc, const Geometry& G, const Scales& S, int* sig,
                            int* d, double* xd, int* res, std::uint32_t* out) {
  const ConvSpec& s = p.spec;
  const std::int64_t icp = 4 * G.icq, K = G.taps * icp;
  const float* w = p.w.data.data() + oc * s.ic * G.taps;
  const int L = S.w_lsb[static_cast<std::size_t>(oc)];
  // In the words' order: byte tap·icp + c of the row is w[oc, c, tap] (0 past ic).
  const bool narrow = S.alpha <= kNarrow;
  const double scale = std::ldexp(1.0, -L);
  for (std::int64_t tap = 0; tap < G.taps; ++tap) {
    const float* v = w + tap;  // v[c·taps] is channel c
    if (narrow) {
      double* x = xd + tap * icp;
      for (std::int64_t c = 0; c < s.ic; ++c) x[c] = (Abs ? std::fabs(v[c * G.taps]) : v[c * G.taps]) * scale;
      for (std::int64_t c = s.ic; c < icp; ++c) x[c] = 0;
    } else {
      for (std::int64_t c = 0; c < icp; ++c)
        scaled<Abs>(c < s.ic ? v[c * G.taps] : 0.0f, L, sig[tap * icp + c], d[tap * icp + c]);
    }
  }
  for (int j = 0; j < S.moduli; ++j) {
    if (narrow)
      residues(xd, K, j, true, res);
    else
      residues(sig, d, K, j, true, res);
    auto* dst = reinterpret_cast<std::int8_t*>(out + (j * s.oc + oc) * G.kq);
    for (std::int64_t i = 0; i < K; ++i) dst[i] = static_cast<std::int8_t>(res[i]);
  }
}

template <bool Abs>
std::vector<std::uint32_t> weight_words(const ConvProblem<float>& p, const Geometry& G, const Scales& S,
                                        int threads) {
  const ConvSpec& s = p.spec;
  std::vector<std::uint32_t> out(static_cast<std::size_t>(S.moduli * s.oc * G.kq));
  parallel_for_dynamic(s.oc, threads, 4, [&](std::int64_t b, std::int64_t e) {
    const auto K = static_cast<std::size_t>(G.kq * 4);
    std::vector<int> sig(K), d(K), res(K);
    std::vector<double> xd(K);
    for (std::int64_t oc = b; oc < e; ++oc)
      weight_row<Abs>(p, oc, G, S, sig.data(), d.data(), xd.data(), res.data(), out.data());
  });
  return out;
}

// Residue words modulo m_j of image n's inputs for layout rows [r0, r1) of channel
// quad cq, [cq][plane]; scratch for 4·(r1 − r0)·row_len values.
template <bool Abs>
CERTCONV_V4 void input_rows(const ConvProblem<float>& p, std::int64_t n, int j, std::int64_t cq, std::int64_t r0,
                            std::int64_t r1, const Geometry& G, const Scales& S, int* sig, int* dd, double* xd,
                            int* res, std::uint32_t* out) {
  const ConvSpec& s = p.spec;
  const int L = S.x_lsb[static_cast<std::size_t>(n)];
  const bool narrow = S.beta <= kNarrow;
  const double scale = std::ldexp(1.0, -L);
  const std::int64_t len = (r1 - r0) * G.row_len;
  for (int t = 0; t < 4; ++t) {
    const std::int64_t c = 4 * cq + t;
    for (std::int64_t r = r0; r < r1; ++r) {
      const std::int64_t iy = r - s.ph;
      const bool row_in = c < s.ic && iy >= 0 && iy < s.ih;
      const float* src = row_in ? p.x.data.data() + ((n * s.ic + c) * s.ih + iy) * s.iw : nullptr;
      for (std::int64_t phase = 0; phase < s.sw; ++phase) {
        // Columns j of this phase inside the image: 0 ≤ j·sw + phase − pw < iw.
        const std::int64_t lo_num = s.pw - phase, hi_num = s.iw + s.pw - phase;
        const std::int64_t jlo = row_in ? std::min(G.jp, lo_num > 0 ? (lo_num + s.sw - 1) / s.sw : 0) : 0;
        const std::int64_t jhi = row_in ? std::clamp<std::int64_t>((hi_num + s.sw - 1) / s.sw, jlo, G.jp) : 0;
        const std::int64_t at = t * len + (r - r0) * G.row_len + phase * G.jp;
        const float* v = src ? src + phase - s.pw : nullptr;  // v[j·sw] is column j
        if (narrow) {
          double* d = xd + at;
          for (std::int64_t i = 0; i < jlo; ++i) d[i] = 0;
          for (std::int64_t i = jlo; i < jhi; ++i) d[i] = (Abs ? std::fabs(v[i * s.sw]) : v[i * s.sw]) * scale;
          for (std::int64_t i = jhi; i < G.jp; ++i) d[i] = 0;
        } else {
          for (std::int64_t i = 0; i < G.jp; ++i)
            scaled<Abs>(i >= jlo && i < jhi ? v[i * s.sw] : 0.0f, L, sig[at + i], dd[at + i]);
        }
      }
    }
  }
  if (narrow)
    residues(xd, 4 * len, j, false, res);
  else
    residues(sig, dd, 4 * len, j, false, res);
  std::uint32_t* dst = out + cq * G.plane + r0 * G.row_len;
  for (std::int64_t i = 0; i < len; ++i)
    dst[i] = static_cast<std::uint32_t>(res[i]) | static_cast<std::uint32_t>(res[len + i]) << 8 |
             static_cast<std::uint32_t>(res[2 * len + i]) << 16 | static_cast<std::uint32_t>(res[3 * len + i]) << 24;
}

template <bool Abs>
void input_words(const ConvProblem<float>& p, std::int64_t n, int j, const Geometry& G, const Scales& S,
                 std::uint32_t* out) {
  // Blocks of rows long enough for the vector loops.
  const std::int64_t rb = std::max<std::int64_t>(1, 1024 / G.row_len);
  const auto size = static_cast<std::size_t>(4 * rb * G.row_len);
  thread_local std::vector<int> sig, dd, res;
  thread_local std::vector<double> xd;
  for (auto* v : {&sig, &dd, &res}) v->resize(std::max(v->size(), size));
  xd.resize(std::max(xd.size(), size));
  for (std::int64_t cq = 0; cq < G.icq; ++cq)
    for (std::int64_t r0 = 0; r0 < G.rows; r0 += rb)
      input_rows<Abs>(p, n, j, cq, r0, std::min(G.rows, r0 + rb), G, S, sig.data(), dd.data(), xd.data(), res.data(),
                      out);
}

// Enclosures a + u ± err of C·2^scale + bias for 16 consecutive positions, from
// their accumulators (modulus j's at acc + j·stride). Every step is exact
// (docs/integer-truth.md): t_j and the limb sums are integers below 2^53, q is
// R/M rounded to nearest (R = Σ t_j·M_j), which the sum f of N terms cannot miss
// as R/M lies within 1/4 of an integer.
struct Chunk {
  double a[16], u[16], err[16];
};
CERTCONV_V4 void chunk_values(const std::int32_t* acc, std::int64_t stride, const Crt& c, double scale, double bias,
                              Chunk& out) {
  double S[kLimbs][16] = {}, f[16] = {};
  for (int j = 0; j < c.n; ++j) {
    const auto jj = static_cast<std::size_t>(j);
    const std::int64_t m = c.mi[jj], w = c.wi[jj];
    const double inv = c.inv[jj];
    for (int l = 0; l < 16; ++l) {
      // t = (acc·w) mod m, in integers: p ∈ [0, 2^49) after adding m·2^40 (|acc·w| <
      // 2^39), the binary64 quotient truncated is off by at most one.
      const std::int64_t p = acc[j * stride + l] * w + (m << 40);
      std::int64_t t = p - static_cast<std::int64_t>(static_cast<double>(p) * inv) * m;
      t += t < 0 ? m : 0;
      t -= t >= m ? m : 0;
      const double td = static_cast<double>(t);
      f[l] += td * inv;
      for (int k = 0; k < kLimbs; ++k) S[k][l] += td * c.mj[static_cast<std::size_t>(k)][jj];
    }
  }
  for (int l = 0; l < 16; ++l) {
    // C = Σ_k S_k·2^(40k) after subtracting q·M; then balanced limbs (|S_k| ≤ 2^39
    // below the top), so that no two terms cancel beyond a factor of about 2.
    const double q = std::nearbyint(f[l]);
    double T[kLimbs];
    for (int k = 0; k < kLimbs; ++k) T[k] = S[k][l] - q * c.mm[static_cast<std::size_t>(k)];
    for (int k = 0; k + 1 < kLimbs; ++k) {
      const double carry = std::nearbyint(T[k] * (1 / kLimb));
      T[k] -= carry * kLimb;
      T[k + 1] += carry;
    }
    // |C| < 2^123 leaves the top limb below 2^4, so the top two limbs join exactly;
    // then C = U + T_1·2^40 + T_0 becomes a + b + e by three TwoSums, with e = 0
    // whenever C − a is a binary64 number (always when C is one).
    const double U = (T[3] * kLimb + T[2]) * 0x1p80;
    const auto [a1, e1] = detail::two_sum(U * scale, T[1] * kLimb * scale);
    const auto [a, e2] = detail::two_sum(a1, T[0] * scale);
    const auto [b, e3] = detail::two_sum(e1, e2);
    // The bias joins the high part (exactly), so that the low parts stay small
    // beside it: C·2^scale + bias = s + u + d + e3.
    const auto [s, e4] = detail::two_sum(a, bias);
    const auto [u, d] = detail::two_sum(e4, b);
    // err ≥ |e3| + |d|, and 0 when both are (compared as bits, see round_enclosure.hpp).
    const double sum = std::fabs(e3) + std::fabs(d);
    const std::uint64_t sb = std::bit_cast<std::uint64_t>(sum);
    out.a[l] = s;
    out.u[l] = u;
    out.err[l] = std::bit_cast<double>(sb + (sb != 0));
  }
}

// Every output of image n from its accumulators, then the roundings.
template <bool Abs>
void reconstruct(const ConvProblem<float>& p, std::int64_t n, const Geometry& G, const Scales& S, const Crt& C,
                 const std::int32_t* acc, int threads, Truth& t, std::uint8_t* ok,
                 std::vector<std::int64_t>& undecided, std::int64_t& zeros, std::mutex& m) {
  const ConvSpec& s = p.spec;
  const std::int64_t chunks = G.accq / 16;  // runs start and end on multiples of 16
  parallel_for_dynamic(s.oc * chunks, threads, 8, [&](std::int64_t b, std::int64_t e) {
    std::vector<std::int64_t> und;
    std::int64_t zer = 0;
    Chunk c;
    for (std::int64_t item = b; item < e; ++item) {
      const std::int64_t oc = item / chunks, i0 = item % chunks * 16;
      const auto run = std::upper_bound(G.runs.begin(), G.runs.end(), i0,
                                        [](std::int64_t i, const Geometry::Run& r) { return i < r.abase; }) - 1;
      if (i0 - run->abase >= run->len) continue;
      const double bias = p.bias ? static_cast<double>(p.bias->data[static_cast<std::size_t>(oc)]) : 0.0;
      chunk_values(acc + oc * G.accq + i0, s.oc * G.accq, C,
                   std::ldexp(1.0, S.w_lsb[static_cast<std::size_t>(oc)] + S.x_lsb[static_cast<std::size_t>(n)]),
                   Abs ? std::fabs(bias) : bias, c);
      const std::int64_t i_run = i0 - run->abase;
      std::int64_t oy = run->oy0 + i_run / run->rl, ox = i_run % run->rl;
      for (int l = 0; l < 16; ++l, ox = ox + 1 == run->rl ? (++oy, 0) : ox + 1) {
        if (i_run + l >= run->len || ox >= s.ow || oy >= s.oh) continue;
        const std::int64_t local = (oc * s.oh + oy) * s.ow + ox;
        const std::int64_t o = n * s.oc * s.oh * s.ow + local;
        const auto uo = static_cast<std::size_t>(o);
        if constexpr (Abs) {
          double up;
          ok[local] = round_up_enclosure(c.a[l], c.u[l], c.err[l], up);
          t.absdot.data[uo] = up;
        } else {
          const EnclosureRoundings r = round_enclosure(c.a[l], c.u[l], c.err[l]);
          t.y.data[uo] = r.nearest;
          t.lo.data[uo] = r.down;
          t.hi.data[uo] = r.up;
          t.y32.data[uo] = r.nearest_f32;
          const bool decided = r.decided && (!ok || ok[local]);
          if (!decided) und.push_back(o);
          zer += decided && r.zero;
        }
      }
    }
    std::lock_guard lock(m);
    undecided.insert(undecided.end(), und.begin(), und.end());
    zeros += zer;
  });
}

template <bool Abs>
void integer_pass(const ConvProblem<float>& p, const Geometry& G, const Scales& S, int threads, Truth& t,
                  std::vector<std::vector<std::uint8_t>>& ok, std::vector<std::int64_t>& undecided,
                  std::int64_t& zeros) {
#ifdef CERTCONV_VNNI
  const ConvSpec& s = p.spec;
  const int N = S.moduli;
  const std::vector<std::uint32_t> w = weight_words<Abs>(p, G, S, threads);
  const Crt C = crt(N);
  // Work items of an image: (run, chunk of kChunk positions), all output channels each.
  struct Item {
    std::int64_t run, i0;
  };
  std::vector<Item> items;
  for (std::int64_t r = 0; r < static_cast<std::int64_t>(G.runs.size()); ++r)
    for (std::int64_t i0 = 0; i0 < G.runs[static_cast<std::size_t>(r)].len; i0 += kChunk) items.push_back({r, i0});
  // Image n's accumulators for modulus j, on the calling thread. Its input words
  // stay in cache for its GEMM; the buffer (one modulus of one image) is kept by
  // the thread between calls. Words past the layout are never written: they feed
  // only dropped positions.
  const auto modulus = [&](std::int64_t n, int j, std::int32_t* acc) {
    thread_local std::vector<std::uint32_t> x_words;
    x_words.resize(std::max(x_words.size(), static_cast<std::size_t>(G.icq * G.plane)));
    std::uint32_t* const x = x_words.data();
    input_words<Abs>(p, n, j, G, S, x);
    for (const Item& I : items) {
      const Geometry::Run& R = G.runs[static_cast<std::size_t>(I.run)];
      const int nz = static_cast<int>(std::min<std::int64_t>(kVecs, (R.len - I.i0 + 15) / 16));
      const std::uint32_t* xb = x + R.xbase + I.i0;
      for (std::int64_t oc0 = 0; oc0 < s.oc; oc0 += kRows) {
        const int rows = static_cast<int>(std::min<std::int64_t>(kRows, s.oc - oc0));
        kTiles[static_cast<std::size_t>(rows - 1)][static_cast<std::size_t>(nz - 1)](
            w.data() + (j * s.oc + oc0) * G.kq, G.kq, xb, G.plane, G.tap_off.data(), static_cast<int>(G.taps),
            static_cast<int>(G.icq), acc + (j * s.oc + oc0) * G.accq + R.abase + I.i0, G.accq);
      }
    }
  };
  std::mutex merge;  // undecided and zeros, from every image's workers
  // Image n on `inner` threads, which share out the moduli (one join per image),
  // into acc: N·oc·accq accumulators.
  const auto image = [&](std::int64_t n, int inner, std::int32_t* acc) {
    parallel_for_dynamic(N, inner, 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t j = b; j < e; ++j) modulus(n, static_cast<int>(j), acc);
    });
    reconstruct<Abs>(p, n, G, S, C, acc, inner, t, ok.empty() ? nullptr : ok[static_cast<std::size_t>(n)].data(),
                     undecided, zeros, merge);
  };
  const auto acc_size = static_cast<std::size_t>(N * s.oc * G.accq);
  // With at least as many images as threads, whole images per thread: no joins
  // inside an image; otherwise the threads share each image.
  if (threads > 1 && s.mb >= threads) {
    parallel_for_dynamic(
        s.mb, threads, 1, [&] { return std::vector<std::int32_t>(acc_size); },
        [&](std::vector<std::int32_t>& acc, std::int64_t b, std::int64_t e) {
          for (std::int64_t n = b; n < e; ++n) image(n, 1, acc.data());
        },
        [](std::vector<std::int32_t>&) {});
  } else {
    std::vector<std::int32_t> acc(acc_size);
    for (std::int64_t n = 0; n < s.mb; ++n) image(n, threads, acc.data());
  }
#else
  (void)p, (void)G, (void)S, (void)threads, (void)t, (void)ok, (void)undecided, (void)zeros;
#endif
}

}  // namespace

namespace {

// Why this CPU or p's shape rules the method out (empty: neither). First, as the
// span analysis runs AVX-512 code.
std::string shape_refusal(const ConvProblem<float>& p) {
  const ConvSpec& s = p.spec;
  if (!cpu_has_vnni()) return "this CPU has no AVX-512 VNNI";
  if (s.g != 1) return "grouped convolutions are not supported";
  const std::int64_t padded = s.kh * s.kw * ((s.ic + 3) / 4 * 4);
  if (padded > kMaxTerms) return "more than " + std::to_string(kMaxTerms) + " terms per output";
  return {};
}

std::string spread_refusal(const Scales& S) {
  return S.moduli ? "" : "the operands' exponent spread needs more than " + std::to_string(kMaxModuli) + " moduli";
}

}  // namespace

std::string integer_truth_refusal(const ConvProblem<float>& p, int threads) {
  const std::string why = shape_refusal(p);
  return why.empty() ? spread_refusal(scales(p, threads)) : why;
}

std::optional<std::vector<std::int64_t>> try_integer_truth(const ConvProblem<float>& p,
                                                            const IntegerTruthOptions& opt, Truth& t) {
  const ConvSpec& s = p.spec;
  const int threads = resolve_threads(opt.threads);
  if (!shape_refusal(p).empty()) return std::nullopt;
  const Scales S = scales(p, threads);
  if (!spread_refusal(S).empty()) return std::nullopt;
  const Geometry G = geometry(s);
  // Per image, per output: absdot decided (all true without absdot).
  std::vector<std::vector<std::uint8_t>> ok(
      opt.absdot ? static_cast<std::size_t>(s.mb) : 0,
      std::vector<std::uint8_t>(static_cast<std::size_t>(s.oc * s.oh * s.ow)));
  std::vector<std::int64_t> undecided;
  std::int64_t zeros = 0;
  if (opt.absdot) integer_pass<true>(p, G, S, threads, t, ok, undecided, zeros);
  integer_pass<false>(p, G, S, threads, t, ok, undecided, zeros);
  std::sort(undecided.begin(), undecided.end());
  t.exact_zeros += zeros;
  t.kernel = "integer, " + std::to_string(S.moduli) + " moduli";
  return undecided;
}

std::vector<std::int64_t> integer_truth(const ConvProblem<float>& p, const IntegerTruthOptions& opt, Truth& t) {
  std::optional<std::vector<std::int64_t>> undecided = try_integer_truth(p, opt, t);
  if (!undecided) throw InputError("integer truth: " + integer_truth_refusal(p, opt.threads));
  return std::move(*undecided);
}

}  // namespace certconv
