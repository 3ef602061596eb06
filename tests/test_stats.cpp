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
