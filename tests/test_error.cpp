#define BOOST_TEST_MODULE error
#include <boost/test/unit_test.hpp>

#include "certconv/core/error.hpp"

BOOST_AUTO_TEST_CASE(require_throws_input_error_with_message) {
  BOOST_CHECK_NO_THROW(certconv::require(true, "never"));
  try {
    certconv::require(false, "x.npy: field 'descr'");
    BOOST_FAIL("require(false) did not throw");
  } catch (const certconv::InputError& e) {
    BOOST_TEST(std::string(e.what()) == "x.npy: field 'descr'");
  }
}
