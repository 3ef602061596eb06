// certconv orders: every registered order, its parameters with their defaults, and
// its accumulation order in one line; with --json PATH the same as one JSON
// document, written atomically ('-' = stdout).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "certconv/registry/registry.hpp"
#include "certconv/report/json.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

nlohmann::json orders_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const OrderInfo& o : order_list()) {
    nlohmann::json params = nlohmann::json::array();
    for (const OrderParam& p : o.params)
      params.push_back({{"key", p.key}, {"default", p.default_value}, {"help", p.help}});
    list.push_back({{"name", o.name}, {"kind", order_kind_name(o.kind)}, {"accumulation", o.accumulation}, {"params", params}});
  }
  return nlohmann::json{{"orders", list}};
}

}  // namespace

Runner add_orders(CLI::App& app) {
  auto json_out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("orders", "list the emulated summation orders and their parameters");
  add_json_option(*cmd, *json_out, "write the listing as one JSON document instead of text ('-' = stdout)");
  return [json_out] {
    if (*json_out == "-") {
      std::printf("%s\n", orders_json().dump(2).c_str());
    } else if (!json_out->empty()) {
      write_json(*json_out, orders_json());
    } else {
      for (const OrderInfo& o : order_list()) {
        const std::string tag = o.kind == OrderKind::order ? "" : "  [" + std::string(order_kind_name(o.kind)) + "]";
        std::printf("%s%s\n    %s\n", o.name.c_str(), tag.c_str(), o.accumulation.c_str());
        for (const OrderParam& p : o.params)
          std::printf("    %-8s = %-8s %s\n", p.key.c_str(), p.default_value.c_str(), p.help.c_str());
      }
    }
    return 0;
  };
}

}  // namespace certconv::app
