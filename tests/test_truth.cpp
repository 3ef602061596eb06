#define BOOST_TEST_MODULE truth
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"

using namespace certconv;

namespace {

// Independent naive loop: PyTorch-style index arithmetic written out again,
// padding taps included as explicit zero checks.
template <class T>
void naive_output(const ConvSpec& s, const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b, std::int64_t n,
                  std::int64_t oc, std::int64_t oy, std::int64_t ox, ExactAccumulator& acc, ExactAccumulator& abs) {
  acc.clear();
  abs.clear();
  const std::int64_t cin = s.ic / s.g, cout = s.oc / s.g, grp = oc / cout;
  for (std::int64_t c = 0; c < cin; ++c)
    for (std::int64_t ky = 0; ky < s.kh; ++ky)
      for (std::int64_t kx = 0; kx < s.kw; ++kx) {
        const std::int64_t iy = oy * s.sh + ky * (s.dh + 1) - s.ph;
        const std::int64_t ix = ox * s.sw + kx * (s.dw + 1) - s.pw;
        if (iy < 0 || ix < 0 || iy >= s.ih || ix >= s.iw) continue;
        const T wv = w(oc, c, ky, kx), xv = x(n, grp * cin + c, iy, ix);
        acc.add_product(wv, xv);
        abs.add_abs_product(wv, xv);
      }
  if (b) {
    acc.add(double(b->data[oc]));
    abs.add(std::fabs(double(b->data[oc])));
  }
}

// Scales every value by 2^k, k uniform in [-spread, spread]: wide spreads force
// the general accumulator path, narrow ones the 128-bit fixed-point window.
template <class T>
void widen(Tensor<T>& t, int spread, Rng& rng) {
  for (auto& v : t.data) v = std::ldexp(v, static_cast<int>(rng.bits() % (2 * spread + 1)) - spread);
}

template <class T>
void check_layer(const char* desc, std::uint64_t seed, bool with_bias, int spread = 0) {
  const ConvSpec s = parse_benchdnn(desc);
  Rng rng(seed);
  auto x = normal_tensor<T>(s.x_shape(), rng);
  auto w = normal_tensor<T>(s.w_shape(), rng);
  auto b = normal_tensor<T>({s.oc}, rng);
  widen(x, spread, rng);
  widen(w, spread, rng);
  ConvProblem<T> p{s, x, w, with_bias ? &b : nullptr};
  TruthOptions opt;
  opt.threads = 1;
  const Truth t1 = compute_truth(p, opt);
  opt.threads = 3;
  const Truth t3 = compute_truth(p, opt);
  BOOST_TEST(t1.y.shape == s.y_shape());
  ExactAccumulator acc, abs;
  std::int64_t mismatches = 0, i = 0, zeros = 0;
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t oc = 0; oc < s.oc; ++oc)
      for (std::int64_t oy = 0; oy < s.oh; ++oy)
        for (std::int64_t ox = 0; ox < s.ow; ++ox, ++i) {
          naive_output(s, x, w, with_bias ? &b : nullptr, n, oc, oy, ox, acc, abs);
          const auto k = static_cast<std::size_t>(i);
          mismatches += t1.y.data[k] != acc.round() || t1.y32.data[k] != acc.round_f32() ||
                        t1.lo.data[k] != acc.round(Rounding::down) || t1.hi.data[k] != acc.round(Rounding::up) ||
                        t1.absdot.data[k] != abs.round(Rounding::up);
          zeros += acc.sign() == 0;
        }
  BOOST_TEST(mismatches == 0, desc << ": " << mismatches << " outputs differ from the naive loop");
  BOOST_TEST(t1.exact_zeros == zeros);
  BOOST_TEST((t1.y.data == t3.y.data && t1.lo.data == t3.lo.data && t1.hi.data == t3.hi.data &&
              t1.absdot.data == t3.absdot.data && t1.y32.data == t3.y32.data),
             "results depend on the thread count");
}

}  // namespace

BOOST_AUTO_TEST_CASE(layers_equal_naive_loop) {
  for (const char* d : {"mb2ic4ih7iw6oc6oh7ow6kh3kw3ph1pw1",       // padding, non-square
                        "mb1g2ic6ih9oc4kh3sh2ph1",                   // groups + stride
                        "mb1ic3ih11oc2kh3dh1ph2",                    // dilation (PyTorch 2)
                        "mb1g3ic3ih8iw9oc3kh2kw3sh1sw2ph0pw2dh2dw0", // depthwise, asymmetric
                        "mb1ic2ih5oc3kh5ph4"}) {                     // outputs made of padding only
    check_layer<float>(d, 7, false);
    check_layer<float>(d, 8, true);
    check_layer<double>(d, 9, true);
    check_layer<float>(d, 10, true, 60);  // past the fixed-point window
    check_layer<float>(d, 11, false, 20);
    check_layer<double>(d, 12, true, 400);
  }
}

BOOST_AUTO_TEST_CASE(subnormal_and_huge_binary32_inputs) {
  const ConvSpec s = parse_benchdnn("mb1ic4ih5oc3kh3ph1");
  Rng rng(3);
  auto x = normal_tensor<float>(s.x_shape(), rng);
  auto w = normal_tensor<float>(s.w_shape(), rng);
  for (std::size_t i = 0; i < x.data.size(); i += 3) x.data[i] = std::ldexp(x.data[i], -140);  // subnormal
  for (std::size_t i = 0; i < w.data.size(); i += 5) w.data[i] = std::ldexp(w.data[i], 120);
  ConvProblem<float> p{s, x, w, nullptr};
  const Truth t = compute_truth(p, {});
  ExactAccumulator acc, abs;
  std::int64_t bad = 0;
  for (std::int64_t oc = 0; oc < s.oc; ++oc)
    for (std::int64_t oy = 0; oy < s.oh; ++oy)
      for (std::int64_t ox = 0; ox < s.ow; ++ox) {
        naive_output(s, x, w, static_cast<const Tensor<float>*>(nullptr), 0, oc, oy, ox, acc, abs);
        bad += t.y(0, oc, oy, ox) != acc.round() || t.y32(0, oc, oy, ox) != acc.round_f32();
      }
  BOOST_TEST(bad == 0);
}

BOOST_AUTO_TEST_CASE(enclosure_and_cond) {
  const ConvSpec s = parse_benchdnn("mb1ic2ih4oc2kh2");
  Tensor<float> x(s.x_shape(), 1.0f), w(s.w_shape(), 0.5f);
  w(1, 0, 0, 0) = 0x1p-30f;  // output channel 1 no longer sums exactly to a binary32 power of two
  for (std::int64_t c = 0; c < 2; ++c) w(0, c, 1, 1) = -0.5f;
  ConvProblem<float> p{s, x, w, nullptr};
  const Truth t = compute_truth(p, {});
  // Channel 0: 2·(3·0.5 − 0.5) = 2 exactly, absdot 4, cond 2.
  BOOST_TEST(t.y(0, 0, 0, 0) == 2.0);
  BOOST_TEST(t.lo(0, 0, 0, 0) == 2.0);
  BOOST_TEST(t.hi(0, 0, 0, 0) == 2.0);
  BOOST_TEST(t.absdot(0, 0, 0, 0) == 4.0);
  BOOST_TEST(cond_of(t.absdot(0, 0, 0, 0), t.y(0, 0, 0, 0)) == 2.0);
  // Channel 1: 3.5 + 2^-30, exact in binary64, rounds to 3.5 in binary32.
  BOOST_TEST(t.y(0, 1, 0, 0) == 3.5 + 0x1p-30);
  BOOST_TEST(t.y32(0, 1, 0, 0) == 3.5f);
  BOOST_TEST(cond_of(0.0, 0.0) == std::numeric_limits<double>::infinity());
}

BOOST_AUTO_TEST_CASE(inexact_outputs_have_tight_enclosures) {
  const ConvSpec s = parse_benchdnn("mb1ic1ih1oc1kh1");
  Tensor<double> x(s.x_shape(), 0.1), w(s.w_shape(), 0.1);
  const Truth t = compute_truth(ConvProblem<double>{s, x, w, nullptr}, {});
  BOOST_TEST(t.lo.data[0] < t.hi.data[0]);
  BOOST_TEST(std::nextafter(t.lo.data[0], 1.0) == t.hi.data[0]);
  BOOST_TEST((t.y.data[0] == t.lo.data[0] || t.y.data[0] == t.hi.data[0]));
  BOOST_TEST(t.y.data[0] == 0.1 * 0.1);  // one product: RN of the exact value is fl(0.1·0.1)
}

BOOST_AUTO_TEST_CASE(non_finite_inputs_are_rejected_with_index) {
  const ConvSpec s = parse_benchdnn("mb1ic2ih3oc1kh1");
  Tensor<float> x(s.x_shape(), 1.0f), w(s.w_shape(), 1.0f), b({1}, 0.0f);
  x(0, 1, 2, 0) = std::numeric_limits<float>::quiet_NaN();
  try {
    compute_truth(ConvProblem<float>{s, x, w, nullptr}, {});
    BOOST_FAIL("NaN accepted");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("x: non-finite value at index [0, 1, 2, 0]") != std::string::npos, e.what());
  }
  x(0, 1, 2, 0) = 1.0f;
  b.data[0] = std::numeric_limits<float>::infinity();
  BOOST_CHECK_THROW(compute_truth(ConvProblem<float>{s, x, w, &b}, {}), InputError);
  Tensor<float> wrong({1, 2, 3, 4}, 1.0f);
  try {
    compute_truth(ConvProblem<float>{s, wrong, w, nullptr}, {});
    BOOST_FAIL("shape mismatch accepted");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("x: shape (1, 2, 3, 4)") != std::string::npos, e.what());
  }
}
