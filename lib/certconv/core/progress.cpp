#include "certconv/core/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace certconv {

Progress::Progress(std::string label, std::int64_t total, bool enabled) : label_(std::move(label)), total_(total) {
  if (!enabled || !::isatty(STDERR_FILENO) || total <= 0) return;
  painter_ = std::jthread([this](std::stop_token stop) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    bool drew = false;
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      const double frac = double(done_.load(std::memory_order_relaxed)) / double(total_);
      const double el = std::chrono::duration<double>(clock::now() - t0).count();
      if (el < 1.0) continue;
      const double eta = frac > 0 ? el * (1 - frac) / frac : 0;
      std::fprintf(stderr, "\r%s: %5.1f%%  elapsed %.0fs  ETA %.0fs   ", label_.c_str(), 100 * frac, el, eta);
      drew = true;
    }
    if (drew) std::fprintf(stderr, "\r%*s\r", 60, "");
  });
}

Progress::~Progress() = default;  // jthread requests stop and joins

}  // namespace certconv
