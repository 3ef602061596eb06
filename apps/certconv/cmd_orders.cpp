// certconv orders: every registered order, its parameters with their defaults, and
// its accumulation order in one line.
#include <cstdio>
#include <memory>
#include <string>
#include <nlohmann/json.hpp>

#include "certconv/registry/registry.hpp"
#include "commands.hpp"

namespace certconv::app {

Runner add_orders(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("orders", "list the emulated summation orders and their parameters");
  cmd->add_flag("--json", *json, "one JSON document instead of text");
  return [json] {
    if (*json) {
      nlohmann::json list = nlohmann::json::array();
      for (const OrderInfo& o : order_list()) {
        nlohmann::json params = nlohmann::json::array();
        for (const OrderParam& p : o.params)
          params.push_back({{"key", p.key}, {"default", p.default_value}, {"help", p.help}});
        list.push_back({{"name", o.name},
                        {"kind", order_kind_name(o.kind)},
                        {"accumulation", o.accumulation},
                        {"params", params}});
      }
      std::printf("%s\n", nlohmann::json{{"orders", list}}.dump(2).c_str());
      return 0;
    }
    for (const OrderInfo& o : order_list()) {
      const std::string tag = o.kind == OrderKind::order ? "" : "  [" + std::string(order_kind_name(o.kind)) + "]";
      std::printf("%s%s\n    %s\n", o.name.c_str(), tag.c_str(), o.accumulation.c_str());
      for (const OrderParam& p : o.params)
        std::printf("    %-8s = %-8s %s\n", p.key.c_str(), p.default_value.c_str(), p.help.c_str());
    }
    return 0;
  };
}

}  // namespace certconv::app
