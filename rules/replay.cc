// Offline replay of rule groups over stored data, and the OpenMetrics
// writer for what they produced.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
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
    for (const Alert& a : alerts) {
      auto [it, inserted] = known.try_emplace(a.labels.Hash());
      if (inserted) {
        it->second.index = timelines_.size();
        timelines_.push_back(AlertTimeline{group, a.labels, {}});
      }
      AlertTimeline& tl = timelines_[it->second.index];
      if (tl.transitions.empty() || tl.transitions.back().state != a.state) {
        tl.transitions.push_back(
            AlertTransition{ts, a.state, a.value, a.annotations});
      }
    }
  }

  std::vector<AlertTimeline> Take() { return std::move(timelines_); }

 private:
  struct Entry {
    size_t index = 0;
  };
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

ReplayResult ReplayRules(const std::vector<RuleFile>& files,
                         const Engine& engine, Queryable& queryable,
                         Appendable& appendable, const ReplayOptions& options) {
  RecordingAppendable recording(appendable);
  struct Scheduled {
    std::unique_ptr<GroupEvaluator> evaluator;
    int64_t interval_ms;
  };
  std::vector<Scheduled> groups;
  ReplayResult result;
  std::vector<size_t> first_report;  // Of each group in result.rules.
  for (const RuleFile& f : files) {
    for (const RuleGroup& g : f.groups) {
      int64_t interval = options.interval_ms > 0 ? options.interval_ms
                         : g.interval_ms > 0     ? g.interval_ms
                                                 : options.default_interval_ms;
      groups.push_back(
          Scheduled{std::make_unique<GroupEvaluator>(g, engine, queryable,
                                                     recording, options.eval),
                    interval});
      first_report.push_back(result.rules.size());
      for (const Rule& r : g.rules) {
        RuleReport report;
        report.group = g.name;
        report.rule = r.name;
        result.rules.push_back(std::move(report));
      }
    }
  }
  Timelines timelines;
  // The next evaluation time of each group; at equal times groups run in
  // file order.
  std::vector<int64_t> next(groups.size(), options.start_ms);
  if (options.align_server) {
    for (size_t i = 0; i < groups.size(); ++i) {
      next[i] = ServerAlignedStart(groups[i].evaluator->group(),
                                   groups[i].interval_ms, options.start_ms);
    }
  }
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
    next[pick] += groups[pick].interval_ms;
    GroupEvaluator& g = *groups[pick].evaluator;
    g.Eval(ts);
    ++result.evaluations;
    const RuleGroup& group = g.group();
    for (size_t r = 0; r < group.rules.size(); ++r) {
      RuleReport& report = result.rules[first_report[pick] + r];
      ++report.evaluations;
      report.health = g.rule_health(r);
      if (report.health == RuleHealth::kBad) {
        if (report.failures++ == 0) report.first_failure_ms = ts;
        report.last_failure_ms = ts;
        report.last_error = g.rule_error(r);
      }
      if (group.rules[r].kind == Rule::Kind::kAlerting) {
        timelines.Observe(group.name, absl::StrCat(pick, "/", r),
                          g.CurrentAlerts(r), ts);
      }
    }
  }
  result.written = recording.Take();
  result.alerts = timelines.Take();
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
