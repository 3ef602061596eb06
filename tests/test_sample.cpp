// analysis/sample: the plot sample keeps the worst outputs and the isclose
// failures, never exceeds its cap, and is the same every time.
#define BOOST_TEST_MODULE sample
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "certconv/analysis/sample.hpp"

using namespace certconv;

namespace {

// n distinct errors in a scrambled order (7919 is prime, so i ↦ i·7919 mod n is a permutation).
std::vector<double> scrambled(std::int64_t n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = double((i * 7919) % n);
  return v;
}

bool has(const OutputSample& s, std::int64_t i) { return std::binary_search(s.index.begin(), s.index.end(), i); }

}  // namespace

BOOST_AUTO_TEST_CASE(the_worst_are_always_kept_and_the_cap_holds) {
  const std::int64_t n = 100000;
  const auto err = scrambled(n);
  const SampleOptions opt{200, 20, 50};
  const OutputSample s = select_sample(err, std::vector<char>(err.size(), 0), opt);
  BOOST_TEST(s.outputs == n);
  BOOST_TEST(s.index.size() <= opt.cap);
  BOOST_TEST(s.index.size() >= opt.cap - opt.worst);  // the stride fills what the worst leave
  BOOST_TEST(std::is_sorted(s.index.begin(), s.index.end()));
  BOOST_TEST((std::adjacent_find(s.index.begin(), s.index.end()) == s.index.end()));
  BOOST_TEST(s.worst == 20);
  // The 20 largest errors are n−1 … n−20.
  for (std::int64_t i = 0; i < n; ++i)
    if (err[static_cast<std::size_t>(i)] >= double(n - 20)) BOOST_TEST(has(s, i), "worst output " << i << " dropped");
  BOOST_TEST(s.stride == (n + 179) / 180);
  BOOST_TEST(s.failures == 0);
  BOOST_TEST(s.failure_step == 0);
}

BOOST_AUTO_TEST_CASE(every_failure_is_kept_when_they_fit) {
  const std::int64_t n = 50000;
  const auto err = scrambled(n);
  std::vector<char> fail(err.size(), 0);
  for (std::int64_t i : {3, 4, 5, 777, 31337, 49999}) fail[static_cast<std::size_t>(i)] = 1;
  const OutputSample s = select_sample(err, fail, SampleOptions{100, 10, 50});
  BOOST_TEST(s.failures == 6);
  BOOST_TEST(s.failure_step == 1);
  for (std::int64_t i : {3, 4, 5, 777, 31337, 49999}) BOOST_TEST(has(s, i), "failure " << i << " dropped");
  BOOST_TEST(s.index.size() <= 100u);
}

BOOST_AUTO_TEST_CASE(many_failures_are_thinned_to_their_share_and_the_cap_holds) {
  const std::int64_t n = 20000;
  const auto err = scrambled(n);
  std::vector<char> fail(err.size(), 0);
  for (std::int64_t i = 0; i < n; i += 2) fail[static_cast<std::size_t>(i)] = 1;  // 10000 failures
  const SampleOptions opt{300, 30, 100};
  const OutputSample s = select_sample(err, fail, opt);
  BOOST_TEST(s.failures == 10000);
  BOOST_TEST(s.failure_step == 100);
  BOOST_TEST(s.index.size() <= opt.cap);
  std::int64_t kept_failures = 0;
  for (auto i : s.index) kept_failures += fail[static_cast<std::size_t>(i)];
  BOOST_TEST(kept_failures >= 100);  // every 100th failure, plus those among the worst and on the stride
  for (std::int64_t j = 0; j < 10000; j += 100) BOOST_TEST(has(s, 2 * j));
  // A cap smaller than the worst: the cap wins.
  BOOST_TEST(select_sample(err, fail, SampleOptions{5, 30, 100}).index.size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_sample_is_deterministic_and_small_problems_are_kept_whole) {
  const auto err = scrambled(30011);
  std::vector<char> fail(err.size(), 0);
  for (std::size_t i = 0; i < fail.size(); i += 97) fail[i] = 1;
  const OutputSample a = select_sample(err, fail, SampleOptions{}), b = select_sample(err, fail, SampleOptions{});
  BOOST_TEST(a.index == b.index);
  BOOST_TEST(a.stride == b.stride);
  // Ties (and infinities) go to the lower index; fewer outputs than the cap are all kept.
  const std::vector<double> small{1, INFINITY, 2, INFINITY, 0};
  const OutputSample s = select_sample(small, std::vector<char>(5, 0), SampleOptions{10, 1, 5});
  BOOST_TEST((s.index == std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  const OutputSample one = select_sample(small, std::vector<char>(5, 0), SampleOptions{1, 1, 5});
  BOOST_TEST((one.index == std::vector<std::int64_t>{1}));
}
