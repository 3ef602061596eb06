#define BOOST_TEST_MODULE output_rounding
// The output-rounding bound (bounds/output_rounding.hpp) on its own, against the
// rounding it models, and inside check_conv: reduced-precision kernels (bf16 inputs,
// float32 accumulation, bf16 or fp16 output, with and without flush to zero)
// emulated here step by step, on random, integer, subnormal, huge-exponent and
// ill-conditioned inputs.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "certconv/bounds/output_rounding.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/orders/input_format.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/testing.hpp"

using namespace certconv;

namespace {

float flush(float v) { return std::fabs(v) < 0x1p-126f ? std::copysign(0.0f, v) : v; }

// A bf16 kernel as the x86 dot-product instructions run it, one output at a time:
// inputs flushed (DAZ) when ftz, each product exact in float32 (8 + 8 significand
// bits) then flushed, each sum rounded to float32 then flushed (FTZ), the bias last,
// the result rounded to `out`. The accumulation order (c, kh, kw) is one of many;
// the bound is for any.
Tensor<float> bf16_kernel(const ConvProblem<float>& p, InputFormat out, bool ftz) {
  const ConvSpec& s = p.spec;
  const auto f = [&](float v) { return ftz ? flush(v) : v; };
  Tensor<float> y(s.y_shape());
  for (std::int64_t n = 0; n < s.mb; ++n)
    for (std::int64_t oc = 0; oc < s.oc; ++oc)
      for (std::int64_t oh = 0; oh < s.oh; ++oh)
        for (std::int64_t ow = 0; ow < s.ow; ++ow) {
          float acc = 0;
          for (std::int64_t ic = 0; ic < s.ic; ++ic)
            for (std::int64_t kh = 0; kh < s.kh; ++kh)
              for (std::int64_t kw = 0; kw < s.kw; ++kw) {
                const std::int64_t ih = oh * s.sh - s.ph + kh, iw = ow * s.sw - s.pw + kw;
                if (ih < 0 || ih >= s.ih || iw < 0 || iw >= s.iw) continue;
                acc = f(acc + f(f(p.x(n, ic, ih, iw)) * f(p.w(oc, ic, kh, kw))));
              }
          if (p.bias) acc = f(acc + f(p.bias->data[static_cast<std::size_t>(oc)]));
          y(n, oc, oh, ow) = f(round_to_format(acc, out));
        }
  return y;
}

struct Bf16Problem {
  ConvSpec spec = parse_benchdnn("mb2ic4ih5iw6oc3kh3kw3ph1pw1");
  Tensor<float> x, w, bias;
  // scale_x, scale_w: powers of two the standard normal values are scaled by.
  Bf16Problem(std::uint64_t seed, double scale_x, double scale_w) {
    Rng rng(seed);
    x = round_tensor(normal_tensor<float>(spec.x_shape(), rng), InputFormat::bf16, "x");
    w = round_tensor(uniform_tensor<float>(spec.w_shape(), 1 / 6.0, rng), InputFormat::bf16, "w");
    bias = round_tensor(uniform_tensor<float>({spec.oc}, 1 / 6.0, rng), InputFormat::bf16, "bias");
    for (float& v : x.data) v = static_cast<float>(v * scale_x);
    for (float& v : w.data) v = static_cast<float>(v * scale_w);
    for (float& v : bias.data) v = static_cast<float>(v * scale_x * scale_w);
  }
  ConvProblem<float> view() const { return {spec, x, w, &bias}; }
};

CheckResult check(const Tensor<float>& y, const ConvProblem<float>& p, const std::string& tol) {
  Tolerance t = parse_tolerance(tol);
  t.threads = 1;
  return check_conv(y, p, t);
}

}  // namespace

BOOST_AUTO_TEST_CASE(bound_covers_the_rounding_it_models) {
  // ŷ over the whole float32 range, subnormals and the formats' boundaries included;
  // with B = 0 and M = |ŷ| the bound is on |fl_out(ŷ) − ŷ| itself.
  Rng rng(3);
  int needs_under = 0;
  for (const auto& [fmt, nf] : {std::pair{InputFormat::bf16, kBf16}, std::pair{InputFormat::fp16, kFp16}})
    for (const bool ftz : {false, true})
      for (int i = 0; i < 20000; ++i) {
        const int e = static_cast<int>(rng.uniform(-150, 128));
        const float yh = static_cast<float>(std::ldexp(rng.uniform(1, 2), e) * (i % 2 ? -1 : 1));
        float o = round_to_format(yh, fmt);
        if (!std::isfinite(yh) || !std::isfinite(o)) continue;  // beyond the format: ±∞, never within
        if (ftz && std::fabs(o) < std::ldexp(1.0, nf.emin)) o = 0;
        Tensor<double> acc({1}, 0.0), mag({1}, std::fabs(static_cast<double>(yh)));
        const double b = output_rounding_bound(acc, mag, nf, ftz).data[0];
        const double err = std::fabs(static_cast<double>(o) - yh);
        BOOST_TEST_REQUIRE(err <= b, "ŷ " << yh << " → " << o << " (" << input_format_name(fmt) << ", ftz " << ftz
                                          << "): |error| " << err << " > bound " << b);
        needs_under += err > std::ldexp(1.0, -nf.p) * std::fabs(yh);
      }
  // Below the normal range the relative term alone would not do.
  BOOST_TEST(needs_under > 100);
}

BOOST_AUTO_TEST_CASE(bound_adds_accumulation_and_output_terms_upward) {
  Tensor<double> acc({2}), mag({2});
  acc.data = {0x1p-20, 0};
  mag.data = {1.5, 0};
  const Tensor<double> b = output_rounding_bound(acc, mag, kBf16, false);
  BOOST_TEST(b.data[0] >= 0x1p-20 + 0x1p-8 * (1.5 + 0x1p-20) + 0x1p-134);
  BOOST_TEST(b.data[0] <= (0x1p-20 + 0x1p-8 * (1.5 + 0x1p-20)) * (1 + 0x1p-50));
  // With B = M = 0 only the underflow term is left (rounded up, so a few ulps above).
  const auto near = [](double got, double want) { return got >= want && got <= want * (1 + 0x1p-50); };
  BOOST_TEST(near(b.data[1], 0x1p-134));  // η/2 of bf16
  BOOST_TEST(near(output_rounding_bound(acc, mag, kBf16, true).data[1], 0x1p-126));  // bf16's smallest normal
  BOOST_TEST(near(output_rounding_bound(acc, mag, kFp16, false).data[1], 0x1p-25));  // η/2 of fp16
}

BOOST_AUTO_TEST_CASE(bf16_kernels_pass_with_the_output_modelled_and_fail_without) {
  for (const bool ftz : {false, true})
    for (const auto out : {InputFormat::bf16, InputFormat::fp16}) {
      const Bf16Problem pr(11, 1, 1);
      const Tensor<float> y = bf16_kernel(pr.view(), out, ftz);
      const std::string fmt = input_format_name(out);
      BOOST_TEST_CONTEXT("output " << fmt << ", ftz " << ftz) {
        const CheckResult r = check(y, pr.view(), "any-order:input=bf16,output=" + fmt + ",ftz=" + (ftz ? "1" : "0"));
        BOOST_CHECK_MESSAGE(r.passed, r.message);
        BOOST_TEST(bound_kind_name(r.bound_kind) == "order-free+input-rounding+output-rounding");
        BOOST_TEST(r.message.find("float32 accumulation, " + fmt + " output") != std::string::npos, r.message);
        // The float32 accumulation bound alone does not cover the final rounding.
        const CheckResult no_out = check(y, pr.view(), "any-order:input=bf16");
        BOOST_TEST(no_out.beyond > no_out.outputs / 4, no_out.beyond << " of " << no_out.outputs);
      }
    }
}

BOOST_AUTO_TEST_CASE(integer_huge_and_ill_conditioned_inputs) {
  // Integers: every product and sum exact, only the output rounds (to 8 bits).
  Bf16Problem ints(5, 1, 1);
  Rng rng(5);
  for (float& v : ints.x.data) v = static_cast<float>(std::floor(rng.uniform(-40, 40)));
  for (float& v : ints.w.data) v = static_cast<float>(std::floor(rng.uniform(-40, 40)));
  const Tensor<float> yi = bf16_kernel(ints.view(), InputFormat::bf16, true);
  BOOST_TEST(check(yi, ints.view(), "any-order:input=bf16,output=bf16,ftz=1").passed);
  BOOST_TEST(!check(yi, ints.view(), "any-order:input=bf16").passed);
  // Huge exponents: products near 2^120, still finite in float32 and bf16.
  const Bf16Problem huge(6, 0x1p60, 0x1p60);
  const CheckResult rh = check(bf16_kernel(huge.view(), InputFormat::bf16, true), huge.view(),
                               "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_CHECK_MESSAGE(rh.passed, rh.message);
  // Ill-conditioned: the bias cancels the sum of products to a float32 rounding.
  Bf16Problem ill(7, 1, 1);
  ill.bias.data.assign(ill.bias.data.size(), 0.0f);
  const Tensor<float> y0 = bf16_kernel(ill.view(), InputFormat::f32, false);
  for (std::int64_t oc = 0; oc < ill.spec.oc; ++oc)
    ill.bias.data[static_cast<std::size_t>(oc)] = -round_to_format(y0(0, oc, 2, 2), InputFormat::bf16);
  const Tensor<float> yc = bf16_kernel(ill.view(), InputFormat::bf16, true);
  const CheckResult rc = check(yc, ill.view(), "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_CHECK_MESSAGE(rc.passed, rc.message);
  const Truth t = compute_truth(ill.view(), {});
  double max_cond = 0;
  for (std::size_t i = 0; i < t.y.data.size(); ++i) max_cond = std::max(max_cond, t.absdot.data[i] / std::fabs(t.y.data[i]));
  BOOST_TEST(max_cond > 100);
}

BOOST_AUTO_TEST_CASE(flush_to_zero_needs_its_own_underflow_term) {
  // Positive products just below float32's normal range 2^-126, summing to a few
  // times 2^-126, and a subnormal input: a kernel that flushes loses most of them,
  // more than the output's own flush (2^-126) accounts for; only the accumulation's
  // ftz term (order_free.hpp, Underflow::flush) allows for that.
  Bf16Problem tiny(9, 0x1p-64, 0x1p-62);
  for (auto* t : {&tiny.x, &tiny.w, &tiny.bias})
    for (float& v : t->data) v = std::fabs(v);
  tiny.x.data[3] = 0x1p-128f;  // a subnormal input, read as zero (DAZ)
  const Tensor<float> y = bf16_kernel(tiny.view(), InputFormat::bf16, true);
  const CheckResult with = check(y, tiny.view(), "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_CHECK_MESSAGE(with.passed, with.message);
  const CheckResult without = check(y, tiny.view(), "any-order:input=bf16,output=bf16");
  BOOST_TEST(without.beyond > without.outputs / 2, without.beyond << " of " << without.outputs);
  // Subnormal activations against weights near 2^100: read as zero (DAZ), their
  // products near 2^-27 are lost, which the bound takes from the flushed inputs.
  Bf16Problem daz(10, 0x1p-128, 0x1p100);
  daz.bias.data.assign(daz.bias.data.size(), 0.0f);
  const Tensor<float> yd = bf16_kernel(daz.view(), InputFormat::bf16, true);
  const CheckResult rd = check(yd, daz.view(), "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_CHECK_MESSAGE(rd.passed, rd.message);
  BOOST_TEST(!check(yd, daz.view(), "any-order:input=bf16,output=bf16").passed);
  // The same inputs without flushing pass the gradual-underflow bound.
  const Tensor<float> yg = bf16_kernel(tiny.view(), InputFormat::bf16, false);
  BOOST_TEST(check(yg, tiny.view(), "any-order:input=bf16,output=bf16").passed);
}

BOOST_AUTO_TEST_CASE(one_element_moved_by_two_ulps_fails_and_is_named) {
  const Bf16Problem pr(12, 1, 1);
  Tensor<float> y = bf16_kernel(pr.view(), InputFormat::bf16, true);
  float& v = y(1, 2, 3, 4);
  v = std::bit_cast<float>(std::bit_cast<std::uint32_t>(v) + (2u << 16));  // two bf16 ulps away from zero
  const CheckResult r = check(y, pr.view(), "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.beyond == 1);
  BOOST_TEST((r.worst.front().nchw == std::array<std::int64_t, 4>{1, 2, 3, 4}));
  BOOST_TEST(r.message.find("[1, 2, 3, 4]") != std::string::npos, r.message);
}

BOOST_AUTO_TEST_CASE(bad_tolerances_and_values_are_input_errors) {
  const Bf16Problem pr(13, 1, 1);
  Tensor<float> y = bf16_kernel(pr.view(), InputFormat::bf16, false);
  BOOST_TEST(parse_tolerance("any-order:output=bf16,input=bf16,ftz=1").str() ==
             "any-order:input=bf16,output=bf16,ftz=1");
  BOOST_TEST(parse_tolerance("probabilistic:output=fp16").str() == "probabilistic:lambda=5,output=fp16");
  for (const char* bad : {"any-order:output=tf32", "any-order:output=f8", "any-order:ftz=2", "probabilistic:ftz=1",
                          "any-order:output=bf16,dtype=f64"})
    BOOST_CHECK_THROW(parse_tolerance(bad), InputError);
  Tolerance order = rigorous("im2col");
  order.output = InputFormat::bf16;
  BOOST_CHECK_EXCEPTION(check_conv(y, pr.view(), order), InputError, [](const InputError& e) {
    return std::string(e.what()).find("output= goes with any-order or probabilistic") != std::string::npos;
  });
  y(0, 1, 2, 3) = 1 + 0x1p-10f;  // not a bf16 value
  BOOST_CHECK_EXCEPTION(check(y, pr.view(), "any-order:input=bf16,output=bf16"), InputError, [](const InputError& e) {
    return std::string(e.what()).find(
               "observed (tolerance any-order:input=bf16,output=bf16): 1.00097656 at index [0, 1, 2, 3] is not a bf16 "
               "value") != std::string::npos;
  });
}
