// A fixed set of worker threads that run the chunks of parallel loops for
// the engine (EngineOptions::workers).
//
// Only leaf loops run on it: a chunk never waits for other work, so queries
// running concurrently on one engine share the pool without deadlock.
// Thread-safety: ParallelFor may be called from any number of threads.
#ifndef PROMEVAL_EVAL_THREAD_POOL_H_
#define PROMEVAL_EVAL_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"

namespace promeval::eval {

class ThreadPool {
 public:
  // Starts `threads` worker threads (the caller of ParallelFor works too).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(threads_.size()); }

  // Splits [0, n) into `chunks` contiguous ranges of nearly equal size and
  // calls fn(chunk, begin, end) for each, on the workers and the calling
  // thread; returns when all have returned.
  // REQUIRES: 1 <= chunks <= n, or n == 0.
  void ParallelFor(size_t n, size_t chunks,
                   absl::FunctionRef<void(size_t, size_t, size_t)> fn);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // Guarded by mu_.
  bool stop_ = false;                        // Guarded by mu_.
  std::vector<std::thread> threads_;
};

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_THREAD_POOL_H_
