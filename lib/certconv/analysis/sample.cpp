// select_sample(): the capped, deterministic plot sample (analysis/sample.hpp).
#include "certconv/analysis/sample.hpp"

#include <algorithm>
#include <numeric>

namespace certconv {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace

OutputSample select_sample(const std::vector<double>& norm_err, const std::vector<char>& failure,
                           const SampleOptions& opt) {
  OutputSample s;
  const auto n = static_cast<std::int64_t>(norm_err.size());
  s.outputs = n;
  s.cap = opt.cap;
  std::vector<char> keep(norm_err.size(), 0);
  // Each step takes at most the room the steps before it left, so the cap holds.
  std::int64_t kept = 0;
  const auto cap = static_cast<std::int64_t>(opt.cap);
  const auto take = [&](std::int64_t i) {
    kept += !keep[static_cast<std::size_t>(i)];
    keep[static_cast<std::size_t>(i)] = 1;
  };

  const auto k = std::min({static_cast<std::int64_t>(opt.worst), cap, n});
  std::vector<std::int64_t> idx(norm_err.size());
  std::iota(idx.begin(), idx.end(), std::int64_t{0});
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](auto a, auto b) {
    const double x = norm_err[static_cast<std::size_t>(a)], y = norm_err[static_cast<std::size_t>(b)];
    return x != y ? x > y : a < b;
  });
  for (std::int64_t j = 0; j < k; ++j) take(idx[static_cast<std::size_t>(j)]);
  s.worst = k;

  std::vector<std::int64_t> failing;
  for (std::int64_t i = 0; i < n; ++i)
    if (failure[static_cast<std::size_t>(i)]) failing.push_back(i);
  s.failures = static_cast<std::int64_t>(failing.size());
  const auto room = std::min(static_cast<std::int64_t>(opt.failures), cap - kept);
  if (!failing.empty() && room > 0) {
    s.failure_step = ceil_div(s.failures, room);
    for (std::size_t j = 0; j < failing.size(); j += static_cast<std::size_t>(s.failure_step)) take(failing[j]);
  }

  // Outputs already kept may fall on the stride, so it may take fewer than the room left.
  if (kept < cap && n > 0) {
    s.stride = ceil_div(n, cap - kept);
    for (std::int64_t i = 0; i < n; i += s.stride) take(i);
  }
  for (std::int64_t i = 0; i < n; ++i)
    if (keep[static_cast<std::size_t>(i)]) s.index.push_back(i);
  return s;
}

}  // namespace certconv
