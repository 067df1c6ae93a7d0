// A Clock for tests of the rule Manager (promeval/manager.h): time moves
// only when the test moves it, and the test can wait until the threads the
// last move woke have gone back to sleep, so runs are deterministic.
//
// Part of the testing library (promeval::testing), not of what a host
// embeds. A FakeClock owns nothing; the threads sleeping on it must stop
// (their StopSignal notified) before it is destroyed.
//
// Thread-safety: every method may be called from any thread.
#ifndef PROMEVAL_TESTING_FAKE_CLOCK_H_
#define PROMEVAL_TESTING_FAKE_CLOCK_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>

#include "absl/time/time.h"
#include "promeval/manager.h"

namespace promeval {

// A clock that only moves when told to, for tests: sleepers wake when the
// time is set at or past their deadline, or when stopped.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 0) : now_ms_(now_ms) {}

  int64_t NowMs() override;
  bool SleepUntil(int64_t t_ms, StopSignal& stop) override;

  // REQUIRES: t_ms >= NowMs().
  void SetNowMs(int64_t t_ms);
  void AdvanceMs(int64_t delta_ms);

  // Waits (up to `timeout` of real time, a safety net for broken tests)
  // until exactly `n` threads sleep on a deadline after NowMs(): the ones
  // the last time change woke have finished their work and gone back to
  // sleep or left. Returns false on timeout.
  bool WaitForSleepers(int n, absl::Duration timeout = absl::Seconds(30));
  // The earliest deadline after NowMs() a thread sleeps on.
  std::optional<int64_t> NextWakeupMs();

 private:
  int WaitingLocked() const;

  std::mutex mu_;
  std::condition_variable cv_;        // Time changes, sleepers come and go.
  int64_t now_ms_;                    // Under mu_.
  std::multiset<int64_t> deadlines_;  // Of the sleepers; under mu_.
};

}  // namespace promeval

#endif  // PROMEVAL_TESTING_FAKE_CLOCK_H_
