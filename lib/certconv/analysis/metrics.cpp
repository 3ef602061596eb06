#include "certconv/analysis/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "certconv/core/taps.hpp"

namespace certconv {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Correctly rounded truth in the observed dtype.
template <class T>
double truth_in(const Truth& t, std::size_t i) {
  if constexpr (std::is_same_v<T, float>)
    return t.y32.data[i];
  else
    return t.y.data[i];
}

double norm_err_of(double err, double u, double absdot) {
  if (err == 0) return 0;
  return absdot > 0 ? err / (u * absdot) : kInf;
}

}  // namespace

// The sums are rounded to nearest and then pushed one ulp outward, so the tested
// interval contains the exact one.
bool certainly_violates(double observed, double lo, double hi, double bound) {
  return observed > std::nextafter(hi + bound, kInf) || observed < std::nextafter(lo - bound, -kInf);
}

Histogram norm_err_histogram_bins() {
  Histogram h;
  for (int k = -16; k <= 12; ++k) h.edges.push_back(std::pow(10.0, k / 4.0));
  h.counts.assign(h.edges.size() + 1, 0);
  return h;
}

template <class T>
double ulp_of(double v) {
  using L = std::numeric_limits<T>;
  const double a = std::fabs(v);
  // Below the smallest normal the spacing is the smallest subnormal.
  if (a < double(L::min())) return double(L::denorm_min());
  int e;
  std::frexp(a, &e);  // a in [2^(e−1), 2^e)
  return std::ldexp(1.0, e - L::digits);
}

template <class T>
bool isclose(T a, T b, double rtol, double atol) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  const T tol = static_cast<T>(atol) + static_cast<T>(rtol) * std::fabs(b);
  return std::fabs(a - b) <= tol;
}

template <class T>
double identical_fraction(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.data.empty() || a.data.size() != b.data.size()) return a.data.empty() && b.data.empty() ? 1 : 0;
  std::int64_t same = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) same += std::memcmp(&a.data[i], &b.data[i], sizeof(T)) == 0;
  return double(same) / double(a.data.size());
}

OutputRecord make_record(const ConvSpec& spec, const Truth& truth, std::int64_t i, double observed, double bound,
                         double u) {
  const auto k = static_cast<std::size_t>(i);
  const OutputIndex o = output_index(spec, i);
  OutputRecord r;
  r.index = i;
  r.nchw = {o.n, o.oc, o.oy, o.ox};
  r.coords.assign(r.nchw.begin(), r.nchw.end());
  r.truth = truth.y.data[k];
  r.observed = observed;
  r.cond = cond_of(truth.absdot.data[k], truth.y.data[k]);
  r.bound = bound;
  r.abs_err = std::fabs(observed - truth.y.data[k]);
  r.norm_err = norm_err_of(r.abs_err, u, truth.absdot.data[k]);
  return r;
}

template <class T>
ObservedMetrics measure(const ConvSpec& spec, const Truth& truth, const Tensor<T>& observed,
                        const Tensor<double>& bound, const MetricsOptions& opt) {
  ObservedMetrics m;
  const std::size_t n = observed.data.size();
  const bool have_bound = !bound.data.empty();
  std::vector<double> norm(n), ulp(n), rel(n), norm_bound;
  std::vector<char> failing;
  if (opt.sample) failing.resize(n);
  std::int64_t correct = 0, outside_prob = 0;
  m.histogram = norm_err_histogram_bins();
  for (std::size_t i = 0; i < n; ++i) {
    const double yh = observed.data[i], y = truth.y.data[i], ad = truth.absdot.data[i];
    const double err = std::fabs(yh - y);
    const double ne = norm_err_of(err, opt.u, ad);
    norm[i] = ne;
    m.nonfinite_norm_err += std::isinf(ne);
    const double yt = truth_in<T>(truth, i);
    ulp[i] = err / ulp_of<T>(yt);
    rel[i] = err == 0 ? 0 : (y == 0 ? kInf : err / std::fabs(y));
    m.max_abs_err = std::max(m.max_abs_err, err);
    correct += yh == yt;
    const bool fails = !isclose<T>(observed.data[i], static_cast<T>(yt), opt.rtol, opt.atol);
    m.isclose_failures += fails;
    if (opt.sample) failing[i] = opt.sample_failures ? (*opt.sample_failures)[i] : fails;
    if (opt.prob_factor > 0) outside_prob += err > opt.prob_factor * ad;
    const auto bin = std::upper_bound(m.histogram.edges.begin(), m.histogram.edges.end(), ne) - m.histogram.edges.begin();
    ++m.histogram.counts[static_cast<std::size_t>(bin)];
    if (have_bound) {
      const double b = bound.data[i];
      const double tight = err == 0 ? 0 : (b > 0 ? err / b : kInf);
      m.max_tightness = std::max(m.max_tightness, tight);
      if (opt.sample && ad > 0) norm_bound.push_back(b / (opt.u * ad));
      if (certainly_violates(yh, truth.lo.data[i], truth.hi.data[i], b)) {
        if (m.violating.size() < opt.worst)
          m.violating.push_back(make_record(spec, truth, static_cast<std::int64_t>(i), yh, b, opt.u));
        ++m.violations;
      }
    }
  }
  // The worst outputs by norm_err, ties broken by index for reproducibility.
  std::vector<std::int64_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = static_cast<std::int64_t>(i);
  const std::size_t k = std::min(opt.worst, n);
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), [&](auto a, auto b) {
    return norm[a] != norm[b] ? norm[a] > norm[b] : a < b;
  });
  for (std::size_t j = 0; j < k; ++j) {
    const auto i = static_cast<std::size_t>(idx[j]);
    m.worst.push_back(make_record(spec, truth, idx[j], observed.data[i], have_bound ? bound.data[i] : 0, opt.u));
  }
  if (opt.sample) {
    OutputSample smp = select_sample(norm, failing, *opt.sample);
    for (const std::int64_t i : smp.index) {
      const auto k = static_cast<std::size_t>(i);
      smp.cond.push_back(cond_of(truth.absdot.data[k], truth.y.data[k]));
      smp.norm_err.push_back(norm[k]);
      smp.isclose_failure.push_back(failing[k]);
    }
    m.sample = std::move(smp);
    if (have_bound) m.norm_bound = distribution(norm_bound);
  }
  m.correctly_rounded_fraction = n ? double(correct) / double(n) : 1;
  m.prob_outside_fraction = n ? double(outside_prob) / double(n) : 0;
  m.norm_err = distribution(norm);
  m.ulp_err = distribution(ulp);
  m.rel_err = distribution(rel);
  return m;
}

template double ulp_of<float>(double);
template double ulp_of<double>(double);
template bool isclose(float, float, double, double);
template bool isclose(double, double, double, double);
template double identical_fraction(const Tensor<float>&, const Tensor<float>&);
template double identical_fraction(const Tensor<double>&, const Tensor<double>&);
template ObservedMetrics measure(const ConvSpec&, const Truth&, const Tensor<float>&, const Tensor<double>&,
                                 const MetricsOptions&);
template ObservedMetrics measure(const ConvSpec&, const Truth&, const Tensor<double>&, const Tensor<double>&,
                                 const MetricsOptions&);

}  // namespace certconv
