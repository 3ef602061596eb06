#pragma once
// Progress on stderr for long runs: a percentage and ETA line redrawn twice a
// second, only when enabled and stderr is a terminal (never in logs or CI).
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace certconv {

class Progress {
 public:
  Progress(std::string label, std::int64_t total, bool enabled);
  ~Progress();
  void add(std::int64_t done) { done_.fetch_add(done, std::memory_order_relaxed); }

 private:
  std::string label_;
  std::int64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::jthread painter_;
};

}  // namespace certconv
