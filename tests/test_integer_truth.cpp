#define BOOST_TEST_MODULE integer_truth
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <iostream>

#include "certconv/exact/generate.hpp"
#include "certconv/exact/integer_truth.hpp"
#include "certconv/exact/truth.hpp"
#include "dot_cases.hpp"
#include "truth_layers.hpp"

using namespace certconv;

namespace {

using Layer = test::Layer<float>;
using test::same_truth;

Layer layer(const char* desc, const std::string& dist, std::uint64_t seed, bool bias) {
  return test::layer<float>(desc, dist, seed, bias);
}

// Whether this machine can run the method at all (else every check is skipped).
bool runnable() {
  static const bool yes = [] {
    const Layer l = layer("mb1ic4ih3oc1kh1", "normal", 1, false);
    const std::string why = integer_truth_refusal(l.problem());
    if (!why.empty()) std::cout << "integer truth checks skipped: " << why << "\n";
    return why.empty();
  }();
  return yes;
}

// Method integer equals method exact bit for bit (with and without absdot, 1, 2 and
// 3 threads). Returns its fallback count.
std::int64_t check_integer_equals_exact(const ConvProblem<float>& p, const std::string& what) {
  const std::string why = integer_truth_refusal(p);
  BOOST_TEST_REQUIRE(why.empty(), what << ": refused: " << why);
  TruthOptions opt;
  opt.method = TruthMethod::exact;
  const Truth exact = compute_truth(p, opt);
  opt.method = TruthMethod::integer;
  std::int64_t fallback = -1;
  // 2 threads split the two-image layers by image, 3 share each image.
  for (const int threads : {1, 2, 3}) {
    opt.threads = threads;
    opt.absdot = true;
    const Truth t = compute_truth(p, opt);
    BOOST_TEST(same_truth(t, exact), what << ": method integer differs from method exact, " << threads << " threads");
    BOOST_TEST(t.kernel.rfind("integer, ", 0) == 0, t.kernel);
    if (fallback < 0) fallback = t.fallback;
    BOOST_TEST(t.fallback == fallback);
    opt.absdot = false;
    Truth y_only = compute_truth(p, opt);
    BOOST_TEST(y_only.absdot.data.empty());
    y_only.absdot = exact.absdot;
    BOOST_TEST(same_truth(y_only, exact), what << ": method integer without absdot, " << threads << " threads");
  }
  return fallback;
}

constexpr const char* kShapes[] = {
    "mb2ic4ih7iw6oc6oh7ow6kh3kw3ph1pw1",        // padding, non-square, two images
    "mb1ic6ih9oc14kh3sh2ph1",                   // stride: one run per output row
    "mb1ic3ih11oc2kh3dh1ph2",                   // dilation, 3 channels (a padded quad)
    "mb1ic3ih8iw9oc7kh2kw3sh1sw2ph0pw2dh2dw0",  // column stride only, asymmetric
    "mb1ic2ih5oc3kh5ph4",                       // outputs made of padding only
    "mb1ic3ih23oc13kh7sh2ph3",                  // the seed layer, small
    "mb2ic9ih9iw4oc19kh3kw3ph1pw0",             // short rows, a tail of 3 channels
    "mb1ic40ih12oc33kh1",                       // 1×1: tails of rows (33 = 5·6 + 3) and quads
    "mb2ic4ih30oc16kh28",                       // 3×3 outputs of 784 taps
};

}  // namespace

BOOST_AUTO_TEST_CASE(layers_random_integer_bias) {
  if (!runnable()) return;
  for (const char* d : kShapes) {
    // Products exact, the bias too: nothing falls back.
    BOOST_TEST(check_integer_equals_exact(layer(d, "kaiming", 1, false).problem(), d) == 0);
    BOOST_TEST(check_integer_equals_exact(layer(d, "integer", 3, true).problem(), d) == 0);
    // Wider spreads: where the moduli reach (all but the 3,136-term layer's).
    // With a bias: it joins the high part exactly, so nothing falls back either.
    for (const char* dist : {"normal", "wide:decades=6"}) {
      const Layer l = layer(d, dist, 2, true);
      if (integer_truth_refusal(l.problem()).empty() || std::string(d) != "mb2ic4ih30oc16kh28")
        BOOST_TEST(check_integer_equals_exact(l.problem(), std::string(d) + " " + dist) == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(subnormal_and_huge_exponents) {
  if (!runnable()) return;
  // Within the twelve moduli's reach: subnormal inputs alone, and huge weights alone.
  for (const char* d : kShapes) {
    Layer f = layer(d, "integer", 8, true);
    for (std::size_t i = 0; i < f.x.data.size(); ++i) f.x.data[i] = std::ldexp(f.x.data[i], -140);
    check_integer_equals_exact(f.problem(), std::string(d) + " subnormal x");
    Layer g = layer(d, "normal", 9, false);
    for (std::size_t i = 0; i < g.w.data.size(); ++i) g.w.data[i] = std::ldexp(g.w.data[i], 100);
    check_integer_equals_exact(g.problem(), std::string(d) + " huge w");
  }
  // A spread the moduli cannot hold is refused by name.
  Layer h = layer("mb1ic8ih6oc5kh3ph1", "normal", 10, false);
  h.x.data[0] = 0x1p-140f;
  h.x.data[1] = 0x1p100f;
  BOOST_TEST(integer_truth_refusal(h.problem()).find("moduli") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gendot_ill_conditioned) {
  if (!runnable()) return;
  // Cancellation costs nothing here: the sum is exact before it is rounded.
  for (const char* c : {"1e3", "1e12"})
    BOOST_TEST(check_integer_equals_exact(layer("mb1ic8ih6oc5kh3ph1", std::string("gendot:cond=") + c, 10, false).problem(), c) == 0);
  // GenDot reaches cond 1e30 by exponents 2^±50 apart: beyond the moduli.
  BOOST_TEST(!integer_truth_refusal(layer("mb1ic8ih6oc5kh3ph1", "gendot:cond=1e30", 10, false).problem()).empty());
}

// The foundation's sums of binary32 products (ties, subnormals, exact cancellation,
// huge exponents) as 1×1 convolutions, where the moduli reach.
BOOST_AUTO_TEST_CASE(foundation_dot_cases) {
  if (!runnable()) return;
  int run = 0;
  for (const test::DotCase& c : test::all_cases()) {
    const std::int64_t n = std::max<std::int64_t>(1, static_cast<std::int64_t>(c.terms.size()));
    const ConvSpec s = parse_benchdnn("mb1ic" + std::to_string(n) + "ih1oc1kh1");
    Tensor<float> x(s.x_shape()), w(s.w_shape());
    bool binary32 = true;
    for (std::size_t i = 0; i < c.terms.size(); ++i) {
      const test::Term& t = c.terms[i];
      const double b = t.kind == test::Term::single ? 1.0 : t.b;
      x.data[i] = static_cast<float>(t.a);
      w.data[i] = static_cast<float>(b);
      binary32 = binary32 && x.data[i] == t.a && w.data[i] == b;
    }
    const ConvProblem<float> p{s, x, w, nullptr};
    if (!binary32 || !integer_truth_refusal(p).empty()) continue;
    check_integer_equals_exact(p, c.name);
    ++run;
  }
  BOOST_TEST(run >= 5);
}

BOOST_AUTO_TEST_CASE(refusals) {
  if (!runnable()) return;
  const Layer g = layer("mb1g2ic4ih5oc4kh3", "normal", 1, false);
  BOOST_TEST(integer_truth_refusal(g.problem()) == "grouped convolutions are not supported");
  const Layer l = layer("mb1ic4ih5oc2kh3", "normal", 1, false);
  BOOST_TEST(integer_truth_refusal(l.problem()).empty());
  BOOST_TEST(std::string(truth_method_name(TruthMethod::integer)) == "integer");
}
