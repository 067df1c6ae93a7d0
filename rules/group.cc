// Rule group evaluation: Prometheus's rules.Group.Eval with RecordingRule
// and AlertingRule (rules/group.go, recording.go, alerting.go).
//
// Rules run in file order and each rule's samples are committed before the
// next rule runs, so a rule sees the output of the rules before it at the
// same timestamp (when what the Appendable commits is visible through the
// Queryable: one store, or a written store that is also read). A rule that
// fails writes nothing, keeps its previous series (no stale markers) and
// records its error.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "promeval/rules.h"
#include "promeval/status_macros.h"
#include "promeval/value.h"
#include "template/template.h"

namespace promeval {

absl::string_view AlertStateName(AlertState state) {
  switch (state) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "unknown";
}

namespace {

// How long a resolved alert is kept (Prometheus's resolvedRetention).
constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

constexpr absl::string_view kAlertsMetric = "ALERTS";
constexpr absl::string_view kAlertsForStateMetric = "ALERTS_FOR_STATE";

// Go's time.Time.Unix() of a time in ms: seconds rounded down.
int64_t FloorSeconds(int64_t ms) {
  return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

// An alert, and what its annotations are expanded from when they are
// expanded lazily: the labels of the sample that last made the alert active
// (its value is the alert's) and that evaluation's time.
struct TrackedAlert {
  Alert alert;
  Labels sample_labels;
  int64_t sample_ts = 0;
  // The alert's ALERTS series for the state it was made for, and its
  // ALERTS_FOR_STATE series (built once: labels do not change).
  Labels alerts_series;
  AlertState series_state = AlertState::kInactive;
  Labels for_state_series;
};

struct RuleState {
  RuleHealth health = RuleHealth::kUnknown;
  absl::Status status;  // Of the last evaluation.
  // The series the rule wrote at its last successful evaluation.
  std::vector<Labels> previous_series;
  // The rule's labels merged over the group's, sorted by name; for alerting
  // rules the raw (unexpanded) templates.
  StringPairs labels;
  // Alerting rules: the alerts by the hash of their labels, and the label
  // and annotation templates (as `labels` and the rule's annotations).
  absl::flat_hash_map<uint64_t, TrackedAlert> active;
  std::vector<rules::AlertTemplate> label_templates;
  std::vector<rules::AlertTemplate> annotation_templates;
  // Annotation templates that make no query give the same text whenever
  // they are expanded: they are expanded when the alert is read.
  bool lazy_annotations = false;
};

}  // namespace

class GroupEvaluator::Impl {
 public:
  Impl(RuleGroup group, const Engine& engine, Queryable& queryable,
       Appendable& appendable, RuleEvalOptions options)
      : group_(std::move(group)),
        engine_(engine),
        queryable_(queryable),
        appendable_(appendable),
        options_(std::move(options)),
        states_(group_.rules.size()) {
    for (size_t i = 0; i < group_.rules.size(); ++i) {
      const Rule& rule = group_.rules[i];
      RuleState& st = states_[i];
      st.labels = RuleLabels(group_, rule);
      if (rule.kind == Rule::Kind::kAlerting) {
        const std::string name = absl::StrCat("__alert_", rule.name);
        for (const auto& [label, text] : st.labels) {
          st.label_templates.emplace_back(name, text);
        }
        st.lazy_annotations = true;
        for (const auto& [annotation, text] : rule.annotations) {
          st.annotation_templates.emplace_back(name, text);
          if (absl::StrContains(text, "query")) st.lazy_annotations = false;
        }
      }
    }
  }

  int64_t query_offset_ms() const {
    return group_.query_offset_ms.value_or(options_.default_query_offset_ms);
  }

  void Eval(int64_t ts) {
    for (size_t i = 0; i < group_.rules.size(); ++i) EvalRule(i, ts);
  }

  const RuleGroup& group() const { return group_; }

  absl::Status EvalRuleOverRange(
      size_t i, int64_t start, int64_t end, int64_t interval,
      absl::FunctionRef<void(int64_t ts)> after_step) {
    RuleState& st = states_[i];
    const int64_t offset = query_offset_ms();
    std::unique_ptr<Appender> app = appendable_.NewAppender();
    // The steps per range query: all of them, halved while a query goes
    // over a limit (which a one-step query going over is an error of).
    int64_t chunk = (end - start) / interval + 1;
    for (int64_t first = start; first <= end;) {
      const int64_t last =
          first + std::min(chunk - 1, (end - first) / interval) * interval;
      absl::StatusOr<std::vector<Vector>> steps =
          QueryRange(group_.rules[i], first - offset, last - offset, interval);
      if (absl::IsResourceExhausted(steps.status()) && last > first) {
        chunk = (last - first) / interval / 2 + 1;
        continue;
      }
      if (!steps.ok()) return steps.status();
      for (size_t k = 0; k < steps->size(); ++k) {
        const int64_t ts = first + static_cast<int64_t>(k) * interval;
        PROMEVAL_ASSIGN_OR_RETURN(Vector out,
                                  Output(i, std::move((*steps)[k]), ts));
        for (const Sample& s : StaleMarkers(st, out, ts)) {
          app->Append(s.labels, s.t, s.v);
        }
        st.previous_series.clear();
        for (const Sample& s : out) {
          app->Append(s.labels, s.t, s.v);
          st.previous_series.push_back(s.labels);
        }
        st.health = RuleHealth::kGood;
        after_step(ts);
      }
      first = last + interval;
    }
    return app->Commit();
  }
  const RuleState& state(size_t i) const { return states_[i]; }

  void MarkStale(int64_t ts) {
    Vector stale;
    for (RuleState& st : states_) {
      for (const Labels& l : st.previous_series) {
        stale.push_back(Sample{l, ts - query_offset_ms(), StaleNaN()});
      }
      st.previous_series.clear();
    }
    // Markers older than a newer sample are dropped, as Prometheus ignores
    // out-of-order appends here.
    Append(stale, nullptr).IgnoreError();
  }

 private:
  // An instant query as Prometheus's EngineQueryFunc runs it: a vector as
  // is, a scalar as one sample without labels.
  absl::StatusOr<Vector> Query(const Expr& expr, absl::string_view text,
                               int64_t t) const {
    PROMEVAL_ASSIGN_OR_RETURN(
        QueryResult res,
        engine_.Evaluate(queryable_, expr, text, t, t, 1, /*instant=*/true));
    switch (res.type) {
      case ValueType::kVector:
        return std::move(res.vector);
      case ValueType::kScalar:
        return Vector{Sample{Labels(), t, res.scalar}};
      default:
        return absl::InvalidArgumentError(
            "rule result is not a vector or scalar");
    }
  }

  // The rule's query result at each time from..to (query times, the query
  // offset applied) as one range query: a vector per time.
  absl::StatusOr<std::vector<Vector>> QueryRange(const Rule& rule, int64_t from,
                                                 int64_t to,
                                                 int64_t interval) const {
    std::vector<Vector> steps((to - from) / interval + 1);
    if (from == to) {
      PROMEVAL_ASSIGN_OR_RETURN(steps[0], Query(*rule.parsed, rule.expr, from));
      return steps;
    }
    PROMEVAL_ASSIGN_OR_RETURN(
        QueryResult res,
        engine_.Evaluate(queryable_, *rule.parsed, rule.expr, from, to,
                         interval, /*instant=*/false,
                         QueryControl{.sample_limit_per_step = true}));
    if (res.type != ValueType::kMatrix) {
      // A scalar expression: a rule takes its value without labels.
      return absl::InvalidArgumentError(
          "rule result is not a vector or scalar");
    }
    for (Series& series : res.matrix) {
      for (const FPoint& p : series.points) {
        steps[(p.t - from) / interval].push_back(
            Sample{series.labels, p.t, p.v});
      }
    }
    return steps;
  }

  // A recording rule's samples from its query result.
  absl::StatusOr<Vector> RecordingOutput(const Rule& rule, const RuleState& st,
                                         Vector vector) const {
    absl::flat_hash_set<Labels> seen;
    for (Sample& s : vector) {
      LabelsBuilder lb(s.labels);
      lb.Set(kMetricName, rule.name);
      for (const auto& [name, value] : st.labels) lb.Set(name, value);
      s.labels = lb.Build();
      if (!seen.insert(s.labels).second) {
        return absl::InvalidArgumentError(
            "vector contains metrics with the same labelset after applying "
            "rule labels");
      }
    }
    if (group_.limit > 0 && static_cast<int>(vector.size()) > group_.limit) {
      return absl::InvalidArgumentError(absl::StrCat("exceeded limit of ",
                                                     group_.limit, " with ",
                                                     vector.size(), " series"));
    }
    return vector;
  }

  // An alerting rule's step at `ts` from its query result: updates the
  // alerts and returns their ALERTS and ALERTS_FOR_STATE samples.
  absl::StatusOr<Vector> AlertingOutput(const Rule& rule, RuleState& st,
                                        const Vector& res, int64_t ts) const {
    const int64_t offset = query_offset_ms();
    rules::TemplateEnv env;
    env.eval_time_ms = ts;
    env.external_url = options_.external_url;
    env.query = [this, ts](absl::string_view q) -> absl::StatusOr<Vector> {
      PROMEVAL_ASSIGN_OR_RETURN(ExprPtr expr,
                                ParseExpr(q, engine_.options().parser));
      return Query(*expr, q, ts);
    };

    // The alerts of this evaluation, in result order.
    std::vector<std::pair<uint64_t, TrackedAlert>> current;
    absl::flat_hash_set<uint64_t> hashes;
    rules::TemplateData data = TemplateData(Labels(), 0);
    for (const Sample& s : res) {
      data.labels = s.labels;
      data.value = s.v;
      LabelsBuilder lb(s.labels);
      lb.Del(kMetricName);
      for (size_t k = 0; k < st.labels.size(); ++k) {
        lb.Set(st.labels[k].first, st.label_templates[k].Expand(data, env));
      }
      lb.Set("alertname", rule.name);
      TrackedAlert t;
      Alert& alert = t.alert;
      alert.labels = lb.Build();
      if (st.lazy_annotations) {
        t.sample_labels = s.labels;
        t.sample_ts = ts;
      } else {
        alert.annotations = ExpandAnnotations(rule, st, data, env);
      }
      alert.active_at_ms = ts;
      alert.state = AlertState::kPending;
      alert.value = s.v;
      const uint64_t h = alert.labels.Hash();
      if (!hashes.insert(h).second) {
        return absl::InvalidArgumentError(
            "vector contains metrics with the same labelset after applying "
            "alert labels");
      }
      current.emplace_back(h, std::move(t));
    }

    for (auto& [h, t] : current) {
      auto it = st.active.find(h);
      if (it != st.active.end() &&
          it->second.alert.state != AlertState::kInactive) {
        TrackedAlert& old = it->second;
        old.alert.value = t.alert.value;
        old.alert.annotations = std::move(t.alert.annotations);
        old.sample_labels = std::move(t.sample_labels);
        old.sample_ts = t.sample_ts;
        continue;
      }
      st.active[h] = std::move(t);
    }

    Vector out;
    int active_count = 0;
    std::vector<uint64_t> to_delete;
    for (auto& [h, tracked] : st.active) {
      Alert& a = tracked.alert;
      if (!hashes.contains(h)) {
        bool keep_firing = false;
        if (a.state == AlertState::kFiring && rule.keep_firing_for_ms > 0) {
          if (a.keep_firing_since_ms == 0) a.keep_firing_since_ms = ts;
          keep_firing = ts - a.keep_firing_since_ms < rule.keep_firing_for_ms;
        }
        if (a.state == AlertState::kPending ||
            (a.resolved_at_ms != 0 &&
             ts - a.resolved_at_ms > kResolvedRetentionMs)) {
          to_delete.push_back(h);
        }
        if (a.state != AlertState::kInactive && !keep_firing) {
          a.state = AlertState::kInactive;
          a.resolved_at_ms = ts;
        }
        if (!keep_firing) continue;
      } else {
        a.keep_firing_since_ms = 0;
      }
      ++active_count;
      if (a.state == AlertState::kPending &&
          ts - a.active_at_ms >= rule.for_ms) {
        a.state = AlertState::kFiring;
        a.fired_at_ms = ts;
      }
      if (tracked.series_state != a.state) {
        tracked.alerts_series = AlertSeries(a, st, rule, false);
        tracked.series_state = a.state;
      }
      if (tracked.for_state_series.empty()) {
        tracked.for_state_series = AlertSeries(a, st, rule, true);
      }
      out.push_back(Sample{tracked.alerts_series, ts - offset, 1.0});
      out.push_back(Sample{tracked.for_state_series, ts - offset,
                           static_cast<double>(FloorSeconds(a.active_at_ms))});
    }
    for (uint64_t h : to_delete) st.active.erase(h);
    if (group_.limit > 0 && active_count > group_.limit) {
      st.active.clear();
      return absl::InvalidArgumentError(absl::StrCat("exceeded limit of ",
                                                     group_.limit, " with ",
                                                     active_count, " alerts"));
    }
    return out;
  }

  rules::TemplateData TemplateData(Labels labels, double value) const {
    rules::TemplateData data;
    data.labels = std::move(labels);
    data.value = value;
    data.external_labels = options_.external_labels;
    data.external_url = options_.external_url;
    return data;
  }

  static StringPairs ExpandAnnotations(const Rule& rule, const RuleState& st,
                                       const rules::TemplateData& data,
                                       const rules::TemplateEnv& env) {
    StringPairs annotations;
    for (size_t k = 0; k < rule.annotations.size(); ++k) {
      annotations.emplace_back(rule.annotations[k].first,
                               st.annotation_templates[k].Expand(data, env));
    }
    std::sort(annotations.begin(), annotations.end());
    return annotations;
  }

 public:
  // The rule's alerts, sorted by labels, their annotations expanded.
  std::vector<Alert> Alerts(size_t i) const {
    const RuleState& st = states_[i];
    std::vector<Alert> out;
    for (const auto& [h, t] : st.active) {
      out.push_back(t.alert);
      if (st.lazy_annotations) {
        rules::TemplateEnv env;
        env.eval_time_ms = t.sample_ts;
        env.external_url = options_.external_url;
        out.back().annotations = ExpandAnnotations(
            group_.rules[i], st, TemplateData(t.sample_labels, t.alert.value),
            env);
      }
    }
    std::sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) {
      return CompareLabels(a.labels, b.labels) < 0;
    });
    return out;
  }

 private:
  // The labels of an alert's ALERTS series (or its ALERTS_FOR_STATE
  // series): the raw rule labels, overridden by the alert's labels.
  static Labels AlertSeries(const Alert& a, const RuleState& st,
                            const Rule& rule, bool for_state) {
    LabelsBuilder lb{Labels()};
    for (const auto& [name, value] : st.labels) lb.Set(name, value);
    for (const Label& l : a.labels) lb.Set(l.name, l.value);
    lb.Set(kMetricName, for_state ? kAlertsForStateMetric : kAlertsMetric);
    lb.Set("alertname", rule.name);
    if (!for_state) lb.Set("alertstate", AlertStateName(a.state));
    return lb.Build();
  }

  // The rule's output at `ts` from its query result.
  absl::StatusOr<Vector> Output(size_t i, Vector res, int64_t ts) {
    const Rule& rule = group_.rules[i];
    return rule.kind == Rule::Kind::kRecording
               ? RecordingOutput(rule, states_[i], std::move(res))
               : AlertingOutput(rule, states_[i], res, ts);
  }

  // Stale markers at `ts` for the series the rule wrote last time and not
  // in `output`.
  Vector StaleMarkers(const RuleState& st, const Vector& output,
                      int64_t ts) const {
    absl::flat_hash_set<Labels> returned;
    for (const Sample& s : output) returned.insert(s.labels);
    Vector stale;
    for (const Labels& l : st.previous_series) {
      if (!returned.contains(l)) {
        stale.push_back(Sample{l, ts - query_offset_ms(), StaleNaN()});
      }
    }
    return stale;
  }

  void EvalRule(size_t i, int64_t ts) {
    const Rule& rule = group_.rules[i];
    RuleState& st = states_[i];
    absl::StatusOr<Vector> vector =
        Query(*rule.parsed, rule.expr, ts - query_offset_ms());
    if (vector.ok()) vector = Output(i, *std::move(vector), ts);
    if (!vector.ok()) {
      st.health = RuleHealth::kBad;
      st.status = vector.status();
      return;
    }
    st.health = RuleHealth::kGood;
    st.status = absl::OkStatus();

    const Vector stale = StaleMarkers(st, *vector, ts);
    std::vector<Labels> written;
    if (absl::Status s = Append(*vector, &written); !s.ok()) {
      st.health = RuleHealth::kBad;
      st.status = std::move(s);
    }
    // Stale markers that cannot be written (a newer sample exists) are
    // dropped, as Prometheus ignores out-of-order stale markers.
    Append(stale, nullptr).IgnoreError();
    st.previous_series = std::move(written);
  }

  // Appends the samples; those the store rejects (out of order, duplicate)
  // are dropped and the first such error returned. `written` receives the
  // labels of the samples that were stored.
  absl::Status Append(const Vector& samples, std::vector<Labels>* written) {
    if (samples.empty()) return absl::OkStatus();
    std::unique_ptr<Appender> app = appendable_.NewAppender();
    for (const Sample& s : samples) app->Append(s.labels, s.t, s.v);
    if (app->Commit().ok()) {
      if (written != nullptr) {
        for (const Sample& s : samples) written->push_back(s.labels);
      }
      return absl::OkStatus();
    }
    // Some sample was rejected: find out which, one at a time.
    absl::Status first = absl::OkStatus();
    for (const Sample& s : samples) {
      std::unique_ptr<Appender> one = appendable_.NewAppender();
      one->Append(s.labels, s.t, s.v);
      absl::Status status = one->Commit();
      if (status.ok()) {
        if (written != nullptr) written->push_back(s.labels);
      } else if (first.ok()) {
        first = status;
      }
    }
    return first;
  }

  RuleGroup group_;
  const Engine& engine_;
  Queryable& queryable_;
  Appendable& appendable_;
  RuleEvalOptions options_;
  std::vector<RuleState> states_;
};

std::vector<std::string> RuleOutputNames(const Rule& rule) {
  if (rule.kind == Rule::Kind::kRecording) return {rule.name};
  return {std::string(kAlertsMetric), std::string(kAlertsForStateMetric)};
}

bool RangeEvaluable(const RuleGroup& group, const Rule& rule,
                    const absl::flat_hash_set<std::string>& unwritten) {
  // Templates are looked at as text: any mention of `query` counts.
  auto queries = [](const StringPairs& templates) {
    return std::any_of(templates.begin(), templates.end(), [](const auto& t) {
      return absl::StrContains(t.second, "query");
    });
  };
  if (rule.kind == Rule::Kind::kAlerting &&
      (queries(group.labels) || queries(rule.labels) ||
       queries(rule.annotations))) {
    return false;
  }
  bool ok = true;
  Inspect(*rule.parsed, [&](const Expr& e) {
    if (const auto* sq = As<SubqueryExpr>(&e)) {
      ok = ok && !sq->at.is_set() && sq->offset_expr == nullptr &&
           sq->original_offset_ms >= 0;
      return;
    }
    if (const auto* call = As<Call>(&e)) {
      ok = ok && !call->func->reads_unselected_series;
      return;
    }
    const auto* vs = As<VectorSelector>(&e);
    if (vs == nullptr) return;
    ok = ok && !vs->at.is_set() && vs->offset_expr == nullptr &&
         vs->original_offset_ms >= 0;
    for (const std::string& name : unwritten) {
      if (!ok) return;
      // The selector may select `name` unless a __name__ matcher rejects it
      // (its other matchers are not looked at).
      ok = std::any_of(vs->matchers.begin(), vs->matchers.end(),
                       [&](const Matcher& m) {
                         return m.name() == kMetricName && !m.Matches(name);
                       });
    }
  });
  return ok;
}

GroupEvaluator::GroupEvaluator(RuleGroup group, const Engine& engine,
                               Queryable& queryable, Appendable& appendable,
                               RuleEvalOptions options)
    : impl_(std::make_unique<Impl>(std::move(group), engine, queryable,
                                   appendable, std::move(options))) {}

GroupEvaluator::GroupEvaluator(RuleGroup group, const Engine& engine,
                               Storage& storage, RuleEvalOptions options)
    : GroupEvaluator(std::move(group), engine, storage, storage,
                     std::move(options)) {}

GroupEvaluator::~GroupEvaluator() = default;

void GroupEvaluator::Eval(int64_t ts_ms) { impl_->Eval(ts_ms); }

absl::Status GroupEvaluator::EvalRuleOverRange(
    size_t rule, int64_t start_ms, int64_t end_ms, int64_t interval_ms,
    absl::FunctionRef<void(int64_t ts_ms)> after_step) {
  return impl_->EvalRuleOverRange(rule, start_ms, end_ms, interval_ms,
                                  after_step);
}

void GroupEvaluator::MarkStale(int64_t ts_ms) { impl_->MarkStale(ts_ms); }

const RuleGroup& GroupEvaluator::group() const { return impl_->group(); }

int64_t GroupEvaluator::query_offset_ms() const {
  return impl_->query_offset_ms();
}

RuleHealth GroupEvaluator::rule_health(size_t rule) const {
  return impl_->state(rule).health;
}

std::string GroupEvaluator::rule_error(size_t rule) const {
  return std::string(impl_->state(rule).status.message());
}

const absl::Status& GroupEvaluator::rule_status(size_t rule) const {
  return impl_->state(rule).status;
}

std::vector<Alert> GroupEvaluator::ActiveAlerts(size_t rule) const {
  std::vector<Alert> out = CurrentAlerts(rule);
  out.erase(
      std::remove_if(out.begin(), out.end(),
                     [](const Alert& a) { return a.resolved_at_ms != 0; }),
      out.end());
  return out;
}

std::vector<Alert> GroupEvaluator::CurrentAlerts(size_t rule) const {
  return impl_->Alerts(rule);
}

}  // namespace promeval
