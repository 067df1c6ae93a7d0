// The rule manager: Prometheus's rules.Manager (Update), Group.run (the
// schedule), Group.CopyState (state kept over reloads) and the notification
// path (AlertingRule.sendAlerts, Alert.needsSending, SendAlerts).
//
// Each rule of a group gets its own one-rule GroupEvaluator. A group's rules
// run in order at the same timestamp and each commits before the next runs,
// so this evaluates exactly as one GroupEvaluator over the group would (all
// evaluator state is per rule), and it lets a reload carry the state of
// unchanged rules into a changed group, time rules one by one, and send a
// rule's alerts right after it ran, as Group.Eval does.
#include "promeval/manager.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace promeval {

// ---------------------------------------------------------------------------
// StopSignal and clocks.

void StopSignal::Notify() {
  std::lock_guard<std::mutex> lock(mu_);
  if (notified_.exchange(true)) return;
  for (const auto& [id, wake] : wakers_) wake();
}

int StopSignal::AddWaker(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  const int id = next_id_++;
  wakers_.emplace_back(id, std::move(wake));
  return id;
}

void StopSignal::RemoveWaker(int id) {
  std::lock_guard<std::mutex> lock(mu_);
  wakers_.erase(std::remove_if(wakers_.begin(), wakers_.end(),
                               [id](const auto& w) { return w.first == id; }),
                wakers_.end());
}

RealClock* RealClock::Default() {
  static RealClock* clock = new RealClock();
  return clock;
}

int64_t RealClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool RealClock::SleepUntil(int64_t t_ms, StopSignal& stop) {
  std::mutex mu;
  std::condition_variable cv;
  const int id = stop.AddWaker([&] {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  });
  const std::chrono::system_clock::time_point deadline{
      std::chrono::milliseconds(t_ms)};
  {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop.notified() && std::chrono::system_clock::now() < deadline) {
      cv.wait_until(lock, deadline);
    }
  }
  stop.RemoveWaker(id);
  return !stop.notified();
}

// ---------------------------------------------------------------------------
// Groups.

namespace {

// Go's url.QueryEscape.
std::string QueryEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CanonicalExpr(const Rule& rule) {
  return rule.parsed != nullptr ? ExprToString(*rule.parsed) : rule.expr;
}

StringPairs Sorted(StringPairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// Rules are the same if Prometheus's Rule.String() (YAML with the
// re-printed expression, labels and annotations as maps) is.
bool SameRule(const Rule& a, const Rule& b) {
  return a.kind == b.kind && a.name == b.name && a.for_ms == b.for_ms &&
         a.keep_firing_for_ms == b.keep_firing_for_ms &&
         Sorted(a.labels) == Sorted(b.labels) &&
         Sorted(a.annotations) == Sorted(b.annotations) &&
         CanonicalExpr(a) == CanonicalExpr(b);
}

// What every rule of a group is evaluated with besides the rule itself.
bool SameRuleContext(const RuleGroup& a, const RuleGroup& b) {
  return a.name == b.name && a.file == b.file && a.limit == b.limit &&
         a.query_offset_ms == b.query_offset_ms &&
         Sorted(a.labels) == Sorted(b.labels);
}

// What AlertingRule.sendAlerts keeps on each alert.
struct SentState {
  int64_t active_at_ms = 0;  // Tells a new alert with the same labels apart.
  std::optional<int64_t> last_sent_ms;
  int64_t valid_until_ms = 0;
};

// One rule with its evaluator (a group of that one rule) and its state.
struct RuleSlot {
  std::unique_ptr<GroupEvaluator> evaluator;
  absl::flat_hash_map<uint64_t, SentState> sent;  // By alert labels hash.
  int64_t last_evaluation_ms = 0;
  absl::Duration evaluation_duration;
};

}  // namespace

struct Manager::Runner {
  StopSignal stop;
  std::thread thread;
};

class Manager::Group {
 public:
  Group(RuleGroup group, int64_t interval_ms, const ManagerOptions& options)
      : group_(std::move(group)),
        interval_ms_(interval_ms),
        options_(options),
        slots_(group_.rules.size()) {
    for (const Rule& rule : group_.rules) {
      generator_urls_.push_back(
          rule.kind == Rule::Kind::kAlerting
              ? absl::StrCat(options_.eval.external_url, "/graph?g0.expr=",
                             QueryEscape(CanonicalExpr(rule)), "&g0.tab=1")
              : std::string());
    }
    std::lock_guard<std::mutex> lock(eval_mu_);
    status_.file = group_.file;
    status_.name = group_.name;
    status_.interval_ms = interval_ms_;
    status_.query_offset_ms =
        group_.query_offset_ms.value_or(options_.eval.default_query_offset_ms);
    PublishLocked();
  }

  const RuleGroup& group() const { return group_; }
  int64_t interval_ms() const { return interval_ms_; }

  // Prometheus's Group.Equals.
  bool Equals(const RuleGroup& other, int64_t interval_ms) const {
    if (!SameRuleContext(group_, other) || interval_ms != interval_ms_ ||
        group_.rules.size() != other.rules.size()) {
      return false;
    }
    for (size_t i = 0; i < group_.rules.size(); ++i) {
      if (!SameRule(group_.rules[i], other.rules[i])) return false;
    }
    return true;
  }

  // Takes over the state of `from`'s unchanged rules (Group.CopyState: the
  // first rule of a name matched with the first, and so on) and its last
  // evaluation times; `from` evaluates no more. Rules whose evaluation
  // context changed (labels, limit, query offset) start afresh.
  // REQUIRES: `from` is stopped; this group is not evaluating yet.
  void CopyStateFrom(Group& from) {
    std::scoped_lock lock(eval_mu_, from.eval_mu_);
    from.retired_ = true;
    if (SameRuleContext(group_, from.group_)) {
      std::vector<bool> taken(from.slots_.size(), false);
      for (size_t i = 0; i < group_.rules.size(); ++i) {
        for (size_t j = 0; j < from.slots_.size(); ++j) {
          if (taken[j] || from.slots_[j].evaluator == nullptr ||
              !SameRule(group_.rules[i], from.group_.rules[j])) {
            continue;
          }
          taken[j] = true;
          slots_[i] = std::move(from.slots_[j]);
          break;
        }
      }
    }
    // The old group's rules that were not carried over go away: their
    // series get stale markers.
    for (RuleSlot& slot : from.slots_) {
      if (slot.evaluator != nullptr) {
        slot.evaluator->MarkStale(options_.clock->NowMs());
      }
    }
    status_.last_evaluation_ms = from.status_.last_evaluation_ms;
    status_.last_eval_timestamp_ms = from.status_.last_eval_timestamp_ms;
    status_.evaluation_duration = from.status_.evaluation_duration;
    PublishLocked();
  }

  // A removed group: evaluates no more, and its series get stale markers.
  void Retire() {
    std::lock_guard<std::mutex> lock(eval_mu_);
    retired_ = true;
    for (RuleSlot& slot : slots_) {
      if (slot.evaluator != nullptr) {
        slot.evaluator->MarkStale(options_.clock->NowMs());
      }
    }
  }

  // Evaluates every rule at `ts_ms` (Group.Eval), then publishes the status.
  void Eval(int64_t ts_ms, int64_t missed) {
    std::lock_guard<std::mutex> lock(eval_mu_);
    if (retired_) return;
    Clock& clock = *options_.clock;
    const int64_t start_ms = clock.NowMs();
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < group_.rules.size(); ++i) {
      RuleSlot& slot = Slot(i);
      slot.last_evaluation_ms = clock.NowMs();
      const auto rule_start = std::chrono::steady_clock::now();
      slot.evaluator->Eval(ts_ms);
      slot.evaluation_duration =
          absl::FromChrono(std::chrono::steady_clock::now() - rule_start);
      if (group_.rules[i].kind == Rule::Kind::kAlerting &&
          options_.notifier != nullptr &&
          slot.evaluator->rule_health(0) == RuleHealth::kGood) {
        std::vector<NotifiedAlert> alerts = AlertsToSend(i, slot, ts_ms);
        if (!alerts.empty()) options_.notifier->Send(alerts);
      }
    }
    status_.last_evaluation_ms = start_ms;
    status_.last_eval_timestamp_ms = ts_ms;
    status_.evaluation_duration =
        absl::FromChrono(std::chrono::steady_clock::now() - start);
    ++status_.evaluations;
    status_.iterations_missed += missed;
    PublishLocked();
  }

  GroupStatus status() const {
    std::lock_guard<std::mutex> lock(status_mu_);
    return published_;
  }

  // Owned by the Manager; under its control_mu_.
  std::unique_ptr<Runner> runner;

 private:
  RuleSlot& Slot(size_t i) {
    RuleSlot& slot = slots_[i];
    if (slot.evaluator == nullptr) {
      RuleGroup one = group_;
      one.rules = {group_.rules[i]};
      slot.evaluator = std::make_unique<GroupEvaluator>(
          std::move(one), *options_.engine, *options_.queryable,
          *options_.appendable, options_.eval);
    }
    return slot;
  }

  // The alerts of rule `i` that need sending at `ts` (sendAlerts with
  // needsSending), marked as sent.
  std::vector<NotifiedAlert> AlertsToSend(size_t i, RuleSlot& slot,
                                          int64_t ts) {
    const int64_t resend = options_.resend_delay_ms;
    absl::flat_hash_map<uint64_t, SentState> sent;
    std::vector<NotifiedAlert> out;
    for (Alert& a : slot.evaluator->CurrentAlerts(0)) {
      const uint64_t h = a.labels.Hash();
      SentState st;
      st.active_at_ms = a.active_at_ms;
      if (auto it = slot.sent.find(h);
          it != slot.sent.end() && it->second.active_at_ms == a.active_at_ms) {
        st = it->second;
      }
      const bool resolved = a.resolved_at_ms != 0;
      const bool needs_sending =
          a.state != AlertState::kPending &&
          (!st.last_sent_ms.has_value() ||
           (resolved && a.resolved_at_ms > *st.last_sent_ms) ||
           *st.last_sent_ms + resend < ts);
      if (needs_sending) {
        st.last_sent_ms = ts;
        // Allows for two failed evaluations or sends.
        st.valid_until_ms = ts + 4 * std::max(interval_ms_, resend);
        NotifiedAlert n;
        n.labels = std::move(a.labels);
        n.annotations = std::move(a.annotations);
        n.starts_at_ms = a.fired_at_ms;
        n.resolved = resolved;
        n.ends_at_ms = resolved ? a.resolved_at_ms : st.valid_until_ms;
        n.generator_url = generator_urls_[i];
        out.push_back(std::move(n));
      }
      sent[h] = st;
    }
    slot.sent = std::move(sent);
    return out;
  }

  void PublishLocked() {
    status_.rules.clear();
    for (size_t i = 0; i < group_.rules.size(); ++i) {
      const Rule& rule = group_.rules[i];
      const RuleSlot& slot = slots_[i];
      RuleStatus r;
      r.name = rule.name;
      r.kind = rule.kind;
      r.query = rule.expr;
      if (slot.evaluator != nullptr) {
        r.health = slot.evaluator->rule_health(0);
        r.last_error = slot.evaluator->rule_error(0);
        r.last_evaluation_ms = slot.last_evaluation_ms;
        r.evaluation_duration = slot.evaluation_duration;
        r.active_alerts = slot.evaluator->ActiveAlerts(0);
      }
      status_.rules.push_back(std::move(r));
    }
    std::lock_guard<std::mutex> lock(status_mu_);
    published_ = status_;
  }

  const RuleGroup group_;
  const int64_t interval_ms_;
  const ManagerOptions options_;  // A copy: threads may outlive a reload.
  std::vector<std::string> generator_urls_;  // Per rule.

  // Serializes evaluations; guards what follows.
  std::mutex eval_mu_;
  std::vector<RuleSlot> slots_;  // Evaluators are made on first use.
  bool retired_ = false;         // Its state moved to a newer group.
  GroupStatus status_;

  mutable std::mutex status_mu_;
  GroupStatus published_;  // Under status_mu_.
};

// ---------------------------------------------------------------------------
// Manager.

absl::StatusOr<std::unique_ptr<Manager>> Manager::Create(
    ManagerOptions options) {
  if (options.storage != nullptr) {
    if (options.queryable != nullptr || options.appendable != nullptr) {
      return absl::InvalidArgumentError(
          "manager takes a storage or a queryable and an appendable, not both");
    }
    options.queryable = options.storage;
    options.appendable = options.storage;
  }
  if (options.engine == nullptr || options.queryable == nullptr ||
      options.appendable == nullptr) {
    return absl::InvalidArgumentError(
        "manager needs an engine, a queryable and an appendable");
  }
  if (options.default_interval_ms <= 0) {
    return absl::InvalidArgumentError("default interval must be positive");
  }
  if (options.resend_delay_ms < 0) {
    return absl::InvalidArgumentError("resend delay must not be negative");
  }
  if (options.clock == nullptr) options.clock = RealClock::Default();
  return std::unique_ptr<Manager>(new Manager(std::move(options)));
}

Manager::Manager(ManagerOptions options) : options_(std::move(options)) {}

Manager::~Manager() { Stop(); }

std::vector<std::shared_ptr<Manager::Group>> Manager::Snapshot() const {
  std::lock_guard<std::mutex> lock(groups_mu_);
  return groups_;
}

absl::Status Manager::Update(const std::vector<RuleFile>& files) {
  std::vector<RuleGroup> specs;
  absl::flat_hash_set<std::pair<std::string, std::string>> keys;
  for (const RuleFile& file : files) {
    for (const RuleGroup& g : file.groups) {
      RuleGroup spec = g;
      if (spec.file.empty()) spec.file = file.path;
      if (!keys.emplace(spec.file, spec.name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.file, ": group \"", spec.name,
                         "\": more than one group with this name"));
      }
      for (const Rule& rule : spec.rules) {
        if (rule.parsed == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat(spec.file, ": group \"", spec.name, "\", rule \"",
                           rule.name, "\": expression not parsed"));
        }
      }
      specs.push_back(std::move(spec));
    }
  }

  std::lock_guard<std::mutex> control(control_mu_);
  // groups_ only changes under control_mu_, held here.
  absl::flat_hash_map<std::pair<std::string, std::string>,
                      std::shared_ptr<Group>>
      old;
  for (const std::shared_ptr<Group>& g : groups_) {
    old[{g->group().file, g->group().name}] = g;
  }
  std::vector<std::shared_ptr<Group>> next;
  // New groups and the old ones they replace.
  std::vector<std::pair<std::shared_ptr<Group>, std::shared_ptr<Group>>>
      replaced;
  for (RuleGroup& spec : specs) {
    const int64_t interval =
        spec.interval_ms > 0 ? spec.interval_ms : options_.default_interval_ms;
    auto it = old.find(std::make_pair(spec.file, spec.name));
    if (it != old.end() && it->second->Equals(spec, interval)) {
      next.push_back(it->second);
      old.erase(it);
      continue;
    }
    auto g = std::make_shared<Group>(std::move(spec), interval, options_);
    next.push_back(g);
    if (it != old.end()) {
      replaced.emplace_back(g, it->second);
      old.erase(it);
    }
  }

  // Stop every group that goes away (replaced or removed), all at once.
  std::vector<std::unique_ptr<Runner>> runners;
  for (auto& [n, o] : replaced) {
    if (o->runner != nullptr) runners.push_back(std::move(o->runner));
  }
  for (auto& [key, o] : old) {
    if (o->runner != nullptr) runners.push_back(std::move(o->runner));
  }
  StopRunners(std::move(runners));
  for (auto& [n, o] : replaced) n->CopyStateFrom(*o);
  // So that an EvaluateAt() that still holds a removed group skips it.
  for (auto& [key, o] : old) o->Retire();

  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    groups_ = next;
  }
  if (running_) {
    for (const std::shared_ptr<Group>& g : next) {
      if (g->runner == nullptr) StartGroupLocked(g);
    }
  }
  return absl::OkStatus();
}

void Manager::EvaluateAt(int64_t ts_ms) {
  for (const std::shared_ptr<Group>& g : Snapshot()) g->Eval(ts_ms, 0);
}

void Manager::StartGroupLocked(const std::shared_ptr<Group>& group) {
  auto runner = std::make_unique<Runner>();
  StopSignal* stop = &runner->stop;
  Clock* clock = options_.clock;
  // The thread holds the group (not the manager): a replaced group stays
  // alive until its thread is joined.
  runner->thread = std::thread([group, stop, clock] {
    const int64_t interval = group->interval_ms();
    // Group.run: the first slot after now, then every interval.
    int64_t ts =
        ServerAlignedStart(group->group(), interval, clock->NowMs() + 1);
    if (!clock->SleepUntil(ts, *stop)) return;
    int64_t missed = 0;
    while (true) {
      group->Eval(ts, missed);
      if (!clock->SleepUntil(ts + interval, *stop)) return;
      // Skip the slots that passed while evaluating or sleeping.
      missed = (clock->NowMs() - ts) / interval - 1;
      if (missed < 0) missed = 0;
      ts += (missed + 1) * interval;
    }
  });
  group->runner = std::move(runner);
}

void Manager::StopRunners(std::vector<std::unique_ptr<Runner>> runners) {
  for (const auto& r : runners) r->stop.Notify();
  for (const auto& r : runners) r->thread.join();
}

void Manager::Start() {
  std::lock_guard<std::mutex> control(control_mu_);
  if (running_) return;
  {
    std::lock_guard<std::mutex> lock(groups_mu_);
    running_ = true;
  }
  for (const std::shared_ptr<Group>& g : groups_) StartGroupLocked(g);
}

void Manager::Stop() {
  std::lock_guard<std::mutex> control(control_mu_);
  if (!running_) return;
  std::vector<std::unique_ptr<Runner>> runners;
  for (const std::shared_ptr<Group>& g : groups_) {
    if (g->runner != nullptr) runners.push_back(std::move(g->runner));
  }
  StopRunners(std::move(runners));
  std::lock_guard<std::mutex> lock(groups_mu_);
  running_ = false;
}

bool Manager::running() const {
  std::lock_guard<std::mutex> lock(groups_mu_);
  return running_;
}

std::vector<GroupStatus> Manager::Groups() const {
  std::vector<GroupStatus> out;
  for (const std::shared_ptr<Group>& g : Snapshot()) {
    out.push_back(g->status());
  }
  return out;
}

}  // namespace promeval
