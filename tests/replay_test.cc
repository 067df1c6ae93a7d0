// ReplayRules and WriteOpenMetrics: groups at their own intervals,
// interleaved in time, later groups seeing earlier outputs, the alert
// timeline, and OpenMetrics output that loads back unchanged.
#include <bit>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/rules.h"
#include "promeval/status_macros.h"
#include "promeval/storage.h"

namespace promeval {
namespace {

constexpr int64_t kMinute = 60 * 1000;

RuleFile Parse(absl::string_view yaml) {
  absl::StatusOr<RuleFile> f = ParseRuleFile(yaml, "rules.yml");
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *f : RuleFile();
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { engine_ = *Engine::Create(EngineOptions()); }
  std::unique_ptr<Engine> engine_;
  MemStorage storage_;
};

const WrittenSeries* Find(const ReplayResult& r, absl::string_view selector) {
  absl::StatusOr<Labels> want = ParseMetric(selector);
  EXPECT_TRUE(want.ok());
  for (const WrittenSeries& s : r.written) {
    if (want.ok() && s.labels == *want) return &s;
  }
  return nullptr;
}

TEST_F(ReplayTest, GroupsAtTheirIntervalsSeeEarlierOutputs) {
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  x 1+1x10\n", "data", storage_).ok());
  // g1 every 2m records x; g2 every 1m reads g1's output; at equal times g1
  // runs first.
  RuleFile f = Parse(R"(groups:
  - name: g1
    interval: 2m
    rules:
      - record: a
        expr: x
  - name: g2
    interval: 1m
    rules:
      - record: b
        expr: a * 10
)");
  ReplayOptions o;
  o.start_ms = 0;
  o.end_ms = 4 * kMinute;
  ReplayResult r = ReplayRules({f}, *engine_, storage_, o);
  EXPECT_EQ(r.failures(), 0);
  EXPECT_EQ(r.evaluations, 3 + 5);
  const WrittenSeries* a = Find(r, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_THAT(a->timestamps,
              ::testing::ElementsAre(0, 2 * kMinute, 4 * kMinute));
  EXPECT_THAT(a->values, ::testing::ElementsAre(1, 3, 5));
  // b at 1m and 3m reads the a of 0m and 2m (lookback).
  const WrittenSeries* b = Find(r, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(b->values, ::testing::ElementsAre(10, 10, 30, 30, 50));
}

TEST_F(ReplayTest, IntervalOverridesGroupIntervals) {
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  x 1x10\n", "data", storage_).ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    interval: 5m
    rules:
      - record: a
        expr: x
)");
  ReplayOptions o;
  o.start_ms = 0;
  o.end_ms = 3 * kMinute;
  o.interval_ms = kMinute;
  ReplayResult r = ReplayRules({f}, *engine_, storage_, o);
  ASSERT_NE(Find(r, "a"), nullptr);
  EXPECT_EQ(Find(r, "a")->timestamps.size(), 4u);
}

TEST_F(ReplayTest, AlertTimeline) {
  // Above 5 from 2m to 5m: pending at 2m, firing at 3m (for 1m), resolved
  // at 6m.
  ASSERT_TRUE(
      LoadSeriesScript("load 1m\n  m 0 0 6 7 8 9 0 0\n", "data", storage_)
          .ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    rules:
      - alert: High
        expr: m > 5
        for: 1m
        annotations:
          summary: "value {{ $value }}"
)");
  ReplayOptions o;
  o.start_ms = 0;
  o.end_ms = 7 * kMinute;
  ReplayResult r = ReplayRules({f}, *engine_, storage_, o);
  ASSERT_EQ(r.alerts.size(), 1u);
  const AlertTimeline& a = r.alerts[0];
  EXPECT_EQ(a.group, "g");
  EXPECT_EQ(a.labels.ToString(), "{alertname=\"High\"}");
  ASSERT_EQ(a.transitions.size(), 3u);
  EXPECT_EQ(a.transitions[0].time_ms, 2 * kMinute);
  EXPECT_EQ(a.transitions[0].state, AlertState::kPending);
  EXPECT_THAT(a.transitions[0].annotations,
              ::testing::ElementsAre(::testing::Pair("summary", "value 6")));
  EXPECT_EQ(a.transitions[1].time_ms, 3 * kMinute);
  EXPECT_EQ(a.transitions[1].state, AlertState::kFiring);
  EXPECT_EQ(a.transitions[2].time_ms, 6 * kMinute);
  EXPECT_EQ(a.transitions[2].state, AlertState::kInactive);
}

TEST_F(ReplayTest, RuleErrorsAreReportedAndReplayContinues) {
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  m{i=\"a\"} 1x3\n  m{i=\"b\"} 1x3\n",
                               "data", storage_)
                  .ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    limit: 1
    rules:
      - record: r
        expr: m
      - record: ok
        expr: count(m)
)");
  ReplayOptions o;
  o.start_ms = 0;
  o.end_ms = kMinute;
  ReplayResult r = ReplayRules({f}, *engine_, storage_, o);
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_EQ(r.rules[0].rule, "r");
  EXPECT_EQ(r.rules[0].evaluations, 2);
  EXPECT_EQ(r.rules[0].failures, 2);
  EXPECT_EQ(r.rules[0].health, RuleHealth::kBad);
  EXPECT_EQ(r.rules[0].last_error, "exceeded limit of 1 with 2 series");
  EXPECT_EQ(r.rules[0].first_failure_ms, 0);
  EXPECT_EQ(r.rules[0].last_failure_ms, kMinute);
  EXPECT_EQ(r.rules[1].failures, 0);
  EXPECT_EQ(r.rules[1].health, RuleHealth::kGood);
  ASSERT_NE(Find(r, "ok"), nullptr);
  EXPECT_THAT(Find(r, "ok")->values, ::testing::ElementsAre(2, 2));
}

// A store whose reads fail (kDataLoss, as a corrupt chunk gives) once they
// reach `bad_from_ms`; reads before go to `inner`.
class FailingAfter : public Queryable {
 public:
  FailingAfter(Queryable& inner, int64_t bad_from_ms)
      : inner_(inner), bad_from_ms_(bad_from_ms) {}
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override {
    class Q : public Querier {
     public:
      Q(std::unique_ptr<Querier> inner, int64_t bad_from_ms)
          : inner_(std::move(inner)), bad_from_ms_(bad_from_ms) {}
      absl::StatusOr<std::vector<SeriesData>> Select(
          absl::Span<const Matcher> matchers, int64_t mint,
          int64_t maxt) override {
        if (maxt >= bad_from_ms_) {
          return absl::DataLossError("chunks/000001: offset 8: corrupt");
        }
        return inner_->Select(matchers, mint, maxt);
      }

     private:
      std::unique_ptr<Querier> inner_;
      int64_t bad_from_ms_;
    };
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q,
                              inner_.NewQuerier(mint, maxt));
    return std::make_unique<Q>(std::move(q), bad_from_ms_);
  }

 private:
  Queryable& inner_;
  int64_t bad_from_ms_;
};

// A read error of the data stops the replay (no rule is at fault, and going
// on would leave that data out): the status names the rule and the time,
// keeps the storage's code, and nothing is written or committed; over
// ranges or step by step alike. Evaluation errors do not stop it (above).
TEST_F(ReplayTest, StorageErrorsStopTheReplay) {
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  m 1+1x10\n", "data", storage_).ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    rules:
      - record: r
        expr: m * 2
      - alert: A
        expr: m > 0
)");
  FailingAfter failing(storage_, 3 * kMinute);
  for (bool ranges : {true, false}) {
    SCOPED_TRACE(ranges ? "over ranges" : "step by step");
    ReplayOptions o;
    o.start_ms = 0;
    o.end_ms = 6 * kMinute;
    o.range_evaluation = ranges;
    MemStorage out;
    ReplayResult r = ReplayRules({f}, *engine_, failing, out, o);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(r.status.message(),
              "rule \"r\" of group \"g\" at 1970-01-01T00:03:00.000Z: "
              "chunks/000001: offset 8: corrupt");
    EXPECT_EQ(r.commit, r.status);
    EXPECT_TRUE(r.written.empty());
    EXPECT_TRUE(r.alerts.empty());
    EXPECT_EQ(out.NumSeries(), 0);
  }
  // The engine tells such errors from evaluation errors.
  absl::StatusOr<QueryResult> q =
      engine_->InstantQuery(failing, "sum(m)", 4 * kMinute);
  ASSERT_FALSE(q.ok());
  EXPECT_TRUE(IsStorageError(q.status()));
  q = engine_->InstantQuery(
      storage_, "label_replace(m, \"a\", \"\", \"\", \"(\")", 4 * kMinute);
  ASSERT_FALSE(q.ok());
  EXPECT_FALSE(IsStorageError(q.status()));
}

TEST_F(ReplayTest, ServerAlignment) {
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  x 1x30\n", "data", storage_).ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    interval: 1m
    rules:
      - record: a
        expr: x
)");
  const RuleGroup& g = f.groups[0];
  const int64_t first = ServerAlignedStart(g, kMinute, 5 * kMinute);
  // The group's offset: the hash of {name, file} modulo the interval (ns).
  const uint64_t hash = Labels({{"name", "g"}, {"file", "rules.yml"}}).Hash();
  const int64_t offset_ms =
      static_cast<int64_t>(hash % (uint64_t{60} * 1000000000)) / 1000000;
  EXPECT_EQ(first, 5 * kMinute + offset_ms);
  ReplayOptions o;
  o.start_ms = 5 * kMinute;
  o.end_ms = 8 * kMinute;
  o.align_server = true;
  ReplayResult r = ReplayRules({f}, *engine_, storage_, o);
  ASSERT_NE(Find(r, "a"), nullptr);
  EXPECT_EQ(Find(r, "a")->timestamps.front(), first);
  for (int64_t t : Find(r, "a")->timestamps) {
    EXPECT_EQ((t - first) % kMinute, 0);
    EXPECT_LE(t, 8 * kMinute);
  }
}

// An alert timeline as text, to compare replays.
std::string Describe(const std::vector<AlertTimeline>& timelines) {
  std::string out;
  for (const AlertTimeline& tl : timelines) {
    absl::StrAppend(&out, tl.group, " ", tl.labels.ToString(), "\n");
    for (const AlertTransition& t : tl.transitions) {
      absl::StrAppend(&out, "  ", t.time_ms, " ", AlertStateName(t.state), " ",
                      t.value);
      for (const auto& [name, text] : t.annotations) {
        absl::StrAppend(&out, " ", name, "=", text);
      }
      out += "\n";
    }
  }
  return out;
}

// Reading one store and writing into another: when no rule reads a rule's
// output, the written series, alert timeline and rule reports are those of
// a replay over one store; the reader receives nothing, and the writer holds
// exactly what ReplayResult::written reports.
TEST_F(ReplayTest, ReadsOneStoreAndWritesAnother) {
  constexpr absl::string_view kData =
      "load 1m\n  m{i=\"a\"} 0 0 6 7 8 9 0 0\n  m{i=\"b\"} 1x7\n";
  ASSERT_TRUE(LoadSeriesScript(kData, "data", storage_).ok());
  MemStorage single;
  ASSERT_TRUE(LoadSeriesScript(kData, "data", single).ok());
  RuleFile f = Parse(R"(groups:
  - name: g
    rules:
      - record: doubled
        expr: m * 2
      - alert: High
        expr: m > 5
        for: 1m
        annotations:
          summary: "{{ $labels.i }} at {{ $value }}"
  - name: h
    interval: 2m
    rules:
      - record: total
        expr: sum(m)
)");
  ReplayOptions o;
  o.start_ms = 0;
  o.end_ms = 7 * kMinute;
  const int64_t reader_series = storage_.NumSeries();
  const int64_t reader_samples = storage_.NumSamples();
  MemStorage written;
  ReplayResult split = ReplayRules({f}, *engine_, storage_, written, o);
  ReplayResult one = ReplayRules({f}, *engine_, single, o);

  EXPECT_EQ(split.failures(), 0);
  EXPECT_EQ(split.evaluations, one.evaluations);
  ASSERT_NE(Find(split, "ALERTS_FOR_STATE{alertname=\"High\", i=\"a\"}"),
            nullptr);
  ASSERT_NE(Find(split, "total"), nullptr);
  EXPECT_EQ(WriteOpenMetrics(split.written), WriteOpenMetrics(one.written));
  EXPECT_EQ(Describe(split.alerts), Describe(one.alerts));
  ASSERT_EQ(split.rules.size(), one.rules.size());
  for (size_t i = 0; i < split.rules.size(); ++i) {
    EXPECT_EQ(split.rules[i].evaluations, one.rules[i].evaluations);
    EXPECT_EQ(split.rules[i].health, one.rules[i].health);
  }

  EXPECT_EQ(storage_.NumSeries(), reader_series);
  EXPECT_EQ(storage_.NumSamples(), reader_samples);
  // What the writer holds, as WrittenSeries.
  std::vector<WrittenSeries> stored;
  const Matcher any = *Matcher::Create(MatchType::kRegexp, "__name__", ".+");
  std::unique_ptr<Querier> q = *written.NewQuerier(0, 1LL << 40);
  absl::StatusOr<std::vector<SeriesData>> data =
      q->Select({&any, 1}, 0, 1LL << 40);
  ASSERT_TRUE(data.ok()) << data.status();
  for (const SeriesData& s : *data) {
    stored.push_back(WrittenSeries{*s.labels,
                                   {s.timestamps.begin(), s.timestamps.end()},
                                   {s.values.begin(), s.values.end()}});
  }
  EXPECT_EQ(WriteOpenMetrics(stored), WriteOpenMetrics(split.written));
}

// The replay evaluating each rule over a day of times at once gives what
// one evaluation after another gives: the same series written, the same
// alert timelines in the same order, the same reports; over several days
// (the windows), groups of different intervals, chained recording rules,
// `for`, `keep_firing_for`, `query_offset` and templates.
TEST_F(ReplayTest, RangeEvaluationGivesTheStepByStepResults) {
  ASSERT_TRUE(LoadSeriesScript(R"(load 5m
  req_total{job="a"} 0+60x1000
  req_total{job="b"} 0+30x400 0+90x600
  err_total{job="a"} 0+1x200 200+30x80 2600+1x720
  err_total{job="b"} 0+2x1000
)",
                               "data", storage_)
                  .ok());
  RuleFile f = Parse(R"(groups:
  - name: rates
    interval: 5m
    rules:
      - record: job:req:rate15m
        expr: sum by (job) (rate(req_total[15m]))
      - record: job:err:rate15m
        expr: sum by (job) (rate(err_total[15m]))
      - record: job:err:ratio
        expr: job:err:rate15m / job:req:rate15m
  - name: alerts
    interval: 10m
    query_offset: 1m
    rules:
      - alert: HighErrors
        expr: job:err:ratio > 0.2
        for: 1h
        keep_firing_for: 1h
        labels:
          severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: '{{ $labels.job }} at {{ $value | humanizePercentage }}'
      - alert: NoRequests
        expr: absent(req_total{job="c"})
)");
  for (bool server : {false, true}) {
    ReplayOptions o;
    o.start_ms = 0;
    o.end_ms = 80 * 60 * kMinute;  // Over three days.
    o.align_server = server;
    MemStorage a_written, b_written;
    o.range_evaluation = true;
    ReplayResult ranges = ReplayRules({f}, *engine_, storage_, a_written, o);
    o.range_evaluation = false;
    ReplayResult steps = ReplayRules({f}, *engine_, storage_, b_written, o);
    SCOPED_TRACE(server ? "server-aligned" : "from the start");
    ASSERT_GT(steps.written.size(), 4u);
    ASSERT_EQ(ranges.written.size(), steps.written.size());
    for (size_t i = 0; i < steps.written.size(); ++i) {
      EXPECT_EQ(ranges.written[i].labels, steps.written[i].labels);
      EXPECT_EQ(ranges.written[i].timestamps, steps.written[i].timestamps);
      ASSERT_EQ(ranges.written[i].values.size(),
                steps.written[i].values.size());
      for (size_t k = 0; k < steps.written[i].values.size(); ++k) {
        EXPECT_EQ(std::bit_cast<uint64_t>(ranges.written[i].values[k]),
                  std::bit_cast<uint64_t>(steps.written[i].values[k]));
      }
    }
    ASSERT_GE(steps.alerts.size(), 2u);
    ASSERT_EQ(ranges.alerts.size(), steps.alerts.size());
    for (size_t i = 0; i < steps.alerts.size(); ++i) {
      EXPECT_EQ(ranges.alerts[i].labels, steps.alerts[i].labels);
      ASSERT_EQ(ranges.alerts[i].transitions.size(),
                steps.alerts[i].transitions.size());
      for (size_t k = 0; k < steps.alerts[i].transitions.size(); ++k) {
        const AlertTransition& x = ranges.alerts[i].transitions[k];
        const AlertTransition& y = steps.alerts[i].transitions[k];
        EXPECT_EQ(x.time_ms, y.time_ms);
        EXPECT_EQ(x.state, y.state);
        EXPECT_EQ(x.annotations, y.annotations);
      }
    }
    EXPECT_EQ(ranges.evaluations, steps.evaluations);
    ASSERT_EQ(ranges.rules.size(), steps.rules.size());
    for (size_t i = 0; i < steps.rules.size(); ++i) {
      EXPECT_EQ(ranges.rules[i].evaluations, steps.rules[i].evaluations);
      EXPECT_EQ(ranges.rules[i].failures, 0);
    }
    // What was written reached the store given.
    EXPECT_EQ(a_written.NumSamples(), b_written.NumSamples());
  }
}

TEST(WriteOpenMetricsTest, FormatAndRoundTrip) {
  std::vector<WrittenSeries> series = {
      {Labels({{"__name__", "job:x"}, {"a", "q\"\\\n"}}),
       {1000, 61500},
       {1.5, 1e21}},
      {Labels({{"__name__", "ALERTS"}}), {2000}, {StaleNaN()}},
  };
  std::string text = WriteOpenMetrics(series);
  EXPECT_EQ(text,
            "# TYPE ALERTS unknown\n"
            "ALERTS NaN 2\n"
            "# TYPE job:x unknown\n"
            "job:x{a=\"q\\\"\\\\\\n\"} 1.5 1\n"
            "job:x{a=\"q\\\"\\\\\\n\"} 1e+21 61.5\n"
            "# EOF\n");
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  absl::StatusOr<LoadStats> stats = LoadText(text, "out.om", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 3);
}

}  // namespace
}  // namespace promeval
