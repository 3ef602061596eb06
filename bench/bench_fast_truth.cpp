// Certified truth (method auto) against what people use as a reference: float64
// im2col + OpenBLAS dgemm (PyTorch's float64 conv), the real oneDNN float32
// convolution, the exact accumulator path (method exact) and a naive Boost
// mpfr_float loop. Float32 inputs; the seed layer and ResNet-50 res2a_branch2b and
// res4a_branch2b (mb1); 1 and 2 threads. Each repetition runs every method once, in
// turn, so that the ratios compare runs taken under the same machine load.
// Usage: bench_fast_truth [reps=5] [warm] > fast_truth.json
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/multiprecision/mpfr.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "certconv/core/config.hpp"
#include "certconv/exact/fast_truth.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/exact/generate.hpp"
#include "certconv/registry/registry.hpp"
#include "certconv/report/metadata.hpp"
#include "certconv/core/taps.hpp"
#if CERTCONV_HAVE_OPENBLAS
#include "certconv/backends/blas.hpp"
#endif

using namespace certconv;

namespace {

struct Workload {
  std::string name;
  ConvSpec spec;
  Tensor<float> x, w;
  std::string inputs;
};

Workload seed() {
  SeedWorkload s = seed_workload();
  return {"seed (ResNet-50 conv1)", s.spec, std::move(s.x), std::move(s.w),
          "x normal, w uniform(+-1/sqrt(147)) (example seed)"};
}

Workload resnet(const char* name, const char* desc) {
  const ConvSpec s = parse_benchdnn(desc);
  Generated<float> g = generate_inputs<float>(s, "kaiming", 1);
  return {name, s, std::move(g.x), std::move(g.w), "kaiming, seed 1"};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall and process CPU seconds of one call. CPU time, summed over threads, is
// what a loaded machine distorts least; wall time is what a user waits.
struct Time {
  double wall, cpu;
};
template <class F>
Time seconds(F&& f) {
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cpu_seconds() - c0};
}

struct Samples {
  std::vector<double> wall, cpu;
  void add(Time t) {
    wall.push_back(t.wall);
    cpu.push_back(t.cpu);
  }
};

bool identical(const Truth& a, const Truth& b) {
  auto same = [](const auto& u, const auto& v) {
    return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(u[0])) == 0;
  };
  return same(a.y.data, b.y.data) && same(a.y32.data, b.y32.data) && same(a.lo.data, b.lo.data) &&
         same(a.hi.data, b.hi.data) && same(a.absdot.data, b.absdot.data) && a.exact_zeros == b.exact_zeros;
}

// Naive mpfr_float at 200 decimal digits (exact for sums of binary32 products), on
// the first `slice` outputs; single thread (Boost 1.74's mpfr_float changes a
// process-wide default precision inside its operators). Returns mismatches with y.
std::int64_t mpfr_slice(const ConvProblem<float>& p, std::int64_t slice, const Tensor<double>& y) {
  using mp = boost::multiprecision::mpfr_float;
  std::int64_t mismatches = 0;
  for (std::int64_t i = 0; i < slice; ++i) {
    const OutputIndex o = output_index(p.spec, i);
    mp acc = 0;
    for_each_tap(p.spec, o.n, o.oc, o.oy, o.ox,
                 [&](std::int64_t xo, std::int64_t wo) { acc += mp(p.w.data[wo]) * mp(p.x.data[xo]); });
    mismatches += acc.convert_to<double>() != y.data[static_cast<std::size_t>(i)];
  }
  return mismatches;
}

}  // namespace

int main(int argc, char** argv) {
  // Idle worker threads of the baselines (oneDNN's OpenMP, OpenBLAS's pthreads) spin
  // by default after each call, stealing a core from whatever runs next: make them
  // sleep. Both read the environment when loaded, so set it and start over.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);
    execv("/proc/self/exe", argv);
  }
  // Every large buffer comes fresh from mmap, as in a one-shot run: without this,
  // glibc's adaptive threshold lets some methods reuse already-faulted heap pages,
  // depending on what ran before. "warm" keeps glibc's default.
  const bool warm = argc > 2 && std::string(argv[2]) == "warm";
  if (!warm) mallopt(M_MMAP_THRESHOLD, 1 << 20);
  const int reps = argc > 1 ? std::max(1, std::stoi(argv[1])) : 5;
  boost::multiprecision::mpfr_float::default_precision(200);
  std::vector<Workload> workloads;
  workloads.push_back(seed());
  workloads.push_back(resnet("res2a_branch2b", "mb1ic64ih56oc64oh56kh3ph1"));
  workloads.push_back(resnet("res4a_branch2b", "mb1ic256ih14oc256oh14kh3ph1"));

  nlohmann::json rows = nlohmann::json::array();
  bool all_identical = true;
  std::int64_t all_mismatches = 0;
  for (const Workload& wl : workloads) {
    const ConvProblem<float> p{wl.spec, wl.x, wl.w, nullptr};
    Tensor<double> x64(wl.x.shape), w64(wl.w.shape);
    std::copy(wl.x.data.begin(), wl.x.data.end(), x64.data.begin());
    std::copy(wl.w.data.begin(), wl.w.data.end(), w64.data.begin());
    const ConvProblem<double> p64{wl.spec, x64, w64, nullptr};
    for (int threads : {1, 2}) {
      TruthOptions auto_opt, exact_opt;
      auto_opt.threads = exact_opt.threads = threads;
      exact_opt.method = TruthMethod::exact;
      RunOptions ro;
      ro.threads = threads;
      ro.want_bound = false;
      Truth t_auto, t_exact;
      Samples s_auto, s_exact, s_dgemm, s_onednn;
      for (int r = 0; r <= reps; ++r) {  // repetition 0 warms up and is not counted
        const Time a = seconds([&] { t_auto = compute_truth(p, auto_opt); });
        const Time e = seconds([&] { t_exact = compute_truth(p, exact_opt); });
#if CERTCONV_HAVE_OPENBLAS
        const Time d = seconds([&] { blas_convolution(p64, BlasArrangement::unfold, threads); });
#else
        const Time d{0, 0};
#endif
#if CERTCONV_HAVE_ONEDNN
        const Time o = seconds([&] { run_order(parse_order("onednn"), p, ro); });
#else
        const Time o{0, 0};
#endif
        if (r == 0) continue;
        s_auto.add(a);
        s_exact.add(e);
        s_dgemm.add(d);
        s_onednn.add(o);
      }
      const bool same = identical(t_auto, t_exact);
      all_identical = all_identical && same;
      // Times and ratios of medians, wall and CPU; null for a library not built.
      auto entry = [&](const char* kind, std::vector<double> Samples::*field) {
        const double ta = median(s_auto.*field), te = median(s_exact.*field);
        const double td = median(s_dgemm.*field), to = median(s_onednn.*field);
        const nlohmann::json none = nullptr;
        return nlohmann::json{
            {"seconds",
             {{"truth_auto", ta},
              {"truth_exact", te},
              {"float64_im2col_dgemm", CERTCONV_HAVE_OPENBLAS ? nlohmann::json(td) : none},
              {"onednn_float32", CERTCONV_HAVE_ONEDNN ? nlohmann::json(to) : none}}},
            {"ratios",
             {{"auto_over_float64_dgemm", CERTCONV_HAVE_OPENBLAS ? nlohmann::json(ta / td) : none},
              {"auto_over_onednn", CERTCONV_HAVE_ONEDNN ? nlohmann::json(ta / to) : none},
              {"exact_over_auto", te / ta}}},
            {"clock", kind}};
      };
      const double ta = median(s_auto.wall);
      nlohmann::json row = {
          {"layer", wl.name},
          {"problem", to_benchdnn(wl.spec)},
          {"inputs", wl.inputs},
          {"threads", threads},
          {"outputs", wl.spec.y_size()},
          {"terms", wl.spec.n_terms()},
          {"fallback_fraction", static_cast<double>(t_auto.fallback) / static_cast<double>(wl.spec.y_size())},
          {"identical_to_exact", same},
          {"wall", entry("wall", &Samples::wall)},
          {"cpu", entry("process CPU time, all threads", &Samples::cpu)}};
      if (threads == 1) {
        // mpfr_float on a slice of the outputs, extrapolated; auto timed alongside.
        const std::int64_t slice = std::max<std::int64_t>(1, wl.spec.y_size() / 256);
        std::int64_t mismatches = 0;
        const double tm = median([&] {
          std::vector<double> v;
          for (int r = 0; r < reps; ++r)
            v.push_back(seconds([&] { mismatches = mpfr_slice(p, slice, t_auto.y); }).wall);
          return v;
        }()) * static_cast<double>(wl.spec.y_size()) / static_cast<double>(slice);
        all_mismatches += mismatches;
        row["wall"]["seconds"]["mpfr_float_extrapolated"] = tm;
        row["wall"]["ratios"]["mpfr_float_over_auto"] = tm / ta;
        row["mpfr"] = {{"decimal_digits", 200}, {"slice_outputs", slice}, {"mismatches_in_slice", mismatches}};
      }
      rows.push_back(std::move(row));
    }
  }
  nlohmann::json j = document_header("certconv.bench.fast_truth/1", 2);
  j["parameters"] = {{"reps", reps},
                     {"statistic", "median, repetitions interleaved across methods, one warm-up"},
                     {"environment", std::string("OMP_WAIT_POLICY=passive, OPENBLAS_THREAD_TIMEOUT=4, ") +
                                         (warm ? "glibc's default malloc (heap pages may be reused)"
                                               : "mallopt(M_MMAP_THRESHOLD, 1 MiB): fresh pages for every large "
                                                 "buffer, as in a one-shot run")},
                     {"kernel_isa", isa_name(supported_isas().back())},
                     {"float64_reference", "blas_convolution<double>(unfold): im2col + cblas_dgemm per image and "
                                           "group, openblas_set_num_threads(threads); inputs converted beforehand"},
                     {"onednn", "run_order(\"onednn\") without bound: dnnl::convolution_forward f32"}};
  j["targets"] = {{"auto_over_float64_dgemm_max", 2.0}, {"auto_over_onednn_max", 20.0}};
  j["results"] = std::move(rows);
  j["checks"] = {{"auto_identical_to_exact", all_identical}, {"mpfr_mismatches", all_mismatches}};
  std::cout << j.dump(2) << "\n";
  return all_identical && all_mismatches == 0 ? 0 : 1;
}
