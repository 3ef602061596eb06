#define BOOST_TEST_MODULE testing
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "certconv/bounds/order_free.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/testing.hpp"
#include "certconv/testing_boost.hpp"

using namespace certconv;

namespace {

// A small problem with padding, a bias and both channel and spatial sums: n = 37
// terms per output (36 products and the bias), 180 outputs.
template <class T>
struct Problem {
  ConvSpec spec = parse_benchdnn("mb2ic4ih5iw6oc3kh3kw3ph1pw1");
  Tensor<T> x, w, bias;
  explicit Problem(std::uint64_t seed = 7) {
    Rng rng(seed);
    x = normal_tensor<T>(spec.x_shape(), rng);
    w = uniform_tensor<T>(spec.w_shape(), 1 / std::sqrt(36.0), rng);
    bias = uniform_tensor<T>({spec.oc}, 1 / std::sqrt(36.0), rng);
  }
  ConvProblem<T> view() const { return {spec, x, w, &bias}; }
};

template <class T>
OrderOutput<T> run(const std::string& order, const ConvProblem<T>& p) {
  RunOptions ro;
  ro.threads = 1;
  return run_order(parse_order(order), p, ro);
}

// Every order that sums the products (not Winograd's transforms) also meets the
// order-free bound.
bool sums_products(const BoundKind& bound_kind) { return bound_kind.theorem != Theorem::winograd_transform; }

}  // namespace

BOOST_AUTO_TEST_CASE(every_order_and_backend_passes_its_own_and_the_order_free_bound_f32) {
  const Problem<float> pr;
  int backends = 0;
  for (const OrderInfo& info : order_list()) {
    if (needs_argument(info)) continue;  // the tree order: tests/test_reveal.cpp
    // Backward kernels run on their direction's problem: tests/test_directions.cpp.
    if (!applies_to(info, Direction::fwd_b, true)) continue;
    BOOST_TEST_CONTEXT("order " << info.name) {
      const OrderOutput<float> out = run(info.name, pr.view());
      backends += info.kind == OrderKind::backend;
      CERTCONV_CHECK_CONV(out.y, pr.view(), rigorous(info.name));
      // bf16 kernels: the any-order bound of their formats (orders/bf16_bound.hpp).
      const Tolerance any = out.bound_kind.input_rounding ? parse_tolerance("any-order:input=bf16,output=bf16,ftz=1")
                                                          : rigorous_any_order();
      if (sums_products(out.bound_kind)) CERTCONV_CHECK_CONV(out.y, pr.x, pr.w, pr.spec, any, &pr.bias);
    }
  }
  BOOST_TEST_MESSAGE("real backends checked: " << backends);
}

BOOST_AUTO_TEST_CASE(every_order_passes_in_f64) {
  const Problem<double> pr;
  for (const OrderInfo& info : order_list()) {
    if (needs_argument(info) || !applies_to(info, Direction::fwd_b, true)) continue;
    BOOST_TEST_CONTEXT("order " << info.name) {
      // oneDNN has no float64 convolution on CPU; its bf16 kernels accumulate in float32.
      if (info.name == "onednn" || info.name == "onednn-avx512-bf16") {
        BOOST_CHECK_THROW(run(info.name, pr.view()), InputError);
        continue;
      }
      const OrderOutput<double> out = run(info.name, pr.view());
      CERTCONV_CHECK_CONV(out.y, pr.view(), rigorous(info.name));
      if (sums_products(out.bound_kind)) CERTCONV_CHECK_CONV(out.y, pr.view(), rigorous_any_order(Dtype::f64));
    }
  }
}

BOOST_AUTO_TEST_CASE(perturbed_by_twice_its_bound_at_one_element_fails_and_names_it) {
  const Problem<float> pr;
  for (const std::string order : {"im2col", "pairwise:fma=1", "winograd"}) {
    BOOST_TEST_CONTEXT("order " << order) {
      OrderOutput<float> out = run(order, pr.view());
      const std::int64_t at = out.y.offset(1, 2, 3, 4);
      const auto i = static_cast<std::size_t>(at);
      out.y.data[i] = static_cast<float>(out.y.data[i] + 2 * out.bound.data[i]);
      const CheckResult r = check_conv(out.y, pr.view(), rigorous(order));
      BOOST_TEST(!r.passed);
      BOOST_TEST(r.beyond == 1);
      BOOST_TEST(r.outputs == 180);
      BOOST_REQUIRE(!r.worst.empty());
      BOOST_TEST(r.worst[0].index == at);
      BOOST_TEST((r.worst[0].nchw == std::array<std::int64_t, 4>{1, 2, 3, 4}));
      BOOST_TEST(r.worst[0].bound == out.bound.data[i]);
      BOOST_TEST(r.worst[0].abs_err > r.worst[0].bound);
      BOOST_CHECK_MESSAGE(r.message.find("FAILED: 1 of 180 outputs") != std::string::npos, r.message);
      BOOST_CHECK_MESSAGE(r.message.find("[1, 2, 3, 4]: observed") != std::string::npos, r.message);
      BOOST_CHECK_MESSAGE(r.message.find("BEYOND") != std::string::npos, r.message);
      // Only the perturbed element is flagged.
      BOOST_TEST(r.message.find("BEYOND") == r.message.rfind("BEYOND"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_non_finite_output_fails) {
  const Problem<float> pr;
  OrderOutput<float> out = run("direct", pr.view());
  out.y(0, 1, 0, 0) = std::numeric_limits<float>::quiet_NaN();
  out.y(1, 0, 4, 5) = std::numeric_limits<float>::infinity();
  const CheckResult r = check_conv(out.y, pr.view(), rigorous_any_order());
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.beyond == 2);
  BOOST_TEST(r.worst[0].index == out.y.offset(0, 1, 0, 0));
  BOOST_TEST(r.worst[1].index == out.y.offset(1, 0, 4, 5));
}

BOOST_AUTO_TEST_CASE(passing_result_lists_the_closest_outputs_and_max_ratio_ordering) {
  const Problem<float> pr;
  const OrderOutput<float> out = run("im2col", pr.view());
  Tolerance tol = rigorous("im2col");
  tol.worst = 5;
  const CheckResult r = check_conv(out.y, pr.view(), tol);
  BOOST_TEST(r.passed);
  BOOST_TEST(r.beyond == 0);
  BOOST_TEST((r.bound_kind == out.bound_kind));
  BOOST_TEST(r.worst.size() == 5u);
  for (std::size_t j = 1; j < r.worst.size(); ++j)
    BOOST_TEST(r.worst[j - 1].abs_err / r.worst[j - 1].bound >= r.worst[j].abs_err / r.worst[j].bound);
  BOOST_CHECK_MESSAGE(r.message.find("check_conv passed: all 180 outputs") == 0u, r.message);
  BOOST_TEST(r.message.find("BEYOND") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(reduced_precision_inputs_need_their_own_tolerance) {
  const Problem<float> pr;
  for (const std::string fmt : {"bf16", "fp16", "tf32"}) {
    BOOST_TEST_CONTEXT("input=" << fmt) {
      const OrderOutput<float> out = run("im2col:input=" + fmt, pr.view());
      // The float32 order-free bound does not hold for rounded inputs ...
      BOOST_TEST(!check_conv(out.y, pr.view(), rigorous_any_order()).passed);
      // ... the order's own bound (with the input-rounding term) and the order-free
      // one for inputs rounded to the format do.
      CERTCONV_CHECK_CONV(out.y, pr.view(), rigorous("im2col:input=" + fmt));
      const CheckResult r = check_conv(out.y, pr.view(), rigorous_any_order({}, parse_input_format(fmt)));
      BOOST_CHECK_MESSAGE(r.passed, r.message);
      BOOST_TEST(bound_kind_name(r.bound_kind) == "order-free+input-rounding");
      BOOST_TEST(check_conv(out.y, pr.view(), parse_tolerance("any-order:input=" + fmt)).passed);
    }
  }
}

BOOST_AUTO_TEST_CASE(probabilistic_tolerance) {
  const Problem<float> pr;
  const OrderOutput<float> out = run("im2col", pr.view());
  const CheckResult r = check_conv(out.y, pr.view(), probabilistic(5));
  BOOST_CHECK_MESSAGE(r.passed, r.message);
  BOOST_TEST(bound_kind_name(r.bound_kind) == "probabilistic");
  BOOST_TEST(r.message.find("not rigorous") != std::string::npos);
  // λ so small that γ̃ < u: a correctly computed output is still beyond it somewhere.
  BOOST_TEST(!check_conv(out.y, pr.view(), probabilistic(1e-3)).passed);
}

BOOST_AUTO_TEST_CASE(float32_inputs_checked_against_a_float64_computation) {
  const Problem<float> pr;
  const ConvSpec& s = pr.spec;
  Tensor<double> x(s.x_shape()), w(s.w_shape()), b({s.oc});
  std::copy(pr.x.data.begin(), pr.x.data.end(), x.data.begin());
  std::copy(pr.w.data.begin(), pr.w.data.end(), w.data.begin());
  std::copy(pr.bias.data.begin(), pr.bias.data.end(), b.data.begin());
  const Tensor<double> y = run("direct", ConvProblem<double>{s, x, w, &b}).y;
  CERTCONV_CHECK_CONV(y, pr.view(), rigorous("direct"));
  CERTCONV_CHECK_CONV(y, pr.view(), rigorous_any_order(Dtype::f64));
  // The float32 result of the same order is far outside the float64 bound.
  const Tensor<float> y32 = run("direct", pr.view()).y;
  Tensor<double> y32d(y32.shape);
  std::copy(y32.data.begin(), y32.data.end(), y32d.data.begin());
  BOOST_TEST(!check_conv(y32d, pr.view(), rigorous("direct")).passed);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_input_errors) {
  const Problem<float> pr;
  const Tensor<float> y = run("direct", pr.view()).y;
  Tensor<float> wrong({2, 3, 5, 5});
  BOOST_CHECK_EXCEPTION(check_conv(wrong, pr.view(), rigorous_any_order()), InputError, [](const InputError& e) {
    return std::string(e.what()).find("observed: shape (2, 3, 5, 5)") != std::string::npos;
  });
  BOOST_CHECK_THROW(check_conv(y, pr.view(), rigorous("no-such-order")), InputError);
  BOOST_CHECK_THROW(check_conv(y, pr.view(), rigorous_any_order(Dtype::f64)), InputError);
  const Problem<double> pd;
  const Tensor<float> y32(pd.spec.y_shape());
  BOOST_CHECK_THROW(check_conv(y32, pd.view(), rigorous("direct")), InputError);
  BOOST_CHECK_THROW(check_conv(y32, pd.view(), rigorous_any_order()), InputError);
  BOOST_CHECK_THROW(certified_tolerance(pd.view(), rigorous_any_order(Dtype::f64, InputFormat::bf16)), InputError);
}

BOOST_AUTO_TEST_CASE(tolerance_text_form) {
  BOOST_TEST(parse_tolerance("any-order").str() == "any-order");
  BOOST_TEST(parse_tolerance("any-order:input=bf16,dtype=f32").str() == "any-order:dtype=f32,input=bf16");
  BOOST_TEST(parse_tolerance("probabilistic:lambda=3").lambda == 3);
  BOOST_TEST(parse_tolerance("split-k:parts=2").order == "split-k:parts=2");
  BOOST_TEST((parse_tolerance("im2col").kind == Tolerance::Kind::order));
  for (const char* bad : {"any-order:", "any-order:lambda=2", "any-order:input=fp8", "probabilistic:lambda=-1",
                          "probabilistic:lambda=x", "nonsense", "im2col:bogus=1"})
    BOOST_CHECK_THROW(parse_tolerance(bad), InputError);
}

BOOST_AUTO_TEST_CASE(certified_tolerance_values) {
  Problem<float> pr;
  // Output channel 0 is exactly zero everywhere: no relative tolerance can hold.
  std::fill(pr.w.data.begin(), pr.w.data.begin() + 36, 0.0f);
  pr.bias.data[0] = 0;
  TruthOptions topt;
  const Truth t = compute_truth(pr.view(), topt);
  const CertifiedTolerance c = certified_tolerance(pr.spec, pr.x, pr.w, Dtype::f32, &pr.bias);
  BOOST_TEST(bound_kind_name(c.bound_kind) == "order-free");
  BOOST_TEST(c.per_element.shape == pr.spec.y_shape());
  double atol = 0, rtol_rest = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i) {
    const double b = order_free_bound(t.absdot.data[i], 37, Dtype::f32, Products::fused);
    BOOST_TEST(c.per_element.data[i] == b);
    atol = std::max(atol, b);
    if (t.y.data[i] != 0) rtol_rest = std::max(rtol_rest, b / std::fabs(t.y.data[i]));
  }
  BOOST_TEST(c.atol == atol);
  BOOST_TEST(c.atol > 0);
  BOOST_TEST(std::isinf(c.rtol));

  // With every output away from zero, rtol is the largest bound/|y| (rounded up).
  const Problem<float> ok;
  const Truth t2 = compute_truth(ok.view(), topt);
  const CertifiedTolerance c2 = certified_tolerance(ok.view(), rigorous_any_order());
  double rtol = 0;
  for (std::size_t i = 0; i < t2.y.data.size(); ++i)
    rtol = std::max(rtol, c2.per_element.data[i] / std::fabs(t2.y.data[i]));
  BOOST_TEST(std::isfinite(c2.rtol));
  BOOST_TEST(c2.rtol >= rtol);
  BOOST_TEST(c2.rtol <= rtol * (1 + 1e-12));
  // float64 arithmetic on the same float32 inputs: a 2^29 times smaller tolerance.
  const CertifiedTolerance c64 = certified_tolerance(ok.spec, ok.x, ok.w, Dtype::f64, &ok.bias);
  BOOST_TEST(c64.atol < c2.atol * 0x1p-28);
  // An order's own bound is at most the order-free one here (im2col sums 37 terms).
  const CertifiedTolerance ci = certified_tolerance(ok.view(), rigorous("im2col"));
  BOOST_TEST(ci.atol <= c2.atol);
  BOOST_TEST((ci.bound_kind == run("im2col", ok.view()).bound_kind));
}

namespace {

// dw and db of a grouped, strided, padded 2-D layer in float32, summed n → oy → ox
// straight from the definition (docs/directions.md), independent of core/lower.
struct Grad {
  ConvDesc d = parse_conv_desc("g2mb2ic4ih7iw6oc6kh3kw2sh2sw1ph1pw0");
  Tensor<float> x, dy, dw, db;
  Grad() {
    Rng rng(11);
    x = normal_tensor<float>(d.x_shape(), rng);
    dy = normal_tensor<float>(d.y_shape(), rng);
    dw = Tensor<float>(d.w_shape());
    db = Tensor<float>({d.oc});
    const ConvAxis &h = d.axis[1], &wd = d.axis[2];
    const std::int64_t icg = d.ic / d.g, ocg = d.oc / d.g;
    for (std::int64_t oc = 0; oc < d.oc; ++oc) {
      for (std::int64_t c = 0; c < icg; ++c)
        for (std::int64_t ky = 0; ky < h.k; ++ky)
          for (std::int64_t kx = 0; kx < wd.k; ++kx) {
            float s = 0;
            for (std::int64_t n = 0; n < d.mb; ++n)
              for (std::int64_t oy = 0; oy < h.o; ++oy)
                for (std::int64_t ox = 0; ox < wd.o; ++ox) {
                  const std::int64_t iy = oy * h.s - h.p + ky * (h.d + 1), ix = ox * wd.s - wd.p + kx * (wd.d + 1);
                  if (iy < 0 || iy >= h.i || ix < 0 || ix >= wd.i) continue;
                  s += dy(n, oc, oy, ox) * x(n, oc / ocg * icg + c, iy, ix);
                }
            dw(oc, c, ky, kx) = s;
          }
      float s = 0;
      for (std::int64_t n = 0; n < d.mb; ++n)
        for (std::int64_t i = 0; i < h.o * wd.o; ++i) s += dy.data[static_cast<std::size_t>((n * d.oc + oc) * h.o * wd.o + i)];
      db.data[static_cast<std::size_t>(oc)] = s;
    }
  }
  Operands<float> ops() const { return {&x, nullptr, nullptr, &dy}; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_checked_in_their_own_shape) {
  Grad g;
  const CheckResult ok = check_conv(g.dw, g.d, Direction::bwd_w, g.ops(), rigorous_any_order());
  BOOST_TEST_INFO(ok.message);
  BOOST_TEST(ok.passed);
  BOOST_TEST(ok.outputs == g.dw.size());
  BOOST_TEST(ok.message.find("BWD_W dw") != std::string::npos);
  BOOST_TEST(ok.message.find("[oc, ic, kh, kw]") != std::string::npos);
  // BWD_WB: dw and db told apart by their shapes.
  BOOST_TEST(check_conv(g.dw, g.d, Direction::bwd_wb, g.ops(), rigorous_any_order()).passed);
  BOOST_TEST(check_conv(g.db, g.d, Direction::bwd_wb, g.ops(), rigorous_any_order()).passed);

  // One element of dw moved by 2^-10 relative: beyond, named by its dw index.
  Tensor<float> bad = g.dw;
  bad(4, 1, 2, 0) *= 1 + 0x1p-10f;
  const CheckResult r = check_conv(bad, g.d, Direction::bwd_w, g.ops(), rigorous_any_order());
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.beyond == 1);
  BOOST_TEST((r.worst.front().coords == std::vector<std::int64_t>{4, 1, 2, 0}));
  BOOST_TEST(r.worst.front().index == bad.offset(4, 1, 2, 0));
  BOOST_TEST(r.message.find("[4, 1, 2, 0]") != std::string::npos);
  Tensor<float> bad_db = g.db;
  bad_db.data[5] += 1e-3f * std::fabs(bad_db.data[5]) + 1e-6f;
  const CheckResult rb = check_conv(bad_db, g.d, Direction::bwd_wb, g.ops(), rigorous_any_order());
  BOOST_TEST(rb.beyond == 1);
  BOOST_TEST((rb.worst.front().coords == std::vector<std::int64_t>{5}));

  // An emulated backward-weights order within its own bound; a forward one refused.
  const Lowered<float> l = std::move(lower(g.d, Direction::bwd_w, g.ops()).front());
  const Tensor<float> dw_direct = to_result_layout(l, run("direct", l.problem.view()).y);
  BOOST_TEST(check_conv(dw_direct, g.d, Direction::bwd_w, g.ops(), rigorous("direct")).passed);
  BOOST_CHECK_THROW(check_conv(g.dw, g.d, Direction::bwd_w, g.ops(), rigorous("onednn-avx512")), InputError);
  // A wrong shape names both results of BWD_WB.
  try {
    check_conv(g.x, g.d, Direction::bwd_wb, g.ops(), rigorous_any_order());
    BOOST_FAIL("no error");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("dw (6, 2, 3, 2) or db (6,)") != std::string::npos, e.what());
  }

  // certified_tolerance: one per result, in the result's shape, equal to the lowered ones.
  const std::vector<CertifiedTolerance> ct = certified_tolerance(g.d, Direction::bwd_wb, g.ops(), rigorous_any_order());
  BOOST_TEST_REQUIRE(ct.size() == 2u);
  BOOST_TEST(ct[0].result == "dw");
  BOOST_TEST(ct[1].result == "db");
  BOOST_TEST(ct[0].per_element.shape == g.dw.shape);
  BOOST_TEST(ct[1].per_element.shape == g.db.shape);
  const CertifiedTolerance flat = certified_tolerance(l.problem.view(), rigorous_any_order());
  BOOST_TEST(ct[0].atol == flat.atol);
  BOOST_TEST((to_result_layout(l, flat.per_element).data == ct[0].per_element.data));
  for (std::size_t i = 0; i < g.dw.data.size(); ++i) BOOST_TEST(ct[0].per_element.data[i] > 0);
}

BOOST_AUTO_TEST_CASE(conv1d_and_conv3d_checked) {
  for (const char* desc : {"mb2ic3iw20oc4kw5sw2pw2", "mb1ic2id5ih4iw4oc3kd3kh2kw3pd1ph0pw1"}) {
    BOOST_TEST_CONTEXT(desc) {
      const ConvDesc d = parse_conv_desc(desc);
      Rng rng(3);
      const Tensor<double> x = normal_tensor<double>(d.x_shape(), rng), w = normal_tensor<double>(d.w_shape(), rng);
      const Operands<double> ops{&x, &w, nullptr, nullptr};
      const Lowered<double> l = std::move(lower(d, Direction::fwd_d, ops).front());
      // float64 inputs, a float32 result is refused; float64 im2col passes its own bound.
      Tensor<double> y = to_result_layout(l, run("im2col", l.problem.view()).y);
      BOOST_TEST(y.shape == d.y_shape());
      BOOST_TEST(check_conv(y, d, Direction::fwd_d, ops, rigorous("im2col")).passed);
      y.data[7] = std::nextafter(y.data[7], 1e300) * (1 + 1e-9);
      const CheckResult r = check_conv(y, d, Direction::fwd_d, ops, rigorous_any_order());
      BOOST_TEST(r.beyond == 1);
      BOOST_TEST(r.worst.front().index == 7);
      BOOST_TEST(r.message.find(d.rank == 1 ? "[n, oc, ow]" : "[n, oc, od, oh, ow]") != std::string::npos);
    }
  }
}
