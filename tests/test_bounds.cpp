#define BOOST_TEST_MODULE bounds
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "certconv/core/format.hpp"
#include "certconv/bounds/order_free.hpp"
#include "certconv/bounds/probabilistic.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/core/taps.hpp"

using namespace certconv;

namespace {

template <class T>
using Problem = OwnedProblem<T>;

// |ŷ − y| for every output, y the exact convolution, rounded up: exact sums of the
// products, the bias and −ŷ (the truth's own accumulator), so even a binary64 error
// below one ulp of y is measured without slack.
template <class T>
std::vector<double> exact_errors(const ConvProblem<T>& p, const Tensor<T>& yhat) {
  const ConvSpec& s = p.spec;
  std::vector<double> e(yhat.data.size());
  ExactAccumulator acc;
  for (std::int64_t i = 0; i < s.y_size(); ++i) {
    const OutputIndex o = output_index(s, i);
    acc.clear();
    for_each_tap(s, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
      acc.add_product(p.w.data[static_cast<std::size_t>(wo)], p.x.data[static_cast<std::size_t>(xo)]);
    });
    if (p.bias) acc.add(static_cast<double>(p.bias->data[static_cast<std::size_t>(o.oc)]));
    acc.add(-static_cast<double>(yhat.data[static_cast<std::size_t>(i)]));
    e[static_cast<std::size_t>(i)] = acc.sign() >= 0 ? acc.round(Rounding::up) : -acc.round(Rounding::down);
  }
  return e;
}

// Every order variant (parameters that change the summation tree included).
const char* const kVariants[] = {
    "direct",
    "direct:fma=1",
    "im2col",
    "im2col:fma=1",
    "gemm-blocked",
    "gemm-blocked:fma=0",
    "gemm-blocked:kc=7,unroll=4",
    "gemm-blocked:kc=9,driver=threaded",
    "onednn-avx512",
    "onednn-avx512:block=4",
    "onednn-avx2",
    "onednn-avx2:fma=0",
    "pairwise",
    "pairwise:fma=1",
    "kahan",
    "kahan:fma=1",
    "split-k",
    "split-k:parts=5,fma=0",
    "gemm-blocked:bias=last",
    "onednn-avx512:block=4,bias=init",
    "openblas-haswell",
    "openblas-haswell:bias=last",
};

struct Check {
  std::size_t violations = 0, running_violations = 0, order_free_violations = 0;
  double worst = 0;  // max err/bound
};

template <class T>
Check check_order(const std::string& order, const Problem<T>& p, const Truth& t) {
  const OrderOutput<T> out = run_order(parse_order(order), p.view(), RunOptions{2, true});
  BOOST_REQUIRE(out.bound.data.size() == out.y.data.size());
  BOOST_REQUIRE(out.running_bound.data.size() == out.y.data.size());
  const std::int64_t n = p.spec.n_terms() + (p.bias ? 1 : 0);
  const bool tree = order.rfind("kahan", 0) != 0;  // Kahan is not a recursive summation
  const std::vector<double> err = exact_errors(p.view(), out.y);
  Check c;
  for (std::size_t i = 0; i < out.y.data.size(); ++i) {
    const double e = err[i];
    c.violations += e > out.bound.data[i];
    c.running_violations += e > out.running_bound.data[i];
    if (tree) c.order_free_violations += e > order_free_bound(t.absdot.data[i], n, dtype_of<T>(), Products::fused);
    if (out.bound.data[i] > 0) c.worst = std::max(c.worst, e / out.bound.data[i]);
  }
  return c;
}

template <class T>
Problem<T> generated(const std::string& desc, const std::string& dist, std::uint64_t seed, bool with_bias) {
  Problem<T> p;
  p.spec = parse_benchdnn(desc);
  Generated<T> g = generate_inputs<T>(p.spec, dist, seed);
  p.x = std::move(g.x);
  p.w = std::move(g.w);
  if (with_bias) {
    Rng rng(seed + 99);
    p.bias = normal_tensor<T>({p.spec.oc}, rng);
  }
  return p;
}

// Inputs scaled so that most products, partial sums and outputs are subnormal.
template <class T>
Problem<T> subnormal(const std::string& desc, std::uint64_t seed) {
  Problem<T> p = generated<T>(desc, "normal", seed, true);
  const int e = sizeof(T) == 4 ? -70 : -540;
  for (auto* v : {&p.x, &p.w})
    for (T& a : v->data) a = std::ldexp(a, e);
  for (T& a : p.bias->data) a = std::ldexp(a, 2 * e);
  return p;
}

template <class T>
Truth truth(const Problem<T>& p) {
  TruthOptions o;
  o.threads = 2;
  return compute_truth(p.view(), o);
}

}  // namespace

// (c) No violation, for every order, on normal, uniform, Kaiming-uniform, mixed-sign
// wide-exponent, subnormal-producing and GenDot ill-conditioned inputs. The running
// bound and (for recursive summations) the order-free bound hold as well.
// Without the running bound (certconv run --bound, no --running) the output and the
// rigorous bound are the same bits; only the running pass is skipped.
BOOST_AUTO_TEST_CASE(the_tree_bound_does_not_need_the_running_pass) {
  const Problem<float> p = generated<float>("g2mb1ic16ih7oc4oh7kh3ph1", "normal", 3, true);
  for (const char* order : kVariants) {
    const OrderOutput<float> both = run_order(parse_order(order), p.view(), RunOptions{2, true, true});
    const OrderOutput<float> tree = run_order(parse_order(order), p.view(), RunOptions{2, true, false});
    BOOST_TEST(std::memcmp(both.y.data.data(), tree.y.data.data(), both.y.data.size() * sizeof(float)) == 0, order);
    BOOST_TEST(both.bound.data == tree.bound.data, order);
    BOOST_TEST((both.bound_kind == tree.bound_kind), order);
    BOOST_TEST(!both.running_bound.data.empty(), order);
  }
  const OrderOutput<float> direct = run_order(parse_order("direct"), p.view(), RunOptions{2, true, false});
  BOOST_TEST(direct.running_bound.data.empty());
}

BOOST_AUTO_TEST_CASE(bounds_are_never_violated) {
  auto check = [](auto tag, double cond) {
    using T = decltype(tag);
    std::vector<std::pair<std::string, Problem<T>>> cases;
    const std::string shapes[] = {"g2mb1ic16ih7oc4oh7kh3ph1", "mb1ic3ih12oc4oh6kh7sh2ph3"};
    for (const std::string& s : shapes) {
      cases.emplace_back("normal " + s, generated<T>(s, "normal", 1, true));
      cases.emplace_back("uniform " + s, generated<T>(s, "uniform", 2, false));
      cases.emplace_back("kaiming " + s, generated<T>(s, "kaiming", 3, true));
      cases.emplace_back("wide " + s, generated<T>(s, "wide:decades=16", 4, false));
      cases.emplace_back("subnormal " + s, subnormal<T>(s, 5));
      cases.emplace_back("gendot " + s, generated<T>(s, "gendot:cond=" + std::to_string(cond), 6, false));
    }
    for (const auto& [what, p] : cases) {
      const Truth t = truth(p);
      for (const char* order : kVariants) {
        const Check c = check_order(order, p, t);
        BOOST_TEST(c.violations == 0u, order << " on " << what << " (" << sizeof(T) * 8 << " bit)");
        BOOST_TEST(c.running_violations == 0u, order << " running bound on " << what);
        BOOST_TEST(c.order_free_violations == 0u, order << " order-free bound on " << what);
        BOOST_TEST(c.worst <= 1.0);
        BOOST_TEST_MESSAGE(order << " on " << what << ": worst err/bound " << c.worst);
      }
    }
  };
  check(float{}, 1e12);
  check(double{}, 1e30);
}

// The subnormal and GenDot inputs really are what their names say.
BOOST_AUTO_TEST_CASE(test_inputs_reach_subnormal_and_ill_conditioned_outputs) {
  const Problem<float> s = subnormal<float>("mb1ic3ih12oc4oh6kh7sh2ph3", 5);
  const Truth ts = truth(s);
  const auto tiny =
      std::count_if(ts.y.data.begin(), ts.y.data.end(), [](double v) { return v != 0 && std::fabs(v) < 0x1p-126; });
  BOOST_TEST(tiny > static_cast<long>(ts.y.data.size() / 2));
  const Problem<float> g = generated<float>("mb1ic3ih12oc4oh6kh7sh2ph3", "gendot:cond=1e12", 6, false);
  const Truth tg = truth(g);
  double max_cond = 0;
  for (std::size_t i = 0; i < tg.y.data.size(); ++i)
    max_cond = std::max(max_cond, cond_of(tg.absdot.data[i], tg.y.data[i]));
  BOOST_TEST(max_cond > 1e10);
}

namespace {

Problem<float> dot_problem(std::vector<float> x, std::vector<float> w, std::optional<float> bias = {}) {
  const auto n = static_cast<std::int64_t>(x.size());
  Problem<float> p;
  p.spec = parse_benchdnn("mb1ic" + std::to_string(n) + "ih1iw1oc1oh1ow1kh1kw1");
  p.x = Tensor<float>({1, n, 1, 1});
  p.w = Tensor<float>({1, n, 1, 1});
  p.x.data = std::move(x);
  p.w.data = std::move(w);
  if (bias) p.bias = Tensor<float>({1}, *bias);
  return p;
}

// (u·D + M·η/2)/(1 − H·u) in binary32 terms, for unit products.
double tree_formula(double D, double H, double M) { return (0x1p-24 * D + M * 0x1p-150) / (1 - H * 0x1p-24); }

}  // namespace

// The tracker reads the tree correctly: with four unit products the bound is the
// formula with D = Σ h_i worked out by hand (the D-chain margin is < 1e-6 relative).
BOOST_AUTO_TEST_CASE(tree_bound_counts_each_terms_roundings) {
  const Problem<float> p = dot_problem({1, 1, 1, 1}, {1, 1, 1, 1}, 1.0f);
  const Problem<float> q = dot_problem({1, 1, 1, 1}, {1, 1, 1, 1});
  auto bound = [](const std::string& order, const Problem<float>& pr) {
    return run_order(parse_order(order), pr.view(), RunOptions{1, true}).bound.data[0];
  };
  auto near = [](double got, double want) { return got >= want && got <= want * (1 + 1e-6); };
  // direct: 0 + p1 is exact; p1, p2 pass their product, 3 adds, the bias add (5);
  // p3: 4, p4: 3; the bias: 1. D = 18, H = 5, M = 4.
  BOOST_TEST(near(bound("direct", p), tree_formula(18, 5, 4)));
  // With FMA: fma(x1, w1, 0) rounds once; p1, p2: 4 FMAs… p1: 4 + 1, p2: 3 + 1, p3: 2 + 1, p4: 1 + 1,
  // bias 1: D = 15, H = 5, M = 4.
  BOOST_TEST(near(bound("direct:fma=1", p), tree_formula(15, 5, 4)));
  // avx2 starts from the bias: fma chain of 4 from b: b and p1 pass 4, p2 3, p3 2, p4 1.
  BOOST_TEST(near(bound("onednn-avx2", p), tree_formula(14, 4, 4)));
  // Pairwise (p1 + p2) + (p3 + p4): every product passes 3 roundings.
  BOOST_TEST(near(bound("pairwise", q), tree_formula(12, 3, 4)));
  // Fused pairs fma(x2, w2, fl(p1)): p1 passes 3, p2 passes 2.
  BOOST_TEST(near(bound("pairwise:fma=1", q), tree_formula(10, 3, 4)));
  // Blocks of 2 with FMA; C = 0 + acc is exact, then C + acc: p1, p3 pass 3, p2, p4 pass 2.
  BOOST_TEST(near(bound("gemm-blocked:kc=2", q), tree_formula(10, 3, 4)));
  BOOST_TEST(near(bound("split-k:parts=2", q), tree_formula(10, 3, 4)));
}

BOOST_AUTO_TEST_CASE(running_bound_sums_the_computed_results) {
  // direct, unit products, bias 1: products 1, 1, 1, 1; sums 1, 2, 3, 4; bias sum 5:
  // μ = 19 (the first sum, 0 + 1, is counted too: the running policy does not know it
  // is exact), M = 4.
  const Problem<float> p = dot_problem({1, 1, 1, 1}, {1, 1, 1, 1}, 1.0f);
  const double r = run_order(parse_order("direct"), p.view(), RunOptions{1, true}).running_bound.data[0];
  const double want = 0x1p-24 * 19 + 4 * 0x1p-150;
  BOOST_TEST(r >= want);
  BOOST_TEST(r <= want * (1 + 1e-5));  // the μ margin: 20 additions, 20·2^-24
}

// (d) The bound is not vacuous: terms 1 then 99 positive terms just below u, each
// lost in a tie-free rounding down: the sequential error is ≈ 99·u·0.99, the bound
// ≈ 100·u.
BOOST_AUTO_TEST_CASE(bound_is_tight_when_errors_pile_up) {
  std::vector<float> w(100);
  w[0] = 1;
  for (int k = 1; k < 100; ++k) w[k] = 0x1p-24f * (1 - k * 0x1p-10f);  // positive, decreasing
  const Problem<float> p = dot_problem(std::vector<float>(100, 1), w);
  for (const char* order : {"direct", "direct:fma=1", "im2col", "onednn-avx2", "onednn-avx512"}) {
    const OrderOutput<float> out = run_order(parse_order(order), p.view(), RunOptions{1, true});
    const double e = exact_errors(p.view(), out.y)[0];
    BOOST_TEST(e / out.bound.data[0] >= 0.1, order << ": err/bound = " << e / out.bound.data[0]);
    BOOST_TEST(e <= out.bound.data[0]);
  }
}

// (f) bf16 inputs: the results break the plain float32 bound on typical data (the
// input rounding dominates) but never their own bound, which adds the input-rounding
// term; likewise fp16 and tf32.
BOOST_AUTO_TEST_CASE(reduced_precision_inputs_keep_their_own_bound) {
  const Problem<float> p = generated<float>("mb1ic3ih12oc4oh6kh7sh2ph3", "kaiming", 8, true);
  for (const char* order : {"direct", "gemm-blocked", "pairwise", "kahan"}) {
    const OrderOutput<float> plain = run_order(parse_order(order), p.view(), RunOptions{2, true});
    for (const char* fmt : {"bf16", "fp16", "tf32"}) {
      const std::string name = std::string(order) + ":input=" + fmt;
      const OrderOutput<float> r = run_order(parse_order(name), p.view(), RunOptions{2, true});
      BOOST_TEST(r.bound_kind.input_rounding);
      const std::vector<double> err = exact_errors(p.view(), r.y);
      std::size_t beyond_plain = 0, violations = 0, running_violations = 0;
      for (std::size_t i = 0; i < r.y.data.size(); ++i) {
        const double e = err[i];
        beyond_plain += e > plain.bound.data[i];
        violations += e > r.bound.data[i];
        running_violations += e > r.running_bound.data[i];
      }
      BOOST_TEST(violations == 0u, name);
      BOOST_TEST(running_violations == 0u, name);
      if (std::string(fmt) == "bf16") BOOST_TEST(beyond_plain > r.y.data.size() / 2, name << ": " << beyond_plain);
    }
  }
}

BOOST_AUTO_TEST_CASE(input_formats_round_to_nearest_even) {
  // bf16: spacing 2^-7 at 1. 1 + 2^-8 is a tie → 1 (even); 1 + 3·2^-8 → 1 + 2^-6.
  BOOST_TEST(round_to_format(1 + 0x1p-8f, InputFormat::bf16) == 1.0f);
  BOOST_TEST(round_to_format(1 + 3 * 0x1p-8f, InputFormat::bf16) == 1 + 0x1p-6f);
  BOOST_TEST(round_to_format(-(1 + 3 * 0x1p-8f), InputFormat::bf16) == -(1 + 0x1p-6f));
  BOOST_TEST(round_to_format(1 + 0x1.8p-8f, InputFormat::bf16) == 1 + 0x1p-7f);
  BOOST_TEST(std::isinf(round_to_format(3.4e38f, InputFormat::bf16)));
  BOOST_TEST(round_to_format(0x1p-133f, InputFormat::bf16) == 0x1p-133f);    // bf16 subnormal
  BOOST_TEST(round_to_format(0x1.8p-133f, InputFormat::bf16) == 0x1p-132f);  // tie → even
  // tf32: 11-bit significand, float32 range.
  BOOST_TEST(round_to_format(1 + 0x1p-11f, InputFormat::tf32) == 1.0f);
  BOOST_TEST(round_to_format(1 + 0x1.8p-11f, InputFormat::tf32) == 1 + 0x1p-10f);
  BOOST_TEST(round_to_format(1e30f, InputFormat::tf32) == 0x1.94p99f);  // 0x1.93e594p99 rounded up
  // fp16: max 65504; 65520 ties to 65536, beyond the range → overflow.
  BOOST_TEST(round_to_format(65519.0f, InputFormat::fp16) == 65504.0f);
  BOOST_TEST(std::isinf(round_to_format(65520.0f, InputFormat::fp16)));
  BOOST_TEST(round_to_format(0x1p-25f, InputFormat::fp16) == 0.0f);        // tie → 0 (even)
  BOOST_TEST(round_to_format(0x1.8p-24f, InputFormat::fp16) == 0x1p-23f);  // tie → 2·2^-24
  BOOST_TEST(round_to_format(0x1.4p-24f, InputFormat::fp16) == 0x1p-24f);
  BOOST_TEST(round_to_format(1e-9f, InputFormat::fp16) == 0.0f);
  BOOST_TEST(round_to_format(1 + 0x1p-11f, InputFormat::fp16) == 1.0f);
  BOOST_TEST(round_to_format(0.1f, InputFormat::f32) == 0.1f);

  Tensor<float> t({3}, 1.0f);
  t.data[2] = 1e5f;
  BOOST_CHECK_EXCEPTION(round_tensor(t, InputFormat::fp16, "x"), InputError, [](const InputError& e) {
    const std::string m = e.what();
    return m.find("x:") == 0 && m.find("index 2") != std::string::npos && m.find("fp16") != std::string::npos;
  });
  // An input overflowing fp16 is an error from the order, naming the tensor.
  const Problem<float> p = dot_problem({1, 7e4f}, {1, 1});
  BOOST_CHECK_EXCEPTION(run_order(parse_order("direct:input=fp16"), p.view(), RunOptions{}), InputError,
                        [](const InputError& e) { return std::string(e.what()).find("x:") == 0; });
}

BOOST_AUTO_TEST_CASE(order_free_bound_formulas) {
  const double u = 0x1p-24;
  // Rounded products: (n·u + (n−1)·u²)·absdot + n·η/2·(1 + (n−1)u).
  const double r = order_free_bound(1.0, 100, Dtype::f32, Products::rounded);
  BOOST_TEST(r >= 100 * u + 99 * u * u);
  BOOST_TEST(r <= (100 * u + 99 * u * u) * (1 + 1e-12) + 1e-40);
  // Fused: γ_n·absdot + …, larger.
  const double f = order_free_bound(1.0, 100, Dtype::f32, Products::fused);
  BOOST_TEST(f >= 100 * u / (1 - 100 * u));
  BOOST_TEST(f > r);
  // Underflow term alone.
  BOOST_TEST(order_free_bound(0.0, 10, Dtype::f64, Products::rounded) >= 5 * 0x1p-1074);  // 10·η/2
  BOOST_TEST(order_free_bound(0.0, 10, Dtype::f64, Products::rounded) > 0);
  BOOST_TEST(std::isinf(order_free_bound(1.0, std::int64_t{1} << 25, Dtype::f32, Products::fused)));
  BOOST_TEST(std::isinf(order_free_bound(kInf, 3, Dtype::f32)));
}

BOOST_AUTO_TEST_CASE(probabilistic_bound_of_higham_and_mary) {
  const double u = 0x1p-24;
  // λ = 6, n = 100: γ̃ = exp(6·10·u + 100u²/(1−u)) − 1 ≈ 60u, with probability
  // 1 − 200·exp(−18(1−u)²) ≈ 1 − 3.05e-6.
  const ProbabilisticBound b = probabilistic_bound(1.0, 100, Dtype::f32, 6.0);
  BOOST_TEST(b.bound >= std::expm1(60 * u + 100 * u * u / (1 - u)));
  BOOST_TEST(b.bound <= 60.001 * u);
  BOOST_TEST(b.probability == 1 - 200 * std::exp(-18 * (1 - u) * (1 - u)), boost::test_tools::tolerance(1e-12));
  // A small λ gives no guarantee at all.
  BOOST_TEST(probabilistic_bound(1.0, 100, Dtype::f32, 1.0).probability == 0.0);
  BOOST_CHECK_THROW(probabilistic_bound(1.0, 100, Dtype::f32, 0.0), InputError);
}
