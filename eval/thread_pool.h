// A fixed set of worker threads that run the chunks of parallel loops and
// forked subtree evaluations for the engine (EngineOptions::workers).
//
// A thread that waits for its chunks or its forked task runs queued tasks
// meanwhile (and takes its own task back if no worker has started it), so
// parallel work may nest (a forked subtree runs parallel loops) and queries
// running concurrently on one engine share the pool without deadlock.
// Thread-safety: all methods may be called from any number of threads.
#ifndef PROMEVAL_EVAL_THREAD_POOL_H_
#define PROMEVAL_EVAL_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
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

  // A function run on a worker, or by the thread that joins it.
  class Task {
   public:
    explicit Task(std::function<void()> fn) : fn_(std::move(fn)) {}

   private:
    friend class ThreadPool;
    // Runs fn_ unless another thread has started it.
    void RunOnce();

    std::function<void()> fn_;
    std::atomic<bool> started_{false};
    bool done_ = false;  // Guarded by the pool's mu_.
  };

  // Queues `fn` for a worker; Join waits for it.
  std::shared_ptr<Task> Fork(std::function<void()> fn);
  // Returns once the task has run: the caller runs it if no worker has
  // started it, and runs other queued tasks while it waits.
  void Join(const std::shared_ptr<Task>& task);

 private:
  void Work();
  // Runs queued tasks until done() holds (checked under mu_), blocking when
  // there are none.
  void HelpUntil(const std::function<bool()>& done);

  std::mutex mu_;
  std::condition_variable wake_;             // A task was queued, or stop_.
  std::condition_variable finished_;         // A task finished.
  std::deque<std::function<void()>> queue_;  // Guarded by mu_.
  bool stop_ = false;                        // Guarded by mu_.
  std::vector<std::thread> threads_;
};

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_THREAD_POOL_H_
