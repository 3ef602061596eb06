#pragma once
// Timing helpers for benchmarks: median of repeated runs, peak RSS.
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include <algorithm>
#include <chrono>
#include <vector>

namespace certconv::bench {

// Median wall time in seconds of `reps` runs of f (after one warm-up run).
template <class F>
double median_seconds(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Resident set size now, from /proc/self/statm (pages).
inline double current_rss_mib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace certconv::bench
