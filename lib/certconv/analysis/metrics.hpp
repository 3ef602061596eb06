#pragma once
// Errors of one observed output against the certified truth, in the vocabulary
// of docs/design.md: norm_err = |ŷ − y|/(u·absdot), ulp_err in ulps of the correctly
// rounded value, relative error, tightness = err/bound, violations.
//
// Error magnitudes for statistics are computed in binary64 (|ŷ − y| rounded to
// nearest, y the correctly rounded binary64 truth). Violations are decided
// rigorously from the enclosure: ŷ > RU(hi + bound) or ŷ < RD(lo − bound), so a
// reported violation is certain.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certconv/analysis/sample.hpp"
#include "certconv/analysis/stats.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/core/spec.hpp"
#include "certconv/core/tensor.hpp"

namespace certconv {

struct OutputRecord {
  std::int64_t index = 0;             // flat index in the result (C order)
  std::vector<std::int64_t> coords;   // the index in the result's shape: [n, oc, oy, ox] for a 2-D y
  std::array<std::int64_t, 4> nchw{};  // [n, oc, oy, ox] in the 2-D forward problem that computed it
  double truth = 0, observed = 0, cond = 0, bound = 0, norm_err = 0, abs_err = 0;
};

// Fixed bins of log10(norm_err): [-inf, 1e-4), [1e-4, 1e-3.75), …, [1e3, inf).
struct Histogram {
  std::vector<double> edges;  // interior bin edges (norm_err values)
  std::vector<std::int64_t> counts;
};
Histogram norm_err_histogram_bins();

struct MetricsOptions {
  double u = 0;              // unit roundoff of the observed dtype
  double rtol = 1e-5, atol = 1e-8;  // isclose against the truth (torch defaults)
  double prob_factor = 0;    // probabilistic bound = prob_factor · absdot (0: not computed)
  std::size_t worst = 10;    // how many worst outputs to keep
  // The plot sample and the bound in norm_err units (nullopt: neither is made).
  std::optional<SampleOptions> sample;
  // The outputs the sample marks as isclose failures (explain: where isclose(A, B)
  // fails); null: where isclose against the truth fails.
  const std::vector<char>* sample_failures = nullptr;
};

struct ObservedMetrics {
  Distribution norm_err, ulp_err, rel_err;
  std::int64_t nonfinite_norm_err = 0;  // outputs with absdot = 0 but ŷ ≠ 0 (norm_err = +inf)
  double max_abs_err = 0;
  double correctly_rounded_fraction = 0;
  double max_tightness = 0;
  std::int64_t violations = 0;
  std::vector<OutputRecord> violating;  // the first `worst` violations, by index
  double prob_outside_fraction = 0;
  std::int64_t isclose_failures = 0;
  Histogram histogram;
  std::vector<OutputRecord> worst;  // largest norm_err first
  std::optional<OutputSample> sample;
  // bound/(u·absdot) over the outputs with absdot > 0: the rigorous bound in the
  // units of norm_err (made with the sample, when there is a bound).
  std::optional<Distribution> norm_bound;
};

// observed is float or double; bound is the per-element rigorous bound (same
// shape; empty = no bound, then violations and tightness are not computed).
template <class T>
ObservedMetrics measure(const ConvSpec& spec, const Truth& truth, const Tensor<T>& observed,
                        const Tensor<double>& bound, const MetricsOptions& opt);

// ulp of the correctly rounded value v in T (binary32/binary64), subnormal-aware.
template <class T>
double ulp_of(double v);

// torch.isclose(a, b, rtol, atol) with equal_nan = False, evaluated in T as
// PyTorch does: a == b or |a − b| ≤ atol + rtol·|b|.
template <class T>
bool isclose(T a, T b, double rtol, double atol);

// Fraction of elements with identical bits.
template <class T>
double identical_fraction(const Tensor<T>& a, const Tensor<T>& b);

// ŷ certainly outside [lo − bound, hi + bound], [lo, hi] the truth's enclosure: a
// violation decided this way is certain.
bool certainly_violates(double observed, double lo, double hi, double bound);

OutputRecord make_record(const ConvSpec& spec, const Truth& truth, std::int64_t i, double observed, double bound,
                         double u);

}  // namespace certconv
