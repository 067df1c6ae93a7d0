// GroupEvaluator: recording and alerting rules over a MemStorage, the
// behaviours promtool unit tests cannot express (errors, limits, stale
// markers, resolved alerts). Expected values follow rules/group.go,
// recording.go and alerting.go of Prometheus 3.x.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/rules.h"
#include "promeval/storage.h"
#include "promeval/value.h"
#include "tests/stored_samples.h"

namespace promeval {
namespace {

constexpr int64_t kMinute = 60 * 1000;

Rule MakeRule(Rule::Kind kind, std::string name, std::string expr) {
  Rule r;
  r.kind = kind;
  r.name = std::move(name);
  r.expr = std::move(expr);
  absl::StatusOr<ExprPtr> parsed = ParseExpr(r.expr);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  r.parsed = std::shared_ptr<const Expr>(std::move(*parsed));
  return r;
}

Rule Recording(std::string name, std::string expr) {
  return MakeRule(Rule::Kind::kRecording, std::move(name), std::move(expr));
}

Rule Alerting(std::string name, std::string expr) {
  return MakeRule(Rule::Kind::kAlerting, std::move(name), std::move(expr));
}

class RulesEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(EngineOptions());
    ASSERT_TRUE(engine.ok());
    engine_ = *std::move(engine);
  }

  void Load(absl::string_view script) {
    absl::StatusOr<LoadStats> s = LoadSeriesScript(script, "test", storage_);
    ASSERT_TRUE(s.ok()) << s.status();
  }

  // The raw samples of the series matching `selector` (stale markers
  // included) as "t=v" strings.
  std::vector<std::string> Raw(absl::string_view selector) {
    std::vector<std::string> out;
    absl::StatusOr<ExprPtr> e = ParseExpr(selector);
    if (!e.ok()) {
      ADD_FAILURE() << e.status();
      return out;
    }
    const auto* vs = static_cast<const VectorSelector*>(e->get());
    std::unique_ptr<Querier> q = *storage_.NewQuerier(0, 1LL << 40);
    absl::StatusOr<std::vector<SeriesData>> data =
        q->Select(vs->matchers, 0, 1LL << 40);
    if (!data.ok()) {
      ADD_FAILURE() << data.status();
      return out;
    }
    for (const SeriesData& s : *data) {
      for (size_t i = 0; i < s.timestamps.size(); ++i) {
        out.push_back(absl::StrCat(
            s.timestamps[i] / 1000, "s=",
            IsStaleNaN(s.values[i]) ? "stale" : absl::StrCat(s.values[i])));
      }
    }
    return out;
  }

  double Instant(absl::string_view query, int64_t t) {
    absl::StatusOr<QueryResult> r = engine_->InstantQuery(storage_, query, t);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->vector.size() != 1) return std::nan("");
    return r->vector[0].v;
  }

  std::unique_ptr<Engine> engine_;
  MemStorage storage_;
};

TEST_F(RulesEvalTest, RecordingLimitExceeded) {
  Load("load 1m\n  m{i=\"a\"} 1\n  m{i=\"b\"} 2\n");
  RuleGroup g;
  g.name = "g";
  g.limit = 1;
  g.rules.push_back(Recording("r", "m"));
  GroupEvaluator ev(g, *engine_, storage_);
  ev.Eval(0);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kBad);
  EXPECT_EQ(ev.rule_error(0), "exceeded limit of 1 with 2 series");
  EXPECT_THAT(Raw("r"), ::testing::IsEmpty());
}

// One group holding a rule with a many-to-many match, a rule whose alert
// template fails to expand, and good rules before and after them; a second
// group with a limit its rule exceeds. Each failure stays with its rule.
TEST_F(RulesEvalTest, FailingRulesDoNotStopTheOthers) {
  Load("load 1m\n  up{job=\"a\", i=\"1\"} 1x5\n  up{job=\"a\", i=\"2\"} 1x5\n");
  RuleGroup faulty;
  faulty.name = "faulty";
  faulty.rules.push_back(Recording("before", "count(up)"));
  faulty.rules.push_back(Recording("bad:match", "up + on(job) up"));
  Rule alert = Alerting("TemplateError", "up > 0");
  alert.annotations = {{"summary", "{{ index $labels 5 }}"}};
  faulty.rules.push_back(alert);
  faulty.rules.push_back(Recording("after", "sum(up)"));
  RuleGroup limited;
  limited.name = "limited";
  limited.limit = 1;
  limited.rules.push_back(Recording("too:many", "up"));
  GroupEvaluator a(faulty, *engine_, storage_);
  GroupEvaluator b(limited, *engine_, storage_);
  for (int64_t t = 0; t <= 2 * kMinute; t += kMinute) {
    a.Eval(t);
    b.Eval(t);
  }
  EXPECT_EQ(a.rule_health(0), RuleHealth::kGood);
  EXPECT_EQ(a.rule_health(1), RuleHealth::kBad);
  EXPECT_THAT(a.rule_error(1),
              ::testing::StartsWith("found duplicate series for the match "
                                    "group {job=\"a\"}"));
  // A template that fails to expand is not a rule failure: the alert fires
  // with the error as its annotation, as in Prometheus.
  EXPECT_EQ(a.rule_health(2), RuleHealth::kGood);
  std::vector<Alert> alerts = a.ActiveAlerts(2);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  ASSERT_EQ(alerts[0].annotations.size(), 1u);
  EXPECT_THAT(alerts[0].annotations[0].second,
              ::testing::StartsWith("<error expanding template: "));
  EXPECT_EQ(a.rule_health(3), RuleHealth::kGood);
  EXPECT_THAT(Raw("before"), ::testing::ElementsAre("0s=2", "60s=2", "120s=2"));
  EXPECT_THAT(Raw("after"), ::testing::ElementsAre("0s=2", "60s=2", "120s=2"));
  EXPECT_THAT(Raw("bad:match"), ::testing::IsEmpty());
  EXPECT_EQ(b.rule_health(0), RuleHealth::kBad);
  EXPECT_EQ(b.rule_error(0), "exceeded limit of 1 with 2 series");
}

TEST_F(RulesEvalTest, AlertingLimitExceededClearsAlerts) {
  Load("load 1m\n  m{i=\"a\"} 1\n  m{i=\"b\"} 2\n");
  RuleGroup g;
  g.name = "g";
  g.limit = 1;
  g.rules.push_back(Alerting("A", "m > 0"));
  GroupEvaluator ev(g, *engine_, storage_);
  ev.Eval(0);
  EXPECT_EQ(ev.rule_error(0), "exceeded limit of 1 with 2 alerts");
  EXPECT_THAT(ev.ActiveAlerts(0), ::testing::IsEmpty());
}

TEST_F(RulesEvalTest, DuplicateLabelsetsAfterRuleLabels) {
  Load("load 1m\n  m{i=\"a\"} 1\n  m{i=\"b\"} 2\n");
  RuleGroup g;
  g.name = "g";
  Rule rec = Recording("r", "m");
  rec.labels = {{"i", "same"}};
  Rule alert = Alerting("A", "m");
  alert.labels = {{"i", "same"}};
  g.rules = {rec, alert, Recording("ok", "m")};
  GroupEvaluator ev(g, *engine_, storage_);
  ev.Eval(0);
  EXPECT_EQ(ev.rule_error(0),
            "vector contains metrics with the same labelset after applying "
            "rule labels");
  EXPECT_EQ(ev.rule_error(1),
            "vector contains metrics with the same labelset after applying "
            "alert labels");
  // A failing rule does not stop the others.
  EXPECT_EQ(ev.rule_health(2), RuleHealth::kGood);
  EXPECT_EQ(Raw("ok").size(), 2u);
}

TEST_F(RulesEvalTest, StaleMarkersWhenSeriesDisappear) {
  // b stops after 1m: from 7m on (lookback 5m) the rule no longer returns
  // it and writes one stale marker.
  Load("load 1m\n  m{i=\"a\"} 1x10\n  m{i=\"b\"} 2 2\n");
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("r", "m"));
  GroupEvaluator ev(g, *engine_, storage_);
  for (int64_t ts = 0; ts <= 8 * kMinute; ts += kMinute) ev.Eval(ts);
  EXPECT_THAT(Raw("r{i=\"b\"}"),
              ::testing::ElementsAre("0s=2", "60s=2", "120s=2", "180s=2",
                                     "240s=2", "300s=2", "360s=stale"));
  EXPECT_EQ(Raw("r{i=\"a\"}").size(), 9u);
}

TEST_F(RulesEvalTest, FailingEvaluationWritesNoStaleMarkers) {
  // The rule label makes a and b one label set: the evaluation at 1m, when
  // both exist, fails; it writes nothing, not even a stale marker for the
  // series of 0m, which is written again at 2m.
  Load("load 1m\n  m{i=\"a\"} 1 1 1\n  m{i=\"b\"} _ 2 stale\n");
  RuleGroup g;
  g.name = "g";
  Rule r = Recording("r", "m");
  r.labels = {{"i", "same"}};
  g.rules.push_back(r);
  GroupEvaluator ev(g, *engine_, storage_);
  ev.Eval(0);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kGood);
  ev.Eval(kMinute);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kBad);
  ev.Eval(2 * kMinute);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kGood);
  EXPECT_EQ(ev.rule_error(0), "");
  EXPECT_THAT(Raw("r"), ::testing::ElementsAre("0s=1", "120s=1"));
}

// Over a range, a rule writes what evaluating it at each time writes:
// samples, stale markers, ALERTS. The sample limit applies to each step;
// a range query that still goes over it (a subquery counts its whole inner
// range) is split into shorter ones.
TEST_F(RulesEvalTest, RangeEvaluationWritesWhatStepsWrite) {
  // 30 series x 61 steps: 1830 output samples; each step holds 30. Gone
  // from 41m to 50m: stale at 45m, when the (left-open) lookback window no
  // longer holds 40m.
  std::string script = "load 1m\n";
  for (int i = 0; i < 30; ++i) {
    absl::StrAppend(&script, "  m{i=\"", i, "\"} ", i, "+1x40 _x10 ", i,
                    "x10\n");
  }
  EngineOptions options;
  options.max_samples = 200;
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("r", "m * 2"));
  g.rules.push_back(Alerting("A", "r > 60"));
  g.rules[1].for_ms = 2 * kMinute;
  // Its inner range over all 61 steps holds 30 x 64 samples; one step's,
  // 30 x 4.
  g.rules.push_back(Recording("s", "max_over_time(m[3m:1m])"));
  MemStorage stepped;
  ASSERT_TRUE(LoadSeriesScript(script, "test", stepped).ok());
  Load(script);
  EXPECT_FALSE(
      engine->RangeQuery(storage_, "m * 2", 0, 60 * kMinute, kMinute).ok());
  // The subquery rule's whole range goes over the limit even per step.
  EXPECT_FALSE(engine
                   ->Evaluate(storage_, *g.rules[2].parsed, g.rules[2].expr, 0,
                              60 * kMinute, kMinute, false,
                              QueryControl{.sample_limit_per_step = true})
                   .ok());

  GroupEvaluator by_step(g, *engine, stepped);
  for (int64_t ts = 0; ts <= 60 * kMinute; ts += kMinute) by_step.Eval(ts);
  GroupEvaluator by_range(g, *engine, storage_);
  std::vector<size_t> firing;
  for (size_t rule = 0; rule < 3; ++rule) {
    ASSERT_TRUE(by_range
                    .EvalRuleOverRange(rule, 0, 60 * kMinute, kMinute,
                                       [&](int64_t) {
                                         if (rule == 1) {
                                           firing.push_back(
                                               by_range.ActiveAlerts(1).size());
                                         }
                                       })
                    .ok());
  }
  ASSERT_EQ(firing.size(), 61u);
  EXPECT_EQ(firing[10], 9u);  // 2 * (i + 10) > 60 for i = 21..29.

  const Matcher outputs = *Matcher::Create(MatchType::kRegexp, "__name__",
                                           "r|s|ALERTS|ALERTS_FOR_STATE");
  const std::vector<std::string> want =
      testing::StoredSamples(stepped, {&outputs, 1});
  const std::vector<std::string> got =
      testing::StoredSamples(storage_, {&outputs, 1});
  EXPECT_GT(want.size(), 2 * 1830u);
  EXPECT_EQ(got, want);
  EXPECT_THAT(Raw("r{i=\"3\"}"), ::testing::Contains("2700s=stale"));
}

TEST_F(RulesEvalTest, RangeEvaluationFailsWhereAStepFails) {
  Load("load 1m\n  m{i=\"a\"} 1x5\n  m{i=\"b\"} 2x5\n");
  EngineOptions options;
  options.max_samples = 1;  // Each step selects 2.
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("r", "m"));
  GroupEvaluator ev(g, *engine, storage_);
  absl::Status s =
      ev.EvalRuleOverRange(0, 0, 5 * kMinute, kMinute, [](int64_t) {});
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(Raw("r"), ::testing::IsEmpty());
}

TEST(RangeEvaluableTest, RulesReadingUnwrittenOutputOrThePastAreNot) {
  RuleGroup g;
  auto evaluable = [&](Rule r) {
    return RangeEvaluable(g, r, {"later", "ALERTS", "ALERTS_FOR_STATE"});
  };
  EXPECT_TRUE(evaluable(Recording("x", "rate(m[5m]) + earlier")));
  EXPECT_TRUE(evaluable(Recording("x", "m offset 5m")));
  EXPECT_TRUE(evaluable(Recording("x", "{__name__=~\"m|n\"}")));
  EXPECT_FALSE(evaluable(Recording("x", "m + later")));
  EXPECT_FALSE(evaluable(Recording("x", "max_over_time(later[5m:1m])")));
  EXPECT_FALSE(evaluable(Recording("x", "ALERTS{alertname=\"A\"}")));
  EXPECT_FALSE(evaluable(Recording("x", "{job=\"a\"}")));
  EXPECT_FALSE(evaluable(Recording("x", "{__name__=~\"lat.*\"}")));
  EXPECT_FALSE(evaluable(Recording("x", "m offset -5m")));
  EXPECT_FALSE(evaluable(Recording("x", "m @ 100")));
  EXPECT_FALSE(evaluable(Recording("x", "rate(m[5m:1m] @ end())")));
  Rule templated = Alerting("A", "m > 1");
  EXPECT_TRUE(evaluable(templated));
  templated.annotations = {{"summary", "{{ query \"up\" }}"}};
  EXPECT_FALSE(evaluable(templated));
}

TEST_F(RulesEvalTest, ScalarResultIsOneSampleWithoutLabels) {
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("answer", "42"));
  GroupEvaluator ev(g, *engine_, storage_);
  ev.Eval(kMinute);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kGood);
  EXPECT_THAT(Raw("answer"), ::testing::ElementsAre("60s=42"));
}

TEST_F(RulesEvalTest, ResolvedAlertsAreKeptThenForgotten) {
  // Firing at 0m, gone from 1m: inactive (resolved) and not reported as
  // active; a new occurrence starts a new pending alert.
  Load("load 1m\n  m 1 _ _ 1\n");
  RuleGroup g;
  g.name = "g";
  Rule a = Alerting("A", "m > 0");
  a.for_ms = kMinute;
  g.rules.push_back(a);
  // Shorter lookback so that m disappears at 1m.
  EngineOptions options;
  options.lookback_delta_ms = 30 * 1000;
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  GroupEvaluator ev(g, *engine, storage_);
  ev.Eval(0);
  ASSERT_EQ(ev.ActiveAlerts(0).size(), 1u);
  EXPECT_EQ(ev.ActiveAlerts(0)[0].state, AlertState::kPending);
  ev.Eval(kMinute);  // Pending and gone: deleted.
  EXPECT_THAT(ev.ActiveAlerts(0), ::testing::IsEmpty());
  ev.Eval(3 * kMinute);
  ASSERT_EQ(ev.ActiveAlerts(0).size(), 1u);
  EXPECT_EQ(ev.ActiveAlerts(0)[0].active_at_ms, 3 * kMinute);
}

TEST_F(RulesEvalTest, AlertsForStateHoldsActiveAtSeconds) {
  Load("load 1m\n  m 1x5\n");
  RuleGroup g;
  g.name = "g";
  Rule a = Alerting("A", "m > 0");
  a.for_ms = 2 * kMinute;
  a.labels = {{"severity", "page"}};
  g.rules.push_back(a);
  GroupEvaluator ev(g, *engine_, storage_);
  for (int64_t ts = kMinute; ts <= 4 * kMinute; ts += kMinute) ev.Eval(ts);
  EXPECT_EQ(Instant("ALERTS_FOR_STATE{alertname=\"A\"}", 4 * kMinute), 60);
  EXPECT_EQ(Instant("ALERTS{alertstate=\"firing\"}", 4 * kMinute), 1);
  // The pending series stopped when the alert fired at 3m.
  EXPECT_THAT(Raw("ALERTS{alertstate=\"pending\"}"),
              ::testing::ElementsAre("60s=1", "120s=1", "180s=stale"));
}

// A group reading one store and writing into another (Prometheus's
// storage.Queryable and storage.Appendable): the reader never receives the
// outputs, the writer gets the recording outputs, ALERTS and
// ALERTS_FOR_STATE, and template queries read the reader.
TEST_F(RulesEvalTest, ReadsOneStoreAndWritesAnother) {
  Load("load 1m\n  m{i=\"a\"} 1x5\n");
  const int64_t reader_series = storage_.NumSeries();
  const int64_t reader_samples = storage_.NumSamples();
  MemStorage written;
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("r", "m * 2"));
  Rule a = Alerting("A", "m > 0");
  a.for_ms = kMinute;
  // What `query` finds: the input (read), not the rule output (written).
  a.annotations = {
      {"m", "{{ range query \"m\" }}{{ .Value }}{{ else }}none{{ end }}"},
      {"r", "{{ range query \"r\" }}{{ .Value }}{{ else }}none{{ end }}"}};
  g.rules.push_back(a);
  GroupEvaluator ev(g, *engine_, storage_, written);
  ev.Eval(0);
  ev.Eval(kMinute);
  EXPECT_EQ(ev.rule_health(0), RuleHealth::kGood) << ev.rule_error(0);
  EXPECT_EQ(ev.rule_health(1), RuleHealth::kGood) << ev.rule_error(1);

  EXPECT_EQ(storage_.NumSeries(), reader_series);
  EXPECT_EQ(storage_.NumSamples(), reader_samples);
  EXPECT_THAT(Raw("r"), ::testing::IsEmpty());
  const Matcher any = *Matcher::Create(MatchType::kRegexp, "__name__", ".+");
  EXPECT_THAT(
      testing::StoredSamples(written, {&any, 1}),
      ::testing::ElementsAre(
          "{__name__=\"ALERTS\", alertname=\"A\", alertstate=\"firing\", "
          "i=\"a\"}@60000=1",
          "{__name__=\"ALERTS\", alertname=\"A\", alertstate=\"pending\", "
          "i=\"a\"}@0=1",
          "{__name__=\"ALERTS\", alertname=\"A\", alertstate=\"pending\", "
          "i=\"a\"}@60000=stale",
          "{__name__=\"ALERTS_FOR_STATE\", alertname=\"A\", i=\"a\"}@0=0",
          "{__name__=\"ALERTS_FOR_STATE\", alertname=\"A\", i=\"a\"}@60000=0",
          "{__name__=\"r\", i=\"a\"}@0=2",
          "{__name__=\"r\", i=\"a\"}@60000=2"));
  const std::vector<Alert> alerts = ev.ActiveAlerts(1);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(alerts[0].annotations, (StringPairs{{"m", "1"}, {"r", "none"}}));
}

// A rule reading its own previous output (here a count of evaluations),
// or a rule reading an earlier rule's output at the same time, sees it only
// when what the group writes is readable. Reading one store and writing
// another, the count never finds itself (it records 1 each time) and the
// rule after it finds nothing (it writes nothing, and is healthy).
TEST_F(RulesEvalTest, OwnOutputIsSeenOnlyWhenTheWrittenStoreIsRead) {
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("evals", "evals + 1 or vector(1)"));
  g.rules.push_back(Recording("doubled", "evals * 2"));
  MemStorage written;
  GroupEvaluator apart(g, *engine_, storage_, written);
  MemStorage both;
  GroupEvaluator together(g, *engine_, both, both);
  for (int64_t ts = 0; ts <= 2 * kMinute; ts += kMinute) {
    apart.Eval(ts);
    together.Eval(ts);
  }
  EXPECT_EQ(apart.rule_health(1), RuleHealth::kGood);
  const Matcher any = *Matcher::Create(MatchType::kRegexp, "__name__", ".+");
  EXPECT_THAT(testing::StoredSamples(written, {&any, 1}),
              ::testing::ElementsAre("{__name__=\"evals\"}@0=1",
                                     "{__name__=\"evals\"}@60000=1",
                                     "{__name__=\"evals\"}@120000=1"));
  EXPECT_THAT(
      testing::StoredSamples(both, {&any, 1}),
      ::testing::ElementsAre(
          "{__name__=\"doubled\"}@0=2", "{__name__=\"doubled\"}@60000=4",
          "{__name__=\"doubled\"}@120000=6", "{__name__=\"evals\"}@0=1",
          "{__name__=\"evals\"}@60000=2", "{__name__=\"evals\"}@120000=3"));
  EXPECT_EQ(storage_.NumSeries(), 0);
}

// An Appendable that is no store (a write-only sink, as a remote write
// client is): it keeps what is committed as "labels@t=v".
class SinkAppendable : public Appendable {
 public:
  std::unique_ptr<Appender> NewAppender() override {
    return std::make_unique<SinkAppender>(*this);
  }
  std::vector<std::string> committed;

 private:
  class SinkAppender : public Appender {
   public:
    explicit SinkAppender(SinkAppendable& sink) : sink_(sink) {}
    void Append(const Labels& labels, int64_t t, double v) override {
      pending_.push_back(
          absl::StrCat(labels.ToString(), "@", t, "=",
                       IsStaleNaN(v) ? "stale" : absl::StrCat(v)));
    }
    absl::Status Commit() override {
      for (std::string& s : pending_) sink_.committed.push_back(std::move(s));
      pending_.clear();
      return absl::OkStatus();
    }

   private:
    SinkAppendable& sink_;
    std::vector<std::string> pending_;
  };
};

TEST_F(RulesEvalTest, WritesIntoAWriteOnlySink) {
  Load("load 1m\n  m{i=\"a\"} 1 _\n");
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Recording("r", "m * 2"));
  SinkAppendable sink;
  EngineOptions options;
  options.lookback_delta_ms = 30 * 1000;  // m is gone at 1m.
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  GroupEvaluator ev(g, *engine, storage_, sink);
  ev.Eval(0);
  ev.Eval(kMinute);
  EXPECT_THAT(sink.committed,
              ::testing::ElementsAre("{__name__=\"r\", i=\"a\"}@0=2",
                                     "{__name__=\"r\", i=\"a\"}@60000=stale"));
}

}  // namespace
}  // namespace promeval
