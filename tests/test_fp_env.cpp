// The floating-point environment at the entry points (core/fp_env.hpp): a hostile
// caller (flush-to-zero and denormals-are-zero on, rounding upward or toward zero)
// gets bit for bit the results of a default caller, on inputs full of subnormals,
// and gets its own environment back after every call, also after an exception.
#define BOOST_TEST_MODULE fp_env
#include <boost/test/unit_test.hpp>

#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "certconv/analysis/identify.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/testing.hpp"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

using namespace certconv;

namespace {

#if defined(__x86_64__)
constexpr unsigned kFtzDaz = (1u << 15) | (1u << 6);
unsigned ftz_daz() { return _mm_getcsr() & kFtzDaz; }
#else
unsigned ftz_daz() { return 0; }
#endif

// What a thread's environment looks like, as far as these tests care.
struct EnvState {
  int round;
  unsigned ftz_daz;
  bool operator==(const EnvState&) const = default;
};
EnvState current() { return {std::fegetround(), ftz_daz()}; }
const EnvState kCertconv{FE_TONEAREST, 0};

// The hostile caller, set and undone by hand (never through FpEnvGuard, which is
// what is under test): FTZ and DAZ on, the given rounding mode.
class Hostile {
 public:
  explicit Hostile(int round) : saved_(current()) {
    std::fesetround(round);
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | kFtzDaz);
#endif
  }
  ~Hostile() {
    std::fesetround(saved_.round);
#if defined(__x86_64__)
    _mm_setcsr((_mm_getcsr() & ~kFtzDaz) | saved_.ftz_daz);
#endif
  }
  EnvState state() const { return {std::fegetround(), ftz_daz()}; }

 private:
  EnvState saved_;
};

template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(T)) == 0);
}

// Products and sums in the subnormal range of T: x ~ N(0, 1)·2^s with s chosen so
// that most x are subnormal (and many products, and outputs of the f32 orders).
template <class T>
OwnedProblem<T> subnormal_problem() {
  const ConvSpec s = parse_benchdnn("mb2ic6ih7oc4kh3ph1");
  Rng rng(20261204);
  OwnedProblem<T> p{s, normal_tensor<T>(s.x_shape(), rng), normal_tensor<T>(s.w_shape(), rng),
                    normal_tensor<T>({s.oc}, rng)};
  const int scale = std::is_same_v<T, float> ? -128 : -1024;
  for (T& v : p.x.data) v = std::ldexp(v, scale);
  for (T& v : p.bias->data) v = std::ldexp(v, scale);
  return p;
}

template <class T>
int count_subnormal(const std::vector<T>& v) {
  int c = 0;
  for (T e : v) c += std::fpclassify(e) == FP_SUBNORMAL;
  return c;
}

// Everything a call returns, from the default environment and from a hostile one,
// must agree bit for bit; the hostile caller's environment must survive the call.
template <class T>
void check_truth(const OwnedProblem<T>& p, TruthMethod method, int round) {
  TruthOptions opt;
  opt.method = method;
  opt.threads = 2;
  const Truth ref = compute_truth(p.view(), opt);
  Hostile h(round);
  const EnvState caller = h.state();
  const Truth t = compute_truth(p.view(), opt);
  BOOST_TEST((current() == caller));
  BOOST_TEST(same_bits(t.y, ref.y));
  BOOST_TEST(same_bits(t.y32, ref.y32));
  BOOST_TEST(same_bits(t.lo, ref.lo));
  BOOST_TEST(same_bits(t.hi, ref.hi));
  BOOST_TEST(same_bits(t.absdot, ref.absdot));
  BOOST_TEST(t.exact_zeros == ref.exact_zeros);
}

template <class T>
void check_orders(const OwnedProblem<T>& p, int round) {
  RunOptions opt;
  opt.threads = 2;
  std::vector<std::string> names;
  for (const OrderInfo& o : order_list()) names.push_back(o.name);
  if constexpr (std::is_same_v<T, float>) names.push_back("direct:input=bf16");
  int ran = 0;
  for (const std::string& name : names) {
    BOOST_TEST_CONTEXT(name << " " << (std::is_same_v<T, float> ? "f32" : "f64")) {
      const OrderSpec o = parse_order(name);
      OrderOutput<T> ref;
      try {
        ref = run_order(o, p.view(), opt);
      } catch (const InputError&) {
        continue;  // not for this dtype or this build
      }
      ++ran;
      Hostile h(round);
      const EnvState caller = h.state();
      const OrderOutput<T> out = run_order(o, p.view(), opt);
      BOOST_TEST((current() == caller));
      BOOST_TEST(same_bits(out.y, ref.y));
      BOOST_TEST(same_bits(out.bound, ref.bound));
      BOOST_TEST(same_bits(out.running_bound, ref.running_bound));
      BOOST_TEST(bound_kind_name(out.bound_kind) == bound_kind_name(ref.bound_kind));
    }
  }
  BOOST_TEST(ran >= 5);
}

template <class T>
void check_check_conv(const OwnedProblem<T>& p, int round) {
  // An observed output one step off the truth at every output, so that the
  // verdict and the worst list depend on the subnormal truth and bound.
  TruthOptions topt;
  Tensor<T> y(p.spec.y_shape());
  const Truth truth = compute_truth(p.view(), topt);
  for (std::size_t i = 0; i < y.data.size(); ++i)
    y.data[i] = std::nextafter(static_cast<T>(truth.y.data[i]), std::numeric_limits<T>::infinity());
  Tolerance tol = rigorous("im2col");
  tol.threads = 2;
  const CheckResult ref = check_conv(y, p.view(), tol);
  const CertifiedTolerance ref_tol = certified_tolerance(p.view(), rigorous_any_order());
  Hostile h(round);
  const EnvState caller = h.state();
  const CheckResult r = check_conv(y, p.view(), tol);
  BOOST_TEST((current() == caller));
  const CertifiedTolerance ct = certified_tolerance(p.view(), rigorous_any_order());
  BOOST_TEST((current() == caller));
  BOOST_TEST(r.passed == ref.passed);
  BOOST_TEST(r.beyond == ref.beyond);
  BOOST_TEST((r.message == ref.message));
  BOOST_TEST(same_bits(ct.per_element, ref_tol.per_element));
  BOOST_TEST(std::memcmp(&ct.atol, &ref_tol.atol, sizeof(double)) == 0);
  BOOST_TEST(std::memcmp(&ct.rtol, &ref_tol.rtol, sizeof(double)) == 0);
}

}  // namespace

// The premise: the hostile environment changes arithmetic on these inputs, and
// the inputs and truths really are subnormal.
BOOST_AUTO_TEST_CASE(hostile_environment_changes_arithmetic) {
  const auto p = subnormal_problem<float>();
  BOOST_TEST(count_subnormal(p.x.data) > static_cast<int>(p.x.data.size()) / 2);
  const Truth t = compute_truth(p.view(), TruthOptions{});
  BOOST_TEST(count_subnormal(t.y32.data) > 0);
  volatile float tiny = p.x.data[0];
  volatile double third = 1.0;
  const double nearest = third / 3;
#if defined(__x86_64__)
  BOOST_TEST(std::fpclassify(tiny) == FP_SUBNORMAL);
  Hostile h(FE_UPWARD);
  BOOST_TEST(tiny * 1.0f == 0.0f);  // DAZ
#else
  Hostile h(FE_UPWARD);
#endif
  BOOST_TEST(third / 3 != nearest);
}

BOOST_AUTO_TEST_CASE(guard_sets_and_restores) {
  for (const int round : {FE_UPWARD, FE_TOWARDZERO, FE_DOWNWARD}) {
    Hostile h(round);
    const EnvState caller = h.state();
    std::feclearexcept(FE_ALL_EXCEPT);
    std::feraiseexcept(FE_INEXACT);
    {
      FpEnvGuard g;
      BOOST_TEST((current() == kCertconv));
      BOOST_TEST(std::fetestexcept(FE_ALL_EXCEPT) == 0);
      volatile double tiny = 0x1p-1074;
      BOOST_TEST(tiny * 0.5 == 0.0);  // raises underflow, dropped with the guard
      {
        FpEnvGuard nested;
        BOOST_TEST((current() == kCertconv));
      }
      BOOST_TEST((current() == kCertconv));
    }
    BOOST_TEST((current() == caller));
    BOOST_TEST(std::fetestexcept(FE_ALL_EXCEPT) == FE_INEXACT);
    std::feclearexcept(FE_ALL_EXCEPT);
  }
}

// parallel_for's workers, created after the guard, run in the guarded environment
// (a new thread inherits its creator's); without the guard they would inherit the
// caller's, which is why the guard must come before any thread is created.
BOOST_AUTO_TEST_CASE(workers_inherit_the_environment) {
  Hostile h(FE_UPWARD);
  const EnvState caller = h.state();
  std::vector<EnvState> seen(4);
  parallel_for(4, 4, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) seen[static_cast<std::size_t>(i)] = current();
  });
  for (const EnvState& s : seen) BOOST_TEST((s == caller));
  {
    FpEnvGuard g;
    parallel_for(4, 4, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) seen[static_cast<std::size_t>(i)] = current();
    });
  }
  for (const EnvState& s : seen) BOOST_TEST((s == kCertconv));
  BOOST_TEST((current() == caller));
}

BOOST_AUTO_TEST_CASE(restored_when_an_exception_propagates) {
  auto p = subnormal_problem<float>();
  p.x.data[3] = std::numeric_limits<float>::quiet_NaN();
  Hostile h(FE_TOWARDZERO);
  const EnvState caller = h.state();
  BOOST_CHECK_THROW(compute_truth(p.view(), TruthOptions{}), InputError);
  BOOST_TEST((current() == caller));
  BOOST_CHECK_THROW(run_order(parse_order("im2col"), p.view(), RunOptions{}), InputError);
  BOOST_TEST((current() == caller));
}

BOOST_AUTO_TEST_CASE(truth_under_a_hostile_caller) {
  const auto pf = subnormal_problem<float>();
  const auto pd = subnormal_problem<double>();
  for (const int round : {FE_UPWARD, FE_TOWARDZERO})
    for (const TruthMethod m : {TruthMethod::exact, TruthMethod::auto_}) {
      BOOST_TEST_CONTEXT("round " << round << ", method " << truth_method_name(m)) {
        check_truth(pf, m, round);
        check_truth(pd, m, round);
      }
    }
}

BOOST_AUTO_TEST_CASE(orders_under_a_hostile_caller) {
  const auto pf = subnormal_problem<float>();
  const auto pd = subnormal_problem<double>();
  for (const int round : {FE_UPWARD, FE_TOWARDZERO}) {
    BOOST_TEST_CONTEXT("round " << round) {
      check_orders(pf, round);
      check_orders(pd, round);
    }
  }
}

BOOST_AUTO_TEST_CASE(check_conv_under_a_hostile_caller) {
  const auto pf = subnormal_problem<float>();
  const auto pd = subnormal_problem<double>();
  for (const int round : {FE_UPWARD, FE_TOWARDZERO}) {
    BOOST_TEST_CONTEXT("round " << round) {
      check_check_conv(pf, round);
      check_check_conv(pd, round);
    }
  }
}

// identify's own arithmetic (norm_err over subnormal differences) as well as the
// truth and the orders it calls.
BOOST_AUTO_TEST_CASE(identify_under_a_hostile_caller) {
  const auto p = subnormal_problem<float>();
  const Tensor<float> y = run_order(parse_order("pairwise:fma=1"), p.view(), RunOptions{}).y;
  const IdentifyResult ref = identify(p.view(), y, 2);
  BOOST_TEST_REQUIRE(!ref.candidates.empty());
  BOOST_TEST(ref.candidates.front().mismatches == 0);
  for (const int round : {FE_UPWARD, FE_TOWARDZERO}) {
    Hostile h(round);
    const EnvState caller = h.state();
    const IdentifyResult r = identify(p.view(), y, 2);
    BOOST_TEST((current() == caller));
    BOOST_TEST_REQUIRE(r.candidates.size() == ref.candidates.size());
    for (std::size_t i = 0; i < r.candidates.size(); ++i) {
      const IdentifyCandidate &a = r.candidates[i], &b = ref.candidates[i];
      BOOST_TEST_CONTEXT(order_str(b.order)) {
        BOOST_TEST(order_str(a.order) == order_str(b.order));
        BOOST_TEST(a.mismatches == b.mismatches);
        BOOST_TEST(std::memcmp(&a.max_norm_err_of_mismatches, &b.max_norm_err_of_mismatches, sizeof(double)) == 0);
        BOOST_TEST(std::memcmp(&a.max_norm_dist_of_mismatches, &b.max_norm_dist_of_mismatches, sizeof(double)) == 0);
      }
    }
  }
}
