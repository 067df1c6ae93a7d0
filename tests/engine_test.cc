// The Engine API: result shapes and ordering, the errors and limits of
// Prometheus (texts and codes), timeout and cancellation, annotations,
// options.
#include "promeval/engine.h"

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/loaders.h"
#include "promeval/parser.h"
#include "promeval/status_macros.h"

namespace promeval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kMinute = 60 * 1000;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<LoadStats> loaded = LoadSeriesScript(
        R"(load 1m
  http_requests_total{job="api", code="500"} 0+1x10
  http_requests_total{job="api", code="200"} 0+10x10
  http_requests_total{job="web", code="200"} 0+20x10
  temperature{room="b"} 20 21 22 stale
  temperature{room="a"} 18x10
)",
        "data", storage_);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
  }

  std::unique_ptr<Engine> MakeEngine(EngineOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return *std::move(engine);
  }

  MemStorage storage_;
};

// `n` counters name{i="k", group="<k % groups>"} rising by k a minute, with
// a sample every minute from 0 to `minutes`.
void LoadCounters(MemStorage& storage, absl::string_view name,
                  absl::string_view group, int n, int groups, int minutes) {
  std::string script = "load 1m\n";
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&script, "  ", name, "{i=\"", i, "\", ", group, "=\"",
                    i % groups, "\"} 0+", i, "x", minutes, "\n");
  }
  absl::StatusOr<LoadStats> loaded = LoadSeriesScript(script, "data", storage);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
}

std::vector<std::string> LabelStrings(const Vector& v) {
  std::vector<std::string> out;
  for (const Sample& s : v) out.push_back(s.labels.ToString());
  return out;
}

TEST_F(EngineTest, InstantSelectorIsSortedByLabels) {
  absl::StatusOr<QueryResult> r =
      MakeEngine()->InstantQuery(storage_, "http_requests_total", 5 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, ValueType::kVector);
  EXPECT_THAT(
      LabelStrings(r->vector),
      ElementsAre(
          R"({__name__="http_requests_total", code="200", job="api"})",
          R"({__name__="http_requests_total", code="200", job="web"})",
          R"({__name__="http_requests_total", code="500", job="api"})"));
  EXPECT_EQ(r->vector[0].v, 50);
  EXPECT_EQ(r->vector[0].t, 5 * kMinute);
}

// Queries from several threads at once on an engine whose workers split
// every loop: each gets the single-threaded result (run under TSan too).
TEST_F(EngineTest, ConcurrentParallelQueriesMatchSerial) {
  MemStorage storage;
  LoadCounters(storage, "load_total", "g", 200, 7, 60);
  EngineOptions serial_options;
  serial_options.workers = 1;
  EngineOptions parallel_options;
  parallel_options.workers = 4;
  parallel_options.parallel_min_series = 1;
  std::unique_ptr<Engine> serial = MakeEngine(serial_options);
  std::unique_ptr<Engine> parallel = MakeEngine(parallel_options);
  const std::vector<std::string> queries = {
      "load_total",
      "rate(load_total[5m])",
      "sum by (g) (increase(load_total[10m]))",
      "max_over_time(load_total[7m]) - min_over_time(load_total[7m])",
      "quantile_over_time(0.9, load_total[5m])",
      "sum by (g) (rate(load_total[5m])) / sum by (g) (rate(load_total[9m])) "
      "* on (g) count by (g) (load_total)"};
  auto text = [](const QueryResult& r) {
    std::string out;
    for (const Series& s : r.matrix) {
      absl::StrAppend(&out, s.labels.ToString());
      for (const FPoint& p : s.points)
        absl::StrAppend(&out, " ", p.t, "=", p.v);
      out += "\n";
    }
    return out;
  };
  std::vector<std::string> want;
  for (const std::string& q : queries) {
    absl::StatusOr<QueryResult> r =
        serial->RangeQuery(storage, q, 0, 60 * kMinute, kMinute);
    ASSERT_TRUE(r.ok()) << r.status();
    want.push_back(text(*r));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t k = 0; k < queries.size(); ++k) {
          size_t q = (k + t) % queries.size();
          absl::StatusOr<QueryResult> r = parallel->RangeQuery(
              storage, queries[q], 0, 60 * kMinute, kMinute);
          if (!r.ok() || text(*r) != want[q]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// An aggregation over a range function takes the function's output series
// one at a time: it never holds them all (peak bytes far below the same
// query with the output materialised by `* 1`), gives the same result, and
// still counts them against the sample limit as Prometheus does.
TEST_F(EngineTest, AggregationOverARangeFunctionStreams) {
  MemStorage storage;
  LoadCounters(storage, "req_total", "pod", 500, 5, 300);
  EngineOptions options;
  options.workers = 1;
  std::unique_ptr<Engine> engine = MakeEngine(options);
  const int64_t end = 300 * kMinute;
  absl::StatusOr<QueryResult> streamed = engine->RangeQuery(
      storage, "sum by (pod) (rate(req_total[5m]))", 0, end, kMinute);
  absl::StatusOr<QueryResult> held = engine->RangeQuery(
      storage, "sum by (pod) (rate(req_total[5m]) * 1)", 0, end, kMinute);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_EQ(streamed->matrix.size(), 5u);  // pod="0".."4".
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(streamed->matrix[k].labels, held->matrix[k].labels);
    ASSERT_EQ(streamed->matrix[k].points.size(), held->matrix[k].points.size());
    for (size_t i = 0; i < streamed->matrix[k].points.size(); ++i) {
      EXPECT_EQ(streamed->matrix[k].points[i].v, held->matrix[k].points[i].v);
    }
  }
  // 500 series x 301 steps of rate output: about 1.2 MB held; the
  // aggregation's 5 x 301 cells: some KB.
  EXPECT_GT(held->stats.peak_bytes, 1000000);
  EXPECT_LT(streamed->stats.peak_bytes, held->stats.peak_bytes / 20);

  options.max_samples = 100000;  // Fewer than the rate output's 150 000.
  std::unique_ptr<Engine> limited = MakeEngine(options);
  absl::StatusOr<QueryResult> over = limited->RangeQuery(
      storage, "sum by (pod) (rate(req_total[5m]))", 0, end, kMinute);
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
}

// A range query evaluates every step at once (sliding windows, windows
// folded four at a time, sorted windows kept as they slide); each of its
// steps must equal an instant query at that step, which sees one window.
// Irregular samples (gaps, bursts, jitter), counters with resets, zeros,
// NaN and infinities.
TEST(EngineRangeTest, EveryStepEqualsAnInstantQuery) {
  MemStorage storage;
  std::mt19937_64 rng(5);
  std::unique_ptr<Appender> app = storage.NewAppender();
  for (int k = 0; k < 12; ++k) {
    const Labels labels{{"__name__", "m"}, {"k", absl::StrCat(k)}};
    int64_t t = static_cast<int64_t>(rng() % 30000);
    double v = 0;
    for (int i = 0; i < 400; ++i) {
      switch (rng() % 10) {
        case 0:
          t += 100000 + static_cast<int64_t>(rng() % 400000);  // A gap.
          break;
        case 1:
          t += 1 + static_cast<int64_t>(rng() % 3000);  // A burst.
          break;
        default:
          t += 15000 + static_cast<int64_t>(rng() % 200);
      }
      // Counters (k < 6, some with resets) and gauges with specials.
      if (k < 6) {
        v = (k % 2 == 1 && rng() % 50 == 0) ? 0 : v + rng() % 100;
      } else {
        switch (rng() % 40) {
          case 0:
            v = std::nan("");
            break;
          case 1:
            v = std::numeric_limits<double>::infinity();
            break;
          case 2:
            v = 0;
            break;
          default:
            v = static_cast<double>(rng() % 1000) / 7 - 50;
        }
      }
      app->Append(labels, t, v);
    }
  }
  ASSERT_TRUE(app->Commit().ok());
  EngineOptions options;
  options.workers = 1;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(options);
  ASSERT_TRUE(engine.ok());
  // Steps shorter than the scrape interval, and equal to it (windows one
  // sample apart: the four-window folds).
  for (const int64_t step : {7000, 15000})
    for (const char* query :
         {"rate(m[1m])", "increase(m[5m])", "delta(m[2m])", "irate(m[1m])",
          "avg_over_time(m[1m])", "avg_over_time(m[5m])",
          "sum_over_time(m[3m])", "max_over_time(m[5m])",
          "min_over_time(m[90s])", "quantile_over_time(0.3, m[5m])",
          "quantile_over_time(0.9, m[1m])", "count_over_time(m[2m])",
          "stddev_over_time(m[5m])", "max_over_time(rate(m[1m])[10m:1m])"}) {
      SCOPED_TRACE(absl::StrCat(query, " step ", step));
      const int64_t start = 0, end = 100 * kMinute;
      absl::StatusOr<QueryResult> range =
          (*engine)->RangeQuery(storage, query, start, end, step);
      ASSERT_TRUE(range.ok()) << range.status();
      // Every step's points by series.
      std::map<std::pair<std::string, int64_t>, double> points;
      for (const Series& s : range->matrix) {
        for (const FPoint& p : s.points) {
          points[{s.labels.ToString(), p.t}] = p.v;
        }
      }
      size_t seen = 0;
      for (int64_t t = start; t <= end; t += step) {
        absl::StatusOr<QueryResult> instant =
            (*engine)->InstantQuery(storage, query, t);
        ASSERT_TRUE(instant.ok()) << instant.status();
        for (const Sample& s : instant->vector) {
          auto it = points.find({s.labels.ToString(), t});
          ASSERT_NE(it, points.end()) << s.labels.ToString() << " at " << t;
          if (std::isnan(s.v)) {
            EXPECT_TRUE(std::isnan(it->second));
          } else {
            EXPECT_EQ(std::bit_cast<uint64_t>(it->second),
                      std::bit_cast<uint64_t>(s.v))
                << s.labels.ToString() << " at " << t << ": " << it->second
                << " vs " << s.v;
          }
          ++seen;
        }
      }
      EXPECT_EQ(seen, points.size());
      EXPECT_GT(seen, 500u);
    }
}

// The output series of vector matching come in the order Prometheus makes
// them: by the first step at which both sides of a pair have a value, then
// in the order of the "many" side. A subquery keeps that order into an
// instant query's result (which is not sorted).
TEST(EngineMatchingTest, OutputOrderFollowsFirstMatchThenLeftOrder) {
  MemStorage storage;
  absl::StatusOr<LoadStats> loaded = LoadSeriesScript(
      R"(load 1m
  a{k="1", g="x"} _ _ _ 1 1 5
  a{k="2", g="x"} 2 2 2 2 2 9
  a{k="3", g="y"} _ 3 3 3 3 3
  a{k="4", g="y"} _ _ 4 4 4 4
  b{g="x"} 10 10 10 10 10 10
  b{g="y"} _ _ 20 20 20 20
)",
      "data", storage);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::unique_ptr<Engine> engine = *Engine::Create(EngineOptions());
  for (const char* q :
       {"last_over_time((a / on (g) group_left b)[10m:1m])",
        "last_over_time((b * on (g) group_right a)[10m:1m])",
        "last_over_time((a > on (k, g) (a * 0 + 2))[10m:1m])"}) {
    absl::StatusOr<QueryResult> r =
        engine->InstantQuery(storage, q, 5 * kMinute);
    ASSERT_TRUE(r.ok()) << q << ": " << r.status();
    std::vector<std::string> order;
    for (const Sample& s : r->vector) {
      order.push_back(std::string(s.labels.Get("k")));
    }
    SCOPED_TRACE(q);
    if (absl::StrContains(q, ">")) {
      // A pair's output is made when both sides first have a value, even if
      // the comparison drops it: k=2 at minute 0 (kept only at 5), k=3 at 1,
      // k=4 at 2, k=1 at 3 (kept only at 5).
      EXPECT_THAT(order, ElementsAre("2", "3", "4", "1"));
    } else {
      // k=2 matches from minute 0; k=3 and k=4 from minute 2 (when b{g="y"}
      // starts), in that order; k=1 from minute 3.
      EXPECT_THAT(order, ElementsAre("2", "3", "4", "1"));
    }
  }
}

TEST_F(EngineTest, ScalarAndStringResults) {
  std::unique_ptr<Engine> engine = MakeEngine();
  absl::StatusOr<QueryResult> s =
      engine->InstantQuery(storage_, "1 + 2 * 3", 7000);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->type, ValueType::kScalar);
  EXPECT_EQ(s->scalar, 7);
  EXPECT_EQ(s->timestamp, 7000);
  absl::StatusOr<QueryResult> str =
      engine->InstantQuery(storage_, "\"hello\"", 7000);
  ASSERT_TRUE(str.ok()) << str.status();
  EXPECT_EQ(str->type, ValueType::kString);
  EXPECT_EQ(str->string, "hello");
}

TEST_F(EngineTest, RangeQueryIsAMatrixSortedByLabels) {
  // The temperature of room b goes stale at 3m: no points from then on.
  absl::StatusOr<QueryResult> r = MakeEngine()->RangeQuery(
      storage_, "temperature", kMinute, 4 * kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ValueType::kMatrix);
  ASSERT_EQ(r->matrix.size(), 2u);
  EXPECT_EQ(r->matrix[0].labels.Get("room"), "a");
  EXPECT_EQ(r->matrix[0].points.size(), 4u);
  EXPECT_EQ(r->matrix[1].labels.Get("room"), "b");
  ASSERT_EQ(r->matrix[1].points.size(), 2u);
  EXPECT_EQ(r->matrix[1].points[0].t, kMinute);
  EXPECT_EQ(r->matrix[1].points[0].v, 21);
  EXPECT_EQ(r->matrix[1].points[1].t, 2 * kMinute);
  EXPECT_EQ(r->matrix[1].points[1].v, 22);
}

TEST_F(EngineTest, ScalarRangeQueryIsOneSeriesWithoutLabels) {
  absl::StatusOr<QueryResult> r =
      MakeEngine()->RangeQuery(storage_, "time()", 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->matrix.size(), 1u);
  EXPECT_TRUE(r->matrix[0].labels.empty());
  ASSERT_EQ(r->matrix[0].points.size(), 3u);
  EXPECT_EQ(r->matrix[0].points[2].v, 120);
}

TEST_F(EngineTest, RangeQueryRejectsRangeVectors) {
  absl::StatusOr<QueryResult> r = MakeEngine()->RangeQuery(
      storage_, "http_requests_total[5m]", 0, kMinute, kMinute);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_EQ(r.status().message(),
            "invalid expression type \"range vector\" for range query, must be "
            "Scalar or "
            "instant Vector");
}

TEST_F(EngineTest, ParseErrorsReadLikePrometheus) {
  absl::StatusOr<QueryResult> r =
      MakeEngine()->InstantQuery(storage_, "sum(", 0);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_EQ(r.status().message(),
            "1:5: parse error: unclosed left parenthesis");
}

TEST_F(EngineTest, SameLabelsetIsAnEvaluationError) {
  // Setting code="x" makes the two job="api" series equal.
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage_,
      "label_replace(http_requests_total, \"code\", \"x\", \"\", \"\")",
      kMinute);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(r.status().message(),
            "vector cannot contain metrics with the same labelset");
}

TEST_F(EngineTest, TooManySamples) {
  EngineOptions options;
  options.max_samples = 5;
  std::unique_ptr<Engine> engine = MakeEngine(options);
  // 3 samples at one step fit; 3 series over 3 steps do not.
  EXPECT_TRUE(
      engine->InstantQuery(storage_, "http_requests_total", kMinute).ok());
  absl::StatusOr<QueryResult> r = engine->RangeQuery(
      storage_, "http_requests_total", 0, 2 * kMinute, kMinute);
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_EQ(r.status().message(),
            "query processing would load too many samples into memory in query "
            "execution");
}

// With the limit per step, a range query counts at each step what that
// step's instant query holds (more for subqueries, whose inner range is
// counted whole), so it fails exactly when some step would on its own.
TEST_F(EngineTest, PerStepSampleLimitCountsWhatEachStepHolds) {
  std::unique_ptr<Engine> engine = MakeEngine();
  const QueryControl per_step{.sample_limit_per_step = true};
  struct Case {
    const char* query;
    bool exact;  // Subqueries count at least as much.
  };
  for (const Case& c : std::vector<Case>{
           {"http_requests_total", true},
           {"temperature", true},
           {"http_requests_total @ 120", true},
           {"rate(http_requests_total[3m])", true},
           {"sum by (job) (rate(http_requests_total[3m]))", true},
           {"http_requests_total * 2 + on (job, code) http_requests_total",
            true},
           {"max_over_time(temperature[3m:1m])", false},
           {"count_over_time(http_requests_total[5m:1m])", false}}) {
    ExprPtr expr = *ParseExpr(c.query);
    int64_t most = 0;
    for (int64_t t = 0; t <= 10 * kMinute; t += kMinute) {
      absl::StatusOr<QueryResult> at =
          engine->Evaluate(storage_, *expr, c.query, t, t, 1, true);
      ASSERT_TRUE(at.ok()) << c.query << at.status();
      most = std::max(most, at->stats.peak_samples);
    }
    absl::StatusOr<QueryResult> range = engine->Evaluate(
        storage_, *expr, c.query, 0, 10 * kMinute, kMinute, false, per_step);
    ASSERT_TRUE(range.ok()) << c.query << range.status();
    EXPECT_GT(most, 0) << c.query;
    if (c.exact) {
      EXPECT_EQ(range->stats.peak_samples, most) << c.query;
    } else {
      EXPECT_GE(range->stats.peak_samples, most) << c.query;
    }
  }

  // Each step selects 3 samples, all 11 steps 33.
  EngineOptions options;
  options.max_samples = 3;
  std::unique_ptr<Engine> limited = MakeEngine(options);
  ExprPtr expr = *ParseExpr("http_requests_total");
  EXPECT_TRUE(limited
                  ->Evaluate(storage_, *expr, "http_requests_total", 0,
                             10 * kMinute, kMinute, false, per_step)
                  .ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      limited
          ->Evaluate(storage_, *expr, "http_requests_total", 0, 10 * kMinute,
                     kMinute, false)
          .status()));
  options.max_samples = 2;
  EXPECT_TRUE(absl::IsResourceExhausted(
      MakeEngine(options)
          ->Evaluate(storage_, *expr, "http_requests_total", 0, 10 * kMinute,
                     kMinute, false, per_step)
          .status()));
}

TEST_F(EngineTest, StepInvariantSamplesCountAtEveryStep) {
  // `@` fixes the time: the 3 samples of one step are repeated at each of 3
  // steps, 9 samples in all, as Prometheus counts them (its limit error
  // comes from copying the points to every step).
  EngineOptions options;
  options.max_samples = 5;
  std::unique_ptr<Engine> engine = MakeEngine(options);
  for (const char* query :
       {"http_requests_total @ 60", "rate(http_requests_total[2m] @ 60)"}) {
    absl::StatusOr<QueryResult> r =
        engine->RangeQuery(storage_, query, 0, 2 * kMinute, kMinute);
    EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << query << r.status();
  }
  options.max_samples = 9;
  absl::StatusOr<QueryResult> fits = MakeEngine(options)->RangeQuery(
      storage_, "http_requests_total @ 60", 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->stats.peak_samples, 9);
}

TEST_F(EngineTest, ByteLimit) {
  // 3 series over 11 steps: 3 x (96 + 11 x 8) = 552 bytes for the selector.
  // In `a * 2 + a` the left operand's 552 bytes are held while the right one
  // is evaluated: 1104.
  EngineOptions options;
  options.max_bytes = 1000;
  std::unique_ptr<Engine> engine = MakeEngine(options);
  absl::StatusOr<QueryResult> under = engine->RangeQuery(
      storage_, "http_requests_total", 0, 10 * kMinute, kMinute);
  ASSERT_TRUE(under.ok()) << under.status();
  EXPECT_EQ(under->stats.peak_bytes, 552);
  absl::StatusOr<QueryResult> over = engine->RangeQuery(
      storage_, "http_requests_total * 2 + http_requests_total", 0,
      10 * kMinute, kMinute);
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_EQ(over.status().message(),
            "query processing would use more than 1000 bytes of memory in "
            "query execution (the query byte limit)");
  // The position of the subexpression that went over: the right operand.
  ASSERT_TRUE(ErrorPosition(over.status()).has_value());
  EXPECT_EQ(ErrorPosition(over.status())->start, 26);
}

TEST_F(EngineTest, StepsBeyondTheSampleLimitFailBeforeAllocating) {
  // 30 days at 1 ms is 2.6e9 steps: more than the sample limit (and than an
  // int), rejected up front.
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage_, "count_over_time(temperature[30d:1ms])", kMinute);
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  r = MakeEngine()->RangeQuery(storage_, "vector(1)", 0, int64_t{1} << 40, 1);
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
}

TEST_F(EngineTest, PathologicalRegexesRunInLinearTime) {
  // A backtracking engine takes exponential time on (a*)*b against a long
  // run of a's; RE2 does not (a hang here would time the test out).
  MemStorage storage;
  ASSERT_TRUE(LoadSeriesScript(absl::StrCat("load 1m\n  m{v=\"",
                                            std::string(5000, 'a'), "\"} 1\n"),
                               "data", storage)
                  .ok());
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage,
      "m{v=~\"(a*)*b\"} or label_replace(m, \"w\", \"$1\", \"v\", "
      "\"(a|aa)*c\")",
      0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->vector.size(), 1u);
}

TEST_F(EngineTest, Timeout) {
  EngineOptions options;
  options.timeout = absl::Nanoseconds(1);
  absl::StatusOr<QueryResult> r = MakeEngine(options)->InstantQuery(
      storage_, "sum(http_requests_total)", kMinute);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "query timed out in query execution");
}

TEST_F(EngineTest, Cancellation) {
  std::atomic<bool> cancelled{true};
  QueryControl control;
  control.cancelled = &cancelled;
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage_, "sum(http_requests_total)", kMinute, control);
  EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "query was canceled in query execution");
  cancelled = false;
  EXPECT_TRUE(
      MakeEngine()
          ->InstantQuery(storage_, "sum(http_requests_total)", kMinute, control)
          .ok());
}

TEST_F(EngineTest, AnnotationsCarryPositions) {
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage_, "rate(temperature[5m])", 2 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->annotations.size(), 1u);
  EXPECT_EQ(r->annotations[0].kind, Annotation::Kind::kInfo);
  EXPECT_EQ(r->annotations[0].ToString("rate(temperature[5m])"),
            "PromQL info: metric might not be a counter, name does not end in "
            "_total/_sum/_count/_bucket: \"temperature\" (1:6)");
}

TEST_F(EngineTest, DelayedNameRemovalKeepsTheNameUntilTheEnd) {
  const std::string query =
      "label_replace(rate(http_requests_total{code=\"500\"}[5m]), \"name\", "
      "\"$1\", "
      "\"__name__\", \"(.*)\")";
  absl::StatusOr<QueryResult> off =
      MakeEngine()->InstantQuery(storage_, query, 5 * kMinute);
  ASSERT_TRUE(off.ok()) << off.status();
  ASSERT_EQ(off->vector.size(), 1u);
  EXPECT_EQ(off->vector[0].labels.Get("name"), "");
  EngineOptions options;
  ASSERT_TRUE(EnableEngineFeature("promql-delayed-name-removal", options).ok());
  absl::StatusOr<QueryResult> on =
      MakeEngine(options)->InstantQuery(storage_, query, 5 * kMinute);
  ASSERT_TRUE(on.ok()) << on.status();
  ASSERT_EQ(on->vector.size(), 1u);
  EXPECT_EQ(on->vector[0].labels.Get("name"), "http_requests_total");
  EXPECT_EQ(on->vector[0].labels.Get("__name__"), "");
}

TEST_F(EngineTest, LookbackDeltaOption) {
  EngineOptions options;
  options.lookback_delta_ms = 30 * 1000;
  // The last sample of room a is at 9m: visible at 9m20s with a 30s
  // lookback, gone at 9m40s.
  std::unique_ptr<Engine> engine = MakeEngine(options);
  absl::StatusOr<QueryResult> r = engine->InstantQuery(
      storage_, "temperature{room=\"a\"}", 9 * kMinute + 20000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->vector.size(), 1u);
  r = engine->InstantQuery(storage_, "temperature{room=\"a\"}",
                           9 * kMinute + 40000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->vector.empty());
}

TEST_F(EngineTest, ExperimentalSyntaxNeedsItsFeature) {
  absl::StatusOr<QueryResult> r = MakeEngine()->InstantQuery(
      storage_, "limitk(1, http_requests_total)", kMinute);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_THAT(r.status().message(), HasSubstr("limitk() is experimental"));
  EngineOptions options;
  ASSERT_TRUE(
      EnableEngineFeature("promql-experimental-functions", options).ok());
  r = MakeEngine(options)->InstantQuery(
      storage_, "limitk(1, http_requests_total)", kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->vector.size(), 1u);
}

TEST_F(EngineTest, LongOperatorChainsEvaluateWithoutRecursion) {
  // Far more terms than stack frames would allow: evaluated in a loop.
  std::string scalars = "1", vectors = "temperature{room=\"a\"}";
  for (int i = 1; i < 100000; ++i) scalars += " + 1";
  for (int i = 1; i < 50000; ++i) vectors += " + temperature{room=\"a\"}";
  std::unique_ptr<Engine> engine = MakeEngine();
  absl::StatusOr<QueryResult> r =
      engine->RangeQuery(storage_, scalars, 0, kMinute, kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->matrix[0].points[1].v, 100000);
  r = engine->InstantQuery(storage_, vectors, kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].v, 18.0 * 50000);
}

TEST(EngineOptionsTest, UnknownFeatureAndBadOptions) {
  EngineOptions options;
  EXPECT_TRUE(
      absl::IsNotFound(EnableEngineFeature("no-such-feature", options)));
  options.lookback_delta_ms = 0;
  EXPECT_FALSE(Engine::Create(options).ok());
  options = EngineOptions();
  options.default_subquery_step_ms = -1;
  EXPECT_FALSE(Engine::Create(options).ok());
}

TEST(EngineConcurrencyTest, QueriesRunConcurrentlyOnOneEngine) {
  MemStorage storage;
  ASSERT_TRUE(
      LoadSeriesScript("load 1m\n  x{i=\"1\"} 0+1x100\n  x{i=\"2\"} 0+2x100\n",
                       "data", storage)
          .ok());
  std::unique_ptr<Engine> engine = *Engine::Create(EngineOptions());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<QueryResult> r = engine->RangeQuery(
            storage, "sum(rate(x[5m]))", 10 * kMinute, 90 * kMinute, kMinute);
        if (!r.ok() || r->matrix.size() != 1 ||
            std::fabs(r->matrix[0].points[0].v - 3.0 / 60) > 1e-12) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
}

// A host service's own store: the engine reads any Queryable.
class FixedQueryable : public Queryable {
 public:
  FixedQueryable()
      : labels_({{"__name__", "jobs_queued"}, {"queue", "batch"}}) {
    for (int i = 0; i <= 10; ++i) {
      timestamps_.push_back(i * kMinute);
      values_.push_back(i * 2.0);
    }
  }
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t,
                                                      int64_t) override {
    return std::unique_ptr<Querier>(new FixedQuerier(this));
  }

 private:
  class FixedQuerier : public Querier {
   public:
    explicit FixedQuerier(const FixedQueryable* q) : q_(q) {}
    absl::StatusOr<std::vector<SeriesData>> Select(
        absl::Span<const Matcher> matchers, int64_t, int64_t) override {
      for (const Matcher& m : matchers) {
        if (!m.Matches(q_->labels_.Get(m.name())))
          return std::vector<SeriesData>();
      }
      return std::vector<SeriesData>{
          SeriesData{&q_->labels_, q_->timestamps_, q_->values_}};
    }

   private:
    const FixedQueryable* q_;
  };

  Labels labels_;
  std::vector<int64_t> timestamps_;
  std::vector<double> values_;
};

// A store whose querier records the threads that call Select, and says
// that it may be called from several at once. Selects from the thread that
// made the querier take a while, so that a worker surely starts a forked
// subtree before the querying thread could take it back.
class ThreadRecordingQueryable : public Queryable {
 public:
  explicit ThreadRecordingQueryable(MemStorage& inner) : inner_(inner) {}
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override {
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q,
                              inner_.NewQuerier(mint, maxt));
    return std::unique_ptr<Querier>(new Recording(std::move(q), *this));
  }
  size_t Threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_.size();
  }

 private:
  class Recording : public Querier {
   public:
    Recording(std::unique_ptr<Querier> inner, ThreadRecordingQueryable& owner)
        : inner_(std::move(inner)), owner_(owner) {}
    absl::StatusOr<std::vector<SeriesData>> Select(
        absl::Span<const Matcher> matchers, int64_t mint,
        int64_t maxt) override {
      {
        std::lock_guard<std::mutex> lock(owner_.mu_);
        owner_.threads_.insert(std::this_thread::get_id());
      }
      if (std::this_thread::get_id() == creator_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return inner_->Select(matchers, mint, maxt);
    }
    bool ConcurrentSelect() const override { return true; }

   private:
    std::unique_ptr<Querier> inner_;
    ThreadRecordingQueryable& owner_;
    const std::thread::id creator_ = std::this_thread::get_id();
  };

  MemStorage& inner_;
  std::mutex mu_;
  std::set<std::thread::id> threads_;
};

// With workers, the two operands of a binary operator are evaluated at the
// same time (the store's Select is called from two threads); the result,
// its annotations (in the serial order), statistics and errors (with their
// positions) are the serial run's.
TEST_F(EngineTest, OperandsEvaluateInParallelWithTheSerialResult) {
  MemStorage storage;
  LoadCounters(storage, "left_total", "g", 300, 3, 60);
  LoadCounters(storage, "right", "g", 300, 3, 60);  // Not named a counter.
  EngineOptions serial_options;
  serial_options.workers = 1;
  EngineOptions parallel_options;
  parallel_options.workers = 2;
  std::unique_ptr<Engine> serial = MakeEngine(serial_options);
  std::unique_ptr<Engine> parallel = MakeEngine(parallel_options);
  // Both sides annotate (rate of a non-counter name, an invalid quantile).
  const std::string query =
      "sum by (g) (rate(right[5m])) / on (g) "
      "quantile by (g) (2, rate(left_total[5m]) + on (i, g) rate(right[2m]))";
  ThreadRecordingQueryable recording(storage);
  absl::StatusOr<QueryResult> want =
      serial->RangeQuery(storage, query, 0, 60 * kMinute, kMinute);
  absl::StatusOr<QueryResult> got =
      parallel->RangeQuery(recording, query, 0, 60 * kMinute, kMinute);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(recording.Threads(), 2u);
  ASSERT_EQ(got->matrix.size(), want->matrix.size());
  for (size_t i = 0; i < want->matrix.size(); ++i) {
    EXPECT_EQ(got->matrix[i].labels, want->matrix[i].labels);
    ASSERT_EQ(got->matrix[i].points.size(), want->matrix[i].points.size());
    for (size_t k = 0; k < want->matrix[i].points.size(); ++k) {
      EXPECT_EQ(std::bit_cast<uint64_t>(got->matrix[i].points[k].v),
                std::bit_cast<uint64_t>(want->matrix[i].points[k].v));
    }
  }
  ASSERT_EQ(want->annotations.size(), 3u);  // Two infos, one warning.
  EXPECT_EQ(got->annotations, want->annotations);
  EXPECT_EQ(got->stats.samples_read, want->stats.samples_read);
  EXPECT_EQ(got->stats.peak_samples, want->stats.peak_samples);
  EXPECT_EQ(got->stats.peak_bytes, want->stats.peak_bytes);

  // Limits: the right operand over the byte limit only on top of the left
  // one, and an error in the right operand, fail as in the serial run.
  for (int64_t max_bytes :
       {want->stats.peak_bytes - 1, want->stats.peak_bytes / 2}) {
    serial_options.max_bytes = parallel_options.max_bytes = max_bytes;
    absl::StatusOr<QueryResult> s =
        MakeEngine(serial_options)
            ->RangeQuery(storage, query, 0, 60 * kMinute, kMinute);
    absl::StatusOr<QueryResult> p =
        MakeEngine(parallel_options)
            ->RangeQuery(recording, query, 0, 60 * kMinute, kMinute);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(p.status(), s.status());
    EXPECT_EQ(ErrorPosition(p.status()), ErrorPosition(s.status()));
  }
  const std::string failing =
      "sum(rate(left_total[5m])) + (right * on (g) right)";  // Many-to-many.
  absl::StatusOr<QueryResult> s =
      serial->RangeQuery(storage, failing, 0, 60 * kMinute, kMinute);
  absl::StatusOr<QueryResult> p =
      parallel->RangeQuery(recording, failing, 0, 60 * kMinute, kMinute);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(p.status(), s.status());
  EXPECT_EQ(ErrorPosition(p.status()), ErrorPosition(s.status()));
}

TEST(EngineStorageTest, QueriesAHostProvidedStore) {
  FixedQueryable store;
  std::unique_ptr<Engine> engine = *Engine::Create(EngineOptions());
  absl::StatusOr<QueryResult> r = engine->InstantQuery(
      store, "deriv(jobs_queued{queue=\"batch\"}[5m]) * 60", 10 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].labels.ToString(), "{queue=\"batch\"}");
  EXPECT_DOUBLE_EQ(r->vector[0].v, 2.0);
  r = engine->InstantQuery(store, "jobs_queued{queue=\"other\"}", 10 * kMinute);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->vector.empty());
}

}  // namespace
}  // namespace promeval
