#pragma once
// Reading an order's parameters ("NAME:key=value,..."): every bad value is an
// InputError naming the order, the key and the value.
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "certconv/core/error.hpp"
#include "certconv/orders/order.hpp"

namespace certconv {

class OrderParams {
 public:
  explicit OrderParams(const OrderSpec& s) : s_(s) {}

  std::string get(const std::string& key, const std::string& def) const {
    const auto it = s_.params.find(key);
    return it == s_.params.end() ? def : it->second;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& want) const {
    throw InputError("order '" + s_.name + "': parameter '" + key + "' must be " + want + "; got '" + get(key, "") +
                     "'");
  }

  // One of `values`; anything else fails listing them ("a, b or c").
  std::string choice(const std::string& key, const std::string& def, std::initializer_list<const char*> values) const {
    const std::string v = get(key, def);
    std::string want;
    std::size_t i = 0;
    for (const char* c : values) {
      if (v == c) return v;
      if (i > 0) want += i + 1 == values.size() ? " or " : ", ";
      want += c;
      ++i;
    }
    fail(key, want);
  }

  bool flag(const std::string& key, bool def) const {
    const std::string v = get(key, def ? "1" : "0");
    if (v != "0" && v != "1") fail(key, "0 or 1");
    return v == "1";
  }

  // A decimal integer in [lo, hi].
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi) const {
    const std::string v = get(key, std::to_string(def));
    std::int64_t r = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || r < lo || r > hi)
      fail(key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return r;
  }

 private:
  const OrderSpec& s_;
};

}  // namespace certconv
