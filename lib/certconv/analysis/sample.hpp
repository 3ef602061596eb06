#pragma once
// The outputs a plot of norm_err against cond shows (docs/json-schema.md,
// observed[].samples): a capped, deterministic selection that always keeps the
// worst outputs and the isclose failures, so a document stays small however
// large the problem is and the points that matter are never sampled away.
#include <cstdint>
#include <vector>

namespace certconv {

struct SampleOptions {
  std::size_t cap = 1000;      // at most this many outputs in all
  std::size_t worst = 100;     // the largest norm_err, always kept
  std::size_t failures = 500;  // isclose failures kept; beyond this every k-th of them
};

// Selected outputs, ascending flat index, with per-point plot data filled in by
// the caller (metrics.cpp); the counts say how the selection was taken.
struct OutputSample {
  std::int64_t outputs = 0;        // outputs there were
  std::int64_t worst = 0;          // of the selected, the largest norm_err
  std::int64_t failures = 0;       // isclose failures among all outputs
  std::int64_t failure_step = 0;   // every failure_step-th failure kept (1: all; 0: none)
  std::int64_t stride = 0;         // then every stride-th output by flat index (0: none fit)
  std::size_t cap = 0;
  std::vector<std::int64_t> index;  // flat NCHW indices
  std::vector<double> cond, norm_err;
  std::vector<char> isclose_failure;
};

// Worst first (the opt.worst largest norm_err, ties to the lower index), then
// every failure_step-th failure by index so that at most opt.failures are kept,
// then every stride-th output from index 0, stride chosen to fill the cap.
// Deterministic; never more than opt.cap outputs. Fills outputs, worst, failures,
// failure_step, stride, cap and index.
OutputSample select_sample(const std::vector<double>& norm_err, const std::vector<char>& failure,
                           const SampleOptions& opt);

}  // namespace certconv
