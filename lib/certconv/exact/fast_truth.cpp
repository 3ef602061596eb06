// Fast certified truth. Per output the kernel (fast_truth_kernel.hpp) yields
//     Σ w·x + bias      = (A − A0) + E + δ,   Σ|w·x| + |bias| = (B − A0) + F + δ',
// with A − A0 and B − A0 exact and |δ|, |δ'| ≤ err, and round_enclosure.hpp turns
// that into the roundings or into "undecided". This file supplies what the kernel
// needs: the binade 2^k of each output row, err, and the input layout.
//
// The binade (binade() below) comes from an upper bound of Σ|w·x| + |bias| over the
// output row, namely |bias| + Σ_c ‖w[oc, c]‖₁ · max|x| over the input rows the
// output row reads, in channel c. It is evaluated in round-to-nearest, then
// enlarged: every monomial passes at most L = taps + icg + 1 roundings of
// nonnegative values, each of which loses at most a factor (1 − u) (and η/2 for a
// product in the subnormal range), so the exact value is
// ≤ (s + icg·η/2)/(1 − u)^L ≤ (s + icg·η/2)·(1 + 2Lu) for Lu ≤ 1/2.
//
// err, for m summed low parts (n products, plus the bias), |e| ≤ 2^(k−53) each:
//  * products exact in binary64 (binary32 inputs; binary64 inputs whose significands
//    are short enough): each e is exact, so err is the error of recursive summation,
//    ≤ (m−1)·u·Σ|e| ≤ (m−1)·m·2^(k−106) (Rump, BIT 52, 2012, Thm. 1.1 — any n; sums
//    are exact in the subnormal range, so no underflow term). And err = 0 when every
//    product and the bias are multiples of 2^q and m·2^(k−53) ≤ 2^(53+q): every e is a
//    multiple of 2^q (A's quantum 2^(k−52) is one, or A + w·x is exact), so every
//    partial sum of E is a multiple of 2^q below 2^53·2^q, a binary64 number, and E
//    is exact. q is taken per output row: the lowest set bit of w[oc] plus the
//    lowest set bit of the input rows read, or the bias's if lower. This holds for
//    ordinary binary32 data, which is therefore decided exactly, with no fallback.
//  * otherwise each e is RN of the exact error, off by ≤ u·|e| + η/2 (the FMA model
//    with gradual underflow, Higham 2002 §2.1), adding n·(2^(k−106) + η/2).
// Both are evaluated with upward steps (core/format.hpp).
//
// Layout: per image, x in binary64, zero-padded, each padded row split into sw
// phases (column j of phase φ holds padded column j·sw + φ), so that the inputs of
// consecutive output columns are consecutive in memory for every tap; |x| alongside.
// The kernel's lanes run along output columns, or, for rows of at most 4 columns
// (the lowered BWD_W problem: rows are the kernel width) where more channels than
// columns would fill them, along output channels; each output sees the same
// operations either way.
#include "certconv/exact/fast_truth.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>

#include "certconv/core/format.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/fast_truth_kernel.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/core/taps.hpp"

namespace certconv {

namespace {

using fast_truth_detail::Block;
using fast_truth_detail::run_block;

// ---- kernel builds -------------------------------------------------------------

using BlockFn = void (*)(const Block&, int ocb);

template <int V, bool Fma, bool Abs>
[[gnu::always_inline]] inline void run_any(const Block& b, int ocb) {
  switch (ocb) {
    case 1: run_block<1, V, Fma, Abs>(b); break;
    case 2: run_block<2, V, Fma, Abs>(b); break;
    case 3: run_block<3, V, Fma, Abs>(b); break;
    case 4: run_block<4, V, Fma, Abs>(b); break;
    case 5: run_block<5, V, Fma, Abs>(b); break;
    default: run_block<6, V, Fma, Abs>(b); break;
  }
}

// Generic: std::fma where products may be inexact, the plain form where they are exact.
template <bool Abs>
void blocks_generic_fma(const Block& b, int ocb) { run_any<4, true, Abs>(b, ocb); }
template <bool Abs>
void blocks_generic_exact(const Block& b, int ocb) { run_any<4, false, Abs>(b, ocb); }
#if defined(__x86_64__) && defined(__GNUC__)
template <bool Abs>
[[gnu::target("arch=x86-64-v3")]] void blocks_avx2(const Block& b, int ocb) { run_any<8, true, Abs>(b, ocb); }
template <bool Abs>
[[gnu::target("arch=x86-64-v4,prefer-vector-width=512")]] void blocks_avx512(const Block& b, int ocb) {
  run_any<8, true, Abs>(b, ocb);
}

// Lanes across channels (run_block_channels), for rows of at most 4 columns.
template <int V, bool Abs>
[[gnu::always_inline]] inline void run_channels(const Block& b, int ocb) {
  switch (b.ow) {
    case 1: fast_truth_detail::run_block_channels<1, V, true, Abs>(b, ocb); break;
    case 2: fast_truth_detail::run_block_channels<2, V, true, Abs>(b, ocb); break;
    case 3: fast_truth_detail::run_block_channels<3, V, true, Abs>(b, ocb); break;
    default: fast_truth_detail::run_block_channels<4, V, true, Abs>(b, ocb); break;
  }
}
template <bool Abs>
[[gnu::target("arch=x86-64-v3")]] void channels_avx2(const Block& b, int ocb) { run_channels<4, Abs>(b, ocb); }
template <bool Abs>
[[gnu::target("arch=x86-64-v4,prefer-vector-width=512")]] void channels_avx512(const Block& b, int ocb) {
  run_channels<8, Abs>(b, ocb);
}
#endif

struct Kernel {
  BlockFn fn;
  int max_ocb;  // channels per block: as many as the registers hold
  // Lanes across channels for rows of ≤ 4 columns (null: none), and its lane count.
  BlockFn channels = nullptr;
  int lanes = 0;
};

template <bool Abs>
Kernel kernel_for(KernelIsa isa, bool exact_products) {
  switch (isa) {
#if defined(__x86_64__) && defined(__GNUC__)
    case KernelIsa::avx512: return {blocks_avx512<Abs>, 6, channels_avx512<Abs>, 8};
    case KernelIsa::avx2: return {blocks_avx2<Abs>, Abs ? 1 : 2, channels_avx2<Abs>, 4};
#endif
    default: return {exact_products ? blocks_generic_exact<Abs> : blocks_generic_fma<Abs>, 2};
  }
}

Kernel kernel_for(KernelIsa isa, bool exact_products, bool abs) {
  return abs ? kernel_for<true>(isa, exact_products) : kernel_for<false>(isa, exact_products);
}

// ---- input analysis --------------------------------------------------------------

constexpr int kNone = 1 << 20;  // "lowest set bit" of zero: above every real one

// A value as m·2^e with an odd integer m: lsb = e (kNone for 0) and width = bits of m.
struct Bits {
  int lsb = kNone;
  int width = 0;
};

template <class T>
Bits bits_of(T f) {
  using U = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  constexpr int mant_bits = std::numeric_limits<T>::digits - 1;
  constexpr int bias = std::numeric_limits<T>::max_exponent - 1 + mant_bits;  // value = m·2^(ex − bias)
  const U bits = std::bit_cast<U>(f);
  const int ex = static_cast<int>((bits & ~(U{1} << (sizeof(U) * 8 - 1))) >> mant_bits);
  U m = bits & ((U{1} << mant_bits) - 1);
  if (ex) m |= U{1} << mant_bits;
  if (m == 0) return {};
  const int tz = std::countr_zero(m);
  return {(ex ? ex : 1) - bias + tz, static_cast<int>(std::bit_width(m)) - tz};
}

// The lowest lsb and the widest width over [first, last).
template <class T>
Bits bit_range(const T* first, const T* last) {
  Bits r;
  for (; first != last; ++first) {
    const Bits b = bits_of(*first);
    r.lsb = std::min(r.lsb, b.lsb);
    r.width = std::max(r.width, b.width);
  }
  return r;
}

struct Layer {
  bool exact_products;
  std::int64_t n, m;  // products per output, terms summed into the low part
  // Per output channel: the lowest set bit of its weights, and of its bias.
  std::vector<int> w_lsb, b_lsb;
};

template <class T>
Layer analyze_layer(const ConvProblem<T>& p) {
  const ConvSpec& s = p.spec;
  const T* w = p.w.data.data();
  const std::int64_t K = s.n_terms();
  Layer L;
  Bits wr;  // over all weights
  for (std::int64_t oc = 0; oc < s.oc; ++oc) {
    const Bits r = bit_range(w + oc * K, w + (oc + 1) * K);
    wr = {std::min(wr.lsb, r.lsb), std::max(wr.width, r.width)};
    L.w_lsb.push_back(r.lsb);
    L.b_lsb.push_back(p.bias ? bits_of(p.bias->data[static_cast<std::size_t>(oc)]).lsb : kNone);
  }
  const Bits x = bit_range(p.x.data.data(), p.x.data.data() + p.x.size());
  // A product of significands of a and b bits has at most a + b bits, and at most
  // max(a, b) when one is a power of two.
  const bool short_enough = x.width + wr.width <= 53 || x.width <= 1 || wr.width <= 1;
  L.exact_products = std::is_same_v<T, float> || (short_enough && x.lsb + wr.lsb >= -1074);
  L.n = K;
  L.m = L.n + (p.bias ? 1 : 0);
  return L;
}

// k ranges over [kMinK, 999]: A0 normal, 2^(k−106) normal, A0's binade finite.
constexpr int kMinK = -600;

// The binade 2^k of an output: from A0 = 1.5·2^k, each partial sum moves by at most
// bound + m·2^(k−53) (the products, and the rounding errors left in E), which must
// stay below 2^(k−1). With 2^(k−1) > bound·(1 + 2^-20) the margin is ≥ 2^(k−22),
// enough for m ≤ 2^31; one more binade beyond that.
int binade(double bound, std::int64_t m) {
  if (!(bound > 0)) return kMinK;
  const int k = std::ilogb(mul_up(bound, 1 + 0x1p-20)) + (m <= (std::int64_t{1} << 31) ? 2 : 3);
  return std::max(k, kMinK);
}

// err for an output with binade 2^k whose products and bias are multiples of 2^q
// (header comment).
double low_part_error(const Layer& L, int k, int q) {
  const double m = static_cast<double>(L.m);
  const double scale = std::ldexp(1.0, k - 106);  // exact: k ≥ kMinK
  const double summation = mul_up(mul_up(m > 0 ? m - 1 : 0, m), scale);
  if (L.exact_products) {
    const long d = 106L + q - k;  // window test m ≤ 2^d
    const bool exact = d >= 62 || (d >= 0 && L.m <= (std::int64_t{1} << d));
    return exact ? 0.0 : summation;
  }
  const double n = static_cast<double>(L.n);
  return add_up(summation, add_up(mul_up(n, scale), mul_up(n, 0x1p-1074)));
}

// ---- layout ----------------------------------------------------------------------

constexpr int kLaneAlign = 8;  // output columns padded to a multiple of the widest V

struct Layout {
  std::int64_t rows = 0, lanes = 0, jp = 0, row_len = 0, chan_stride = 0;  // lanes: ow padded
  std::vector<std::int64_t> tap_off;
  std::vector<double> x, ax;  // [c][row][phase][j] for one image
  std::vector<double> rowmax;  // [c][row]: max |x| over the padded row
  std::vector<int> rowlsb;     // [c][row]: lowest set bit over the row
};

Layout make_layout(const ConvSpec& s, bool abs) {
  Layout L;
  L.lanes = (s.ow + kLaneAlign - 1) / kLaneAlign * kLaneAlign;
  PhaseRows r = phase_rows(s, L.lanes);
  L.rows = r.rows;
  L.jp = r.jp;
  L.row_len = r.row_len;
  L.tap_off = std::move(r.tap_off);
  L.chan_stride = L.rows * L.row_len;
  L.x.assign(static_cast<std::size_t>(s.ic * L.chan_stride), 0.0);
  if (abs) L.ax.assign(L.x.size(), 0.0);  // |x| only for absdot
  L.rowmax.assign(static_cast<std::size_t>(s.ic * L.rows), 0.0);
  L.rowlsb.assign(L.rowmax.size(), kNone);
  return L;
}

// Channel c of image n into L.
template <class T>
void fill_layout(const ConvProblem<T>& p, std::int64_t n, std::int64_t c, Layout& L) {
  const ConvSpec& s = p.spec;
  const T* plane = p.x.data.data() + (n * s.ic + c) * s.ih * s.iw;
  for (std::int64_t r = 0; r < L.rows; ++r) {
    const std::int64_t iy = r - s.ph;
    double* row = L.x.data() + c * L.chan_stride + r * L.row_len;
    double* arow = L.ax.empty() ? nullptr : L.ax.data() + c * L.chan_stride + r * L.row_len;
    double mx = 0;
    int lsb = kNone;
    for (std::int64_t phase = 0; phase < s.sw; ++phase)
      for (std::int64_t j = 0; j < L.jp; ++j) {
        const std::int64_t ix = j * s.sw + phase - s.pw;
        const bool inside = iy >= 0 && iy < s.ih && ix >= 0 && ix < s.iw;
        const double v = inside ? static_cast<double>(plane[iy * s.iw + ix]) : 0.0;
        row[phase * L.jp + j] = v;
        if (arow) arow[phase * L.jp + j] = std::fabs(v);
        mx = std::max(mx, std::fabs(v));
        lsb = std::min(lsb, bits_of(v).lsb);  // v = x exactly: the same lowest bit
      }
    L.rowmax[static_cast<std::size_t>(c * L.rows + r)] = mx;
    L.rowlsb[static_cast<std::size_t>(c * L.rows + r)] = lsb;
  }
}

}  // namespace

std::string isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::avx2: return "avx2";
    case KernelIsa::avx512: return "avx512";
    default: return "generic";
  }
}

std::vector<KernelIsa> supported_isas() {
  std::vector<KernelIsa> v{KernelIsa::generic};
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v3")) v.push_back(KernelIsa::avx2);
  if (__builtin_cpu_supports("x86-64-v4")) v.push_back(KernelIsa::avx512);
#endif
  return v;
}

template <class T>
std::vector<std::int64_t> fast_truth(const ConvProblem<T>& p, const FastTruthOptions& opt, Truth& t) {
  const ConvSpec& s = p.spec;
  const std::vector<KernelIsa> isas = supported_isas();
  const KernelIsa isa = opt.isa.value_or(isas.back());
  require(std::find(isas.begin(), isas.end(), isa) != isas.end(),
          "fast truth: this CPU cannot run the " + isa_name(isa) + " kernels");
  const int threads = resolve_threads(opt.threads);
  const Layer layer = analyze_layer(p);
  const Kernel kernel = kernel_for(isa, layer.exact_products, opt.absdot);

  const std::int64_t icg = s.ic / s.g, ocg = s.oc / s.g, taps = s.kh * s.kw, K = s.n_terms();
  std::vector<double> bias(static_cast<std::size_t>(s.oc), 0.0);
  if (p.bias) std::copy(p.bias->data.begin(), p.bias->data.end(), bias.begin());
  const double inflate = up(1 + mul_up(2.0 * static_cast<double>(taps + icg + 1), 0x1p-53));
  const double under = mul_up(static_cast<double>(icg), 0x1p-1074);

  // Short rows (the lowered BWD_W problem's are the kernel width) fill more lanes
  // across channels than across columns.
  const bool by_channels = kernel.channels && s.ow <= 4 && std::min<std::int64_t>(ocg, kernel.lanes) > s.ow;
  const int block = by_channels ? kernel.lanes : kernel.max_ocb;

  // Blocks of channels within a group, then one work item per block and output row.
  struct Span {
    std::int64_t oc0;
    int ocb;
  };
  std::vector<Span> spans;
  for (std::int64_t g = 0; g < s.g; ++g)
    for (std::int64_t o = 0; o < ocg; o += block)
      spans.push_back({g * ocg + o, static_cast<int>(std::min<std::int64_t>(block, ocg - o))});

  // Weights packed per block (Block::w; span i at i·2·K·block; by channels, every
  // tap holds `block` lanes, zero past the span) and ‖w[oc, c]‖₁.
  const auto n_spans = static_cast<std::int64_t>(spans.size());
  std::vector<double> wpack(static_cast<std::size_t>(n_spans * 2 * K * block));
  std::vector<double> wl1(static_cast<std::size_t>(s.oc * icg));
  for (std::int64_t i = 0; i < n_spans; ++i) {
    const Span sp = spans[static_cast<std::size_t>(i)];
    const int stride = by_channels ? block : sp.ocb;
    for (int o = 0; o < sp.ocb; ++o)
      for (std::int64_t c = 0; c < icg; ++c) {
        double& l1 = wl1[static_cast<std::size_t>((sp.oc0 + o) * icg + c)];
        for (std::int64_t k = c * taps; k < (c + 1) * taps; ++k) {
          const double v = p.w.data[static_cast<std::size_t>((sp.oc0 + o) * K + k)];
          double* dst = wpack.data() + i * 2 * K * block + 2 * k * stride + o;
          dst[0] = v;
          dst[stride] = std::fabs(v);
          l1 += std::fabs(v);
        }
      }
  }

  // One image at a time: its layout stays in cache while every output row of it
  // is computed. Within an image the work is handed out piece by piece (parallel.hpp).
  Layout L = make_layout(s, opt.absdot);
  std::vector<std::int64_t> undecided;
  std::int64_t zeros = 0;
  // What output row oy reads: max |x| per channel, lowest set bit per group.
  std::vector<double> xmax(static_cast<std::size_t>(s.ic * s.oh));  // [c][oy]
  std::vector<int> xlsb(static_cast<std::size_t>(s.g * s.oh));      // [g][oy]
  const std::int64_t items = static_cast<std::int64_t>(spans.size()) * s.oh;
  struct Worker {
    std::vector<std::int64_t> undecided, flags;
    std::vector<double> scratch;
    std::int64_t zeros = 0;
  };
  for (std::int64_t n = 0; n < s.mb; ++n) {
    parallel_for_dynamic(s.ic, threads, 2, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t c = b; c < e; ++c) fill_layout(p, n, c, L);
    });
    std::fill(xlsb.begin(), xlsb.end(), kNone);
    for (std::int64_t c = 0; c < s.ic; ++c)
      for (std::int64_t oy = 0; oy < s.oh; ++oy) {
        double mx = 0;
        int& lsb = xlsb[static_cast<std::size_t>(c / icg * s.oh + oy)];
        for (std::int64_t ky = 0; ky < s.kh; ++ky) {
          const auto r = static_cast<std::size_t>(c * L.rows + oy * s.sh + ky * (s.dh + 1));
          mx = std::max(mx, L.rowmax[r]);
          lsb = std::min(lsb, L.rowlsb[r]);
        }
        xmax[static_cast<std::size_t>(c * s.oh + oy)] = mx;
      }
    parallel_for_dynamic(
        items, threads, 4,
        [&] {
          return Worker{{}, std::vector<std::int64_t>(static_cast<std::size_t>(s.ow)),
                        std::vector<double>(static_cast<std::size_t>(4 * block * L.lanes)), 0};
        },
        [&](Worker& wk, std::int64_t i0, std::int64_t i1) {
          for (std::int64_t it = i0; it < i1; ++it) {
            const std::int64_t span = it / s.oh, oy = it % s.oh;
            const Span sp = spans[static_cast<std::size_t>(span)];
            const std::int64_t g = sp.oc0 / ocg;
            // Lanes past the span (by channels) run on harmless values and are dropped.
            double a0[8] = {1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, b[8] = {}, err[8] = {};
            for (int o = 0; o < sp.ocb; ++o) {
              const std::int64_t oc = sp.oc0 + o;
              double sum = std::fabs(bias[static_cast<std::size_t>(oc)]);
              for (std::int64_t c = 0; c < icg; ++c) {
                const auto wc = static_cast<std::size_t>(oc * icg + c);
                sum += wl1[wc] * xmax[static_cast<std::size_t>((g * icg + c) * s.oh + oy)];
              }
              const double bound = mul_up(add_up(sum, under), inflate);
              b[o] = bias[static_cast<std::size_t>(oc)];
              if (bound < 0x1p997) {
                const int k = binade(bound, layer.m);
                const int q = std::min(layer.w_lsb[static_cast<std::size_t>(oc)] +
                                           xlsb[static_cast<std::size_t>(g * s.oh + oy)],
                                       layer.b_lsb[static_cast<std::size_t>(oc)]);
                a0[o] = std::ldexp(1.5, k);
                err[o] = low_part_error(layer, k, q);
              } else {  // k would exceed 999 (binary64 inputs only): err = ∞ leaves the row undecided
                a0[o] = 1.5;
                err[o] = kInf;
              }
            }
            const std::int64_t out0 = ((n * s.oc + sp.oc0) * s.oh + oy) * s.ow;
            const Block blk{L.x.data() + (g * icg * L.rows + oy * s.sh) * L.row_len,
                            opt.absdot ? L.ax.data() + (g * icg * L.rows + oy * s.sh) * L.row_len : nullptr,
                            L.chan_stride,
                            L.tap_off.data(),
                            static_cast<int>(taps),
                            static_cast<int>(icg),
                            wpack.data() + span * 2 * K * block,
                            static_cast<int>(s.ow),
                            a0,
                            b,
                            err,
                            out0,
                            s.oh * s.ow,
                            t.y.data.data(),
                            t.lo.data.data(),
                            t.hi.data.data(),
                            opt.absdot ? t.absdot.data.data() : nullptr,
                            t.y32.data.data(),
                            &wk.undecided,
                            &wk.zeros,
                            wk.scratch.data(),
                            wk.flags.data(),
                            static_cast<int>(L.lanes)};
            (by_channels ? kernel.channels : kernel.fn)(blk, sp.ocb);
          }
        },
        [&](Worker& wk) {
          undecided.insert(undecided.end(), wk.undecided.begin(), wk.undecided.end());
          zeros += wk.zeros;
        });
  }
  std::sort(undecided.begin(), undecided.end());
  t.exact_zeros += zeros;
  return undecided;
}

template std::vector<std::int64_t> fast_truth(const ConvProblem<float>&, const FastTruthOptions&, Truth&);
template std::vector<std::int64_t> fast_truth(const ConvProblem<double>&, const FastTruthOptions&, Truth&);

}  // namespace certconv
