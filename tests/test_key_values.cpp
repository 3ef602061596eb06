#define BOOST_TEST_MODULE key_values
#include <boost/test/unit_test.hpp>

#include <string>

#include "certconv/core/error.hpp"
#include "certconv/core/key_values.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/spec.hpp"

using namespace certconv;

BOOST_AUTO_TEST_CASE(name_and_list) {
  BOOST_TEST(split_name("im2col").first == "im2col");
  BOOST_TEST(!split_name("im2col").second.has_value());
  const auto [name, list] = split_name("gemm-blocked:kc=256,fma=1");
  BOOST_TEST(name == "gemm-blocked");
  BOOST_TEST(*list == "kc=256,fma=1");
  BOOST_TEST(split_name("direct:").second->empty());
}

BOOST_AUTO_TEST_CASE(items_split_at_commas_then_the_first_equals) {
  BOOST_TEST(split_key_values("").empty());
  const auto kv = split_key_values("a=1,b=x=y,c,");
  BOOST_TEST_REQUIRE(kv.size() == 4u);
  BOOST_TEST((kv[0].key == "a" && kv[0].value == "1" && kv[0].has_eq));
  BOOST_TEST((kv[1].key == "b" && kv[1].value == "x=y" && kv[1].item == "b=x=y"));
  BOOST_TEST((kv[2].key == "c" && kv[2].value.empty() && !kv[2].has_eq));
  BOOST_TEST((kv[3].item.empty() && !kv[3].has_eq));
}

// The distributions' errors name the flag and the distribution.
BOOST_AUTO_TEST_CASE(distribution_parameters) {
  const ConvSpec s = parse_benchdnn("mb1ic4ih5oc2kh3");
  const auto error_of = [&](const std::string& dist) {
    try {
      generate_inputs<float>(s, dist, 1);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(error_of("gendot:cond=100").empty());
  BOOST_TEST(error_of("gendot") == "generator 'gendot': missing parameter 'cond' (e.g. gendot:cond=1e6)");
  BOOST_TEST(error_of("wide:decades=x") == "generator 'wide:decades=x': parameter 'decades' is not a finite number: 'x'");
  BOOST_TEST(error_of("gendot:cond=9,x=1") == "generator 'gendot:cond=9,x=1': unknown parameter 'x=1' (gendot takes cond)");
}
