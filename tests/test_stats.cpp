#define BOOST_TEST_MODULE stats
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <limits>
#include <random>

#include "certconv/analysis/stats.hpp"

using certconv::distribution;

BOOST_AUTO_TEST_CASE(nearest_rank_quantiles) {
  std::vector<double> v(100);
  for (int i = 0; i < 100; ++i) v[i] = 100 - i;  // 100 … 1, unsorted on purpose
  std::shuffle(v.begin(), v.end(), std::mt19937(3));
  const auto d = distribution(v);
  BOOST_TEST(d.count == 100);
  BOOST_TEST(d.min == 1.0);
  BOOST_TEST(d.max == 100.0);
  BOOST_TEST(d.median == 50.0);  // ceil(0.5·100) = 50th value
  BOOST_TEST(d.p99 == 99.0);     // ceil(0.99·100) = 99th value
  BOOST_TEST(d.mean == 50.5);
}

BOOST_AUTO_TEST_CASE(infinities_sort_last_and_are_left_out_of_the_mean) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v{inf, 2, 1, 3};
  const auto d = distribution(v);
  BOOST_TEST(d.max == inf);
  BOOST_TEST(d.median == 2.0);
  BOOST_TEST(d.p99 == inf);
  BOOST_TEST(d.mean == 2.0);
  std::vector<double> one{7};
  BOOST_TEST(distribution(one).p99 == 7.0);
  std::vector<double> none;
  BOOST_TEST(distribution(none).count == 0);
  BOOST_TEST(certconv::fraction_above(std::vector<double>{1, 5, 10, 1e4}, 5) == 0.5);
}

BOOST_AUTO_TEST_CASE(parallel_selection_equals_the_serial_one_for_every_thread_count) {
  // Large samples (several 2^16 chunks) of the kinds the documents hold: a wide
  // log-normal cond with +inf (y = 0), many ties, zeros, and one dominant bucket.
  const double inf = std::numeric_limits<double>::infinity();
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> wide(3, 4);
  std::uniform_int_distribution<int> small(0, 3);
  for (int kind = 0; kind < 4; ++kind) {
    BOOST_TEST_CONTEXT("kind " << kind) {
      std::vector<double> v(300001);
      for (auto& x : v) {
        switch (kind) {
          case 0: x = rng() % 97 == 0 ? inf : wide(rng); break;
          case 1: x = small(rng); break;                          // ties and zeros
          case 2: x = 1 + static_cast<double>(rng() % 1000) * 0x1p-52; break;  // all in one bucket
          default: x = rng() % 2 ? inf : 0.0; break;             // the median is +inf or 0
        }
      }
      const auto want = certconv::distribution_serial(v);
      for (int threads : {1, 2, 3, 8}) {
        const auto d = distribution(v, threads);
        BOOST_TEST(d.count == want.count);
        BOOST_TEST(d.min == want.min);
        BOOST_TEST(d.max == want.max);
        BOOST_TEST(d.median == want.median);
        BOOST_TEST(d.p99 == want.p99);
        // The mean is summed in fixed chunks: the same for every thread count,
        // within rounding of the plain sum.
        BOOST_TEST(d.mean == distribution(v, 1).mean);
        BOOST_TEST(std::fabs(d.mean - want.mean) <= 1e-12 * std::fabs(want.mean));
      }
    }
  }
}
