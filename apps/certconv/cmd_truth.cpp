// certconv truth: the certified true result of a convolution, as <f8 NCHW.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "certconv/analysis/stats.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/core/npy.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct TruthArgs {
  InputArgs in;
  std::string out, lo, hi, absdot, method = "auto";
  int precision = 256, threads = 0;
};

void print_summary(const ConvSpec& spec, const Truth& t, double seconds, const TruthArgs& a) {
  std::vector<double> cond(t.y.data.size());
  for (std::size_t i = 0; i < cond.size(); ++i) cond[i] = cond_of(t.absdot.data[i], t.y.data[i]);
  const Distribution d = distribution(cond);
  std::printf("problem      %s\n", to_benchdnn(spec).c_str());
  std::printf("outputs      %lld x %lld terms, method %s, %.3f s\n", static_cast<long long>(spec.y_size()),
              static_cast<long long>(spec.n_terms()), a.method.c_str(), seconds);
  std::printf("cond         min %.3g  median %.3g  p99 %.3g  max %.3g\n", d.min, d.median, d.p99, d.max);
  std::printf("cond > 1e3   %.4g%%   cond > 1e6 %.4g%%   exact zeros %lld\n", 100 * fraction_above(cond, 1e3),
              100 * fraction_above(cond, 1e6), static_cast<long long>(t.exact_zeros));
  if (a.method == "auto")
    std::printf("fallback     %.4g%% of outputs needed the exact path\n",
                100.0 * static_cast<double>(t.fallback) / static_cast<double>(std::max<std::int64_t>(1, t.y.size())));
  if (t.undetermined)
    std::printf("undetermined %lld outputs: the MPFI enclosure does not fix their rounding (use --method exact)\n",
                static_cast<long long>(t.undetermined));
  std::printf("wrote        %s\n", a.out.c_str());
}

template <class T>
int run_truth(const OwnedProblem<T>& in, const TruthArgs& a) {
  TruthOptions opt;
  opt.method = a.method == "mpfi" ? TruthMethod::mpfi : a.method == "exact" ? TruthMethod::exact : TruthMethod::auto_;
  opt.precision = a.precision;
  opt.threads = a.threads;
  opt.progress = true;
  const auto t0 = std::chrono::steady_clock::now();
  const Truth t = compute_truth(in.view(), opt);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_npy(a.out, t.y);
  if (!a.lo.empty()) write_npy(a.lo, t.lo);
  if (!a.hi.empty()) write_npy(a.hi, t.hi);
  if (!a.absdot.empty()) write_npy(a.absdot, t.absdot);
  print_summary(in.spec, t, sec, a);
  return 0;
}

}  // namespace

Runner add_truth(CLI::App& app) {
  auto a = std::make_shared<TruthArgs>();
  auto* cmd = app.add_subcommand("truth", "certified true result: correctly rounded binary64, enclosure, absdot");
  a->in.add_to(*cmd);
  cmd->add_option("--out", a->out, "correctly rounded binary64 truth, <f8 NCHW")->required();
  cmd->add_option("--lo", a->lo, "enclosure lower end, <f8 (rounded down)");
  cmd->add_option("--hi", a->hi, "enclosure upper end, <f8 (rounded up)");
  cmd->add_option("--absdot", a->absdot, "absdot = sum |w x| (+|bias|), rounded up, <f8");
  cmd->add_option("--method", a->method,
                  "auto (fast binary64 enclosures, exact path where they do not decide; default), exact (exact "
                  "accumulator for every output) or mpfi (interval arithmetic)")
      ->check(CLI::IsMember({"auto", "exact", "mpfi"}));
  cmd->add_option("--precision", a->precision, "MPFI precision in bits (method mpfi)")->check(CLI::Range(53, 1 << 20));
  add_threads_option(*cmd, a->threads);
  return [a] {
    return std::visit([&](const auto& in) { return run_truth(in, *a); }, load_inputs(a->in));
  };
}

}  // namespace certconv::app
