#pragma once
// parallel_for: splits [0, n) into contiguous chunks over `threads` std::jthreads.
// Work is split by outputs only, never inside a reduction, so results do not
// depend on the thread count. Exceptions from workers are rethrown.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace certconv {

template <class F>
void parallel_for(std::int64_t n, int threads, F&& body) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<std::int64_t>(1, n))));
  if (threads == 1) {
    body(std::int64_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex m;
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      std::int64_t b = n * t / threads, e = n * (t + 1) / threads;
      pool.emplace_back([&, b, e] {
        try {
          body(b, e);
        } catch (...) {
          std::lock_guard lock(m);
          if (!error) error = std::current_exception();
        }
      });
    }
  }
  if (error) std::rethrow_exception(error);
}

// [0, n) in pieces of `grain`, handed out one at a time to whichever worker is
// free: on a shared machine a slowed core then does less instead of holding up
// the rest at the join. Each worker makes its state with local(), calls
// body(state, b, e) for every piece it takes, and finally merge(state) under a lock.
template <class Local, class F, class Merge>
void parallel_for_dynamic(std::int64_t n, int threads, std::int64_t grain, Local&& local, F&& body, Merge&& merge) {
  std::atomic<std::int64_t> next{0};
  std::mutex m;
  parallel_for(threads, threads, [&](std::int64_t, std::int64_t) {
    auto state = local();
    for (std::int64_t b; (b = next.fetch_add(grain)) < n;) body(state, b, std::min(n, b + grain));
    std::lock_guard lock(m);
    merge(state);
  });
}

// The same without per-worker state: body(b, e) per piece.
template <class F>
void parallel_for_dynamic(std::int64_t n, int threads, std::int64_t grain, F&& body) {
  parallel_for_dynamic(
      n, threads, grain, [] { return 0; }, [&](int, std::int64_t b, std::int64_t e) { body(b, e); }, [](int) {});
}

// Threads to use when the user gives 0: the hardware concurrency.
inline int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace certconv
