// Sample accounting (eval/accounting.h): the peak and total samples of
// queries as Prometheus 3.x counts them, and the sample limit failing
// exactly past the peak, for instant and range queries, serial and
// parallel.
//
// The data and times are those of tests/prometheus_stats_test.py, which
// compares the same figures with a loopback Prometheus 2.42: ten series x
// and ten series y sampled every 15s off the query's 30s grid, and a range
// query of 81 steps over 40 minutes. Figures marked "2.42 agrees" were
// read from Prometheus 2.42's stats=all; the others are where 3.x counts
// differently (each says why) and were worked out from Prometheus 3.14's
// promql/engine.go by hand.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"

namespace promeval {
namespace {

constexpr int64_t kBase = 1700000000;  // Seconds.
constexpr int64_t kStart = (kBase + 600) * 1000;
constexpr int64_t kEnd = kStart + 2400 * 1000;
constexpr int64_t kStep = 30 * 1000;

struct Figures {
  int64_t peak;
  int64_t total;
};

struct Case {
  std::string query;
  Figures range;
  Figures instant;
};

const std::vector<Case>& Cases() {
  static const auto* cases = new std::vector<Case>{
      // 2.42 agrees: 10 series x 81 steps.
      {"x", {810, 810}, {10, 10}},
      // 2.42 agrees: both operands (1620), then at the last step the output
      // of the 80 steps before (800), the 20 samples gathered and the 10
      // output.
      {"x + y", {2450, 1620}, {50, 20}},
      {"x + y + x", {2450, 2430}, {50, 30}},
      {"x * on(i) group_left y", {2450, 1620}, {50, 20}},
      // 2.42 agrees: series after series, the output so far, one window
      // of 20 samples and the series' output.
      {"rate(x[5m])", {830, 16200}, {30, 200}},
      // 3.x aggregates its held input without gathering it per step
      // (rangeEvalAgg): the input's 810, then the 81 outputs. 2.42 ran
      // aggregations on rangeEval: 901 and 21.
      {"sum(x)", {810, 810}, {10, 10}},
      // 3.x: sum(x) keeps 81, sum(y) holds 810 more; then rangeEval over
      // the two 81-sample operands peaks at 245. 2.42: 982 and 22.
      {"sum(x) + sum(y)", {891, 1620}, {11, 20}},
      // 3.x: the parameter (a literal, one sample per step) and the input.
      // 2.42: 1145 and 25.
      {"topk(3, x)", {891, 810}, {11, 10}},
      // 3.x passes label_replace's argument through without rangeEval.
      // 2.42: 1630 and 30.
      {"label_replace(x, \"j\", \"$1\", \"i\", \"(.*)\")",
       {810, 810},
       {10, 10}},
  };
  return *cases;
}

class AccountingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string om;
    for (const char* name : {"x", "y"}) {
      absl::StrAppend(&om, "# TYPE ", name, " gauge\n");
      for (int i = 0; i < 10; ++i) {
        for (int64_t t = kBase + 7; t <= kBase + 7200; t += 15) {
          absl::StrAppend(&om, name, "{i=\"", i, "\"} ", (t - kBase) % 97 + i,
                          " ", t, "\n");
        }
      }
    }
    absl::StrAppend(&om, "# EOF\n");
    absl::StatusOr<LoadStats> loaded =
        LoadText(om, "data.om", TextLoadOptions{}, storage_);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
  }

  std::unique_ptr<Engine> MakeEngine(int64_t max_samples, bool parallel) {
    EngineOptions options;
    options.max_samples = max_samples;
    options.workers = parallel ? 4 : 1;
    // Every loop over series is split among the workers.
    options.parallel_min_series = 1;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(options);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return *std::move(engine);
  }

  absl::StatusOr<QueryResult> Run(const std::string& query, bool instant,
                                  int64_t max_samples, bool parallel) {
    std::unique_ptr<Engine> engine = MakeEngine(max_samples, parallel);
    return instant ? engine->InstantQuery(storage_, query, kEnd)
                   : engine->RangeQuery(storage_, query, kStart, kEnd, kStep);
  }

  MemStorage storage_;
};

TEST_F(AccountingTest, PeakAndTotalArePrometheuss) {
  for (const Case& c : Cases()) {
    for (bool instant : {false, true}) {
      const Figures& want = instant ? c.instant : c.range;
      for (bool parallel : {false, true}) {
        SCOPED_TRACE(absl::StrCat(c.query, instant ? " instant" : " range",
                                  parallel ? " parallel" : " serial"));
        absl::StatusOr<QueryResult> r =
            Run(c.query, instant, 50000000, parallel);
        ASSERT_TRUE(r.ok()) << r.status();
        EXPECT_EQ(r->stats.peak_samples, want.peak);
        EXPECT_EQ(r->stats.total_queryable_samples, want.total);
      }
    }
  }
}

TEST_F(AccountingTest, LimitFailsExactlyPastThePeak) {
  for (const Case& c : Cases()) {
    for (bool instant : {false, true}) {
      const int64_t peak = instant ? c.instant.peak : c.range.peak;
      for (bool parallel : {false, true}) {
        SCOPED_TRACE(absl::StrCat(c.query, instant ? " instant" : " range",
                                  parallel ? " parallel" : " serial"));
        absl::StatusOr<QueryResult> at = Run(c.query, instant, peak, parallel);
        EXPECT_TRUE(at.ok()) << at.status();
        absl::StatusOr<QueryResult> below =
            Run(c.query, instant, peak - 1, parallel);
        EXPECT_TRUE(absl::IsResourceExhausted(below.status()))
            << below.status();
        EXPECT_EQ(below.status().message(),
                  "query processing would load too many samples into memory "
                  "in query execution");
      }
    }
  }
}

// The table of the issue that brought Prometheus's accounting in: with
// --query.max-samples=1500, Prometheus 2.42 fails x + y and its variants
// (their operands alone hold 1620 samples) and runs x and the sum of sums.
TEST_F(AccountingTest, LimitOf1500AsPrometheus) {
  const std::vector<std::pair<std::string, bool>> want = {
      {"x", true},
      {"x + y", false},
      {"x + y + x", false},
      {"x * on(i) group_left y", false},
      {"sum(x) + sum(y)", true}};
  for (const auto& [query, ok] : want) {
    for (bool parallel : {false, true}) {
      absl::StatusOr<QueryResult> r = Run(query, false, 1500, parallel);
      EXPECT_EQ(r.ok(), ok)
          << query << (parallel ? " parallel: " : ": ") << r.status();
    }
  }
}

// A nested subquery: 3.x's subqueries are left-open, so the inner one (at
// 1m steps, 1m range) evaluates only the step at its parent's own step
// (1700002980): x{i="1"} there (1 sample), the window over it (1 sample,
// 1 output, holding the inner point: 3), then the outer window likewise.
// 2.42's closed subqueries also evaluated the step a minute earlier: total
// 2 and peak 5.
TEST_F(AccountingTest, NestedSubqueryIsLeftOpen) {
  absl::StatusOr<QueryResult> r =
      Run("max_over_time(x{i=\"1\"}[1m:1m])[1m:1m]", true, 50000000, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.peak_samples, 3);
  EXPECT_EQ(r->stats.total_queryable_samples, 1);
  ASSERT_EQ(r->matrix.size(), 1u);
  ASSERT_EQ(r->matrix[0].points.size(), 1u);
  EXPECT_EQ(r->matrix[0].points[0].t, 1700002980 * int64_t{1000});
}

}  // namespace
}  // namespace promeval
