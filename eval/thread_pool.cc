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
  // first, then waits for the others.
  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t pending = chunks - 1;
  std::vector<std::function<void()>> tasks;
  tasks.reserve(chunks - 1);
  for (size_t c = 1; c < chunks; ++c) {
    tasks.emplace_back([&, c] {
      fn(c, bounds(c), bounds(c + 1));
      std::lock_guard<std::mutex> lock(done_mu);
      if (--pending == 0) done_cv.notify_one();
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::function<void()>& t : tasks) queue_.push_back(std::move(t));
  }
  wake_.notify_all();
  fn(0, bounds(0), bounds(1));
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return pending == 0; });
}

}  // namespace promeval::eval
