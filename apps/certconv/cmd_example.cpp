// certconv example seed: the question that started certconv (docs/design.md). The
// seed workload, a manual unfold + matmul (`im2col`) and the library
// convolution (real oneDNN when built, else the emulated oneDNN kernel of this
// CPU's ISA), explained against the certified truth in float32, then float64;
// then the thread's follow-ups: the float64 manual result against the float32
// library one, and the order that reproduces the library bit for bit.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "certconv/analysis/identify.hpp"
#include "certconv/analysis/metrics.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/core/npy.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/core/parallel.hpp"
#include "certconv/report/json.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

bool registered(const std::string& name) {
  for (const OrderInfo& o : order_list())
    if (o.name == name) return true;
  return false;
}

// The emulated oneDNN kernel oneDNN itself would pick on this CPU.
std::string emulated_library_order() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? "onednn-avx512" : "onednn-avx2";
}

}  // namespace

Runner add_example(CLI::App& app) {
  struct Args {
    std::string name, out = ".";
    std::uint64_t seed = kSeedExampleSeed;
    int threads = 0;
    bool inputs_only = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("example", "built-in examples: seed (ResNet-50 conv1, PyTorch default init)");
  cmd->add_option("name", a->name, "example name")->required()->check(CLI::IsMember({"seed"}));
  cmd->add_option("--out", a->out, "output directory (created if missing)");
  cmd->add_option("--seed", a->seed, "random seed");
  add_threads_option(*cmd, a->threads);
  cmd->add_flag("--inputs-only", a->inputs_only, "only write x.npy and w.npy and print the descriptor");
  return [a] {
    std::error_code ec;
    std::filesystem::create_directories(a->out, ec);
    require(!ec, a->out + ": cannot create output directory: " + ec.message());
    const SeedWorkload s = seed_workload(a->seed);
    const auto dir = std::filesystem::path(a->out);
    const std::string xp = (dir / "x.npy").string(), wp = (dir / "w.npy").string();
    write_npy(xp, s.x);
    write_npy(wp, s.w);
    std::printf("%s\n", kSeedDescriptor);
    if (a->inputs_only) return 0;

    const ConvProblem<float> p{s.spec, s.x, s.w, nullptr};
    RunOptions ro;
    ro.threads = resolve_threads(a->threads);
    ro.want_bound = false;
    const std::string lib = registered("onednn") ? "onednn" : emulated_library_order();
    const Tensor<float> ya = run_order(parse_order("im2col"), p, ro).y;
    const Tensor<float> yb = run_order(parse_order(lib), p, ro).y;
    write_npy((dir / "im2col.npy").string(), ya);
    write_npy((dir / "library.npy").string(), yb);
    ExplainRequest req;
    req.name_a = "im2col";
    req.name_b = lib;
    json inputs = {{"source", "example seed"},
                   {"seed", a->seed},
                   {"x", "standard normal"},
                   {"w", "uniform(+-1/sqrt(147)), PyTorch default Conv2d init"},
                   {"files", {{"x", file_json(xp)}, {"w", file_json(wp)}}}};
    // Float64: the same two summation orders; real oneDNN has no f64 convolution,
    // so its emulated kernel stands in.
    const F64Orders f64 = std::pair{std::string("im2col"), emulated_library_order()};
    int rc = explain_and_report(p, ya, yb, req, f64, a->threads, (dir / "seed.json").string(), inputs);

    // The thread's follow-up: the user's unfold + matmul in float64 against the
    // official float32 convolution, each side in its own format.
    std::printf("\n== The follow-up: the manual unfold + matmul in float64 against the library's float32\n\n");
    const Tensor<double> ya64 = run_order(parse_order("im2col"), problem_cast<double>(p).view(), ro).y;
    write_npy((dir / "im2col_f64.npy").string(), ya64);
    ExplainRequest mixed = req;
    mixed.name_a = "im2col-f64";
    mixed.formats = {OutputFormat::f64, OutputFormat::f32};
    rc = std::max(rc, explain_and_report(p, ya64, yb, mixed, std::nullopt, a->threads,
                                         (dir / "seed-f64-vs-f32.json").string(), inputs));

    // And its last question: is there a custom implementation that matches the
    // official conv2d? identify names the library's order; running it reproduces it.
    std::printf("\n== Is there a custom implementation that matches the library's conv2d?\n\n");
    const IdentifyResult id = identify(p, yb, a->threads);
    if (id.candidates.empty() || id.candidates.front().mismatches != 0) {
      std::printf("No emulated order reproduces %s here (best: %.6f identical).\n", lib.c_str(),
                  id.candidates.empty() ? 0.0 : id.candidates.front().identical_fraction);
      return std::max(rc, 1);
    }
    const std::string order = order_str(id.candidates.front().order);
    const Tensor<float> replay = run_order(parse_order(order), p, ro).y;
    write_npy((dir / "replay.npy").string(), replay);
    std::printf("Yes: the order %s reproduces %s on %.0f%% of the %lld outputs, bit for bit (replay.npy):\n"
                "  certconv run --x %s --w %s --stride 2 --padding 3 --order %s --dtype f32 --out replay.npy\n"
                "  Python: certconv.run(x, w, stride=2, padding=3, order=\"%s\")[\"y\"]\n",
                order.c_str(), lib.c_str(), 100 * identical_fraction(replay, yb),
                static_cast<long long>(replay.size()), xp.c_str(), wp.c_str(), order.c_str(), order.c_str());
    return rc;
  };
}

}  // namespace certconv::app
