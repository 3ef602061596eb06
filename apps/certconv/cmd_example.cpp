#include "commands.hpp"
namespace certconv::app {
Runner add_example(CLI::App& app) { app.add_subcommand("example", "built-in examples"); return [] { return 0; }; }
}
