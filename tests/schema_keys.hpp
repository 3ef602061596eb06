#pragma once
// The keys docs/json-schema.md lists for a document, and a check that a real
// document has every one of them (tests of the CLI and of the report builders).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace certconv::test {

using nlohmann::json;

// Key paths listed in docs/json-schema.md under the given sections.
inline std::vector<std::string> documented_keys(const std::vector<std::string>& sections) {
  const char* root = std::getenv("CERTCONV_SOURCE_ROOT");
  std::ifstream f(std::string(root ? root : ".") + "/docs/json-schema.md");
  BOOST_REQUIRE(f);
  std::vector<std::string> keys;
  std::string line, section;
  const std::regex row(R"(^\| `([^`]+)` \|)");
  while (std::getline(f, line)) {
    if (line.rfind("## ", 0) == 0) section = line.substr(3);
    std::smatch m;
    if (std::find(sections.begin(), sections.end(), section) != sections.end() && std::regex_search(line, m, row))
      keys.push_back(m[1]);
  }
  return keys;
}

// Checks that path (a.b, a[].b) exists in j; for arrays, in every element.
inline bool has_path(const json& j, const std::string& path) {
  const auto dot = path.find('.');
  std::string head = path.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : path.substr(dot + 1);
  const bool each = head.size() > 2 && head.substr(head.size() - 2) == "[]";
  if (each) head.resize(head.size() - 2);
  if (!j.is_object() || !j.contains(head)) return false;
  const json& v = j.at(head);
  if (!each) return rest.empty() || has_path(v, rest);
  if (!v.is_array()) return false;
  for (const auto& e : v)
    if (!rest.empty() && !has_path(e, rest)) return false;
  return true;
}

inline void check_schema(const json& doc, const std::vector<std::string>& sections) {
  const auto keys = documented_keys(sections);
  BOOST_TEST(keys.size() > 40u);
  for (const auto& k : keys) BOOST_TEST(has_path(doc, k), "documented key missing: " << k);
}

}  // namespace certconv::test
