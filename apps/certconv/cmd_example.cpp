// certconv example seed: writes the built-in seed workload of DESIGN.md.
#include <cstdio>
#include <filesystem>

#include "certconv/error.hpp"
#include "certconv/generate.hpp"
#include "certconv/npy.hpp"
#include "commands.hpp"

namespace certconv::app {

Runner add_example(CLI::App& app) {
  struct Args {
    std::string name, out = ".";
    std::uint64_t seed = kSeedExampleSeed;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("example", "built-in examples (seed: ResNet-50 conv1, PyTorch default init)");
  cmd->add_option("name", a->name, "example name")->required()->check(CLI::IsMember({"seed"}));
  cmd->add_option("--out", a->out, "directory for x.npy and w.npy (created if missing)");
  cmd->add_option("--seed", a->seed, "random seed");
  return [a] {
    std::error_code ec;
    std::filesystem::create_directories(a->out, ec);
    require(!ec, a->out + ": cannot create output directory: " + ec.message());
    const SeedWorkload s = seed_workload(a->seed);
    const auto dir = std::filesystem::path(a->out);
    write_npy((dir / "x.npy").string(), s.x);
    write_npy((dir / "w.npy").string(), s.w);
    std::printf("%s\n", kSeedDescriptor);
    std::fprintf(stderr, "wrote %s and %s (seed %llu)\n", (dir / "x.npy").c_str(), (dir / "w.npy").c_str(),
                 static_cast<unsigned long long>(a->seed));
    return 0;
  };
}

}  // namespace certconv::app
