#pragma once
// The "NAME:key=value,key=value" syntax shared by order strings, tolerances and
// generated distributions ("gendot:cond=C"). Only the syntax lives here: each
// caller judges names, keys and values and words its errors for its own context.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certconv {

// The name before the first ':' and the list after it (none without a ':').
std::pair<std::string, std::optional<std::string>> split_name(std::string_view text);

struct KeyValue {
  std::string item;        // the text between commas
  std::string key, value;  // either side of the item's first '='; without one, key = item, value = ""
  bool has_eq = false;
};

// The items of a comma-separated list, in order; none for "" ("a," has two, the second empty).
std::vector<KeyValue> split_key_values(std::string_view list);

}  // namespace certconv
