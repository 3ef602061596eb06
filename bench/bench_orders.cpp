// Every emulated order on the seed layer (802,816 outputs × 147 terms), single
// thread: value only, value + the rigorous (tree) bound, and value + tree bound +
// running bound, against a plain loop in the same precision (per output, taps in
// order, acc += w·x). Targets: value within 3× of the plain loop; bounds cost at most
// the order itself (value + bounds ≤ 2× value).
// Usage: bench_orders [reps=5] > orders.json
#include <malloc.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "bench_util.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/metadata.hpp"
#include "certconv/core/taps.hpp"

using namespace certconv;

namespace {

template <class T>
Tensor<T> plain_loop(const ConvProblem<T>& p) {
  const ConvSpec& s = p.spec;
  Tensor<T> y(s.y_shape());
  for (std::int64_t i = 0; i < s.y_size(); ++i) {
    const OutputIndex o = output_index(s, i);
    T acc = 0;
    for_each_tap(s, o.n, o.oc, o.oy, o.ox,
                 [&](std::int64_t xo, std::int64_t wo) { acc += p.w.data[wo] * p.x.data[xo]; });
    y.data[static_cast<std::size_t>(i)] = acc;
  }
  return y;
}

template <class T>
nlohmann::json bench_dtype(const ConvProblem<T>& p, int reps) {
  Tensor<T> sink;
  const double plain = bench::median_seconds(reps, [&] { sink = plain_loop(p); });
  nlohmann::json rows = nlohmann::json::array();
  for (const OrderInfo& info : order_list()) {
    // winograd needs 3×3, stride 1; tree needs a tree file
    if (info.kind != OrderKind::order || info.name == "winograd" || needs_argument(info)) continue;
    if (sizeof(T) == 8 && info.name == "onednn-avx512-bf16") continue;  // bf16 kernels: float32 only
    const OrderSpec o = parse_order(info.name);
    const double value = bench::median_seconds(reps, [&] { sink = run_order(o, p, RunOptions{1, false}).y; });
    const double tree = bench::median_seconds(reps, [&] { sink = run_order(o, p, RunOptions{1, true, false}).y; });
    const double both = bench::median_seconds(reps, [&] { sink = run_order(o, p, RunOptions{1, true, true}).y; });
    rows.push_back({{"order", order_str(o)},
                    {"value_s", value},
                    {"value_and_bound_s", tree},
                    {"value_and_bounds_s", both},
                    {"value_over_plain_loop", value / plain},
                    {"bound_over_value", (tree - value) / value},
                    {"bounds_over_value", (both - value) / value}});
  }
  return {{"plain_loop_s", plain}, {"orders", rows}};
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::stoi(argv[1]) : 5;
  // Fresh pages for every large buffer, as in a one-shot `certconv run`: otherwise
  // glibc hands some repetitions pages an earlier one already faulted in.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  const SeedWorkload s = seed_workload();
  Tensor<double> x64(s.x.shape), w64(s.w.shape);
  for (std::size_t i = 0; i < s.x.data.size(); ++i) x64.data[i] = s.x.data[i];
  for (std::size_t i = 0; i < s.w.data.size(); ++i) w64.data[i] = s.w.data[i];

  nlohmann::json j = document_header("certconv.bench.orders/1", 1);
  j["problem"] = to_benchdnn(s.spec);
  j["inputs"] = {{"seed", kSeedExampleSeed}, {"x", "normal"}, {"w", "uniform(+-1/sqrt(147))"}};
  j["parameters"] = {{"reps", reps},
                     {"statistic", "median"},
                     {"threads", 1},
                     {"environment", "mallopt(M_MMAP_THRESHOLD, 1 MiB): fresh pages for every large buffer"}};
  j["targets"] = {{"value_over_plain_loop_max", 3}, {"bound_over_value_max", 1}};
  j["f32"] = bench_dtype(ConvProblem<float>{s.spec, s.x, s.w, nullptr}, reps);
  j["f64"] = bench_dtype(ConvProblem<double>{s.spec, x64, w64, nullptr}, reps);
  std::cout << j.dump(2) << "\n";
  return 0;
}
