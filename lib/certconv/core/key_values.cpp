// The NAME:key=value syntax (key_values.hpp).
#include "certconv/core/key_values.hpp"

namespace certconv {

std::pair<std::string, std::optional<std::string>> split_name(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return {std::string(text), std::nullopt};
  return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::vector<KeyValue> split_key_values(std::string_view list) {
  std::vector<KeyValue> items;
  if (list.empty()) return items;
  while (true) {
    const std::size_t comma = list.find(',');
    KeyValue kv;
    kv.item = std::string(list.substr(0, comma));
    const std::size_t eq = kv.item.find('=');
    kv.has_eq = eq != std::string::npos;
    kv.key = kv.item.substr(0, eq);
    kv.value = kv.has_eq ? kv.item.substr(eq + 1) : "";
    items.push_back(std::move(kv));
    if (comma == std::string_view::npos) return items;
    list = list.substr(comma + 1);
  }
}

}  // namespace certconv
