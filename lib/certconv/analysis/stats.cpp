#include "certconv/analysis/stats.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "certconv/core/parallel.hpp"

namespace certconv {

namespace {

// Nearest rank: the smallest value with at least q·N values ≤ it, as a 0-based index.
std::size_t rank_index(std::size_t n, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  return std::clamp<std::size_t>(rank, 1, n) - 1;
}

}  // namespace

Distribution distribution_serial(std::vector<double> v) {
  Distribution d;
  d.count = static_cast<std::int64_t>(v.size());
  if (v.empty()) return d;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  d.min = *lo;
  d.max = *hi;
  double sum = 0;
  std::int64_t finite = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++finite;
    }
  d.mean = finite ? sum / static_cast<double>(finite) : 0;
  // Selection instead of sorting: after the first nth_element everything left of
  // i99 is ≤ v[i99], so the median (i50 ≤ i99) is selected within that prefix.
  const std::size_t i99 = rank_index(v.size(), 0.99), i50 = rank_index(v.size(), 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i99), v.end());
  d.p99 = v[i99];
  if (i50 < i99) std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i50), v.begin() + static_cast<std::ptrdiff_t>(i99));
  d.median = v[i50];
  return d;
}

// Selection in two passes over v: a histogram of the values' leading 16 bits as
// order-preserving keys (sign, exponent, 4 significand bits), then only the values
// in the bucket holding each wanted rank are gathered and selected among.
Distribution distribution(const std::vector<double>& v, int threads) {
  constexpr std::size_t kChunk = std::size_t{1} << 16, kBuckets = std::size_t{1} << 16;
  const std::size_t n = v.size();
  threads = resolve_threads(threads);
  if (n <= kChunk) return distribution_serial(v);
  // Monotone in the value for every non-NaN double (−0 before +0).
  const auto bucket = [](double x) {
    const auto b = std::bit_cast<std::uint64_t>(x);
    return static_cast<std::size_t>(((b >> 63) ? ~b : b | (std::uint64_t{1} << 63)) >> 48);
  };
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> sums(chunks), lo(chunks), hi(chunks);
  std::vector<std::int64_t> finite(chunks), hist(kBuckets);
  std::mutex merge;
  parallel_for(static_cast<std::int64_t>(chunks), threads, [&](std::int64_t c0, std::int64_t c1) {
    std::vector<std::int64_t> h(kBuckets);
    for (auto c = static_cast<std::size_t>(c0); c < static_cast<std::size_t>(c1); ++c) {
      const std::size_t b = c * kChunk, e = std::min(n, b + kChunk);
      double sum = 0, mn = v[b], mx = v[b];
      std::int64_t fin = 0;
      for (std::size_t i = b; i < e; ++i) {
        const double x = v[i];
        mn = std::min(mn, x);
        mx = std::max(mx, x);
        if (std::isfinite(x)) {
          sum += x;
          ++fin;
        }
        ++h[bucket(x)];
      }
      sums[c] = sum;
      finite[c] = fin;
      lo[c] = mn;
      hi[c] = mx;
    }
    std::lock_guard lock(merge);
    for (std::size_t k = 0; k < kBuckets; ++k) hist[k] += h[k];
  });
  Distribution d;
  d.count = static_cast<std::int64_t>(n);
  d.min = *std::min_element(lo.begin(), lo.end());
  d.max = *std::max_element(hi.begin(), hi.end());
  double sum = 0;
  std::int64_t fin = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    sum += sums[c];
    fin += finite[c];
  }
  d.mean = fin ? sum / static_cast<double>(fin) : 0;

  // The bucket of each rank, and the rank within it.
  const std::size_t ranks[2] = {rank_index(n, 0.5), rank_index(n, 0.99)};
  std::size_t where[2], offset[2];
  for (int r = 0; r < 2; ++r) {
    std::size_t below = 0, k = 0;
    while (below + static_cast<std::size_t>(hist[k]) <= ranks[r]) below += static_cast<std::size_t>(hist[k++]);
    where[r] = k;
    offset[r] = ranks[r] - below;
  }
  std::vector<double> in[2];
  parallel_for(static_cast<std::int64_t>(chunks), threads, [&](std::int64_t c0, std::int64_t c1) {
    std::vector<double> mine[2];
    const std::size_t b = static_cast<std::size_t>(c0) * kChunk, e = std::min(n, static_cast<std::size_t>(c1) * kChunk);
    for (std::size_t i = b; i < e; ++i) {
      const std::size_t k = bucket(v[i]);
      for (int r = 0; r < 2; ++r)
        if (k == where[r]) mine[r].push_back(v[i]);
    }
    std::lock_guard lock(merge);
    for (int r = 0; r < 2; ++r) in[r].insert(in[r].end(), mine[r].begin(), mine[r].end());
  });
  double q[2];
  for (int r = 0; r < 2; ++r) {
    std::nth_element(in[r].begin(), in[r].begin() + static_cast<std::ptrdiff_t>(offset[r]), in[r].end());
    q[r] = in[r][offset[r]];
  }
  d.median = q[0];
  d.p99 = q[1];
  return d;
}

double fraction_above(const std::vector<double>& v, double t) {
  if (v.empty()) return 0;
  const auto n = std::count_if(v.begin(), v.end(), [t](double x) { return x > t; });
  return static_cast<double>(n) / static_cast<double>(v.size());
}

}  // namespace certconv
