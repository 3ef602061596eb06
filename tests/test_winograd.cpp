#define BOOST_TEST_MODULE winograd
#include <boost/test/unit_test.hpp>

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>

#include "certconv/core/error.hpp"
#include "certconv/exact/accumulator.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/orders/winograd.hpp"
#include "certconv/core/winograd_matrices.hpp"
#include "certconv/core/taps.hpp"

using namespace certconv;

namespace {

template <class T>
OrderOutput<T> run(const ConvProblem<T>& p, const std::string& tile, const std::string& fma = "0", int threads = 1) {
  static const OrderInfo info = make_winograd_order();
  const OrderSpec o{"winograd", {{"tile", tile}, {"fma", fma}}};
  RunOptions opt;
  opt.threads = threads;
  if constexpr (std::is_same_v<T, float>)
    return info.run_f32(o, p, opt);
  else
    return info.run_f64(o, p, opt);
}

Truth truth_of(const auto& p) {
  TruthOptions opt;
  opt.threads = 2;
  return compute_truth(p, opt);
}

// |ŷ − y| rounded up, y the exact output (n, oc, oy, ox) summed again here: the
// truth's enclosure [lo, hi] can be one binary64 ulp wide, more than a bound
// dominated by u·|bias| leaves.
template <class T>
double err_up(const ConvProblem<T>& p, std::int64_t flat, T yhat) {
  const OutputIndex o = output_index(p.spec, flat);
  ExactAccumulator acc;
  for_each_tap(p.spec, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
    acc.add_product(p.w.data[static_cast<std::size_t>(wo)], p.x.data[static_cast<std::size_t>(xo)]);
  });
  if (p.bias) acc.add(static_cast<double>(p.bias->data[static_cast<std::size_t>(o.oc)]));
  acc.add(-static_cast<double>(yhat));
  return acc.sign() >= 0 ? acc.round(Rounding::up) : -acc.round(Rounding::down);
}

// The bits of v, with −0 read as +0 (−0 + 0 = +0): exact zeros may differ in sign.
std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v + 0.0); }
std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v + 0.0f); }

enum class Dist { normal, uniform, kaiming, wide, subnormal, subnormal_w, illcond };

// Inputs of one distribution; x [mb, ic, ih, iw], w [oc, ic/g, 3, 3], bias [oc].
template <class T>
struct Inputs {
  Tensor<T> x, w, b;
};

template <class T>
Inputs<T> make_inputs(const ConvSpec& s, Dist dist, std::uint64_t seed) {
  Rng rng(seed);
  Inputs<T> in{normal_tensor<T>(s.x_shape(), rng), normal_tensor<T>(s.w_shape(), rng),
               normal_tensor<T>({s.oc}, rng)};
  const int wide_e = std::is_same_v<T, float> ? 40 : 300;
  // Products of two such values are ~2^−140 (binary32) / 2^−1060 (binary64): subnormal or below.
  const int tiny_e = std::is_same_v<T, float> ? -70 : -530;
  auto wide = [&](Tensor<T>& t) {
    for (auto& v : t.data)
      v = static_cast<T>((rng.uniform01() < 0.5 ? -1 : 1) *
                         std::ldexp(rng.uniform(1, 2), static_cast<int>(std::floor(rng.uniform(-wide_e, wide_e)))));
  };
  switch (dist) {
    case Dist::normal:
      break;
    case Dist::uniform:
      in.x = uniform_tensor<T>(s.x_shape(), 1.0, rng);
      in.w = uniform_tensor<T>(s.w_shape(), 1.0, rng);
      break;
    case Dist::kaiming:
      in.w = uniform_tensor<T>(s.w_shape(), 1.0 / std::sqrt(double(s.n_terms())), rng);
      break;
    case Dist::wide:
      wide(in.x);
      wide(in.w);
      break;
    case Dist::subnormal:
      for (auto& v : in.x.data) v = std::ldexp(v, tiny_e);
      for (auto& v : in.w.data) v = std::ldexp(v, tiny_e);
      for (auto& v : in.b.data) v = std::ldexp(v, 2 * tiny_e);
      break;
    case Dist::subnormal_w:
      // Subnormal weights, large inputs: G·g loses bits to underflow, U·V does not.
      for (auto& v : in.w.data) v = std::ldexp(v, 2 * tiny_e);
      for (auto& v : in.x.data) v = std::ldexp(v, -tiny_e / 3);
      break;
    case Dist::illcond: {
      // Zero-mean kernels on inputs with a large common offset: y ≪ Σ|w·x|.
      const std::int64_t per_oc = s.w_size() / s.oc;
      for (std::int64_t oc = 0; oc < s.oc; ++oc) {
        double mean = 0;
        for (std::int64_t i = 0; i < per_oc; ++i) mean += in.w.data[oc * per_oc + i];
        mean /= double(per_oc);
        for (std::int64_t i = 0; i < per_oc; ++i)
          in.w.data[oc * per_oc + i] = static_cast<T>(in.w.data[oc * per_oc + i] - mean);
      }
      for (auto& v : in.x.data) v = static_cast<T>(1e4 + 1e-3 * v);
      for (auto& v : in.b.data) v = 0;
      break;
    }
  }
  return in;
}

struct Stats {
  double max_ratio = 0;  // max err/bound
  double mean_rel = 0;   // mean err/absdot
  double max_cond = 0;   // largest finite cond seen
  std::int64_t violations = 0;  // outputs where a finite bound does not hold
};

template <class T>
Stats check_bound(const ConvSpec& s, const Inputs<T>& in, bool bias, const std::string& tile, const std::string& fma) {
  const ConvProblem<T> p{s, in.x, in.w, bias ? &in.b : nullptr};
  const OrderOutput<T> out = run(p, tile, fma, 2);
  const Truth t = truth_of(p);
  BOOST_TEST(bound_kind_name(out.bound_kind) == "winograd-transform");
  BOOST_REQUIRE(out.bound.shape == s.y_shape());
  Stats st;
  for (std::size_t i = 0; i < out.y.data.size(); ++i) {
    const double yhat = out.y.data[i], e = err_up(p, std::int64_t(i), out.y.data[i]), bnd = out.bound.data[i];
    if (!(std::isfinite(yhat) && std::isfinite(bnd) && e <= bnd)) ++st.violations;
    if (bnd > 0) st.max_ratio = std::max(st.max_ratio, e / bnd);
    if (t.absdot.data[i] > 0) st.mean_rel += e / t.absdot.data[i];
    const double c = cond_of(t.absdot.data[i], t.y.data[i]);
    if (std::isfinite(c)) st.max_cond = std::max(st.max_cond, c);
  }
  st.mean_rel /= double(out.y.data.size());
  return st;
}

template <class T>
void check_all_distributions() {
  // Padding, groups, edge tiles partly outside the output (9×10 with m = 2 and 4).
  const ConvSpec specs[] = {parse_benchdnn("g2mb2ic6ih9iw10oc4kh3kw3ph1pw1"), parse_benchdnn("mb1ic5ih8iw7oc3kh3kw3")};
  std::uint64_t seed = 1;
  for (const ConvSpec& s : specs)
    for (Dist d : {Dist::normal, Dist::uniform, Dist::kaiming, Dist::wide, Dist::subnormal, Dist::subnormal_w,
                   Dist::illcond})
      for (const char* tile : {"2", "4"})
        for (const char* fma : {"0", "1"}) {
          const Inputs<T> in = make_inputs<T>(s, d, ++seed);
          const Stats st = check_bound(s, in, seed % 3 != 0, tile, fma);  // bias in 2 of 3 runs
          BOOST_TEST(st.violations == 0, to_benchdnn(s) << " dist " << int(d) << " tile " << tile << " fma " << fma
                                                        << ": " << st.violations << " violations");
          if (d == Dist::illcond) BOOST_TEST(st.max_cond > 1e5);
        }
}

}  // namespace

// Integer inputs small enough that, for tile 2 (entries 0, ±1, ±1/2), every
// intermediate is a small multiple of 1/4: nothing rounds, the result is exact.
BOOST_AUTO_TEST_CASE(tile2_integer_inputs_are_exact) {
  const ConvSpec s = parse_benchdnn("g2mb2ic4ih7iw6oc4kh3kw3ph1pw1");
  Rng rng(7);
  auto ints = [&](std::vector<std::int64_t> shape) {
    Tensor<double> t(std::move(shape));
    for (auto& v : t.data) v = std::floor(rng.uniform(-8, 9));
    return t;
  };
  const Tensor<double> x = ints(s.x_shape()), w = ints(s.w_shape()), b = ints({s.oc});
  const ConvProblem<double> p{s, x, w, &b};
  const Truth t = truth_of(p);
  auto to32 = [](const Tensor<double>& a) {
    Tensor<float> r(a.shape);
    std::transform(a.data.begin(), a.data.end(), r.data.begin(), [](double v) { return float(v); });
    return r;
  };
  const Tensor<float> xf = to32(x), wf = to32(w), bf = to32(b);
  const ConvProblem<float> pf{s, xf, wf, &bf};
  for (const char* fma : {"0", "1"}) {
    const auto y64 = run(p, "2", fma).y;
    const auto y32 = run(pf, "2", fma).y;
    std::int64_t nonzero = 0;
    for (std::size_t i = 0; i < t.y.data.size(); ++i) {
      BOOST_REQUIRE(t.lo.data[i] == t.hi.data[i]);
      BOOST_TEST(bits(y64.data[i]) == bits(t.y.data[i]));
      BOOST_TEST(bits(y32.data[i]) == bits(t.y32.data[i]));
      nonzero += t.y.data[i] != 0;
    }
    BOOST_TEST(nonzero > 100);
  }
}

BOOST_AUTO_TEST_CASE(bound_holds_f32) { check_all_distributions<float>(); }
BOOST_AUTO_TEST_CASE(bound_holds_f64) { check_all_distributions<double>(); }

// The bound is not vacuous, and F(4×4) loses more accuracy than F(2×2).
BOOST_AUTO_TEST_CASE(bound_is_tight_and_tile4_less_accurate) {
  const ConvSpec s = parse_benchdnn("mb1ic16ih16iw16oc8kh3kw3ph1pw1");
  const Inputs<float> in = make_inputs<float>(s, Dist::normal, 42);
  const Stats s2 = check_bound(s, in, false, "2", "0");
  const Stats s4 = check_bound(s, in, false, "4", "0");
  std::cout << "winograd f32 normal: max err/bound tile2 " << s2.max_ratio << ", tile4 " << s4.max_ratio
            << "; mean err/absdot tile2 " << s2.mean_rel << ", tile4 " << s4.mean_rel << "\n";
  BOOST_TEST(s2.violations == 0);
  BOOST_TEST(s4.violations == 0);
  BOOST_TEST(s2.max_ratio >= 1e-3);
  BOOST_TEST(s4.max_ratio >= 1e-3);
  BOOST_TEST(s4.mean_rel > s2.mean_rel);
}

namespace {

using boost::multiprecision::cpp_rational;

cpp_rational abs_q(winograd::Rational r) { return cpp_rational(r.num < 0 ? -r.num : r.num, r.den); }

// The documented bound γ_k·S + u·|b| + (1 + γ_k)(η/2)·F in exact rational
// arithmetic, for output (n, oc, oy, ox).
template <class T, int M>
cpp_rational exact_formula(const ConvProblem<T>& p, std::int64_t n, std::int64_t oc, std::int64_t oy,
                           std::int64_t ox) {
  constexpr int A = M + 2;
  const auto& w = winograd::matrices<M>();
  const ConvSpec& s = p.spec;
  const std::int64_t C = s.ic / s.g, grp = oc / (s.oc / s.g);
  const int pr = int(oy % M), pc = int(ox % M);
  const std::int64_t y0 = oy - pr - s.ph, x0 = ox - pc - s.pw;
  cpp_rational sm[A][A], vsum[A][A];
  for (std::int64_t c = 0; c < C; ++c)
    for (int i = 0; i < A; ++i)
      for (int j = 0; j < A; ++j) {
        cpp_rational ua = 0, va = 0;
        for (int k = 0; k < 3; ++k)
          for (int l = 0; l < 3; ++l)
            ua += abs_q(w.g[i][k]) * abs_q(w.g[j][l]) * cpp_rational(std::fabs(double(p.w(oc, c, k, l))));
        for (int r = 0; r < A; ++r)
          for (int q = 0; q < A; ++q) {
            const std::int64_t iy = y0 + r, ix = x0 + q;
            if (iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw) continue;
            va += abs_q(w.bt[i][r]) * abs_q(w.bt[j][q]) * cpp_rational(std::fabs(double(p.x(n, grp * C + c, iy, ix))));
          }
        sm[i][j] += ua * va;
        vsum[i][j] += va;
      }
  cpp_rational S = 0, F = 0;
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < A; ++j) {
      int nu_i = 0, nu_j = 0;
      cpp_rational rho_j = 0;
      for (int k = 0; k < 3; ++k) {
        nu_i += winograd::can_underflow(w.g[i][k]);
        nu_j += winograd::can_underflow(w.g[j][k]);
        rho_j += abs_q(w.g[j][k]);
      }
      const cpp_rational a = abs_q(w.at[pr][i]) * abs_q(w.at[pc][j]);
      S += a * sm[i][j];
      F += a * (cpp_rational(C) + (nu_i * rho_j + nu_j) * vsum[i][j]);
    }
  const std::int64_t k = winograd::rounding_depth(w, C, p.bias != nullptr);
  const cpp_rational u = cpp_rational(std::ldexp(1.0, -std::numeric_limits<T>::digits));
  const cpp_rational half_eta = cpp_rational(std::ldexp(1.0, std::numeric_limits<T>::min_exponent - 1 -
                                                                std::numeric_limits<T>::digits)) / 2;
  const cpp_rational gamma = k * u / (1 - k * u);
  const cpp_rational b = p.bias ? cpp_rational(std::fabs(double(p.bias->data[oc]))) : cpp_rational(0);
  return gamma * S + u * b + (1 + gamma) * half_eta * F;
}

template <class T, int M>
void check_formula() {
  const ConvSpec s = parse_benchdnn("g2mb1ic4ih5iw6oc4kh3kw3ph1pw1");
  const Inputs<T> in = make_inputs<T>(s, Dist::normal, 11);
  const ConvProblem<T> p{s, in.x, in.w, &in.b};
  const auto out = run(p, std::to_string(M));
  std::int64_t above = 0, i = 0;
  for (std::int64_t oc = 0; oc < s.oc; ++oc)
    for (std::int64_t oy = 0; oy < s.oh; ++oy)
      for (std::int64_t ox = 0; ox < s.ow; ++ox, ++i) {
        const cpp_rational exact = exact_formula<T, M>(p, 0, oc, oy, ox);
        const cpp_rational got(out.bound.data[static_cast<std::size_t>(i)]);
        BOOST_TEST((got >= exact), "tile " << M << " output " << i << " rounds below the formula");
        BOOST_TEST((got <= exact * cpp_rational(1000001, 1000000)), "output " << i << " is not the formula");
        above += got > exact;
      }
  BOOST_TEST(above > 0);
}

}  // namespace

// The evaluated bound is the documented formula, rounded up: never below its
// exact value (round-to-nearest would fall below it at about half the outputs).
BOOST_AUTO_TEST_CASE(bound_is_the_formula_rounded_up) {
  check_formula<float, 2>();
  check_formula<float, 4>();
  check_formula<double, 2>();
  check_formula<double, 4>();
}

BOOST_AUTO_TEST_CASE(rejects_unsupported_shapes_and_parameters) {
  const std::string msg = "winograd: needs a 3x3 kernel with stride 1 and no dilation; got ";
  const std::pair<const char*, const char*> bad[] = {{"mb1ic2ih8iw8oc2kh5kw5ph2pw2", "kh5kw5sh1sw1dh0dw0"},
                                                     {"mb1ic2ih8iw8oc2kh3kw3sh2sw2ph1pw1", "kh3kw3sh2sw2dh0dw0"},
                                                     {"mb1ic2ih8iw8oc2kh3kw3dh1dw1ph2pw2", "kh3kw3sh1sw1dh1dw1"}};
  for (const auto& [desc, got] : bad) {
    const ConvSpec s = parse_benchdnn(desc);
    const Tensor<float> x(s.x_shape(), 1.0f), w(s.w_shape(), 1.0f);
    try {
      run(ConvProblem<float>{s, x, w}, "2");
      BOOST_ERROR(std::string(desc) + " was accepted");
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()) == msg + got);
    }
  }
  const ConvSpec s = parse_benchdnn("mb1ic2ih8iw8oc2kh3kw3ph1pw1");
  const Tensor<float> x(s.x_shape(), 1.0f), w(s.w_shape(), 1.0f);
  BOOST_CHECK_THROW(run(ConvProblem<float>{s, x, w}, "3"), InputError);
  BOOST_CHECK_THROW(run(ConvProblem<float>{s, x, w}, "2", "2"), InputError);
}

// An overflowing intermediate leaves no finite bound: the bound says +inf.
BOOST_AUTO_TEST_CASE(overflow_gives_infinite_bound) {
  const ConvSpec s = parse_benchdnn("mb1ic2ih6iw6oc2kh3kw3ph1pw1");
  const Tensor<float> x(s.x_shape(), 1e30f), w(s.w_shape(), 1e30f);
  const auto out = run(ConvProblem<float>{s, x, w}, "4");
  for (std::size_t i = 0; i < out.y.data.size(); ++i) {
    BOOST_TEST(!std::isfinite(out.y.data[i]));
    BOOST_TEST(out.bound.data[i] == std::numeric_limits<double>::infinity());
  }
}

BOOST_AUTO_TEST_CASE(thread_count_does_not_change_bits) {
  const ConvSpec s = parse_benchdnn("g2mb2ic6ih11iw9oc6kh3kw3ph1pw1");
  for (const char* tile : {"2", "4"}) {
    const Inputs<float> in = make_inputs<float>(s, Dist::normal, 3);
    const ConvProblem<float> p{s, in.x, in.w, &in.b};
    const auto a = run(p, tile, "1", 1), b = run(p, tile, "1", 2), c = run(p, tile, "1", 3);
    for (std::size_t i = 0; i < a.y.data.size(); ++i) {
      BOOST_TEST(std::bit_cast<std::uint32_t>(a.y.data[i]) == std::bit_cast<std::uint32_t>(b.y.data[i]));
      BOOST_TEST(std::bit_cast<std::uint32_t>(a.y.data[i]) == std::bit_cast<std::uint32_t>(c.y.data[i]));
      BOOST_TEST(std::bit_cast<std::uint64_t>(a.bound.data[i]) == std::bit_cast<std::uint64_t>(b.bound.data[i]));
    }
  }
}
