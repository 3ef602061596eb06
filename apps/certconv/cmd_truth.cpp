// certconv truth: the certified true result of a convolution, as <f8 NCHW.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>

#include "certconv/analysis/truth_summary.hpp"
#include "certconv/core/error.hpp"
#include "certconv/exact/result_truth.hpp"
#include "certconv/exact/truth.hpp"
#include "certconv/core/npy.hpp"
#include "commands.hpp"
#include "inputs.hpp"
#include "options.hpp"

namespace certconv::app {

namespace {

struct TruthArgs {
  InputArgs in;
  std::string out, db_out, lo, hi, absdot, method = "auto";
  int precision = 256, threads = 0;
};

void print_summary(const std::string& problem, std::int64_t outputs, std::int64_t n_terms, const TruthSummary& s,
                   const std::string& kernel, double seconds, const TruthArgs& a, const std::string& out) {
  const Distribution& d = s.cond;
  std::printf("problem      %s\n", problem.c_str());
  std::printf("outputs      %lld x %lld terms, method %s (%s), %.3f s\n", static_cast<long long>(outputs),
              static_cast<long long>(n_terms), a.method.c_str(), kernel.c_str(), seconds);
  std::printf("cond         min %.3g  median %.3g  p99 %.3g  max %.3g\n", d.min, d.median, d.p99, d.max);
  std::printf("cond > 1e3   %.4g%%   cond > 1e6 %.4g%%   exact zeros %lld\n", 100 * s.cond_fraction_above_1e3,
              100 * s.cond_fraction_above_1e6, static_cast<long long>(s.exact_zeros));
  if (a.method == "auto" || a.method == "integer" || a.method == "binary64")
    std::printf("fallback     %.4g%% of outputs needed the exact path\n", 100.0 * s.fallback_fraction);
  if (s.undetermined)
    std::printf("undetermined %lld outputs: the MPFI enclosure does not fix their rounding (use --method exact)\n",
                static_cast<long long>(s.undetermined));
  std::printf("wrote        %s\n", out.c_str());
}

// The files of a truth, while the summary's selection over every output runs
// beside them; then the summary.
void write_and_summarize(const Truth& t, const std::string& out, bool first, const std::string& problem,
                         std::int64_t n_terms, double seconds, const TruthArgs& a) {
  std::future<TruthSummary> summary = std::async(std::launch::async, [&] { return summarize_truth(t, a.threads); });
  write_npy(out, t.y);
  if (first && !a.lo.empty()) write_npy(a.lo, t.lo);
  if (first && !a.hi.empty()) write_npy(a.hi, t.hi);
  if (first && !a.absdot.empty()) write_npy(a.absdot, t.absdot);
  print_summary(problem, t.y.size(), n_terms, summary.get(), t.kernel, seconds, a, out);
}

TruthOptions truth_options(const TruthArgs& a) {
  TruthOptions opt;
  opt.method = parse_truth_method(a.method);
  opt.precision = a.precision;
  opt.threads = a.threads;
  opt.progress = true;
  return opt;
}

template <class T>
int run_truth(const OwnedProblem<T>& in, const TruthArgs& a) {
  const TruthOptions opt = truth_options(a);
  const auto t0 = std::chrono::steady_clock::now();
  const Truth t = compute_truth(in.view(), opt);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_and_summarize(t, a.out, true, to_benchdnn(in.spec), in.spec.n_terms(), sec, a);
  return 0;
}

// Any direction and rank: --out gets the direction's result (y, dx or dw),
// --db-out BWD_WB's db; --lo/--hi/--absdot belong to the first result.
template <class T>
int run_general_truth(const GeneralInputs<T>& in, const TruthArgs& a) {
  require(in.dir == Direction::bwd_wb || a.db_out.empty(),
          std::string("--db-out: only BWD_WB computes db (this is ") + direction_name(in.dir) + ")");
  require(in.dir != Direction::bwd_wb || !a.db_out.empty(), "--dir BWD_WB: give --db-out for db (--out gets dw)");
  const TruthOptions opt = truth_options(a);
  bool first = true;
  for (const Lowered<T>& l : lower(in.desc, in.dir, in.operands())) {
    const auto t0 = std::chrono::steady_clock::now();
    const ResultTruth r = compute_result_truth(l, opt);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_and_summarize(r.truth, first ? a.out : a.db_out, first,
                        to_benchdnn(in.desc) + " " + direction_name(in.dir) + " " + r.result, r.n_terms, sec, a);
    first = false;
  }
  return 0;
}

}  // namespace

Runner add_truth(CLI::App& app) {
  auto a = std::make_shared<TruthArgs>();
  auto* cmd = app.add_subcommand("truth", "certified true result: correctly rounded binary64, enclosure, absdot");
  a->in.add_to(*cmd, true, true);
  cmd->add_option("--out", a->out, "correctly rounded binary64 truth of the direction's result (y, dx or dw), <f8")
      ->required();
  cmd->add_option("--db-out", a->db_out, "BWD_WB: the truth of db, <f8 [oc]");
  cmd->add_option("--lo", a->lo, "enclosure lower end, <f8 (rounded down)");
  cmd->add_option("--hi", a->hi, "enclosure upper end, <f8 (rounded up)");
  cmd->add_option("--absdot", a->absdot, "absdot = sum |w x| (+|bias|), rounded up, <f8");
  cmd->add_option("--method", a->method,
                  "auto (the faster of integer and fast binary64 enclosures, exact path where they do not decide; "
                  "default), integer (exact int8 residue GEMMs on AVX-512 VNNI, binary32 inputs), binary64 (the "
                  "fast binary64 enclosures alone), exact (exact accumulator for every output) or mpfi (interval "
                  "arithmetic)")
      ->check(CLI::IsMember({"auto", "exact", "mpfi", "integer", "binary64"}));
  cmd->add_option("--precision", a->precision, "MPFI precision in bits (method mpfi)")->check(CLI::Range(53, 1 << 20));
  add_threads_option(*cmd, a->threads);
  return [a] {
    if (a->in.general())
      return std::visit([&](const auto& in) { return run_general_truth(in, *a); }, load_general(a->in));
    return std::visit([&](const auto& in) { return run_truth(in, *a); }, load_inputs(a->in));
  };
}

}  // namespace certconv::app
