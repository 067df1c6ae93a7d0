// Offline replay of rule groups over stored data, and the OpenMetrics
// writer for what they produced.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "promeval/rules.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"
#include "promeval/value.h"

namespace promeval {
namespace {

// An Appendable that records every sample the wrapped one commits.
class RecordingAppendable : public Appendable {
 public:
  explicit RecordingAppendable(Appendable& inner) : inner_(inner) {}

  std::unique_ptr<Appender> NewAppender() override {
    return std::make_unique<RecordingAppender>(*this, inner_.NewAppender());
  }

  // The recorded series, sorted by labels.
  std::vector<WrittenSeries> Take() {
    std::vector<WrittenSeries> out = std::move(series_);
    std::sort(out.begin(), out.end(),
              [](const WrittenSeries& a, const WrittenSeries& b) {
                return CompareLabels(a.labels, b.labels) < 0;
              });
    return out;
  }

 private:
  class RecordingAppender : public Appender {
   public:
    RecordingAppender(RecordingAppendable& owner,
                      std::unique_ptr<Appender> inner)
        : owner_(owner), inner_(std::move(inner)) {}

    void Append(const Labels& labels, int64_t t, double v) override {
      inner_->Append(labels, t, v);
      pending_.push_back(Sample{labels, t, v});
    }

    absl::Status Commit() override {
      PROMEVAL_RETURN_IF_ERROR(inner_->Commit());
      for (Sample& s : pending_) owner_.Record(std::move(s));
      pending_.clear();
      return absl::OkStatus();
    }

   private:
    RecordingAppendable& owner_;
    std::unique_ptr<Appender> inner_;
    std::vector<Sample> pending_;
  };

  void Record(Sample s) {
    std::vector<size_t>& ids = index_[s.labels.Hash()];
    size_t id = series_.size();
    for (size_t cand : ids) {
      if (series_[cand].labels == s.labels) id = cand;
    }
    if (id == series_.size()) {
      ids.push_back(id);
      series_.push_back(WrittenSeries{s.labels, {}, {}});
    }
    series_[id].timestamps.push_back(s.t);
    series_[id].values.push_back(s.v);
  }

  Appendable& inner_;
  std::vector<WrittenSeries> series_;
  absl::flat_hash_map<uint64_t, std::vector<size_t>> index_;
};

// Tracks each alert's state over the evaluations.
class Timelines {
 public:
  // Records the state of `alerts` (a rule's current alerts) after an
  // evaluation at `ts`.
  void Observe(const std::string& group, const std::string& rule_key,
               const std::vector<Alert>& alerts, int64_t ts) {
    absl::flat_hash_map<uint64_t, const Alert*> now;
    for (const Alert& a : alerts) now[a.labels.Hash()] = &a;
    Known& known = known_[rule_key];
    // Alerts that disappeared (a pending alert whose condition ended, or a
    // resolved one past its retention) end as inactive.
    for (auto it = known.begin(); it != known.end();) {
      if (!now.contains(it->first)) {
        AlertTimeline& tl = timelines_[it->second.index];
        if (tl.transitions.back().state != AlertState::kInactive) {
          tl.transitions.push_back(
              AlertTransition{ts, AlertState::kInactive, 0, {}});
        }
        known.erase(it++);
      } else {
        ++it;
      }
    }
    for (size_t k = 0; k < alerts.size(); ++k) {
      const Alert& a = alerts[k];
      auto [it, inserted] = known.try_emplace(a.labels.Hash());
      if (inserted) {
        it->second.index = timelines_.size();
        timelines_.push_back(AlertTimeline{group, a.labels, {}});
        keys_.emplace_back(ts, group_, rule_, k);
      }
      AlertTimeline& tl = timelines_[it->second.index];
      if (tl.transitions.empty() || tl.transitions.back().state != a.state) {
        tl.transitions.push_back(
            AlertTransition{ts, a.state, a.value, a.annotations});
      }
    }
  }

  // In order of first appearance in an evaluation after another: by the
  // time of the first transition, then group, rule and the alert's place
  // among the rule's alerts then (the order Observe saw them in when the
  // evaluations came one after another), whatever order Observe was called
  // in.
  std::vector<AlertTimeline> Take() {
    std::vector<size_t> order(timelines_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return keys_[a] < keys_[b]; });
    std::vector<AlertTimeline> out;
    for (size_t i : order) out.push_back(std::move(timelines_[i]));
    return out;
  }

  // Where the next alerts Observe sees come from: their group's and rule's
  // place in the files.
  void SetOrigin(size_t group, size_t rule) {
    group_ = group;
    rule_ = rule;
  }

 private:
  struct Entry {
    size_t index = 0;
  };
  // What orders timelines: first time, group, rule, place among the
  // alerts.
  using Key = std::tuple<int64_t, size_t, size_t, size_t>;
  std::vector<Key> keys_;
  size_t group_ = 0;
  size_t rule_ = 0;
  using Known = std::map<uint64_t, Entry>;
  std::map<std::string, Known> known_;
  std::vector<AlertTimeline> timelines_;
};

// OpenMetrics/Prometheus label value escaping.
std::string EscapeLabelValue(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int64_t ServerAlignedStart(const RuleGroup& group, int64_t interval_ms,
                           int64_t start_ms) {
  // In nanoseconds, as Go's time arithmetic.
  const uint64_t interval = static_cast<uint64_t>(interval_ms) * 1000000;
  const uint64_t hash =
      Labels({{"name", group.name}, {"file", group.file}}).Hash();
  const int64_t offset = static_cast<int64_t>(hash % interval);
  const int64_t start = start_ms * 1000000;
  const int64_t adjusted = start - offset;
  int64_t base = adjusted - adjusted % static_cast<int64_t>(interval);
  if (adjusted % static_cast<int64_t>(interval) < 0) {
    base -= static_cast<int64_t>(interval);
  }
  int64_t next = base + offset;
  while (next < start) next += static_cast<int64_t>(interval);
  // timestamp.FromTime: ms, truncated.
  return next / 1000000;
}

namespace {

// The groups of `files` with their evaluation interval, and a report per
// rule.
struct Schedule {
  std::vector<const RuleGroup*> groups;
  std::vector<int64_t> interval_ms;
  std::vector<int64_t> first_ms;     // The first evaluation time.
  std::vector<size_t> first_report;  // Of each group in `reports`.
  std::vector<RuleReport> reports;
};

Schedule MakeSchedule(const std::vector<RuleFile>& files,
                      const ReplayOptions& options) {
  Schedule s;
  for (const RuleFile& f : files) {
    for (const RuleGroup& g : f.groups) {
      const int64_t interval = options.interval_ms > 0 ? options.interval_ms
                               : g.interval_ms > 0
                                   ? g.interval_ms
                                   : options.default_interval_ms;
      s.groups.push_back(&g);
      s.interval_ms.push_back(interval);
      s.first_ms.push_back(
          options.align_server
              ? ServerAlignedStart(g, interval, options.start_ms)
              : options.start_ms);
      s.first_report.push_back(s.reports.size());
      for (const Rule& r : g.rules) {
        RuleReport report;
        report.group = g.name;
        report.rule = r.name;
        s.reports.push_back(std::move(report));
      }
    }
  }
  return s;
}

// Whether every rule can be evaluated over a range of times at once: none
// reads what it or a rule after it (in file order) writes.
bool AllRangeEvaluable(const Schedule& s) {
  absl::flat_hash_map<std::string, int> writers;
  for (const RuleGroup* g : s.groups) {
    for (const Rule& r : g->rules) {
      for (std::string& name : RuleOutputNames(r)) ++writers[name];
    }
  }
  absl::flat_hash_set<std::string> unwritten;
  for (const RuleGroup* g : s.groups) {
    for (const Rule& r : g->rules) {
      unwritten.clear();
      for (const auto& [name, n] : writers) {
        if (n > 0) unwritten.insert(name);
      }
      if (!RangeEvaluable(*g, r, unwritten)) return false;
      for (const std::string& name : RuleOutputNames(r)) --writers[name];
    }
  }
  return true;
}

// An evaluator for each group of the schedule, reading `view` and writing
// `recording`.
std::vector<std::unique_ptr<GroupEvaluator>> Evaluators(
    const Schedule& schedule, const Engine& engine, Queryable& view,
    Appendable& recording, const ReplayOptions& options) {
  std::vector<std::unique_ptr<GroupEvaluator>> groups;
  for (const RuleGroup* g : schedule.groups) {
    groups.push_back(std::make_unique<GroupEvaluator>(*g, engine, view,
                                                      recording, options.eval));
  }
  return groups;
}

// The replay's inputs read through one querier per day window whose
// Selects are kept for the window: rules selecting the same series over the
// same times (the quantiles of one histogram, a rate in two ratios) read
// and decode them once. The inputs do not change during a replay (what the
// rules write goes to a store of their own). A query whose range is not
// within the window's first one gets a querier of its own, as without this.
class WindowedInputs : public Queryable {
 public:
  explicit WindowedInputs(Queryable& inputs) : inputs_(inputs) {}

  // Lets go of what the window read.
  void EndWindow() {
    memo_.clear();
    querier_.reset();
  }

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override {
    if (querier_ == nullptr) {
      PROMEVAL_ASSIGN_OR_RETURN(querier_, inputs_.NewQuerier(mint, maxt));
      mint_ = mint;
      maxt_ = maxt;
    }
    if (mint < mint_ || maxt > maxt_) return inputs_.NewQuerier(mint, maxt);
    return std::make_unique<Shared>(*this);
  }

 private:
  // A querier reading through the window's.
  class Shared : public Querier {
   public:
    explicit Shared(WindowedInputs& w) : w_(w) {}
    absl::StatusOr<std::vector<SeriesData>> Select(
        absl::Span<const Matcher> matchers, int64_t mint,
        int64_t maxt) override {
      SelectHints hints;
      hints.start_ms = mint;
      hints.end_ms = maxt;
      return SelectWithHints(matchers, hints);
    }

    // The hints of the first selection of the matchers and range go on to
    // the inputs (a remote store then sees what the rule does with them).
    absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
        absl::Span<const Matcher> matchers, const SelectHints& hints) override {
      std::string key = absl::StrCat(hints.start_ms, " ", hints.end_ms);
      for (const Matcher& m : matchers)
        absl::StrAppend(&key, " ", m.ToString());
      absl::MutexLock lock(&w_.mu_);
      auto it = w_.memo_.find(key);
      if (it != w_.memo_.end()) return it->second;
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<SeriesData> data,
                                w_.querier_->SelectWithHints(matchers, hints));
      w_.memo_.emplace(std::move(key), data);
      return data;
    }

   private:
    WindowedInputs& w_;
  };

  Queryable& inputs_;
  std::unique_ptr<Querier> querier_;
  int64_t mint_ = 0, maxt_ = 0;
  absl::Mutex mu_;
  // Select's results by matchers and range (their spans point into
  // querier_'s data).
  absl::flat_hash_map<std::string, std::vector<SeriesData>> memo_
      ABSL_GUARDED_BY(mu_);
};

// The replay with each rule evaluated over a day of times at once, the
// days one after another: the groups in file order, each rule of a group
// over the group's times in the day, so that a rule reads the outputs of
// the rules before it as one evaluation after another would. Rules read
// `queryable` and what they wrote (`written`, which they write into).
// Returns false if an evaluation failed.
bool ReplayOverRanges(const Schedule& s, const Engine& engine,
                      Queryable& queryable, MemStorage& written,
                      const ReplayOptions& options, ReplayResult& result) {
  WindowedInputs inputs(queryable);
  FanoutQueryable view({&written, &inputs});
  RecordingAppendable recording(written);
  std::vector<std::unique_ptr<GroupEvaluator>> groups =
      Evaluators(s, engine, view, recording, options);
  result.rules = s.reports;
  Timelines timelines;
  constexpr int64_t kDayMs = 24 * 3600 * 1000;
  for (int64_t day = options.start_ms; day <= options.end_ms; day += kDayMs) {
    inputs.EndWindow();
    const int64_t day_end = std::min(options.end_ms, day + kDayMs - 1);
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      GroupEvaluator& g = *groups[gi];
      const int64_t interval = s.interval_ms[gi];
      // The group's times within the day.
      int64_t first = s.first_ms[gi];
      if (first < day)
        first += (day - first + interval - 1) / interval * interval;
      if (first > day_end) continue;
      const int64_t last = first + (day_end - first) / interval * interval;
      const std::vector<Rule>& rules = g.group().rules;
      for (size_t r = 0; r < rules.size(); ++r) {
        timelines.SetOrigin(gi, r);
        auto observe = [&](int64_t ts) {
          if (rules[r].kind == Rule::Kind::kAlerting) {
            timelines.Observe(g.group().name, absl::StrCat(gi, "/", r),
                              g.CurrentAlerts(r), ts);
          }
        };
        if (!g.EvalRuleOverRange(r, first, last, interval, observe).ok()) {
          return false;
        }
        RuleReport& report = result.rules[s.first_report[gi] + r];
        report.evaluations += (last - first) / interval + 1;
        report.health = RuleHealth::kGood;
      }
      result.evaluations += (last - first) / interval + 1;
    }
  }
  result.written = recording.Take();
  result.alerts = timelines.Take();
  return true;
}

}  // namespace

namespace {

// One group evaluation after another (reading and writing as
// ReplayOverRanges does).
ReplayResult ReplayStepByStep(const Schedule& schedule, const Engine& engine,
                              Queryable& queryable, MemStorage& written,
                              const ReplayOptions& options) {
  FanoutQueryable view({&written, &queryable});
  RecordingAppendable recording(written);
  std::vector<std::unique_ptr<GroupEvaluator>> groups =
      Evaluators(schedule, engine, view, recording, options);
  ReplayResult result;
  result.rules = schedule.reports;
  Timelines timelines;
  // The next evaluation time of each group; at equal times groups run in
  // file order.
  std::vector<int64_t> next = schedule.first_ms;
  while (true) {
    size_t pick = groups.size();
    for (size_t i = 0; i < groups.size(); ++i) {
      if (next[i] <= options.end_ms &&
          (pick == groups.size() || next[i] < next[pick])) {
        pick = i;
      }
    }
    if (pick == groups.size()) break;
    const int64_t ts = next[pick];
    next[pick] += schedule.interval_ms[pick];
    GroupEvaluator& g = *groups[pick];
    g.Eval(ts);
    ++result.evaluations;
    const RuleGroup& group = g.group();
    for (size_t r = 0; r < group.rules.size(); ++r) {
      if (const absl::Status& s = g.rule_status(r); IsStorageError(s)) {
        result.status = absl::Status(
            s.code(), absl::StrCat("rule ", GoQuote(group.rules[r].name),
                                   " of group ", GoQuote(group.name), " at ",
                                   FormatRfc3339Millis(ts), ": ", s.message()));
        result.written.clear();
        result.alerts.clear();
        return result;
      }
      RuleReport& report = result.rules[schedule.first_report[pick] + r];
      ++report.evaluations;
      report.health = g.rule_health(r);
      if (report.health == RuleHealth::kBad) {
        if (report.failures++ == 0) report.first_failure_ms = ts;
        report.last_failure_ms = ts;
        report.last_error = g.rule_error(r);
      }
      if (group.rules[r].kind == Rule::Kind::kAlerting) {
        timelines.SetOrigin(pick, r);
        timelines.Observe(group.name, absl::StrCat(pick, "/", r),
                          g.CurrentAlerts(r), ts);
      }
    }
  }
  result.written = recording.Take();
  result.alerts = timelines.Take();
  return result;
}

}  // namespace

ReplayResult ReplayRules(const std::vector<RuleFile>& files,
                         const Engine& engine, Queryable& queryable,
                         Appendable& appendable, const ReplayOptions& options) {
  const Schedule schedule = MakeSchedule(files, options);
  // The rules write into a store of their own, read together with
  // `queryable` (so that they see their outputs whatever `appendable` is),
  // then what they wrote goes to `appendable` in one commit.
  MemStorage written;
  ReplayResult result;
  bool done =
      options.range_evaluation && AllRangeEvaluable(schedule) &&
      ReplayOverRanges(schedule, engine, queryable, written, options, result);
  if (!done) {
    written.Clear();
    result = ReplayStepByStep(schedule, engine, queryable, written, options);
  }
  if (!result.status.ok()) {
    result.commit = result.status;
    return result;
  }
  std::unique_ptr<Appender> app = appendable.NewAppender();
  for (const WrittenSeries& w : result.written) {
    app->AppendSamples(w.labels, w.timestamps, w.values);
  }
  result.commit = app->Commit();
  return result;
}
ReplayResult ReplayRules(const std::vector<RuleFile>& files,
                         const Engine& engine, Storage& storage,
                         const ReplayOptions& options) {
  return ReplayRules(files, engine, storage, storage, options);
}

int64_t ReplayResult::failures() const {
  int64_t n = 0;
  for (const RuleReport& r : rules) n += r.failures;
  return n;
}

std::string WriteOpenMetrics(const std::vector<WrittenSeries>& series) {
  // One family per metric name: group the series by name, names sorted.
  std::map<std::string, std::vector<const WrittenSeries*>> families;
  for (const WrittenSeries& s : series) {
    families[std::string(s.labels.Get(kMetricName))].push_back(&s);
  }
  std::string out;
  for (const auto& [name, members] : families) {
    absl::StrAppend(&out, "# TYPE ", name, " unknown\n");
    for (const WrittenSeries* s : members) {
      std::string labels;
      for (const Label& l : s->labels) {
        if (l.name == kMetricName) continue;
        absl::StrAppend(&labels, labels.empty() ? "" : ",", l.name, "=\"",
                        EscapeLabelValue(l.value), "\"");
      }
      const std::string prefix =
          labels.empty() ? name : absl::StrCat(name, "{", labels, "}");
      for (size_t i = 0; i < s->timestamps.size(); ++i) {
        const int64_t t = s->timestamps[i];
        std::string seconds = absl::StrCat(t / 1000);
        if (t % 1000 != 0) {
          seconds = FormatFloat(static_cast<double>(t) / 1000);
        }
        absl::StrAppend(&out, prefix, " ", FormatFloatGo(s->values[i]), " ",
                        seconds, "\n");
      }
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace promeval
