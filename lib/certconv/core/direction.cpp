#include "certconv/core/direction.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace certconv {

namespace {
constexpr std::array<const char*, 5> names = {"FWD_D", "FWD_B", "BWD_D", "BWD_W", "BWD_WB"};
}

const char* direction_name(Direction d) { return names[static_cast<std::size_t>(d)]; }

std::optional<Direction> parse_direction(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (std::size_t i = 0; i < names.size(); ++i)
    if (upper == names[i]) return static_cast<Direction>(i);
  return std::nullopt;
}

}  // namespace certconv
