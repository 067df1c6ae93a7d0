#include "eval/thread_pool.h"

#include <utility>

namespace promeval::eval {

ThreadPool::ThreadPool(int threads) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping.
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::HelpUntil(const std::function<bool()>& done) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!done()) {
    if (queue_.empty()) {
      finished_.wait(lock);
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

void ThreadPool::ParallelFor(
    size_t n, size_t chunks,
    absl::FunctionRef<void(size_t, size_t, size_t)> fn) {
  if (n == 0) return;
  auto bounds = [n, chunks](size_t c) { return n * c / chunks; };
  if (chunks <= 1 || threads_.empty()) {
    for (size_t c = 0; c < chunks; ++c) fn(c, bounds(c), bounds(c + 1));
    return;
  }
  // The chunks after the first go to the workers; the caller runs the
  // first, then the others that are still queued, then waits.
  size_t pending = chunks - 1;  // Guarded by mu_.
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t c = 1; c < chunks; ++c) {
      queue_.push_back([&, c] {
        fn(c, bounds(c), bounds(c + 1));
        std::lock_guard<std::mutex> done_lock(mu_);
        --pending;
        finished_.notify_all();
      });
    }
  }
  wake_.notify_all();
  fn(0, bounds(0), bounds(1));
  HelpUntil([&] { return pending == 0; });
}

void ThreadPool::Task::RunOnce() {
  if (started_.exchange(true)) return;
  fn_();
}

std::shared_ptr<ThreadPool::Task> ThreadPool::Fork(std::function<void()> fn) {
  auto task = std::make_shared<Task>(std::move(fn));
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back([this, task] {
      task->RunOnce();
      std::lock_guard<std::mutex> done_lock(mu_);
      task->done_ = true;
      finished_.notify_all();
    });
  }
  wake_.notify_one();
  return task;
}

void ThreadPool::Join(const std::shared_ptr<Task>& task) {
  // Not started by a worker: run it here (its queued entry then only marks
  // it done).
  if (!task->started_.exchange(true)) {
    task->fn_();
    std::lock_guard<std::mutex> lock(mu_);
    task->done_ = true;
    return;
  }
  HelpUntil([&task] { return task->done_; });
}

}  // namespace promeval::eval
