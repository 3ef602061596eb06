// Exact truth vs a plain float64 loop vs naive Boost mpfr_float, on the seed
// layer (802,816 outputs × 147 terms, binary32 inputs), single thread.
// Usage: bench_truth [reps=5] > truth.json
#include <boost/multiprecision/mpfr.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "bench_util.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/report/metadata.hpp"
#include "certconv/core/taps.hpp"

using namespace certconv;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::stoi(argv[1]) : 5;
  const SeedWorkload s = seed_workload();
  const ConvProblem<float> p{s.spec, s.x, s.w, nullptr};
  const std::int64_t outputs = s.spec.y_size();

  TruthOptions opt;
  opt.method = TruthMethod::exact;  // this benchmark is about the exact path; bench_fast_truth times auto
  opt.threads = 1;
  // Memory first, with nothing else allocated: the peak growth of one truth computation.
  const double rss_before = bench::current_rss_mib();
  Truth truth = compute_truth(p, opt);
  const double rss = bench::peak_rss_mib() - rss_before;
  const double t_exact = bench::median_seconds(reps, [&] { compute_truth(p, opt); });

  // The float64 reference people use today: same loop nest, products and sums in binary64.
  Tensor<double> y64(s.spec.y_shape());
  const double t_f64 = bench::median_seconds(reps, [&] {
    for (std::int64_t i = 0; i < outputs; ++i) {
      const OutputIndex o = output_index(s.spec, i);
      double acc = 0;
      for_each_tap(s.spec, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
        acc += double(s.w.data[wo]) * double(s.x.data[xo]);
      });
      y64.data[i] = acc;
    }
  });

  // Naive mpfr_float: 200 decimal digits (≈ 665 bits) hold every sum of binary32
  // products exactly (products span 2^-298 … 2^256 with 48-bit significands).
  // Timed on a slice of outputs. Single thread: Boost 1.74's mpfr_float changes a
  // process-wide default precision inside its operators.
  using mp = boost::multiprecision::mpfr_float;
  mp::default_precision(200);
  const std::int64_t slice = outputs / 32;
  std::int64_t mismatches = 0;
  const double t_mpfr_slice = bench::median_seconds(std::max(1, reps / 2), [&] {
    mismatches = 0;
    for (std::int64_t i = 0; i < slice; ++i) {
      const OutputIndex o = output_index(s.spec, i);
      mp acc = 0;
      for_each_tap(s.spec, o.n, o.oc, o.oy, o.ox, [&](std::int64_t xo, std::int64_t wo) {
        acc += mp(s.w.data[wo]) * mp(s.x.data[xo]);
      });
      mismatches += acc.convert_to<double>() != truth.y.data[i];
    }
  });
  const double t_mpfr = t_mpfr_slice * double(outputs) / double(slice);

  const double io_mib = double((s.x.data.size() + s.w.data.size()) * 4 + outputs * (4 * 8 + 4)) / (1 << 20);
  nlohmann::json j = document_header("certconv.bench.truth/1", 1);
  j["problem"] = to_benchdnn(s.spec);
  j["inputs"] = {{"seed", kSeedExampleSeed}, {"x", "normal"}, {"w", "uniform(+-1/sqrt(147))"}};
  j["parameters"] = {{"reps", reps}, {"statistic", "median"}, {"mpfr_decimal_digits", 200}, {"mpfr_slice_outputs", slice}};
  j["seconds"] = {{"exact_truth", t_exact}, {"float64_loop", t_f64}, {"mpfr_float_extrapolated", t_mpfr}};
  j["ratios"] = {{"exact_over_float64_loop", t_exact / t_f64}, {"mpfr_float_over_exact", t_mpfr / t_exact}};
  j["targets"] = {{"exact_over_float64_loop_max", 10}, {"mpfr_float_over_exact_min", 50}};
  j["memory_mib"] = {{"truth_peak_growth", rss}, {"inputs_plus_outputs", io_mib}, {"ratio", rss / io_mib},
                     {"note", "peak RSS growth during one compute_truth, inputs already resident"}};
  j["checks"] = {{"mpfr_mismatches_in_slice", mismatches}};
  std::cout << j.dump(2) << "\n";
  return mismatches == 0 ? 0 : 1;
}
