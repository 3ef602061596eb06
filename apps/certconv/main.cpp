// certconv: certified truth, emulated summation orders and rigorous bounds for
// 2-D convolutions. The exit codes are listed in kExitCodes (shown by --help).
#include <cstdio>
#include <exception>
#include <iostream>
#include <utility>
#include <vector>

#include "certconv/backends/blas.hpp"
#include "certconv/core/config.hpp"
#include "certconv/core/error.hpp"
#include "certconv/core/fp_env.hpp"
#include "commands.hpp"

namespace {

// Also in README.md (Commands); 128 + N comes from `batch` (cmd_batch.cpp).
constexpr const char* kExitCodes =
    "Exit codes: 0 ok; 1 a check failed (a bound violated, a difference beyond round-off, no order identified, a "
    "batch experiment failed); "
    "2 bad usage or bad input (the message names the file, field or index); 3 internal error (an unexpected "
    "exception: a bug in certconv, please report it); 128+N batch interrupted by signal N (rerun with --resume).";

}  // namespace

int main(int argc, char** argv) {
  certconv::blas_threads_stop();
  const certconv::FpEnvGuard fp_env;
  CLI::App app{"certconv: how far is a float32/float64 convolution from the true result, and why?"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("certconv ") + CERTCONV_VERSION + " (git " + certconv::git_hash() + ")");

  using certconv::app::Runner;
  std::vector<std::pair<CLI::App*, Runner>> commands;
  auto add = [&](Runner (*adder)(CLI::App&)) {
    Runner r = adder(app);
    commands.emplace_back(app.get_subcommands({}).back(), std::move(r));
  };
  add(certconv::app::add_truth);
  add(certconv::app::add_example);
  add(certconv::app::add_analyze);
  add(certconv::app::add_explain);
  add(certconv::app::add_run);
  add(certconv::app::add_orders);
  add(certconv::app::add_identify);
  add(certconv::app::add_reveal);
  add(certconv::app::add_batch);
  add(certconv::app::add_merge);
  add(certconv::app::add_table);
  add(certconv::app::add_plot_data);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  try {
    for (auto& [sub, run] : commands)
      if (sub->parsed()) return run();
  } catch (const certconv::InputError& e) {
    std::cerr << "certconv: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "certconv: internal error: " << e.what() << "\n";
    return 3;
  }
  return 2;
}
