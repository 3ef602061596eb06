#define BOOST_TEST_MODULE fast_truth
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>

#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/fast_truth.hpp"
#include "certconv/exact/round_enclosure.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "dot_cases.hpp"
#include "truth_layers.hpp"

using namespace certconv;

namespace {

// ---- round_enclosure against the exact accumulator ------------------------------

// The exact roundings of a + b + d (d a binary64 number).
Roundings exact_roundings(double a, double b, double d = 0) {
  ExactAccumulator acc;
  acc.add(a);
  acc.add(b);
  acc.add(d);
  return acc.round_all();
}

bool same_bits(double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; }
bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }

// When the enclosure a + b ± err decides, its answers must be the roundings of every
// value inside: checked at both ends and the middle.
void check_enclosure(double a, double b, double err) {
  const EnclosureRoundings r = round_enclosure(a, b, err);
  double up_ad = 0;
  const bool up_decided = round_up_enclosure(a, b, err, up_ad);
  for (double d : {-err, 0.0, err}) {
    const Roundings e = exact_roundings(a, b, d);
    if (r.decided) {
      BOOST_TEST(same_bits(r.nearest, e.nearest), std::hexfloat << a << " + " << b << " + " << d);
      BOOST_TEST(same_bits(r.down, e.down), std::hexfloat << a << " + " << b << " + " << d);
      BOOST_TEST(same_bits(r.up, e.up), std::hexfloat << a << " + " << b << " + " << d);
      BOOST_TEST(same_bits(r.nearest_f32, e.nearest_f32), std::hexfloat << a << " + " << b << " + " << d);
      BOOST_TEST(r.zero == (e.sign == 0));
    }
    if (up_decided) BOOST_TEST(same_bits(up_ad, e.up), std::hexfloat << a << " + " << b << " + " << d);
  }
}

// ---- layers: method auto against method exact ------------------------------------

using test::Layer;
using test::layer;
using test::same_data;
using test::same_truth;

Truth empty_truth(const ConvSpec& s) {
  const auto shape = s.y_shape();
  return Truth{Tensor<double>(shape), Tensor<float>(shape), Tensor<double>(shape), Tensor<double>(shape),
               Tensor<double>(shape), 0, 0, 0, {}};
}

// Method auto equals method exact bit for bit, for 1 and 3 threads; every kernel
// build agrees with the exact path on what it decides and leaves the same outputs
// undecided. Returns auto's fallback count.
template <class T>
std::int64_t check_auto_equals_exact(const ConvProblem<T>& p, const std::string& what) {
  TruthOptions opt;
  opt.method = TruthMethod::exact;
  const Truth exact = compute_truth(p, opt);
  opt.method = TruthMethod::auto_;
  opt.threads = 1;
  const Truth a1 = compute_truth(p, opt);
  opt.threads = 3;
  const Truth a3 = compute_truth(p, opt);
  BOOST_TEST(same_truth(a1, exact), what << ": method auto differs from method exact");
  BOOST_TEST(same_truth(a3, exact), what << ": method auto with 3 threads differs from method exact");
  BOOST_TEST(a1.fallback == a3.fallback);
  BOOST_TEST(exact.fallback == p.spec.y_size());
  // Without absdot (no Σ|w·x| pass): the same y, y32, lo, hi, zeros, at most the same fallback.
  for (const int threads : {1, 3}) {
    opt.threads = threads;
    opt.absdot = false;
    Truth y_only = compute_truth(p, opt);
    BOOST_TEST(y_only.absdot.data.empty());
    BOOST_TEST(y_only.fallback <= a1.fallback);
    y_only.absdot = exact.absdot;
    BOOST_TEST(same_truth(y_only, exact), what << ": method auto without absdot, " << threads << " threads");
  }

  std::vector<std::int64_t> first;
  for (KernelIsa isa : supported_isas()) {
    Truth t = empty_truth(p.spec);
    const std::vector<std::int64_t> undecided = fast_truth(p, FastTruthOptions{2, isa}, t);
    BOOST_TEST(static_cast<std::int64_t>(undecided.size()) == a1.fallback, what << " " << isa_name(isa));
    {  // the kernels without the Σ|w·x| pass decide the same values
      Truth y_only = empty_truth(p.spec);
      const std::vector<std::int64_t> u_only = fast_truth(p, FastTruthOptions{2, isa, false}, y_only);
      BOOST_TEST(std::includes(undecided.begin(), undecided.end(), u_only.begin(), u_only.end()));
      std::int64_t wrong = 0;
      std::size_t k = 0;
      for (std::size_t i = 0; i < y_only.y.data.size(); ++i) {
        if (k < u_only.size() && u_only[k] == static_cast<std::int64_t>(i)) {
          ++k;
          continue;
        }
        wrong += !same_bits(y_only.y.data[i], exact.y.data[i]) || !same_bits(y_only.y32.data[i], exact.y32.data[i]) ||
                 !same_bits(y_only.lo.data[i], exact.lo.data[i]) || !same_bits(y_only.hi.data[i], exact.hi.data[i]);
      }
      BOOST_TEST(wrong == 0, what << ": " << isa_name(isa) << " without absdot decided " << wrong << " wrongly");
    }
    if (first.empty()) first = undecided;
    BOOST_TEST(undecided == first, what << ": " << isa_name(isa) << " leaves other outputs undecided");
    std::int64_t bad = 0, zeros = 0;
    std::size_t u = 0;
    for (std::size_t i = 0; i < t.y.data.size(); ++i) {
      if (u < undecided.size() && undecided[u] == static_cast<std::int64_t>(i)) {
        ++u;
        continue;
      }
      bad += !same_bits(t.y.data[i], exact.y.data[i]) || !same_bits(t.y32.data[i], exact.y32.data[i]) ||
             !same_bits(t.lo.data[i], exact.lo.data[i]) || !same_bits(t.hi.data[i], exact.hi.data[i]) ||
             !same_bits(t.absdot.data[i], exact.absdot.data[i]);
      zeros += exact.lo.data[i] == 0 && exact.hi.data[i] == 0;
    }
    BOOST_TEST(bad == 0, what << ": " << isa_name(isa) << " decided " << bad << " outputs wrongly");
    BOOST_TEST(t.exact_zeros == zeros, what << ": " << isa_name(isa));
  }
  return a1.fallback;
}

constexpr const char* kShapes[] = {
    "mb2ic4ih7iw6oc6oh7ow6kh3kw3ph1pw1",        // padding, non-square, two images
    "mb1g2ic6ih9oc14kh3sh2ph1",                 // groups + stride, blocks of channels
    "mb1ic3ih11oc2kh3dh1ph2",                   // dilation (PyTorch 2)
    "mb1g3ic3ih8iw9oc3kh2kw3sh1sw2ph0pw2dh2dw0",  // depthwise, asymmetric
    "mb1ic2ih5oc3kh5ph4",                       // outputs made of padding only
    "mb1ic3ih23oc13kh7sh2ph3",                  // the seed layer, small
    "mb2ic3ih9iw4oc19kh3kw3ph1pw0",             // rows of 2 columns: lanes across channels, a tail of 3
    "mb1g2ic6ih12iw7oc20kh3kw3sh1sw2ph1pw1",    // rows of 4, groups of 10 channels, stride 2
    "mb2ic4ih30oc16kh28",                       // BWD_W-like: 3×3 outputs of 784 taps
};

}  // namespace

BOOST_AUTO_TEST_CASE(enclosure_roundings_random) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> e(-60, 60);
  int decided = 0;
  for (int i = 0; i < 20000; ++i) {
    const double a = std::ldexp(normal(rng), e(rng));
    const double b = a * std::ldexp(normal(rng), -40 - e(rng) % 20);
    const double err = i % 3 == 0 ? 0.0 : std::fabs(a) * std::ldexp(std::fabs(normal(rng)), -100 + e(rng) / 2);
    check_enclosure(a, b, err);
    decided += round_enclosure(a, b, err).decided;
  }
  BOOST_TEST(decided > 19000);  // the checks above mostly test decided answers
}

BOOST_AUTO_TEST_CASE(enclosure_roundings_edges) {
  // Exact ties (err = 0): RN by IEEE addition, RD/RU its neighbours.
  check_enclosure(1, 0x1p-53, 0);
  check_enclosure(1, 0x3p-53, 0);
  check_enclosure(-1, -0x1p-53, 0);
  // Binade boundary: r a power of two, v just below it (the gap below is half).
  check_enclosure(1, -0x1p-60, 0);
  check_enclosure(1, -0x1p-54, 0);
  check_enclosure(1, -0x1p-60, 0x1p-80);
  // Double rounding: RN32(1 + 2^-24 + 2^-60) = 1 + 2^-23, though RN32(RN64(·)) = 1.
  check_enclosure(1 + 0x1p-24, 0x1p-60, 0);
  const EnclosureRoundings dr = round_enclosure(1 + 0x1p-24, 0x1p-60, 0);
  BOOST_TEST(dr.decided);
  BOOST_TEST(dr.nearest_f32 == 1 + 0x1p-23f);
  // Exact values and zero.
  const EnclosureRoundings z = round_enclosure(0, 0, 0);
  BOOST_TEST((z.decided && z.zero && z.nearest == 0 && !std::signbit(z.nearest)));
  BOOST_TEST(!round_enclosure(0, 0, 0x1p-100).decided);  // 0 ± err: sign unknown
  const EnclosureRoundings ex = round_enclosure(3, 0.25, 0);
  BOOST_TEST((ex.decided && ex.down == 3.25 && ex.up == 3.25 && !ex.zero));
  // Undecided: sign of v − r unknown, a tie within reach, near overflow, near underflow.
  BOOST_TEST(!round_enclosure(1, 0x1p-60, 0x1p-60).decided);
  BOOST_TEST(!round_enclosure(1, 0x1p-53, 0x1p-200).decided);
  BOOST_TEST(!round_enclosure(0x1p1001, 1, 0).decided);
  BOOST_TEST(!round_enclosure(0x1p-1030, 0x1p-1060, 0x1p-1070).decided);
  BOOST_TEST(round_enclosure(1, 0x1p-60, 0x1p-62).decided);
  double up_ad = 0;
  BOOST_TEST(round_up_enclosure(1, 0x1p-53, 0x1p-200, up_ad));  // RU needs no midpoint
  BOOST_TEST(up_ad == 1 + 0x1p-52);
  BOOST_TEST(!round_up_enclosure(1, 0x1p-60, 0x1p-60, up_ad));
}

BOOST_AUTO_TEST_CASE(layers_random_integer_bias) {
  for (const char* d : kShapes) {
    // Ordinary binary32 data: the exact-window argument decides every output.
    BOOST_TEST(check_auto_equals_exact(layer<float>(d, "kaiming", 1, false).problem(), d) == 0);
    BOOST_TEST(check_auto_equals_exact(layer<float>(d, "normal", 2, true).problem(), d) == 0);
    BOOST_TEST(check_auto_equals_exact(layer<float>(d, "integer", 3, false).problem(), d) == 0);
    BOOST_TEST(check_auto_equals_exact(layer<double>(d, "integer", 4, true).problem(), d) == 0);
    check_auto_equals_exact(layer<double>(d, "normal", 5, true).problem(), d);
    check_auto_equals_exact(layer<float>(d, "wide:decades=30", 6, true).problem(), d);
    check_auto_equals_exact(layer<double>(d, "wide:decades=60", 7, false).problem(), d);
  }
}

BOOST_AUTO_TEST_CASE(subnormal_and_huge_exponents) {
  for (const char* d : kShapes) {
    Layer<float> f = layer<float>(d, "normal", 8, true);
    for (std::size_t i = 0; i < f.x.data.size(); i += 3) f.x.data[i] = std::ldexp(f.x.data[i], -140);  // subnormal
    for (std::size_t i = 0; i < f.w.data.size(); i += 5) f.w.data[i] = std::ldexp(f.w.data[i], 120);
    check_auto_equals_exact(f.problem(), d);
    Layer<double> g = layer<double>(d, "normal", 9, true);
    for (std::size_t i = 0; i < g.x.data.size(); i += 3) g.x.data[i] = std::ldexp(g.x.data[i], -1060);
    for (std::size_t i = 0; i < g.w.data.size(); i += 4) g.w.data[i] = std::ldexp(g.w.data[i], 990);  // overflow edge
    for (std::size_t i = 1; i < g.w.data.size(); i += 4) g.w.data[i] = std::ldexp(g.w.data[i], -500);
    check_auto_equals_exact(g.problem(), d);
  }
}

BOOST_AUTO_TEST_CASE(gendot_ill_conditioned) {
  // n = 72 terms per interior output; cond up to 1e30 (binary32) and 1e300 (binary64).
  const char* d = "mb1ic8ih6oc5kh3ph1";
  std::int64_t fallback_f32 = 0, fallback_f64 = 0;
  for (const char* c : {"1e3", "1e12", "1e30"})
    fallback_f32 += check_auto_equals_exact(layer<float>(d, std::string("gendot:cond=") + c, 10, false).problem(), c);
  for (const char* c : {"1e3", "1e30", "1e100", "1e300"})
    fallback_f64 += check_auto_equals_exact(layer<double>(d, std::string("gendot:cond=") + c, 11, true).problem(), c);
  // Extreme cancellation is what the exact path is for.
  BOOST_TEST(fallback_f64 > 0);
}

// Every sum of products of the foundation's tests (tests/dot_cases.hpp: ties,
// subnormals, largest finite values, exact cancellation, huge exponents, GenDot) as
// a 1×1 convolution over ic = n channels: x = first factors, w = second factors (1
// for single terms).
BOOST_AUTO_TEST_CASE(foundation_dot_cases) {
  for (const test::DotCase& c : test::all_cases()) {
    const std::int64_t n = std::max<std::int64_t>(1, static_cast<std::int64_t>(c.terms.size()));
    const ConvSpec s = parse_benchdnn("mb1ic" + std::to_string(n) + "ih1oc1kh1");
    Tensor<double> x(s.x_shape()), w(s.w_shape());
    bool binary32 = true;
    for (std::size_t i = 0; i < c.terms.size(); ++i) {
      const test::Term& t = c.terms[i];
      x.data[i] = t.a;
      w.data[i] = t.kind == test::Term::single ? 1.0 : t.b;
      binary32 = binary32 && static_cast<float>(x.data[i]) == x.data[i] && static_cast<float>(w.data[i]) == w.data[i];
    }
    check_auto_equals_exact(ConvProblem<double>{s, x, w, nullptr}, c.name);
    if (binary32) {
      Tensor<float> xf(s.x_shape()), wf(s.w_shape());
      for (std::size_t i = 0; i < c.terms.size(); ++i) {
        xf.data[i] = static_cast<float>(x.data[i]);
        wf.data[i] = static_cast<float>(w.data[i]);
      }
      check_auto_equals_exact(ConvProblem<float>{s, xf, wf, nullptr}, c.name + " (binary32)");
    }
  }
}

BOOST_AUTO_TEST_CASE(method_names) {
  BOOST_TEST(std::string(truth_method_name(TruthOptions{}.method)) == "auto");
  BOOST_TEST(std::string(truth_method_name(TruthMethod::exact)) == "exact");
  BOOST_TEST(std::string(truth_method_name(TruthMethod::mpfi)) == "mpfi");
  BOOST_TEST(isa_name(supported_isas().front()) == "generic");
}
