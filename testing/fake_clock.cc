// FakeClock: the rule Manager's clock in tests.
#include "promeval/testing/fake_clock.h"

#include <algorithm>
#include <iterator>

namespace promeval {

int64_t FakeClock::NowMs() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_ms_;
}

bool FakeClock::SleepUntil(int64_t t_ms, StopSignal& stop) {
  // The waker takes mu_ while Notify() holds the signal's lock, so mu_ is
  // never held while taking the signal's lock (notified() takes none).
  const int id = stop.AddWaker([this] {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = deadlines_.insert(t_ms);
    cv_.notify_all();
    cv_.wait(lock, [&] { return stop.notified() || now_ms_ >= t_ms; });
    deadlines_.erase(it);
    cv_.notify_all();
  }
  stop.RemoveWaker(id);
  return !stop.notified();
}

void FakeClock::SetNowMs(int64_t t_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ms_ = std::max(now_ms_, t_ms);
  cv_.notify_all();
}

void FakeClock::AdvanceMs(int64_t delta_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ms_ += std::max<int64_t>(delta_ms, 0);
  cv_.notify_all();
}

int FakeClock::WaitingLocked() const {
  return static_cast<int>(
      std::distance(deadlines_.upper_bound(now_ms_), deadlines_.end()));
}

bool FakeClock::WaitForSleepers(int n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return WaitingLocked() == n; });
}

std::optional<int64_t> FakeClock::NextWakeupMs() {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deadlines_.upper_bound(now_ms_);
  if (it == deadlines_.end()) return std::nullopt;
  return *it;
}

}  // namespace promeval
