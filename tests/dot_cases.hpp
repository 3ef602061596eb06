#pragma once
// Sums of products shared by test_accumulator (ExactAccumulator against an MPFR
// oracle) and test_mpfi (the exact value inside the MPFI enclosure): random
// normal and integer data, subnormal inputs and results, the largest finite
// values, exact ties in binary64 and binary32, exact cancellation, huge exponent
// spreads and GenDot dot products with cond 1e3…1e30 (float), 1e3…1e300 (double).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "certconv/exact/gendot.hpp"

namespace certconv::test {

struct Term {
  enum Kind { product64, product32, single } kind;
  double a, b;  // product32: a and b hold binary32 values; single: b unused
};

struct DotCase {
  std::string name;
  std::vector<Term> terms;
};

inline Term p64(double a, double b) { return {Term::product64, a, b}; }
inline Term p32(float a, float b) { return {Term::product32, a, b}; }
inline Term one(double a) { return {Term::single, a, 0}; }

// Feeds the terms to anything with add_product(double, double),
// add_product(float, float) (or a conversion to double) and add(double).
template <class Acc>
void apply(const DotCase& c, Acc& acc) {
  for (const Term& t : c.terms) {
    switch (t.kind) {
      case Term::product64: acc.add_product(t.a, t.b); break;
      case Term::product32: acc.add_product(static_cast<float>(t.a), static_cast<float>(t.b)); break;
      case Term::single: acc.add(t.a); break;
    }
  }
}

constexpr double kTiny = DBL_TRUE_MIN;  // 2^-1074
constexpr double kHalfTiny2 = 0x1p-537, kHalfTiny1 = 0x1p-538;  // product 2^-1075: half a subnormal ulp

inline std::vector<DotCase> random_normal_cases() {
  std::vector<DotCase> out;
  std::mt19937_64 rng(20240601);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> scale(-40, 40);
  for (std::size_t n : {1, 2, 7, 64, 300}) {
    for (int rep = 0; rep < 4; ++rep) {
      DotCase d{"random normal f64 n=" + std::to_string(n) + " #" + std::to_string(rep), {}};
      DotCase s{"random normal scaled f64 n=" + std::to_string(n) + " #" + std::to_string(rep), {}};
      DotCase f{"random normal f32 n=" + std::to_string(n) + " #" + std::to_string(rep), {}};
      for (std::size_t i = 0; i < n; ++i) {
        d.terms.push_back(p64(normal(rng), normal(rng)));
        s.terms.push_back(p64(std::ldexp(normal(rng), scale(rng)), std::ldexp(normal(rng), scale(rng))));
        f.terms.push_back(p32(static_cast<float>(normal(rng)), static_cast<float>(normal(rng))));
      }
      d.terms.push_back(one(normal(rng)));  // a bias
      out.insert(out.end(), {d, s, f});
    }
  }
  return out;
}

inline std::vector<DotCase> integer_cases() {
  std::vector<DotCase> out{
      {"integer tie 2^54 + 2 (to even 2^54)", {one(0x1p54), one(2)}},
      {"integer tie 2^54 + 6 (to even 2^54 + 8)", {one(0x1p54), one(6)}},
      {"integer tie 2^53 + 1 (to 2^53)", {one(0x1p53), one(1)}},
      {"integer (2^27+1)^2 = 2^54 + 2^28 + 1, inexact in f64", {p64(0x1p27 + 1, 0x1p27 + 1)}},
  };
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> small(-(1 << 20), 1 << 20), big(-(1LL << 26), 1LL << 26);
  for (int rep = 0; rep < 10; ++rep) {
    DotCase s{"integer small #" + std::to_string(rep), {}}, b{"integer big #" + std::to_string(rep), {}};
    DotCase f{"integer f32 #" + std::to_string(rep), {}};
    for (int i = 0; i < 100; ++i) {
      s.terms.push_back(p64(static_cast<double>(small(rng)), static_cast<double>(small(rng))));
      b.terms.push_back(p64(static_cast<double>(big(rng)), static_cast<double>(big(rng))));
      f.terms.push_back(p32(static_cast<float>(small(rng)), static_cast<float>(small(rng))));
    }
    out.insert(out.end(), {s, b, f});
  }
  return out;
}

inline std::vector<DotCase> subnormal_cases() {
  std::vector<DotCase> out{
      {"product 2^-2148", {p64(kTiny, kTiny)}},
      {"product -2^-2148", {p64(-kTiny, kTiny)}},
      {"tie 0.5 subnormal ulp (to 0)", {p64(kHalfTiny2, kHalfTiny1)}},
      {"tie -0.5 subnormal ulp (to -0)", {p64(-kHalfTiny2, kHalfTiny1)}},
      {"tie 1.5 subnormal ulps (to 2)", {one(kTiny), p64(kHalfTiny2, kHalfTiny1)}},
      {"tie 2.5 subnormal ulps (to 2)", {one(2 * kTiny), p64(kHalfTiny2, kHalfTiny1)}},
      {"tie -2.5 subnormal ulps (to -2)", {one(-2 * kTiny), p64(-kHalfTiny2, kHalfTiny1)}},
      {"2.5 subnormal ulps + 2^-2148", {one(2 * kTiny), p64(kHalfTiny2, kHalfTiny1), p64(kTiny, kTiny)}},
      {"2.5 subnormal ulps - 2^-2148", {one(2 * kTiny), p64(kHalfTiny2, kHalfTiny1), p64(-kTiny, kTiny)}},
      {"tie DBL_MIN - half ulp (to DBL_MIN)", {one(DBL_MIN), p64(-kHalfTiny2, kHalfTiny1)}},
      {"tie DBL_MIN - 3 half ulps (to DBL_MIN - 2 ulps)", {one(DBL_MIN), p64(-3 * kHalfTiny2, kHalfTiny1)}},
      {"largest subnormal", {one(DBL_MIN), one(-kTiny)}},
      {"subnormal inputs times normals",
       {p64(3 * kTiny, 0x1p1000), p64(0x0.123p-1022, 0x1.8p+500), one(-0x0.8p-1022), p64(kTiny, -0x1.5p52)}},
      {"f32 subnormal inputs", {p32(FLT_TRUE_MIN, 1.0f), p32(FLT_TRUE_MIN * 5, -0.75f), p32(FLT_MIN, 0x1p-3f)}},
      {"f32 product FLT_TRUE_MIN^2 = 2^-298", {p32(FLT_TRUE_MIN, FLT_TRUE_MIN)}},
      {"f32 tie 0.5 subnormal ulp (to 0)", {p32(FLT_TRUE_MIN, 0.5f)}},
      {"f32 tie 1.5 subnormal ulps (to 2)", {p32(FLT_TRUE_MIN, 1.5f)}},
      {"f32 tie 2.5 subnormal ulps (to 2)", {p32(FLT_TRUE_MIN, 2.5f)}},
      {"f32 tie 2.5 subnormal ulps + sticky", {p32(FLT_TRUE_MIN, 2.5f), p64(kTiny, kTiny)}},
      {"f32 tie FLT_MIN - half ulp (to FLT_MIN)", {p32(FLT_MIN, 1.0f), p32(-FLT_TRUE_MIN, 0.5f)}},
  };
  // Random products whose sums land among the binary64 (or binary32) subnormals.
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  for (int rep = 0; rep < 20; ++rep) {
    DotCase d{"random subnormal results f64 #" + std::to_string(rep), {}};
    DotCase f{"random subnormal results f32 #" + std::to_string(rep), {}};
    for (int i = 0; i < 30; ++i) {
      const int target = std::uniform_int_distribution<int>(-1120, -1000)(rng);
      const int ka = std::uniform_int_distribution<int>(-1074, target + 1074)(rng);
      d.terms.push_back(p64(std::ldexp(normal(rng), ka), std::ldexp(normal(rng), target - ka)));
      const int t32 = std::uniform_int_distribution<int>(-160, -140)(rng);
      const int k32 = std::uniform_int_distribution<int>(-149, t32 + 149)(rng);
      f.terms.push_back(p32(static_cast<float>(std::ldexp(normal(rng), k32)),
                            static_cast<float>(std::ldexp(normal(rng), t32 - k32))));
    }
    out.insert(out.end(), {d, f});
  }
  return out;
}

inline std::vector<DotCase> overflow_cases() {
  return {
      {"DBL_MAX + DBL_MAX", {one(DBL_MAX), one(DBL_MAX)}},
      {"-DBL_MAX - DBL_MAX", {one(-DBL_MAX), one(-DBL_MAX)}},
      {"DBL_MAX * 2", {p64(DBL_MAX, 2)}},
      {"tie DBL_MAX + half ulp (to inf)", {one(DBL_MAX), one(0x1p970)}},
      {"tie -DBL_MAX - half ulp (to -inf)", {one(-DBL_MAX), one(-0x1p970)}},
      {"DBL_MAX + half ulp - 2^-2148 (to DBL_MAX)", {one(DBL_MAX), one(0x1p970), p64(-kTiny, kTiny)}},
      {"DBL_MAX + half ulp + 2^-2148", {one(DBL_MAX), one(0x1p970), p64(kTiny, kTiny)}},
      {"DBL_MAX^2 four times", {p64(DBL_MAX, DBL_MAX), p64(DBL_MAX, DBL_MAX), p64(DBL_MAX, DBL_MAX),
                                 p64(DBL_MAX, DBL_MAX)}},
      {"DBL_MAX^2 cancelled, plus 1", {p64(DBL_MAX, DBL_MAX), one(1), p64(-DBL_MAX, DBL_MAX)}},
      {"FLT_MAX + FLT_MAX", {one(FLT_MAX), one(FLT_MAX)}},
      {"f32 FLT_MAX * 2", {p32(FLT_MAX, 2.0f)}},
      {"f32 FLT_MAX * -FLT_MAX", {p32(FLT_MAX, -FLT_MAX)}},
      {"f32 tie FLT_MAX + half ulp (to inf)", {p32(FLT_MAX, 1.0f), p32(0x1p103f, 1.0f)}},
      {"f32 tie -FLT_MAX - half ulp (to -inf)", {p32(-FLT_MAX, 1.0f), p32(-0x1p103f, 1.0f)}},
      {"f32 FLT_MAX + half ulp - 2^-1000 (to FLT_MAX)", {one(FLT_MAX), one(0x1p103), one(-0x1p-1000)}},
      {"f32 FLT_MAX + half ulp + 2^-1000", {one(FLT_MAX), one(0x1p103), one(0x1p-1000)}},
  };
}

inline std::vector<DotCase> tie_cases() {
  return {
      {"tie 1 + 2^-53 (to 1)", {one(1), one(0x1p-53)}},
      {"tie 1 + 3*2^-53 (to 1 + 2^-51)", {one(1), one(0x3p-53)}},
      {"tie -1 - 2^-53 (to -1)", {one(-1), one(-0x1p-53)}},
      {"1 + 2^-53 + 2^-1000 (to 1 + 2^-52)", {one(1), one(0x1p-53), one(0x1p-1000)}},
      {"1 + 2^-53 - 2^-1000 (to 1)", {one(1), one(0x1p-53), one(-0x1p-1000)}},
      {"1 + 2^-53 + 2^-2148", {one(1), one(0x1p-53), p64(kTiny, kTiny)}},
      {"-1 - 2^-53 - 2^-2148", {one(-1), one(-0x1p-53), p64(-kTiny, kTiny)}},
      {"tie as a product (2^27+1)(2^26+1) 2^-53", {p64((0x1p27 + 1) * 0x1p-27, (0x1p26 + 1) * 0x1p-26)}},
      {"f32 tie 1 + 2^-24 (to 1)", {one(1), one(0x1p-24)}},
      {"f32 tie 1 + 3*2^-24 (to 1 + 2^-22)", {one(1), one(0x3p-24)}},
      {"f32 tie -1 - 2^-24", {one(-1), one(-0x1p-24)}},
      {"f32 1 + 2^-24 + 2^-1000", {one(1), one(0x1p-24), one(0x1p-1000)}},
      {"f32 1 + 2^-24 - 2^-1000", {one(1), one(0x1p-24), one(-0x1p-1000)}},
      {"f32 no double rounding 1 + 2^-24 + 2^-60 (to 1 + 2^-23)", {one(1), one(0x1p-24), one(0x1p-60)}},
      {"f32 tie as a product (1 + 2^-12)^2", {p32(1 + 0x1p-12f, 1 + 0x1p-12f)}},
      {"f32 tie (1 + 2^-12)^2 with exact zero pair", {p32(1 + 0x1p-12f, 1 + 0x1p-12f), p32(3, 5), p32(-3, 5)}},
  };
}

// Random products, then the same products negated, in shuffled order.
inline std::vector<DotCase> zero_cases() {
  std::vector<DotCase> out{
      {"empty sum", {}},
      {"1 - 1", {one(1), one(-1)}},
      {"signed zero inputs", {p64(0.0, 5), p64(-0.0, 3), p32(-0.0f, -2.0f), one(-0.0)}},
      {"DBL_MAX^2 - DBL_MAX^2", {p64(DBL_MAX, DBL_MAX), p64(-DBL_MAX, DBL_MAX)}},
      {"2^-2148 - 2^-2148", {p64(kTiny, kTiny), p64(kTiny, -kTiny)}},
  };
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> wide(-1074, 1023), narrow(-60, 60);
  for (int rep = 0; rep < 10; ++rep) {
    DotCase d{"cancels to zero f64 #" + std::to_string(rep), {}}, f{"cancels to zero f32 #" + std::to_string(rep), {}};
    for (int i = 0; i < 40; ++i) {
      const double a = std::ldexp(normal(rng), wide(rng) / 2), b = std::ldexp(normal(rng), wide(rng) / 2);
      d.terms.insert(d.terms.end(), {p64(a, b), p64(-a, b)});
      const float fa = static_cast<float>(std::ldexp(normal(rng), narrow(rng)));
      const float fb = static_cast<float>(std::ldexp(normal(rng), narrow(rng)));
      f.terms.insert(f.terms.end(), {p32(fa, fb), p32(fa, -fb)});
    }
    std::shuffle(d.terms.begin(), d.terms.end(), rng);
    std::shuffle(f.terms.begin(), f.terms.end(), rng);
    out.insert(out.end(), {d, f});
  }
  return out;
}

inline std::vector<DotCase> huge_exponent_cases() {
  std::vector<DotCase> out{
      {"2^2000 + 3*2^-2000 - 2^2000", {p64(0x1p1000, 0x1p1000), p64(0x1p-1000, 0x3p-1000), p64(-0x1p1000, 0x1p1000)}},
      {"2^2000 + 1 - 2^2000 + 2^-1074", {p64(0x1p1000, 0x1p1000), one(1), p64(0x1p1000, -0x1p1000), one(kTiny)}},
      {"2^2046 - 2^2046 + 2^-2148", {p64(0x1p1023, 0x1p1023), p64(kTiny, kTiny), p64(-0x1p1023, 0x1p1023)}},
      {"2^2000 + 2^-2148", {p64(0x1p1000, 0x1p1000), p64(kTiny, kTiny)}},
  };
  // Products over the whole exponent range; the largest one is then cancelled
  // so that smaller terms decide the result (sometimes an overflow remains).
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> expo(-1074, 1023);
  for (int rep = 0; rep < 20; ++rep) {
    DotCase d{"whole exponent range #" + std::to_string(rep), {}};
    double big_a = 0, big_b = 0;
    for (int i = 0; i < 25; ++i) {
      const double a = std::ldexp(normal(rng), expo(rng)), b = std::ldexp(normal(rng), expo(rng));
      d.terms.push_back(p64(a, b));
      if (std::fabs(std::ldexp(a, -1000) * std::ldexp(b, -1000)) > std::fabs(std::ldexp(big_a, -1000) * std::ldexp(big_b, -1000))) {
        big_a = a;
        big_b = b;
      }
    }
    d.terms.push_back(p64(-big_a, big_b));
    out.push_back(d);
  }
  return out;
}

inline std::vector<DotCase> gendot_cases() {
  std::vector<DotCase> out;
  for (int k = 3; k <= 30; k += 3) {
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const auto g = gendot<float>(50, std::pow(10.0, k), seed);
      DotCase c{"gendot f32 cond 1e" + std::to_string(k) + " seed " + std::to_string(seed), {}};
      for (std::size_t i = 0; i < g.x.size(); ++i) c.terms.push_back(p32(g.x[i], g.y[i]));
      out.push_back(c);
    }
  }
  for (int k = 3; k <= 300; k += 9) {
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
      const auto g = gendot<double>(100, std::pow(10.0, k), seed);
      DotCase c{"gendot f64 cond 1e" + std::to_string(k) + " seed " + std::to_string(seed), {}};
      for (std::size_t i = 0; i < g.x.size(); ++i) c.terms.push_back(p64(g.x[i], g.y[i]));
      out.push_back(c);
    }
  }
  return out;
}

inline std::vector<DotCase> all_cases() {
  std::vector<DotCase> out;
  for (auto&& group : {random_normal_cases(), integer_cases(), subnormal_cases(), overflow_cases(), tie_cases(),
                       zero_cases(), huge_exponent_cases(), gendot_cases()})
    out.insert(out.end(), group.begin(), group.end());
  return out;
}

}  // namespace certconv::test
