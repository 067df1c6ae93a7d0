// Manager: groups on a (fake) clock at a live server's aligned times,
// reloads that keep alert state, stopping, and the notifications of
// Prometheus's sendAlerts/needsSending. Time only moves when a test moves
// the FakeClock, and each step waits until the group threads have finished
// their work and gone back to sleep, so the runs are deterministic.
#include "promeval/manager.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/rules.h"
#include "promeval/storage.h"
#include "promeval/testing/fake_clock.h"
#include "promeval/value.h"
#include "tests/stored_samples.h"

namespace promeval {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kMinute = 60 * 1000;

// Collects what the manager sends.
class RecordingNotifier : public Notifier {
 public:
  void Send(const std::vector<NotifiedAlert>& alerts) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(alerts);
  }
  std::vector<std::vector<NotifiedAlert>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(batches_);
  }

 private:
  std::mutex mu_;
  std::vector<std::vector<NotifiedAlert>> batches_;
};

// Blocks in Send() until released.
class BlockingNotifier : public Notifier {
 public:
  void Send(const std::vector<NotifiedAlert>&) override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

class ManagerTest : public ::testing::Test {
 protected:
  // Far from 0, not on a minute.
  static constexpr int64_t kT0 = 1000 * kMinute + 12345;

  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(EngineOptions());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  ManagerOptions Options(Notifier* notifier = nullptr) {
    ManagerOptions o;
    o.engine = engine_.get();
    o.storage = &storage_;
    o.clock = &clock_;
    o.notifier = notifier;
    return o;
  }

  std::unique_ptr<Manager> NewManager(ManagerOptions options) {
    absl::StatusOr<std::unique_ptr<Manager>> m = Manager::Create(options);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : nullptr;
  }

  static RuleFile Parse(absl::string_view yaml,
                        absl::string_view path = "rules.yaml") {
    absl::StatusOr<RuleFile> f = ParseRuleFile(yaml, path);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *std::move(f) : RuleFile();
  }

  void Load(absl::string_view script) {
    absl::StatusOr<LoadStats> s = LoadSeriesScript(script, "test", storage_);
    ASSERT_TRUE(s.ok()) << s.status();
  }

  // The samples stored for series named `name` as "labels@t=v", t in ms.
  std::vector<std::string> Raw(absl::string_view name) {
    const Matcher m = *Matcher::Create(
        MatchType::kEqual, std::string(kMetricName), std::string(name));
    return testing::StoredSamples(storage_, {&m, 1});
  }

  // Moves the clock to the next deadline of the group threads and waits
  // until they have evaluated and sleep again.
  int64_t Step(int sleepers = 1) {
    EXPECT_TRUE(clock_.WaitForSleepers(sleepers));
    std::optional<int64_t> next = clock_.NextWakeupMs();
    EXPECT_TRUE(next.has_value());
    if (!next.has_value()) return 0;
    clock_.SetNowMs(*next);
    EXPECT_TRUE(clock_.WaitForSleepers(sleepers));
    return *next;
  }

  std::unique_ptr<Engine> engine_;
  MemStorage storage_;
  FakeClock clock_{kT0};
};

constexpr absl::string_view kConstRules = R"(
groups:
  - name: g
    rules:
      - record: one
        expr: vector(1)
)";

TEST_F(ManagerTest, CreateValidatesOptions) {
  ManagerOptions o = Options();
  o.engine = nullptr;
  EXPECT_FALSE(Manager::Create(o).ok());
  o = Options();
  o.default_interval_ms = 0;
  EXPECT_FALSE(Manager::Create(o).ok());
  o = Options();
  o.resend_delay_ms = -1;
  EXPECT_FALSE(Manager::Create(o).ok());
  o = Options();
  o.clock = nullptr;  // The real clock.
  EXPECT_TRUE(Manager::Create(o).ok());
}

TEST_F(ManagerTest, UpdateRejectsDuplicateGroups) {
  std::unique_ptr<Manager> m = NewManager(Options());
  RuleFile f = Parse(kConstRules);
  EXPECT_FALSE(m->Update({f, f}).ok());
  EXPECT_THAT(m->Groups(), IsEmpty());
  // The same name in another file is another group.
  EXPECT_TRUE(m->Update({f, Parse(kConstRules, "other.yaml")}).ok());
  EXPECT_EQ(m->Groups().size(), 2u);
}

TEST_F(ManagerTest, EvaluateAtWritesRecordingOutputsAndAlerts) {
  Load(R"(
load 1m
  up{job="a"} 1+0x10
  up{job="b"} 0+0x10
)");
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
      - record: broken
        expr: up{job="a"} + on() up
)")})
                  .ok());
  m->EvaluateAt(5 * kMinute);
  m->EvaluateAt(6 * kMinute);
  EXPECT_THAT(Raw("job:up:sum"),
              ElementsAre("{__name__=\"job:up:sum\", job=\"a\"}@300000=1",
                          "{__name__=\"job:up:sum\", job=\"a\"}@360000=1",
                          "{__name__=\"job:up:sum\", job=\"b\"}@300000=0",
                          "{__name__=\"job:up:sum\", job=\"b\"}@360000=0"));
  EXPECT_THAT(Raw("ALERTS"),
              ElementsAre("{__name__=\"ALERTS\", alertname=\"Down\", "
                          "alertstate=\"firing\", job=\"b\"}@360000=1",
                          "{__name__=\"ALERTS\", alertname=\"Down\", "
                          "alertstate=\"pending\", job=\"b\"}@300000=1",
                          "{__name__=\"ALERTS\", alertname=\"Down\", "
                          "alertstate=\"pending\", job=\"b\"}@360000=stale"));

  std::vector<GroupStatus> groups = m->Groups();
  ASSERT_EQ(groups.size(), 1u);
  const GroupStatus& g = groups[0];
  EXPECT_EQ(g.name, "g");
  EXPECT_EQ(g.file, "rules.yaml");
  EXPECT_EQ(g.interval_ms, kMinute);
  EXPECT_EQ(g.last_eval_timestamp_ms, 6 * kMinute);
  EXPECT_EQ(g.last_evaluation_ms, kT0);  // The clock's time.
  EXPECT_EQ(g.evaluations, 2);
  ASSERT_EQ(g.rules.size(), 3u);
  EXPECT_EQ(g.rules[0].name, "job:up:sum");
  EXPECT_EQ(g.rules[0].health, RuleHealth::kGood);
  EXPECT_EQ(g.rules[0].last_evaluation_ms, kT0);
  EXPECT_EQ(g.rules[1].health, RuleHealth::kGood);
  ASSERT_EQ(g.rules[1].active_alerts.size(), 1u);
  EXPECT_EQ(g.rules[1].active_alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(g.rules[1].active_alerts[0].active_at_ms, 5 * kMinute);
  EXPECT_EQ(g.rules[2].health, RuleHealth::kBad);
  EXPECT_THAT(g.rules[2].last_error, ::testing::HasSubstr("many-to-many"));
}

TEST_F(ManagerTest, CreateTakesAStorageOrAQueryableAndAnAppendable) {
  MemStorage written;
  ManagerOptions o = Options();
  o.storage = nullptr;
  EXPECT_FALSE(Manager::Create(o).ok());
  o.queryable = &storage_;
  EXPECT_FALSE(Manager::Create(o).ok());
  o.appendable = &written;
  EXPECT_TRUE(Manager::Create(o).ok());
  o.queryable = nullptr;
  EXPECT_FALSE(Manager::Create(o).ok());
  o = Options();
  o.appendable = &written;
  EXPECT_FALSE(Manager::Create(o).ok());
}

// Rules reading one store and writing into another: the reader receives
// nothing, the writer the recording outputs, ALERTS, ALERTS_FOR_STATE and
// the stale markers of a removed group.
TEST_F(ManagerTest, ReadsOneStoreAndWritesAnother) {
  Load("load 1m\n  up{job=\"b\"} 0+0x10\n");
  const int64_t reader_samples = storage_.NumSamples();
  MemStorage written;
  ManagerOptions o = Options();
  o.storage = nullptr;
  o.queryable = &storage_;
  o.appendable = &written;
  std::unique_ptr<Manager> m = NewManager(o);
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        labels:
          severity: page
      - record: up:count
        expr: count(up)
)")})
                  .ok());
  m->EvaluateAt(5 * kMinute);
  m->EvaluateAt(6 * kMinute);
  ASSERT_TRUE(m->Update({}).ok());  // The group goes away.
  const std::string t0 = absl::StrCat(kT0);

  EXPECT_EQ(storage_.NumSamples(), reader_samples);
  EXPECT_THAT(Raw("up:count"), IsEmpty());
  const Matcher any = *Matcher::Create(MatchType::kRegexp, "__name__", ".+");
  const std::string alerts =
      "{__name__=\"ALERTS\", alertname=\"Down\", alertstate=\"firing\", "
      "job=\"b\", severity=\"page\"}@";
  const std::string for_state =
      "{__name__=\"ALERTS_FOR_STATE\", alertname=\"Down\", job=\"b\", "
      "severity=\"page\"}@";
  EXPECT_THAT(testing::StoredSamples(written, {&any, 1}),
              ElementsAre(alerts + "300000=1", alerts + "360000=1",
                          alerts + t0 + "=stale", for_state + "300000=300",
                          for_state + "360000=300", for_state + t0 + "=stale",
                          "{__name__=\"up:count\"}@300000=1",
                          "{__name__=\"up:count\"}@360000=1",
                          "{__name__=\"up:count\"}@" + t0 + "=stale"));
}

TEST_F(ManagerTest, StartEvaluatesAtAlignedTimesAndSkipsMissedSlots) {
  std::unique_ptr<Manager> m = NewManager(Options());
  RuleFile file = Parse(kConstRules, "const.yaml");
  ASSERT_TRUE(m->Update({file}).ok());
  m->Start();
  EXPECT_TRUE(m->running());

  const int64_t first =
      ServerAlignedStart(file.groups[0], kMinute, clock_.NowMs() + 1);
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_EQ(clock_.NextWakeupMs(), first);
  EXPECT_GT(first, kT0);
  EXPECT_LE(first, kT0 + kMinute);

  EXPECT_EQ(Step(), first);
  EXPECT_EQ(clock_.NextWakeupMs(), first + kMinute);
  EXPECT_EQ(Step(), first + kMinute);
  // Fall 3.5 intervals behind: the slots in between are skipped and the
  // group evaluates at the latest slot that has passed.
  clock_.SetNowMs(first + kMinute + 7 * kMinute / 2);
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_EQ(clock_.NextWakeupMs(), first + 5 * kMinute);
  m->Stop();
  EXPECT_FALSE(m->running());
  EXPECT_TRUE(clock_.WaitForSleepers(0));

  const std::string one = "{__name__=\"one\"}@";
  EXPECT_THAT(Raw("one"),
              ElementsAre(absl::StrCat(one, first, "=1"),
                          absl::StrCat(one, first + kMinute, "=1"),
                          absl::StrCat(one, first + 4 * kMinute, "=1")));
  GroupStatus g = m->Groups()[0];
  EXPECT_EQ(g.evaluations, 3);
  EXPECT_EQ(g.iterations_missed, 2);
  EXPECT_EQ(g.last_eval_timestamp_ms, first + 4 * kMinute);
  EXPECT_EQ(g.last_evaluation_ms, first + kMinute + 7 * kMinute / 2);

  // Started again, it goes on at its next slot.
  m->Start();
  EXPECT_EQ(Step(), first + 5 * kMinute);
  m->Stop();
  EXPECT_EQ(m->Groups()[0].evaluations, 4);
}

TEST_F(ManagerTest, GroupsRunOnTheirOwnIntervals) {
  std::unique_ptr<Manager> m = NewManager(Options());
  RuleFile file = Parse(R"(
groups:
  - name: fast
    interval: 30s
    rules:
      - record: fast
        expr: vector(1)
  - name: slow
    interval: 2m
    rules:
      - record: slow
        expr: vector(2)
)");
  ASSERT_TRUE(m->Update({file}).ok());
  m->Start();
  const int64_t fast = ServerAlignedStart(file.groups[0], 30000, kT0 + 1);
  const int64_t slow = ServerAlignedStart(file.groups[1], 2 * kMinute, kT0 + 1);
  std::vector<int64_t> fast_times;
  std::vector<int64_t> slow_times;
  for (int i = 0; i < 6; ++i) {
    int64_t t = Step(2);
    if ((t - fast) % 30000 == 0) fast_times.push_back(t);
    if ((t - slow) % (2 * kMinute) == 0) slow_times.push_back(t);
  }
  m->Stop();
  ASSERT_GE(fast_times.size(), 4u);
  for (size_t i = 0; i < fast_times.size(); ++i) {
    EXPECT_EQ(fast_times[i], fast + static_cast<int64_t>(i) * 30000);
  }
  ASSERT_GE(slow_times.size(), 1u);
  EXPECT_EQ(slow_times[0], slow);
  EXPECT_EQ(Raw("fast").size(), fast_times.size());
  EXPECT_EQ(Raw("slow").size(), slow_times.size());
}

TEST_F(ManagerTest, StopIsPromptWhileSleeping) {
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({Parse(kConstRules)}).ok());
  m->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  const auto start = std::chrono::steady_clock::now();
  m->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(clock_.WaitForSleepers(0));
  EXPECT_EQ(m->Groups()[0].evaluations, 0);
  EXPECT_THAT(Raw("one"), IsEmpty());
}

TEST_F(ManagerTest, StopIsPromptOnTheRealClock) {
  ManagerOptions o = Options();
  o.clock = RealClock::Default();
  std::unique_ptr<Manager> m = NewManager(o);
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    interval: 1h
    rules:
      - record: one
        expr: vector(1)
)")})
                  .ok());
  m->Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto start = std::chrono::steady_clock::now();
  m->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ManagerTest, RunsOnTheRealClock) {
  ManagerOptions o = Options();
  o.clock = RealClock::Default();
  std::unique_ptr<Manager> m = NewManager(o);
  RuleFile file = Parse(R"(
groups:
  - name: g
    interval: 20ms
    rules:
      - record: one
        expr: vector(1)
)");
  ASSERT_TRUE(m->Update({file}).ok());
  m->Start();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (m->Groups()[0].evaluations < 3 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  m->Stop();
  GroupStatus g = m->Groups()[0];
  ASSERT_GE(g.evaluations, 3);
  // Every evaluation is on one of the group's slots.
  const int64_t t = g.last_eval_timestamp_ms;
  EXPECT_EQ(ServerAlignedStart(file.groups[0], 20, t), t);
  EXPECT_GE(g.last_evaluation_ms, t);
}

TEST_F(ManagerTest, StopWaitsForTheEvaluationInFlight) {
  BlockingNotifier notifier;
  std::unique_ptr<Manager> m = NewManager(Options(&notifier));
  // g blocks in the notifier while evaluating. idle sleeps until Stop()
  // wakes it: Stop() signals every group (in order, g first) before waiting
  // for any, so idle leaving its sleep shows that Stop() is under way.
  RuleFile file = Parse(R"(
groups:
  - name: g
    rules:
      - alert: Always
        expr: vector(1)
      - record: after
        expr: vector(2)
  - name: idle
    interval: 1h
    rules:
      - record: never
        expr: vector(3)
)");
  ASSERT_TRUE(m->Update({file}).ok());
  const int64_t first = ServerAlignedStart(file.groups[0], kMinute, kT0 + 1);
  ASSERT_LT(first, ServerAlignedStart(file.groups[1], 60 * kMinute, kT0 + 1));
  m->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(2));
  clock_.SetNowMs(first);
  notifier.WaitEntered();  // g is evaluating, inside Send().

  std::atomic<bool> stopped{false};
  // What Stop() left behind when it returned; read after the join.
  int64_t evaluations_at_stop = -1;
  std::vector<std::string> after_at_stop;
  std::thread stopper([&] {
    m->Stop();
    stopped = true;
    evaluations_at_stop = m->Groups()[0].evaluations;
    after_at_stop = Raw("after");
  });
  EXPECT_TRUE(clock_.WaitForSleepers(0));  // Stop() has woken idle.
  EXPECT_FALSE(stopped.load());            // g is still inside Send().
  notifier.Release();
  stopper.join();
  EXPECT_TRUE(stopped.load());
  // Stop() returned after the evaluation finished: the rule after the alert
  // ran too.
  EXPECT_THAT(after_at_stop,
              ElementsAre(absl::StrCat("{__name__=\"after\"}@", first, "=2")));
  EXPECT_EQ(evaluations_at_stop, 1);
  EXPECT_THAT(Raw("never"), IsEmpty());
  EXPECT_EQ(m->Groups()[1].evaluations, 0);
}

constexpr absl::string_view kPendingRules = R"(
groups:
  - name: g
    rules:
      - alert: Slow
        expr: vector(1)
        for: 10m
)";

TEST_F(ManagerTest, UpdateKeepsTheStateOfUnchangedRules) {
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({Parse(kPendingRules)}).ok());
  m->EvaluateAt(10 * kMinute);
  auto active_at = [&](size_t rule) {
    std::vector<Alert> a = m->Groups()[0].rules[rule].active_alerts;
    return a.size() == 1 && a[0].state == AlertState::kPending
               ? a[0].active_at_ms
               : -1;
  };
  EXPECT_EQ(active_at(0), 10 * kMinute);

  // Unchanged (parsed again): the group is kept.
  ASSERT_TRUE(m->Update({Parse(kPendingRules)}).ok());
  EXPECT_EQ(m->Groups()[0].evaluations, 1);
  m->EvaluateAt(11 * kMinute);
  EXPECT_EQ(active_at(0), 10 * kMinute);

  // The group changes (a rule added): the unchanged rule keeps its alert,
  // the group its last evaluation.
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    rules:
      - record: new
        expr: vector(3)
      - alert: Slow
        expr: vector(1)
        for: 10m
)")})
                  .ok());
  EXPECT_EQ(m->Groups()[0].last_eval_timestamp_ms, 11 * kMinute);
  EXPECT_EQ(m->Groups()[0].rules[1].health, RuleHealth::kGood);
  m->EvaluateAt(12 * kMinute);
  EXPECT_EQ(active_at(1), 10 * kMinute);

  // The rule itself changes: it starts afresh.
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    rules:
      - record: new
        expr: vector(3)
      - alert: Slow
        expr: vector(1)
        for: 15m
)")})
                  .ok());
  EXPECT_THAT(m->Groups()[0].rules[1].active_alerts, IsEmpty());
  m->EvaluateAt(13 * kMinute);
  EXPECT_EQ(active_at(1), 13 * kMinute);
}

TEST_F(ManagerTest, UpdateKeepsAnUnchangedRunningGroupOnSchedule) {
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({Parse(kPendingRules)}).ok());
  m->Start();
  const int64_t first = Step();
  ASSERT_TRUE(m->Update({Parse(kPendingRules)}).ok());
  EXPECT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_EQ(clock_.NextWakeupMs(), first + kMinute);
  EXPECT_EQ(Step(), first + kMinute);
  m->Stop();
  std::vector<Alert> a = m->Groups()[0].rules[0].active_alerts;
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].active_at_ms, first);
  EXPECT_EQ(m->Groups()[0].evaluations, 2);
}

TEST_F(ManagerTest, UpdateRemovingAGroupStopsIt) {
  std::unique_ptr<Manager> m = NewManager(Options());
  constexpr absl::string_view kTwo = R"(
groups:
  - name: keep
    rules:
      - record: kept
        expr: vector(1)
  - name: drop
    rules:
      - record: dropped
        expr: vector(2)
)";
  ASSERT_TRUE(m->Update({Parse(kTwo)}).ok());
  m->Start();
  ASSERT_TRUE(clock_.WaitForSleepers(2));
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: keep
    rules:
      - record: kept
        expr: vector(1)
)")})
                  .ok());
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  std::vector<GroupStatus> groups = m->Groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "keep");
  clock_.AdvanceMs(2 * kMinute);
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  m->Stop();
  // Its slot in (T0, T0+1m] and the next one.
  EXPECT_EQ(Raw("kept").size(), 2u);
  EXPECT_THAT(Raw("dropped"), IsEmpty());

  // EvaluateAt() no longer sees it either.
  m->EvaluateAt(kT0 + 10 * kMinute);
  EXPECT_THAT(Raw("dropped"), IsEmpty());
}

TEST_F(ManagerTest, RemovedGroupsAndRulesGetStaleMarkers) {
  // As Prometheus's cleanupStaleSeries: the series of a removed group, and
  // of a rule dropped from a changed group, get a stale marker at the time
  // of the update.
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: changed
    rules:
      - record: stays
        expr: vector(1)
      - record: goes
        expr: vector(2)
  - name: removed
    rules:
      - record: gone
        expr: vector(3)
)")})
                  .ok());
  m->EvaluateAt(kT0);
  clock_.SetNowMs(kT0 + kMinute);
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: changed
    rules:
      - record: stays
        expr: vector(1)
)")})
                  .ok());
  const std::string t0 = absl::StrCat(kT0);
  const std::string t1 = absl::StrCat(kT0 + kMinute);
  EXPECT_THAT(Raw("gone"), ElementsAre("{__name__=\"gone\"}@" + t0 + "=3",
                                       "{__name__=\"gone\"}@" + t1 + "=stale"));
  EXPECT_THAT(Raw("goes"), ElementsAre("{__name__=\"goes\"}@" + t0 + "=2",
                                       "{__name__=\"goes\"}@" + t1 + "=stale"));
  // The rule that stays keeps its series (no marker).
  EXPECT_THAT(Raw("stays"), ElementsAre("{__name__=\"stays\"}@" + t0 + "=1"));
}

TEST_F(ManagerTest, UpdateWhileRunningStartsNewGroups) {
  std::unique_ptr<Manager> m = NewManager(Options());
  ASSERT_TRUE(m->Update({}).ok());
  m->Start();
  RuleFile file = Parse(kConstRules);
  ASSERT_TRUE(m->Update({file}).ok());
  ASSERT_TRUE(clock_.WaitForSleepers(1));
  EXPECT_EQ(clock_.NextWakeupMs(),
            ServerAlignedStart(file.groups[0], kMinute, kT0 + 1));
  Step();
  m->Stop();
  EXPECT_EQ(Raw("one").size(), 1u);
}

TEST_F(ManagerTest, NotifiesFiringThenResolvedAndResends) {
  // Down from 1m to 6m, up again at 7m.
  Load(R"(
load 1m
  up{job="a"} 1 0 0 0 0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1
)");
  RecordingNotifier notifier;
  ManagerOptions o = Options(&notifier);
  o.resend_delay_ms = 2 * kMinute;
  o.eval.external_url = "http://prom:9090";
  std::unique_ptr<Manager> m = NewManager(o);
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    interval: 1m
    rules:
      - alert: Down
        expr: up == 0
        for: 1m
        annotations:
          summary: "{{ $labels.job }} is down"
)")})
                  .ok());
  // Per evaluation minute: "starts-ends" of the alert sent, or "".
  std::vector<std::string> sent;
  for (int minute = 1; minute <= 12; ++minute) {
    m->EvaluateAt(minute * kMinute);
    std::vector<std::vector<NotifiedAlert>> batches = notifier.Take();
    if (batches.empty()) {
      sent.push_back("");
      continue;
    }
    ASSERT_EQ(batches.size(), 1u);
    ASSERT_EQ(batches[0].size(), 1u);
    const NotifiedAlert& a = batches[0][0];
    EXPECT_EQ(a.labels.ToString(), "{alertname=\"Down\", job=\"a\"}");
    EXPECT_THAT(a.annotations, ElementsAre(std::pair<std::string, std::string>(
                                   "summary", "a is down")));
    EXPECT_EQ(a.generator_url,
              "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
    sent.push_back(absl::StrCat(a.resolved ? "resolved " : "firing ",
                                a.starts_at_ms / kMinute, "m-",
                                a.ends_at_ms / kMinute, "m"));
  }
  // Pending at 1m: nothing. Firing at 2m: sent, valid until
  // 2m + 4 * max(1m, 2m). Resent once more than the resend delay has passed
  // (5m). Resolved at 7m: sent at once, then again every resend delay.
  EXPECT_THAT(sent,
              ElementsAre("", "firing 2m-10m", "", "", "firing 2m-13m", "",
                          "resolved 2m-7m", "", "", "resolved 2m-7m", "", ""));
}

TEST_F(ManagerTest, NoNotificationsWhenTheRuleFails) {
  RecordingNotifier notifier;
  ManagerOptions o = Options(&notifier);
  o.resend_delay_ms = 0;  // Send at every successful evaluation.
  std::unique_ptr<Manager> m = NewManager(o);
  // From 5m on the two series collapse into one label set: an error.
  Load(R"(
load 1m
  x{a="1"} 1+0x10
  x{a="2"} _ _ _ _ _ 1 1 1 1 1
)");
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    rules:
      - alert: Dup
        expr: label_replace(x, "a", "", "a", ".*")
)")})
                  .ok());
  m->EvaluateAt(2 * kMinute);
  EXPECT_EQ(m->Groups()[0].rules[0].health, RuleHealth::kGood);
  EXPECT_EQ(notifier.Take().size(), 1u);
  m->EvaluateAt(3 * kMinute);
  EXPECT_EQ(notifier.Take().size(), 1u);
  m->EvaluateAt(6 * kMinute);
  EXPECT_EQ(m->Groups()[0].rules[0].health, RuleHealth::kBad);
  EXPECT_EQ(m->Groups()[0].rules[0].active_alerts.size(), 1u);
  EXPECT_THAT(notifier.Take(), IsEmpty());
}

TEST_F(ManagerTest, GroupsCanBeQueriedWhileRunning) {
  RecordingNotifier notifier;
  ManagerOptions o = Options(&notifier);
  o.resend_delay_ms = 0;
  std::unique_ptr<Manager> m = NewManager(o);
  ASSERT_TRUE(m->Update({Parse(R"(
groups:
  - name: g
    interval: 10s
    rules:
      - record: one
        expr: vector(1)
      - alert: Always
        expr: one
)")})
                  .ok());
  m->Start();
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    int64_t last = 0;
    while (!done.load()) {
      std::vector<GroupStatus> groups = m->Groups();
      ASSERT_EQ(groups.size(), 1u);
      ASSERT_EQ(groups[0].rules.size(), 2u);
      EXPECT_GE(groups[0].evaluations, last);
      last = groups[0].evaluations;
      if (last > 0) {
        EXPECT_EQ(groups[0].rules[1].active_alerts.size(), 1u);
      }
      ++reads;
    }
  });
  for (int i = 0; i < 20; ++i) Step();
  while (reads.load() < 5) std::this_thread::yield();
  done = true;
  reader.join();
  m->Stop();
  EXPECT_EQ(m->Groups()[0].evaluations, 20);
  EXPECT_EQ(Raw("one").size(), 20u);
  EXPECT_EQ(notifier.Take().size(), 20u);  // Resent every time.
}

}  // namespace
}  // namespace promeval
