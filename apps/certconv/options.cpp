// The shared subcommand options (options.hpp).
#include "options.hpp"

namespace certconv::app {

CLI::Option* add_threads_option(CLI::App& cmd, int& threads) {
  return cmd.add_option("--threads", threads, "worker threads (0 = all cores); results do not depend on it")
      ->check(CLI::Range(0, 1024));
}

CLI::Option* add_dtype_option(CLI::App& cmd, std::string& dtype, const std::string& what) {
  return cmd.add_option("--dtype", dtype, what)->check(CLI::IsMember({"f32", "f64"}));
}

CLI::Option* add_json_option(CLI::App& cmd, std::string& path, const std::string& what) {
  return cmd.add_option("--json", path, what);
}

}  // namespace certconv::app
