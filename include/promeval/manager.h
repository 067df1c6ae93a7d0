// The real-time rule manager: runs rule groups on a clock, each on its own
// thread at the times a Prometheus server would (rules.Manager and
// Group.run in rules/manager.go and rules/group.go), reloads rule files
// keeping alert state, and hands alerts that need sending to a Notifier
// (AlertingRule.sendAlerts, Alert.needsSending, manager.go's SendAlerts).
//
// Rules read through a Queryable and write through an Appendable (one
// Storage may be both), as Prometheus's rules.Manager does.
//
// Ownership: a Manager borrows its Engine, Queryable, Appendable, Clock and
// Notifier; they must outlive it. It owns its groups, their evaluators and
// threads.
//
// Thread-safety: every Manager method may be called from any thread.
// Update(), Start(), Stop() and the destructor are serialized with each
// other; Groups() never waits for a running evaluation (it reads the
// snapshot published at the end of each group evaluation). Evaluations of
// one group are serialized (group threads and EvaluateAt()); different
// groups evaluate concurrently while started, so the Queryable and the
// Appendable must be safe for concurrent use (MemStorage is). StopSignal and
// RealClock are thread-safe. A clock for tests, FakeClock, is in
// promeval/testing/fake_clock.h.
#ifndef PROMEVAL_MANAGER_H_
#define PROMEVAL_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "promeval/engine.h"
#include "promeval/labels.h"
#include "promeval/rules.h"
#include "promeval/storage.h"

namespace promeval {

// A one-shot stop request (Prometheus's closed `done` channel) that wakes
// threads sleeping in Clock::SleepUntil().
class StopSignal {
 public:
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Sets the signal and runs the registered wakers. Later calls do nothing.
  void Notify();
  bool notified() const { return notified_.load(); }

  // For Clock implementations: registers `wake`, run by Notify() (on the
  // notifying thread, with the signal's lock held: it must not call back
  // into the signal) until RemoveWaker(id) returns. A waker registered after
  // Notify() is never run, so a sleeper checks notified() after registering.
  int AddWaker(std::function<void()> wake);
  void RemoveWaker(int id);

 private:
  std::atomic<bool> notified_{false};
  std::mutex mu_;
  int next_id_ = 1;                                            // Under mu_.
  std::vector<std::pair<int, std::function<void()>>> wakers_;  // Under mu_.
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in milliseconds.
  virtual int64_t NowMs() = 0;
  // Blocks until NowMs() >= t_ms (true) or `stop` is notified (false;
  // returns at once if it already is, even when t_ms has passed).
  virtual bool SleepUntil(int64_t t_ms, StopSignal& stop) = 0;
};

// The system clock.
class RealClock : public Clock {
 public:
  // A process-wide instance.
  static RealClock* Default();
  int64_t NowMs() override;
  bool SleepUntil(int64_t t_ms, StopSignal& stop) override;
};

// An alert as handed to the notifier (Prometheus's notifier.Alert as built
// by SendAlerts). External labels are not added: that is the notifier's
// job, as in Prometheus's notifier.Manager.
struct NotifiedAlert {
  Labels labels;             // alertname included.
  StringPairs annotations;   // Expanded, sorted by name.
  int64_t starts_at_ms = 0;  // When it started firing (FiredAt).
  // Resolved alerts: when they were resolved. Firing ones: ValidUntil, the
  // evaluation time + 4 * max(group interval, resend delay).
  int64_t ends_at_ms = 0;
  bool resolved = false;
  // external_url + "/graph?g0.expr=<query-escaped expression>&g0.tab=1".
  std::string generator_url;
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // The alerts of one alerting rule evaluation that need sending (never
  // empty), sorted by labels. Called on the evaluating thread (a group
  // thread or EvaluateAt()'s caller) while that group's evaluation is in
  // progress; different groups may call it concurrently.
  // REQUIRES: only Manager::Groups() may be called from here.
  virtual void Send(const std::vector<NotifiedAlert>& alerts) = 0;
};

struct ManagerOptions {
  const Engine* engine = nullptr;  // Required.
  // What rule queries read (Prometheus's ManagerOptions.Queryable) and where
  // rule results go (Appendable). Both required, unless `storage` is set.
  Queryable* queryable = nullptr;
  Appendable* appendable = nullptr;
  // Shorthand for a store that is both read and written: `queryable` and
  // `appendable` must then be null.
  Storage* storage = nullptr;
  Clock* clock = nullptr;        // Null: RealClock::Default().
  Notifier* notifier = nullptr;  // Null: alerts are not sent.
  // External labels and URL (templates, generator URLs), default query
  // offset.
  RuleEvalOptions eval;
  // The interval of groups without one (global evaluation_interval).
  int64_t default_interval_ms = 60 * 1000;
  // How often a firing alert is sent again (--rules.alert.resend-delay).
  int64_t resend_delay_ms = 60 * 1000;
};

struct RuleStatus {
  std::string name;
  Rule::Kind kind = Rule::Kind::kRecording;
  std::string query;  // As written.
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;  // "" if the last evaluation succeeded.
  // Clock time the rule's last evaluation started (0: never evaluated) and
  // how long it took (real time).
  int64_t last_evaluation_ms = 0;
  absl::Duration evaluation_duration;
  // Alerting rules: pending and firing alerts, sorted by labels.
  std::vector<Alert> active_alerts;
};

struct GroupStatus {
  std::string file;
  std::string name;
  int64_t interval_ms = 0;
  int64_t query_offset_ms = 0;
  // Clock time the last evaluation started (0: never), the time it
  // evaluated at (its slot), and how long it took (real time).
  int64_t last_evaluation_ms = 0;
  int64_t last_eval_timestamp_ms = 0;
  absl::Duration evaluation_duration;
  int64_t evaluations = 0;
  // Scheduled evaluations skipped because the group fell behind.
  int64_t iterations_missed = 0;
  std::vector<RuleStatus> rules;  // In file order.
};

class Manager {
 public:
  // kInvalidArgument without an engine, without a queryable and an
  // appendable (or a storage), with a storage and a queryable or
  // appendable, or with a non-positive default interval or a negative
  // resend delay.
  static absl::StatusOr<std::unique_ptr<Manager>> Create(
      ManagerOptions options);
  // Stops the group threads.
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Loads or reloads the rule groups of `files` (Manager.Update). Groups are
  // identified by (file, name); a group whose file is empty takes its
  // RuleFile's path. A group equal to the running one (name, file,
  // interval, limit, query offset, labels and rules) is kept as is: its
  // thread, schedule and alert state go on. A changed group is stopped
  // (waiting for an evaluation in flight) and replaced; its rules that are
  // unchanged, matched in order as Prometheus's Group.CopyState matches them,
  // keep their state (alerts, series for stale markers, health). Removed
  // groups are stopped. While started, new and replaced groups start at
  // their next aligned time. kInvalidArgument (nothing changed) for two
  // groups with the same file and name, or a rule without a parsed
  // expression.
  absl::Status Update(const std::vector<RuleFile>& files);

  // Evaluates every group once at `ts_ms`, in order, on the calling thread
  // (for hosts that drive time themselves), sending notifications.
  void EvaluateAt(int64_t ts_ms);

  // Starts one thread per group: each evaluates at the first time after now
  // in its slots (ServerAlignedStart), then every interval, skipping the
  // slots it fell behind on. Does nothing if already started.
  void Start();
  // Stops the group threads promptly: sleeping ones wake, one evaluating
  // finishes its evaluation (notifications included) first. The manager
  // may be started again.
  void Stop();
  bool running() const;

  // The groups in Update() order with their last evaluation.
  std::vector<GroupStatus> Groups() const;

 private:
  class Group;
  struct Runner;

  explicit Manager(ManagerOptions options);
  void StartGroupLocked(const std::shared_ptr<Group>& group);
  static void StopRunners(std::vector<std::unique_ptr<Runner>> runners);
  std::vector<std::shared_ptr<Group>> Snapshot() const;

  const ManagerOptions options_;

  // Serializes Update(), Start(), Stop(); held while threads are joined.
  mutable std::mutex control_mu_;
  // Guards groups_ only; never held while waiting for anything.
  mutable std::mutex groups_mu_;
  // Written under both mutexes, so either may be held to read it.
  std::vector<std::shared_ptr<Group>> groups_;
  bool running_ = false;  // Under control_mu_ (and groups_mu_ to write).
};

}  // namespace promeval

#endif  // PROMEVAL_MANAGER_H_
