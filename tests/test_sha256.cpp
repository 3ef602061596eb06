#define BOOST_TEST_MODULE sha256
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "certconv/core/error.hpp"
#include "certconv/report/sha256.hpp"

// FIPS 180-2 / NIST test vectors.
BOOST_AUTO_TEST_CASE(known_vectors) {
  BOOST_TEST(certconv::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(certconv::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(certconv::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(file_digest_and_missing_file) {
  const std::string path = "/tmp/certconv-sha256-test.bin";
  std::string big(200000, 'a');
  std::ofstream(path, std::ios::binary) << big;
  BOOST_TEST(certconv::sha256_file(path) == certconv::sha256_hex(big));
  BOOST_CHECK_THROW(certconv::sha256_file("/nonexistent/file.npy"), certconv::InputError);
}
