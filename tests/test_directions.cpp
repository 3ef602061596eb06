#define BOOST_TEST_MODULE directions
#include <boost/test/unit_test.hpp>

#include <mpfr.h>

#include <array>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include "certconv/core/error.hpp"
#include "certconv/core/lower.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/exact/result_truth.hpp"

using namespace certconv;
namespace fs = std::filesystem;

namespace {

// The oracle is written from the definitions (docs/directions.md), on 5-D views
// of the rank-r tensors, and shares nothing with core/lower.cpp:
//   y [n][oc][o]  = Σ_{c, k} w[oc][c][k] · x[n][g·icg + c][o·s - p + k(d+1)]  (+ bias)
//   dx[n][ic][i]  = Σ_{oc ∈ group, k : i + p - k(d+1) = o·s, 0 ≤ o < O} w[oc][c][k] · dy[n][oc][o]
//   dw[oc][c][k]  = Σ_{n, o} dy[n][oc][o] · x[n][g·icg + c][o·s - p + k(d+1)]
//   db[oc]        = Σ_{n, o} dy[n][oc][o]
using Idx = std::array<std::int64_t, 3>;

struct View5 {
  std::array<std::int64_t, 5> s;
  std::int64_t at(std::int64_t n, std::int64_t c, const Idx& p) const {
    return (((n * s[1] + c) * s[2] + p[0]) * s[3] + p[1]) * s[4] + p[2];
  }
};

View5 view(const ConvDesc& d, std::int64_t a, std::int64_t b, std::int64_t ConvAxis::*f) {
  return {{a, b, d.axis[0].*f, d.axis[1].*f, d.axis[2].*f}};
}

template <class F>
void for_each_point(const ConvDesc& d, std::int64_t ConvAxis::*f, F&& fn) {
  for (std::int64_t z = 0; z < d.axis[0].*f; ++z)
    for (std::int64_t y = 0; y < d.axis[1].*f; ++y)
      for (std::int64_t x = 0; x < d.axis[2].*f; ++x) fn(Idx{z, y, x});
}

struct Expected {
  std::vector<double> y, lo, hi, absdot;
  std::vector<float> y32;
  std::int64_t zeros = 0;
  void push(const ExactAccumulator& acc, const ExactAccumulator& abs) {
    y.push_back(acc.round());
    y32.push_back(acc.round_f32());
    lo.push_back(acc.round(Rounding::down));
    hi.push_back(acc.round(Rounding::up));
    absdot.push_back(abs.round(Rounding::up));
    zeros += acc.is_zero();
  }
};

template <class T>
Expected oracle(const ConvDesc& d, const std::string& result, const Operands<T>& ops) {
  Expected e;
  ExactAccumulator acc, abs;
  const std::int64_t icg = d.ic / d.g, ocg = d.oc / d.g;
  const View5 xv = view(d, d.mb, d.ic, &ConvAxis::i), wv = view(d, d.oc, icg, &ConvAxis::k),
              yv = view(d, d.mb, d.oc, &ConvAxis::o);
  const auto add = [&](T a, T b) {
    acc.add_product(a, b);
    abs.add_abs_product(a, b);
  };
  // The input position of output o and tap k; false when it is padding.
  const auto input_at = [&](const Idx& o, const Idx& k, Idx& i) {
    for (int a = 0; a < 3; ++a) {
      const ConvAxis& A = d.axis[a];
      i[a] = o[a] * A.s - A.p + k[a] * (A.d + 1);
      if (i[a] < 0 || i[a] >= A.i) return false;
    }
    return true;
  };
  if (result == "y") {
    for (std::int64_t n = 0; n < d.mb; ++n)
      for (std::int64_t oc = 0; oc < d.oc; ++oc)
        for_each_point(d, &ConvAxis::o, [&](const Idx& o) {
          acc.clear(), abs.clear();
          for (std::int64_t c = 0; c < icg; ++c)
            for_each_point(d, &ConvAxis::k, [&](const Idx& k) {
              Idx i;
              if (input_at(o, k, i))
                add(ops.w->data[wv.at(oc, c, k)], ops.x->data[xv.at(n, oc / ocg * icg + c, i)]);
            });
          if (ops.bias) {
            acc.add(double(ops.bias->data[oc]));
            abs.add(std::fabs(double(ops.bias->data[oc])));
          }
          e.push(acc, abs);
        });
  } else if (result == "dx") {
    for (std::int64_t n = 0; n < d.mb; ++n)
      for (std::int64_t ic = 0; ic < d.ic; ++ic)
        for_each_point(d, &ConvAxis::i, [&](const Idx& i) {
          acc.clear(), abs.clear();
          const std::int64_t gi = ic / icg;
          for (std::int64_t oc = gi * ocg; oc < (gi + 1) * ocg; ++oc)
            for_each_point(d, &ConvAxis::k, [&](const Idx& k) {
              Idx o;
              for (int a = 0; a < 3; ++a) {
                const ConvAxis& A = d.axis[a];
                const std::int64_t t = i[a] + A.p - k[a] * (A.d + 1);
                if (t < 0 || t % A.s != 0 || t / A.s >= A.o) return;
                o[a] = t / A.s;
              }
              add(ops.w->data[wv.at(oc, ic % icg, k)], ops.dy->data[yv.at(n, oc, o)]);
            });
          e.push(acc, abs);
        });
  } else if (result == "dw") {
    for (std::int64_t oc = 0; oc < d.oc; ++oc)
      for (std::int64_t c = 0; c < icg; ++c)
        for_each_point(d, &ConvAxis::k, [&](const Idx& k) {
          acc.clear(), abs.clear();
          for (std::int64_t n = 0; n < d.mb; ++n)
            for_each_point(d, &ConvAxis::o, [&](const Idx& o) {
              Idx i;
              if (input_at(o, k, i)) add(ops.dy->data[yv.at(n, oc, o)], ops.x->data[xv.at(n, oc / ocg * icg + c, i)]);
            });
          e.push(acc, abs);
        });
  } else {  // db
    for (std::int64_t oc = 0; oc < d.oc; ++oc) {
      acc.clear(), abs.clear();
      for (std::int64_t n = 0; n < d.mb; ++n)
        for_each_point(d, &ConvAxis::o, [&](const Idx& o) { add(ops.dy->data[yv.at(n, oc, o)], T(1)); });
      e.push(acc, abs);
    }
  }
  return e;
}

// Operand values: normal, scaled by 2^U[-spread, spread]; "integer": uniform
// integers in [-3, 3] (exact zeros, every partial sum exact); "cancel": integers
// times 2^20 plus, in one value of ten, a normal times 2^-30, so that sums of
// large terms cancel to tiny ones (cond far above 1e6).
template <class T>
Tensor<T> operand(const std::vector<std::int64_t>& shape, const std::string& dist, int spread, Rng& rng) {
  Tensor<T> t = normal_tensor<T>(shape, rng);
  for (auto& v : t.data) {
    if (dist == "integer" || dist == "cancel") {
      v = T(static_cast<int>(rng.bits() % 7) - 3);
      if (dist == "cancel") v = std::ldexp(v, 20) + (rng.bits() % 10 == 0 ? std::ldexp(T(rng.bits() % 1000) - 500, -30) : T(0));
    } else if (spread) {
      v = std::ldexp(v, static_cast<int>(rng.bits() % (2 * spread + 1)) - spread);
    }
  }
  return t;
}

template <class T>
void check_case(const std::string& desc, Direction dir, const std::string& dist, int spread, std::uint64_t seed,
                TruthMethod method = TruthMethod::auto_) {
  const ConvDesc d = parse_conv_desc(desc);
  Rng rng(seed);
  const Tensor<T> x = operand<T>(d.x_shape(), dist, spread, rng), w = operand<T>(d.w_shape(), dist, spread, rng),
                  b = operand<T>({d.oc}, dist, spread, rng), dy = operand<T>(d.y_shape(), dist, spread, rng);
  Operands<T> ops;
  const std::vector<std::string> need = operand_names(dir);
  const auto wants = [&](const char* n) { return std::find(need.begin(), need.end(), n) != need.end(); };
  if (wants("x")) ops.x = &x;
  if (wants("w")) ops.w = &w;
  if (wants("bias")) ops.bias = &b;
  if (wants("dy")) ops.dy = &dy;
  TruthOptions opt;
  opt.method = method;
  opt.threads = 1;
  const std::vector<ResultTruth> got = compute_result_truth(d, dir, ops, opt);
  opt.threads = 3;
  const std::vector<ResultTruth> got3 = compute_result_truth(d, dir, ops, opt);
  const std::vector<std::string> results = result_names(dir);
  BOOST_TEST_REQUIRE(got.size() == results.size());
  const std::string what = desc + " " + direction_name(dir) + " " + dist + " spread " + std::to_string(spread);
  for (std::size_t r = 0; r < results.size(); ++r) {
    const Expected e = oracle(d, results[r], ops);
    const Truth& t = got[r].truth;
    BOOST_TEST(got[r].result == results[r]);
    BOOST_TEST(t.y.shape == result_shape(d, results[r]), what);
    if (method == TruthMethod::mpfi) {
      // The independent method: its enclosure contains the exact value.
      std::int64_t outside = 0;
      for (std::size_t i = 0; i < e.y.size(); ++i) outside += t.lo.data[i] > e.lo[i] || t.hi.data[i] < e.hi[i];
      BOOST_TEST(outside == 0, what << " " << results[r] << ": " << outside << " MPFI enclosures miss the exact value");
      continue;
    }
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < e.y.size(); ++i)
      bad += t.y.data[i] != e.y[i] || t.y32.data[i] != e.y32[i] || t.lo.data[i] != e.lo[i] ||
             t.hi.data[i] != e.hi[i] || t.absdot.data[i] != e.absdot[i];
    BOOST_TEST(bad == 0, what << " " << results[r] << ": " << bad << " of " << e.y.size() << " outputs differ from the oracle");
    BOOST_TEST(t.exact_zeros == e.zeros, what << " " << results[r]);
    BOOST_TEST((t.y.data == got3[r].truth.y.data && t.absdot.data == got3[r].truth.absdot.data), what << ": threads");
  }
}

constexpr std::array<Direction, 5> all_directions = {Direction::fwd_d, Direction::fwd_b, Direction::bwd_d,
                                                     Direction::bwd_w, Direction::bwd_wb};

// Groups, stride, padding (also wider than the kernel), dilation, asymmetric
// axes, outputs that read padding only, in each rank.
const std::vector<std::string> layers = {
    "mb2ic4iw11oc6ow11kw3pw1",                        // 1-D
    "mb2g2ic4iw13oc6kw3sw2pw2dw1",                    // 1-D groups, stride, dilation
    "mb2ic2iw5oc3kw2sw3pw4",                          // 1-D stride 3, padding past the kernel
    "mb2ic4ih7iw6oc6oh7ow6kh3kw3ph1pw1",              // 2-D
    "mb1g2ic6ih9oc4kh3sh2ph1",                        // 2-D groups, stride
    "mb2g3ic3ih8iw9oc6kh2kw3sh1sw2ph0pw2dh2dw0",      // 2-D depthwise ×2, asymmetric
    "mb1ic2ih5oc3kh5ph4",                             // 2-D outputs of padding only
    "mb2ic3id5ih4iw6oc4kd3kh2kw3pd1ph1pw0",           // 3-D
    "mb1g2ic4id7ih5iw5oc4kd3kh3kw2sd2sh1sw2pd1ph1pw1dd1dh0dw1",  // 3-D groups, strides, dilations
    "g1ic3oc4_id5od8kd3pd3",                          // benchdnn 3d_conv:gemm, padded past the input
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_direction_and_rank_equals_the_oracle) {
  std::uint64_t seed = 100;
  for (const auto& desc : layers)
    for (Direction dir : all_directions) {
      check_case<float>(desc, dir, "normal", 0, ++seed);
      check_case<double>(desc, dir, "normal", 0, ++seed);
      check_case<float>(desc, dir, "integer", 0, ++seed);
      check_case<float>(desc, dir, "cancel", 0, ++seed);
      check_case<double>(desc, dir, "cancel", 0, ++seed);
      check_case<float>(desc, dir, "normal", 60, ++seed);    // past the fast path's window
      check_case<double>(desc, dir, "normal", 400, ++seed);  // wide exponents
      check_case<float>(desc, dir, "normal", 0, ++seed, TruthMethod::exact);
    }
}

BOOST_AUTO_TEST_CASE(mpfi_encloses_every_direction) {
  std::uint64_t seed = 900;
  for (const auto& desc : {layers[1], layers[5], layers[8]})
    for (Direction dir : all_directions) {
      check_case<float>(desc, dir, "cancel", 0, ++seed, TruthMethod::mpfi);
      check_case<double>(desc, dir, "normal", 40, ++seed, TruthMethod::mpfi);
    }
}

BOOST_AUTO_TEST_CASE(subnormal_and_huge_binary32_operands) {
  // Products of subnormals are far below binary64's subnormal range; huge ones
  // overflow binary32 but not the exact sum.
  const ConvDesc d = parse_conv_desc("mb2ic3ih5iw4oc2kh2kw3sh2ph1pw1");
  for (Direction dir : {Direction::bwd_d, Direction::bwd_w}) {
    Rng rng(77);
    Tensor<float> x = normal_tensor<float>(d.x_shape(), rng), w = normal_tensor<float>(d.w_shape(), rng),
                  dy = normal_tensor<float>(d.y_shape(), rng);
    for (std::size_t i = 0; i < x.data.size(); ++i) x.data[i] = std::ldexp(x.data[i], i % 2 ? -140 : 120);
    for (std::size_t i = 0; i < dy.data.size(); ++i) dy.data[i] = std::ldexp(dy.data[i], i % 3 ? -130 : 100);
    for (std::size_t i = 0; i < w.data.size(); ++i) w.data[i] = std::ldexp(w.data[i], i % 2 ? -145 : 110);
    Operands<float> ops;
    ops.dy = &dy;
    (dir == Direction::bwd_d ? ops.w : ops.x) = dir == Direction::bwd_d ? &w : &x;
    const Expected e = oracle(d, dir == Direction::bwd_d ? "dx" : "dw", ops);
    const Truth t = compute_result_truth(d, dir, ops, TruthOptions{}).front().truth;
    BOOST_TEST(t.y.data == e.y);
    BOOST_TEST(t.y32.data == e.y32);
    BOOST_TEST(t.absdot.data == e.absdot);
  }
}

BOOST_AUTO_TEST_CASE(a_million_term_reduction_equals_mpfr) {
  // BWD_W of a 1-D layer with mb·ow = 2^20 terms per output, wide exponents.
  const ConvDesc d = parse_conv_desc("mb4ic1iw262144oc2kw3pw1");
  Rng rng(5);
  const Tensor<float> x = operand<float>(d.x_shape(), "normal", 40, rng), dy = operand<float>(d.y_shape(), "normal", 40, rng);
  Operands<float> ops;
  ops.x = &x;
  ops.dy = &dy;
  const std::vector<ResultTruth> got = compute_result_truth(d, Direction::bwd_w, ops, TruthOptions{});
  BOOST_TEST(got.front().n_terms == 4 * 262144);
  // Float products lie in [2^-400, 2^260); 800 bits hold every partial sum exactly.
  mpfr_t sum, a, b;
  mpfr_init2(sum, 800);
  mpfr_inits2(24, a, b, nullptr);
  for (std::int64_t oc = 0; oc < 2; ++oc)
    for (std::int64_t k = 0; k < 3; ++k) {
      mpfr_set_zero(sum, 1);
      int inexact = 0;
      for (std::int64_t n = 0; n < 4; ++n)
        for (std::int64_t o = 0; o < 262144; ++o) {
          const std::int64_t i = o - 1 + k;
          if (i < 0 || i >= 262144) continue;
          mpfr_set_flt(a, dy.data[(n * 2 + oc) * 262144 + o], MPFR_RNDN);
          mpfr_set_flt(b, x.data[n * 262144 + i], MPFR_RNDN);
          inexact |= mpfr_fma(sum, a, b, sum, MPFR_RNDN);
        }
      BOOST_TEST(inexact == 0);
      const Truth& t = got.front().truth;
      BOOST_TEST(t.y.data[oc * 3 + k] == mpfr_get_d(sum, MPFR_RNDN));
      BOOST_TEST(t.lo.data[oc * 3 + k] == mpfr_get_d(sum, MPFR_RNDD));
      BOOST_TEST(t.hi.data[oc * 3 + k] == mpfr_get_d(sum, MPFR_RNDU));
    }
  mpfr_clears(sum, a, b, nullptr);
}

BOOST_AUTO_TEST_CASE(operands_are_checked_by_direction) {
  const ConvDesc d = parse_conv_desc("mb2ic4id3ih5iw5oc6kd1kh3kw3ph1pw1");
  Rng rng(1);
  const Tensor<float> x = normal_tensor<float>(d.x_shape(), rng), w = normal_tensor<float>(d.w_shape(), rng),
                      dy = normal_tensor<float>(d.y_shape(), rng), x4 = normal_tensor<float>({2, 4, 5, 5}, rng);
  Tensor<float> dy_bad = normal_tensor<float>({2, 6, 3, 5, 4}, rng), dy_nan = dy;
  dy_nan.data[7] = NAN;
  const auto error_of = [&](const Operands<float>& ops, Direction dir) {
    try {
      lower(d, dir, ops);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto has = [](const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; };
  std::string e = error_of({&x, nullptr, nullptr, nullptr}, Direction::bwd_w);
  BOOST_TEST(has(e, "direction BWD_W needs dy (it reads x, dy)"), e);
  e = error_of({&x, nullptr, nullptr, &dy_bad}, Direction::bwd_w);
  BOOST_TEST(has(e, "dy: shape (2, 6, 3, 5, 4)"), e);
  BOOST_TEST(has(e, "dimension 4 is 4, the problem's ow is 5"), e);
  e = error_of({&x4, &w, nullptr, nullptr}, Direction::fwd_d);
  BOOST_TEST(has(e, "x: 4-D array of shape (2, 4, 5, 5), but the 3-D problem"), e);
  BOOST_TEST(has(e, "needs 5-D (2, 4, 3, 5, 5)"), e);
  e = error_of({&x, &w, nullptr, &dy}, Direction::bwd_d);
  BOOST_TEST(has(e, "direction BWD_D does not read x"), e);
  e = error_of({nullptr, &w, nullptr, &dy_nan}, Direction::bwd_d);
  BOOST_TEST(has(e, "dy: non-finite value at index"), e);
  BOOST_TEST(error_of({nullptr, &w, nullptr, &dy}, Direction::bwd_d).empty());
}

BOOST_AUTO_TEST_CASE(descriptors_of_every_rank) {
  const ConvDesc one = parse_conv_desc("mb2ic16iw100oc32ow100kw3pw1");
  BOOST_TEST(one.rank == 1);
  BOOST_TEST((one.x_shape() == std::vector<std::int64_t>{2, 16, 100}));
  BOOST_TEST((one.w_shape() == std::vector<std::int64_t>{32, 16, 3}));
  BOOST_TEST(to_benchdnn(one) == "g1mb2ic16iw100oc32ow100kw3sw1pw1dw0");
  // 3-D: h copies d, w copies h where they are not described (benchdnn).
  const ConvDesc three = parse_conv_desc("g1ic3oc17_id8od4kd3pd1sd2_n\"3d_conv:1st_stride_tail\"");
  BOOST_TEST(three.rank == 3);
  BOOST_TEST((three.x_shape() == std::vector<std::int64_t>{2, 3, 8, 8, 8}));
  BOOST_TEST((three.y_shape() == std::vector<std::int64_t>{2, 17, 4, 4, 4}));
  BOOST_TEST(three.axis[2].s == 2);
  BOOST_TEST((parse_conv_desc(to_benchdnn(three)) == three));
  const ConvDesc two = parse_conv_desc("mb1ic3ih224oc64oh112kh7sh2ph3");
  BOOST_TEST(to_benchdnn(two) == to_benchdnn(parse_benchdnn("mb1ic3ih224oc64oh112kh7sh2ph3")));
  // Every line of every shapes file parses and prints back to itself.
  const char* env = std::getenv("CERTCONV_SOURCE_ROOT");
  int files = 0, lines = 0, by_rank[4] = {0, 0, 0, 0};
  for (const auto& entry : fs::directory_iterator(fs::path(env ? env : ".") / "data" / "shapes")) {
    if (entry.path().extension() == ".md") continue;
    ++files;
    for (const ConvDesc& c : read_shapes_file_any(entry.path().string())) {
      ++lines;
      ++by_rank[c.rank];
      BOOST_TEST((parse_conv_desc(to_benchdnn(c)) == c), to_benchdnn(c));
    }
  }
  BOOST_TEST(files == 15);
  BOOST_TEST(by_rank[1] > 0);
  BOOST_TEST(by_rank[3] > 0);
  BOOST_TEST_MESSAGE(lines << " problems: " << by_rank[1] << " 1-D, " << by_rank[2] << " 2-D, " << by_rank[3] << " 3-D");
}

#include "certconv/backends/onednn.hpp"
#include "certconv/orders/orders.hpp"
#include "certconv/registry/registry.hpp"

namespace {

// Elements that differ in bits, and outputs of an order beyond its rigorous bound
// around the truth (result layout).
template <class T>
std::int64_t differing(const Tensor<T>& a, const Tensor<T>& b) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) n += std::memcmp(&a.data[i], &b.data[i], sizeof(T)) != 0;
  return n;
}

template <class T>
std::int64_t beyond_bound(const Lowered<T>& l, const Tensor<T>& y, const OrderOutput<T>& out) {
  const Truth t = compute_result_truth(l, TruthOptions{}).truth;
  const Tensor<double> bound = to_result_layout(l, out.bound);
  std::int64_t n = 0;
  for (std::size_t i = 0; i < y.data.size(); ++i)
    n += y.data[i] > t.hi.data[i] + bound.data[i] || y.data[i] < t.lo.data[i] - bound.data[i];
  return n;
}

// PyTorch 1.13's slow path for dx, written from its source and not from the
// lowering: per image the columns col[c][k][o] = Σ_oc w[oc][c][k]·dy[n][oc][o] as
// OpenBLAS's SGEMM sums them (K = oc/g cut into blocks by level3.c's rule: Q while
// ≥ 2Q remain, then the unroll-rounded half, then the rest; each block a chain from
// 0 added to the column), then col2im: dx = 0, for c, kd, kh, kw, for every o,
// dx[c][o·s − p + k(d+1)] += col[c][k][o].
template <class T>
Tensor<T> slow_conv_bwd_d_reference(const ConvDesc& d, const Tensor<T>& w, const Tensor<T>& dy, std::int64_t q,
                                    std::int64_t unroll) {
  std::vector<std::int64_t> blocks{0};
  const std::int64_t icg = d.ic / d.g, ocg = d.oc / d.g;
  while (blocks.back() < ocg) {
    std::int64_t l = ocg - blocks.back();
    if (l >= 2 * q) l = q;
    else if (l > q) l = ((l / 2 + unroll - 1) / unroll) * unroll;
    blocks.push_back(blocks.back() + l);
  }
  const View5 xv = view(d, d.mb, d.ic, &ConvAxis::i), wv = view(d, d.oc, icg, &ConvAxis::k),
              yv = view(d, d.mb, d.oc, &ConvAxis::o);
  Tensor<T> dx(d.x_shape());
  for (std::int64_t n = 0; n < d.mb; ++n)
    for (std::int64_t ic = 0; ic < d.ic; ++ic) {
      const std::int64_t g0 = ic / icg * ocg;
      for_each_point(d, &ConvAxis::k, [&](const Idx& k) {
        for_each_point(d, &ConvAxis::o, [&](const Idx& o) {
          Idx i;
          for (int a = 0; a < 3; ++a) {
            i[a] = o[a] * d.axis[a].s - d.axis[a].p + k[a] * (d.axis[a].d + 1);
            if (i[a] < 0 || i[a] >= d.axis[a].i) return;
          }
          T col = 0;
          for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
            T acc = 0;
            for (std::int64_t oc = blocks[b]; oc < blocks[b + 1]; ++oc)
              acc = std::fma(w.data[wv.at(g0 + oc, ic % icg, k)], dy.data[yv.at(n, g0 + oc, o)], acc);
            col += acc;
          }
          dx.data[xv.at(n, ic, i)] += col;
        });
      });
    }
  return dx;
}

template <class T>
void check_slow_conv_bwd_d(const std::string& desc, const std::string& order, std::int64_t q, std::int64_t unroll,
                           const std::string& dist) {
  const ConvDesc d = parse_conv_desc(desc);
  Rng rng(47);
  const Tensor<T> w = operand<T>(d.w_shape(), dist, 0, rng), dy = operand<T>(d.y_shape(), dist, 0, rng);
  Operands<T> ops;
  ops.w = &w, ops.dy = &dy;
  const Lowered<T> l = std::move(lower(d, Direction::bwd_d, ops).front());
  const OrderOutput<T> mine = run_order(parse_order(order), l.problem.view(), RunOptions{});
  const Tensor<T> got = to_result_layout(l, mine.y), want = slow_conv_bwd_d_reference(d, w, dy, q, unroll);
  const std::int64_t differ = differing(got, want);
  BOOST_TEST(differ == 0, desc << " " << order << " " << dist << ": " << differ << " of " << got.size()
                               << " elements differ from the slow reference");
  BOOST_TEST(beyond_bound(l, got, mine) == 0, desc << " " << order);
}

}  // namespace

// slow-conv-bwd-d against the reference written from PyTorch's and OpenBLAS's
// loops: 1-D, 2-D with groups, stride and dilation, 3-D with strides and depth
// padding; 700 output channels are three K blocks for Q = 320 (320, 192, 188) and
// two for Q = 448 (a rounded half, twice); cancelling data makes every rounding count.
BOOST_AUTO_TEST_CASE(slow_path_backward_data_equals_its_reference) {
  for (const std::string dist : {"normal", "cancel"}) {
    check_slow_conv_bwd_d<float>("mb1ic5iw40oc7kw3pw1", "slow-conv-bwd-d", 448, 16, dist);
    check_slow_conv_bwd_d<float>("mb2g2ic6ih11iw9oc8kh3kw2sh2sw1ph1pw1dh1dw0", "slow-conv-bwd-d", 448, 16, dist);
    check_slow_conv_bwd_d<float>("mb1ic3id6ih7iw5oc5kd3kh3kw3sd2sh1sw2pd1ph2pw1", "slow-conv-bwd-d", 448, 16, dist);
    check_slow_conv_bwd_d<float>("mb1ic2ih6iw5oc700kh3kw2ph1", "slow-conv-bwd-d:kc=haswell-s", 320, 8, dist);
    check_slow_conv_bwd_d<float>("mb1ic2ih6iw5oc700kh3kw2ph1", "slow-conv-bwd-d", 448, 16, dist);
    check_slow_conv_bwd_d<double>("mb1ic3id4ih5iw5oc600kd2kh3kw3ph1", "slow-conv-bwd-d", 384, 16, dist);
  }
}

#if CERTCONV_HAVE_ONEDNN
// The emulated backward kernels against the real library, bit for bit, at 1 and 2
// threads, each checked where oneDNN runs the implementation it reproduces:
// conv1's geometry (ic = 3, the first-conv path), a 3x3 layer with padded output
// channels (24), stride 2, rows split by (n, oh) and by image; dilation; 3-D layers
// (rows (n, od) split inside an image, ic = 3, stride 2); jit:avx2 backward weights
// (ic 4…15, images split at two threads for 8×8 channels); depthwise layers
// (jit_dw, ow cut into segments past 30 columns); a conv1d.
BOOST_AUTO_TEST_CASE(emulated_backward_kernels_equal_onednn) {
  const std::map<std::string, std::string> bwd_d = {{"jit:avx512_core", "onednn-avx512-bwd-d"},
                                                    {"jit_dw:avx512_core", "onednn-avx512-bwd-d"}};
  const std::map<std::string, std::string> bwd_w = {{"jit:avx512_core", "onednn-avx512-bwd-w"},
                                                    {"jit:avx2", "onednn-avx2-bwd-w"},
                                                    {"jit_dw:avx512_core", "onednn-dw-bwd-w"}};
  std::map<std::string, int> checked;
  for (const char* desc :
       {"mb2ic3ih40oc16kh7sh2ph3", "mb2ic32ih28oc24kh3ph1", "mb3ic16ih12oc32kh3sh2ph1", "mb2ic32ih8oc32kh3ph1",
        "mb1ic64ih20oc64kh3ph1", "mb2ic16ih14oc16kh3ph2dh1", "mb4ic16ih20oc32kh3ph2dh1",
        "mb3ic16id5ih8oc16kd3kh3pd1ph1", "mb2ic16id6ih10oc32kd3kh3pd1ph1", "mb2ic3id7ih12oc32kd3kh3sd2sh2pd1ph1",
        "mb2ic16id6ih10oc16kd5kh3pd2ph1", "mb2ic8ih14oc32kh3ph1", "mb2ic4ih20oc8kh3ph1", "mb4ic4ih17iw15oc8kh3kw3sh2sw2ph1pw1",
        "mb8ic8ih14oc24kh3ph1", "mb2ic12ih14oc24kh3sh2ph1", "mb2g32ic32ih14oc32kh3ph1", "mb3g16ic16ih56oc16kh3ph1",
        "mb2g16ic16ih64oc16kh3ph0", "mb2g16ic16ih40iw61oc16kh3kw3sh2sw2ph1pw1", "mb2ic16iw100oc32kw3pw1"})
    for (int threads : {1, 2})
      for (Direction dir : {Direction::bwd_d, Direction::bwd_w}) {
        const ConvDesc d = parse_conv_desc(desc);
        Rng rng(31);
        const auto x = normal_tensor<float>(d.x_shape(), rng), w = normal_tensor<float>(d.w_shape(), rng),
                   dy = normal_tensor<float>(d.y_shape(), rng);
        Operands<float> ops;
        ops.dy = &dy;
        (dir == Direction::bwd_d ? ops.w : ops.x) = dir == Direction::bwd_d ? &w : &x;
        const OnednnResults ran = onednn_direction(d, dir, ops, threads);
        const std::string impl = ran.provenance.at("impl_info_str");
        const auto& orders = dir == Direction::bwd_d ? bwd_d : bwd_w;
        if (!orders.count(impl)) {
          BOOST_TEST_MESSAGE("skipped " << desc << " " << direction_name(dir) << ": oneDNN runs " << impl
                                        << " here, which no order reproduces");
          continue;
        }
        const Tensor<float>& real = ran.results.front();
        const Lowered<float> l = std::move(lower(d, dir, ops).front());
        RunOptions opt;
        opt.threads = threads;
        const std::string order =
            orders.at(impl) + (dir == Direction::bwd_d ? "" : ":threads=" + std::to_string(threads));
        ++checked[orders.at(impl)];
        const OrderOutput<float> mine = run_order(parse_order(order), l.problem.view(), opt);
        const Tensor<float> back = to_result_layout(l, mine.y);
        const std::int64_t differ = differing(back, real);
        BOOST_TEST(differ == 0, desc << " " << order << ": " << differ << " of " << back.size()
                                     << " elements differ from oneDNN");
        BOOST_TEST(beyond_bound(l, back, mine) == 0, desc << " " << order);
      }
  for (const auto& [order, n] : checked) BOOST_TEST_MESSAGE(order << ": " << n << " cases equal oneDNN");
}

BOOST_AUTO_TEST_CASE(backward_weights_thread_split_follows_balance) {
  // nthr_mb of oneDNN's balance() (measured against PyTorch): res2a_branch2b mb 1 and 2,
  // conv1 mb 1, a 32→24 layer at 8x8 (image rows, oh ≤ 9); 3-D: (n, od) rows.
  const auto split = [](const char* desc, int threads) { return onednn_bwd_weights_split(parse_conv_desc(desc), threads); };
  BOOST_TEST(split("mb1ic64ih56oc64kh3ph1", 2).nthr_mb == 1);
  BOOST_TEST(split("mb2ic64ih56oc64kh3ph1", 2).nthr_mb == 2);
  BOOST_TEST(split("mb2ic64ih56oc64kh3ph1", 4).nthr_mb == 2);
  BOOST_TEST(split("mb1ic3ih224oc64kh7sh2ph3", 2).nthr_mb == 2);
  BOOST_TEST(split("mb2ic64ih56oc64kh3ph1", 2).rows == 2 * 56);
  const auto small = split("mb2ic32ih8oc24kh3ph1", 2);
  BOOST_TEST(!small.rows_are_oh);
  BOOST_TEST(small.nthr_mb == 1);
  // 3-D: one 16-channel oc block splits rows (n, od) over both threads, even inside an
  // image (mb 3, od 5: 8 + 7 rows); two oc blocks split the channels instead.
  const auto d3 = split("mb3ic16id5ih8oc16kd3kh3pd1ph1", 2);
  BOOST_TEST(!d3.rows_are_oh);
  BOOST_TEST(d3.rows == 15);
  BOOST_TEST(d3.nthr_mb == 2);
  BOOST_TEST(split("mb2ic16id6ih10oc32kd3kh3pd1ph1", 2).nthr_mb == 1);
}
#endif
