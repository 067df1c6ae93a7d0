// MemStorage: label-ordered selection, matchers, time filtering, atomic
// commits with Prometheus's out-of-order and duplicate rules, stale markers,
// and concurrent readers.
#include "promeval/storage.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/labels.h"
#include "promeval/value.h"

namespace promeval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

Matcher M(MatchType type, std::string name, std::string value) {
  absl::StatusOr<Matcher> m =
      Matcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

// One selected series, copied out of the querier.
struct Selected {
  std::string labels;  // Labels::ToString().
  std::vector<int64_t> timestamps;
  std::vector<double> values;
  bool no_stale_markers = false;
};

std::vector<Selected> Select(Queryable& storage,
                             const std::vector<Matcher>& matchers,
                             int64_t mint = kMinTime, int64_t maxt = kMaxTime) {
  absl::StatusOr<std::unique_ptr<Querier>> q = storage.NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok()) << q.status();
  if (!q.ok()) return {};
  absl::StatusOr<std::vector<SeriesData>> data =
      (*q)->Select(matchers, mint, maxt);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return {};
  std::vector<Selected> out;
  for (const SeriesData& s : *data) {
    EXPECT_EQ(s.timestamps.size(), s.values.size());
    out.push_back(Selected{s.labels->ToString(),
                           {s.timestamps.begin(), s.timestamps.end()},
                           {s.values.begin(), s.values.end()},
                           s.no_stale_markers});
  }
  return out;
}

// The label strings of the selected series, in the order returned.
std::vector<std::string> SelectLabels(MemStorage& storage,
                                      const std::vector<Matcher>& matchers,
                                      int64_t mint = kMinTime,
                                      int64_t maxt = kMaxTime) {
  std::vector<std::string> out;
  for (const Selected& s : Select(storage, matchers, mint, maxt)) {
    out.push_back(s.labels);
  }
  return out;
}

std::string Str(const Labels& l) { return l.ToString(); }

// A matcher that selects every series (it matches the empty string and
// every name).
Matcher All() { return M(MatchType::kRegexp, "__name__", ".*"); }

void Add(MemStorage& storage, const Labels& labels,
         std::vector<int64_t> timestamps, std::vector<double> values) {
  std::unique_ptr<Appender> app = storage.NewAppender();
  app->AppendSamples(labels, timestamps, values);
  absl::Status s = app->Commit();
  ASSERT_TRUE(s.ok()) << s;
}

TEST(MemStorageTest, EmptyStorage) {
  MemStorage storage;
  EXPECT_EQ(storage.NumSeries(), 0);
  EXPECT_EQ(storage.NumSamples(), 0);
  EXPECT_THAT(Select(storage, {All()}), IsEmpty());
  EXPECT_THAT(Select(storage, {M(MatchType::kEqual, "__name__", "x")}),
              IsEmpty());
}

TEST(MemStorageTest, SelectReturnsSeriesInLabelOrder) {
  const Labels a{{"__name__", "a"}};
  const Labels a_x10{{"__name__", "a"}, {"x", "10"}};
  const Labels a_x2{{"__name__", "a"}, {"x", "2"}};
  const Labels a_y0{{"__name__", "a"}, {"y", "0"}};
  const Labels b_x1{{"__name__", "b"}, {"x", "1"}};
  const Labels upper{{"A", "1"}};  // "A" < "__name__" < "z" byte-wise.
  const Labels z{{"z", "1"}};

  MemStorage storage;
  // Scrambled insertion order, over several commits and within one.
  Add(storage, z, {1}, {1});
  Add(storage, a_x2, {1}, {1});
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(b_x1, 1, 1);
    app->Append(a_y0, 1, 1);
    app->Append(upper, 1, 1);
    ASSERT_TRUE(app->Commit().ok());
  }
  Add(storage, a_x10, {1}, {1});
  Add(storage, a, {1}, {1});

  // CompareLabels: pairwise by name, then value, byte-wise; a prefix first.
  EXPECT_THAT(SelectLabels(storage, {All()}),
              ElementsAre(Str(upper), Str(a), Str(a_x10), Str(a_x2), Str(a_y0),
                          Str(b_x1), Str(z)));
  EXPECT_THAT(SelectLabels(storage, {M(MatchType::kEqual, "__name__", "a")}),
              ElementsAre(Str(a), Str(a_x10), Str(a_x2), Str(a_y0)));

  // Appending to an existing series does not change the order.
  Add(storage, a_x10, {2}, {2});
  EXPECT_THAT(SelectLabels(storage, {All()}),
              ElementsAre(Str(upper), Str(a), Str(a_x10), Str(a_x2), Str(a_y0),
                          Str(b_x1), Str(z)));
}

TEST(MemStorageTest, SpansHoldSamplesInTimeOrder) {
  const Labels l{{"__name__", "m"}};
  MemStorage storage;
  Add(storage, l, {10, 20}, {1.5, 2.5});
  Add(storage, l, {30}, {-3});
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(l, 40, 4);
    app->Append(l, 50, 5);
    ASSERT_TRUE(app->Commit().ok());
  }
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, Str(l));
  EXPECT_THAT(got[0].timestamps, ElementsAre(10, 20, 30, 40, 50));
  EXPECT_THAT(got[0].values, ElementsAre(1.5, 2.5, -3, 4, 5));
  EXPECT_EQ(storage.NumSeries(), 1);
  EXPECT_EQ(storage.NumSamples(), 5);
}

class MatcherSelectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Inserted in an order unrelated to the label order.
    Add(storage_, n_a_, {1}, {1});
    Add(storage_, m_x_, {1}, {1});
    Add(storage_, m_, {1}, {1});
    Add(storage_, m_ab_, {1}, {1});
    Add(storage_, m_a_, {1}, {1});
  }

  std::vector<std::string> Sel(std::vector<Matcher> matchers) {
    return SelectLabels(storage_, matchers);
  }

  const Labels m_{{"__name__", "m"}};
  const Labels m_a_{{"__name__", "m"}, {"l", "a"}};
  const Labels m_ab_{{"__name__", "m"}, {"l", "ab"}};
  const Labels m_x_{{"__name__", "m"}, {"l", "x"}};
  const Labels n_a_{{"__name__", "n"}, {"k", "1"}, {"l", "a"}};
  MemStorage storage_;
};

TEST_F(MatcherSelectTest, Equal) {
  EXPECT_THAT(Sel({M(MatchType::kEqual, "l", "a")}),
              ElementsAre(Str(m_a_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "l", "ab")}), ElementsAre(Str(m_ab_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "l", "b")}), IsEmpty());
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "m")}),
              ElementsAre(Str(m_), Str(m_a_), Str(m_ab_), Str(m_x_)));
}

TEST_F(MatcherSelectTest, NotEqual) {
  // A series without `l` has l="" and so matches l!="a".
  EXPECT_THAT(Sel({M(MatchType::kNotEqual, "l", "a")}),
              ElementsAre(Str(m_), Str(m_ab_), Str(m_x_)));
  EXPECT_THAT(Sel({M(MatchType::kNotEqual, "l", "x")}),
              ElementsAre(Str(m_), Str(m_a_), Str(m_ab_), Str(n_a_)));
}

TEST_F(MatcherSelectTest, RegexpIsFullyAnchored) {
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "a")}),
              ElementsAre(Str(m_a_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "b")}), IsEmpty());
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "a.*")}),
              ElementsAre(Str(m_a_), Str(m_ab_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "a|x")}),
              ElementsAre(Str(m_a_), Str(m_x_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", ".+")}),
              ElementsAre(Str(m_a_), Str(m_ab_), Str(m_x_), Str(n_a_)));
}

TEST_F(MatcherSelectTest, NotRegexp) {
  EXPECT_THAT(Sel({M(MatchType::kNotRegexp, "l", "a.*")}),
              ElementsAre(Str(m_), Str(m_x_)));
  // Anchored: "b" does not match "ab", so l!~"b" keeps it.
  EXPECT_THAT(
      Sel({M(MatchType::kNotRegexp, "l", "b")}),
      ElementsAre(Str(m_), Str(m_a_), Str(m_ab_), Str(m_x_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kNotRegexp, "l", ".*")}), IsEmpty());
}

TEST_F(MatcherSelectTest, MatchersOfTheEmptyStringSelectSeriesWithoutTheLabel) {
  EXPECT_THAT(Sel({M(MatchType::kEqual, "l", "")}), ElementsAre(Str(m_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "x|")}),
              ElementsAre(Str(m_), Str(m_x_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "")}), ElementsAre(Str(m_)));
  EXPECT_THAT(Sel({M(MatchType::kNotEqual, "l", "")}),
              ElementsAre(Str(m_a_), Str(m_ab_), Str(m_x_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kNotRegexp, "l", "")}),
              ElementsAre(Str(m_a_), Str(m_ab_), Str(m_x_), Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "k", "")}),
              ElementsAre(Str(m_), Str(m_a_), Str(m_ab_), Str(m_x_)));
}

TEST_F(MatcherSelectTest, SeveralMatchersIntersect) {
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "m"),
                   M(MatchType::kRegexp, "l", "a|x")}),
              ElementsAre(Str(m_a_), Str(m_x_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "m"),
                   M(MatchType::kNotEqual, "l", "a")}),
              ElementsAre(Str(m_), Str(m_ab_), Str(m_x_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "n"),
                   M(MatchType::kEqual, "l", "ab")}),
              IsEmpty());
  EXPECT_THAT(
      Sel({M(MatchType::kEqual, "l", "a"), M(MatchType::kEqual, "k", "")}),
      ElementsAre(Str(m_a_)));
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "l", "a.*"),
                   M(MatchType::kNotRegexp, "l", "ab"),
                   M(MatchType::kEqual, "k", "1")}),
              ElementsAre(Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kNotEqual, "l", "a"),
                   M(MatchType::kNotEqual, "l", "")}),
              ElementsAre(Str(m_ab_), Str(m_x_)));
  EXPECT_THAT(
      Sel({M(MatchType::kEqual, "l", "a"), M(MatchType::kEqual, "l", "x")}),
      IsEmpty());
}

TEST_F(MatcherSelectTest, LabelThatNoSeriesHas) {
  EXPECT_THAT(Sel({M(MatchType::kEqual, "nosuch", "v")}), IsEmpty());
  EXPECT_THAT(Sel({M(MatchType::kRegexp, "nosuch", ".+")}), IsEmpty());
  // Every series has nosuch="".
  const auto all =
      ElementsAre(Str(m_), Str(m_a_), Str(m_ab_), Str(m_x_), Str(n_a_));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "nosuch", "")}), all);
  EXPECT_THAT(Sel({M(MatchType::kNotEqual, "nosuch", "v")}), all);
  EXPECT_THAT(Sel({M(MatchType::kNotRegexp, "nosuch", "v.*")}), all);
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "n"),
                   M(MatchType::kNotEqual, "nosuch", "v")}),
              ElementsAre(Str(n_a_)));
  EXPECT_THAT(Sel({M(MatchType::kEqual, "__name__", "n"),
                   M(MatchType::kEqual, "nosuch", "v")}),
              IsEmpty());
}

TEST(MemStorageTest, SelectSkipsSeriesWithAllSamplesOutsideTheRange) {
  const Labels early{{"__name__", "early"}};  // 10, 20
  const Labels late{{"__name__", "late"}};    // 100, 200
  const Labels mid{{"__name__", "mid"}};      // 30
  MemStorage storage;
  Add(storage, early, {10, 20}, {1, 2});
  Add(storage, late, {100, 200}, {3, 4});
  Add(storage, mid, {30}, {5});

  EXPECT_THAT(SelectLabels(storage, {All()}, 25, 150),
              ElementsAre(Str(late), Str(mid)));
  // Inclusive bounds.
  EXPECT_THAT(SelectLabels(storage, {All()}, 20, 20), ElementsAre(Str(early)));
  EXPECT_THAT(SelectLabels(storage, {All()}, 0, 10), ElementsAre(Str(early)));
  EXPECT_THAT(SelectLabels(storage, {All()}, 200, 1000),
              ElementsAre(Str(late)));
  EXPECT_THAT(SelectLabels(storage, {All()}, 30, 100),
              ElementsAre(Str(late), Str(mid)));
  EXPECT_THAT(SelectLabels(storage, {All()}, 21, 29), IsEmpty());
  EXPECT_THAT(SelectLabels(storage, {All()}, 201, 300), IsEmpty());
  EXPECT_THAT(SelectLabels(storage, {All()}, 0, 9), IsEmpty());
  EXPECT_THAT(SelectLabels(storage, {All()}, 0, 1000),
              ElementsAre(Str(early), Str(late), Str(mid)));

  // A returned series has all its samples in its spans, also those outside.
  std::vector<Selected> got = Select(storage, {All()}, 150, 150);
  for (const Selected& s : got) {
    if (s.labels == Str(late)) {
      EXPECT_THAT(s.timestamps, ElementsAre(100, 200));
      EXPECT_THAT(s.values, ElementsAre(3, 4));
    }
  }
}

TEST(MemStorageTest, NothingIsVisibleBeforeCommit) {
  const Labels l{{"__name__", "m"}};
  MemStorage storage;
  std::unique_ptr<Appender> app = storage.NewAppender();
  app->Append(l, 10, 1);
  app->AppendSamples(l, std::vector<int64_t>{20, 30},
                     std::vector<double>{2, 3});
  EXPECT_EQ(storage.NumSeries(), 0);
  EXPECT_EQ(storage.NumSamples(), 0);
  EXPECT_THAT(Select(storage, {All()}), IsEmpty());
  ASSERT_TRUE(app->Commit().ok());
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(10, 20, 30));
  EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3));

  // Same for samples of an existing series.
  app = storage.NewAppender();
  app->Append(l, 40, 4);
  EXPECT_EQ(storage.NumSamples(), 3);
  EXPECT_THAT(Select(storage, {All()})[0].timestamps, ElementsAre(10, 20, 30));
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_THAT(Select(storage, {All()})[0].timestamps,
              ElementsAre(10, 20, 30, 40));
  EXPECT_EQ(storage.NumSamples(), 4);
}

TEST(MemStorageTest, AppendSamplesEqualsAppendingOneByOne) {
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}, {"j", "x"}};
  const std::vector<int64_t> ts_a{0, 15, 30, 30, 45};
  const std::vector<double> vs_a{1, 2, 3, 3, -0.5};
  const std::vector<int64_t> ts_b{5, 6};
  const std::vector<double> vs_b{std::nan(""), StaleNaN()};

  MemStorage bulk;
  {
    std::unique_ptr<Appender> app = bulk.NewAppender();
    app->AppendSamples(b, ts_b, vs_b);
    app->AppendSamples(a, ts_a, vs_a);
    ASSERT_TRUE(app->Commit().ok());
  }
  MemStorage single;
  {
    std::unique_ptr<Appender> app = single.NewAppender();
    for (size_t i = 0; i < ts_b.size(); ++i) app->Append(b, ts_b[i], vs_b[i]);
    for (size_t i = 0; i < ts_a.size(); ++i) app->Append(a, ts_a[i], vs_a[i]);
    ASSERT_TRUE(app->Commit().ok());
  }
  // A mix of both, split over two calls each.
  MemStorage mixed;
  {
    std::unique_ptr<Appender> app = mixed.NewAppender();
    app->Append(a, 0, 1);
    app->AppendSamples(b, absl::MakeConstSpan(ts_b).subspan(0, 1),
                       absl::MakeConstSpan(vs_b).subspan(0, 1));
    app->AppendSamples(a, absl::MakeConstSpan(ts_a).subspan(1, 3),
                       absl::MakeConstSpan(vs_a).subspan(1, 3));
    app->Append(b, ts_b[1], vs_b[1]);
    app->Append(a, 45, -0.5);
    ASSERT_TRUE(app->Commit().ok());
  }

  for (MemStorage* s : {&bulk, &single, &mixed}) {
    EXPECT_EQ(s->NumSeries(), 2);
    // The repeated (30, 3) is stored once.
    EXPECT_EQ(s->NumSamples(), 6);
    std::vector<Selected> got = Select(*s, {All()});
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].labels, Str(a));
    EXPECT_THAT(got[0].timestamps, ElementsAre(0, 15, 30, 45));
    EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3, -0.5));
    EXPECT_EQ(got[1].labels, Str(b));
    EXPECT_THAT(got[1].timestamps, ElementsAre(5, 6));
    ASSERT_EQ(got[1].values.size(), 2u);
    EXPECT_EQ(Bits(got[1].values[0]), Bits(vs_b[0]));
    EXPECT_EQ(Bits(got[1].values[1]), Bits(vs_b[1]));
  }
}

// Series sampled at the same times share one timestamp column (the engine
// reads it through the same span); appending to one of them later copies
// its column first, so the others keep their samples.
TEST(MemStorageTest, SeriesSampledAlikeShareTheirTimestamps) {
  std::vector<int64_t> times;
  for (int64_t t = 0; t < 100; ++t) times.push_back(t * 15000);
  std::vector<int64_t> other = times;
  other.back() += 1;
  const std::vector<double> values(times.size(), 1.0);
  const Labels a{{"__name__", "a"}}, b{{"__name__", "b"}}, c{{"__name__", "c"}},
      d{{"__name__", "d"}};
  MemStorage storage;
  {
    // a and b in one commit, c in a later one, d at other times.
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->AppendSamples(a, times, values);
    app->AppendSamples(b, times, values);
    app->AppendSamples(d, other, values);
    ASSERT_TRUE(app->Commit().ok());
    app = storage.NewAppender();
    app->AppendSamples(c, times, values);
    ASSERT_TRUE(app->Commit().ok());
  }
  auto data_of = [&](MemStorage& s) {
    std::vector<const int64_t*> out;
    absl::StatusOr<std::unique_ptr<Querier>> q = s.NewQuerier(0, kMaxTime);
    EXPECT_TRUE(q.ok());
    absl::StatusOr<std::vector<SeriesData>> data =
        (*q)->Select({All()}, kMinTime, kMaxTime);
    EXPECT_TRUE(data.ok());
    for (const SeriesData& s : *data) out.push_back(s.timestamps.data());
    return out;
  };
  std::vector<const int64_t*> columns = data_of(storage);  // a, b, c, d
  ASSERT_EQ(columns.size(), 4u);
  EXPECT_EQ(columns[0], columns[1]);
  EXPECT_EQ(columns[0], columns[2]);
  EXPECT_NE(columns[0], columns[3]);

  // Appending to b gives it a column of its own.
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(b, 2000000, 2);
    ASSERT_TRUE(app->Commit().ok());
  }
  columns = data_of(storage);
  EXPECT_NE(columns[0], columns[1]);
  EXPECT_EQ(columns[0], columns[2]);
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].timestamps, times);
  EXPECT_EQ(got[2].timestamps, times);
  std::vector<int64_t> longer = times;
  longer.push_back(2000000);
  EXPECT_EQ(got[1].timestamps, longer);
  EXPECT_EQ(got[3].timestamps, other);
  EXPECT_EQ(storage.NumSamples(), 401);
}

// The state a failed commit must leave untouched.
class FailedCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { Add(storage_, old_, {100}, {1}); }

  void ExpectUnchanged() {
    EXPECT_EQ(storage_.NumSeries(), 1);
    EXPECT_EQ(storage_.NumSamples(), 1);
    std::vector<Selected> got = Select(storage_, {All()});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].labels, Str(old_));
    EXPECT_THAT(got[0].timestamps, ElementsAre(100));
    EXPECT_THAT(got[0].values, ElementsAre(1));
  }

  const Labels old_{{"__name__", "old"}, {"job", "j"}};
  const Labels fresh_{{"__name__", "fresh"}};
  MemStorage storage_;
};

TEST_F(FailedCommitTest, OutOfOrderSampleOfAStoredSeries) {
  std::unique_ptr<Appender> app = storage_.NewAppender();
  app->Append(fresh_, 5, 7);  // Good, a new series.
  app->Append(old_, 50, 2);   // Older than the stored 100.
  app->Append(old_, 200, 3);  // Good on its own.
  app->Append(fresh_, 10, 8);
  absl::Status s = app->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(old_.ToString()));
  EXPECT_THAT(std::string(s.message()), HasSubstr("50"));
  ExpectUnchanged();
}

TEST_F(FailedCommitTest, OutOfOrderSampleInsideTheBatch) {
  std::unique_ptr<Appender> app = storage_.NewAppender();
  app->Append(old_, 200, 2);
  app->Append(fresh_, 1000, 1);
  app->Append(fresh_, 999, 1);
  app->Append(old_, 300, 3);
  absl::Status s = app->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(fresh_.ToString()));
  EXPECT_THAT(std::string(s.message()), HasSubstr("999"));
  ExpectUnchanged();
}

TEST_F(FailedCommitTest, DuplicateTimestampWithAnotherValue) {
  std::unique_ptr<Appender> app = storage_.NewAppender();
  app->Append(fresh_, 5, 7);
  app->Append(old_, 100, 2);  // Stored: (100, 1).
  absl::Status s = app->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(old_.ToString()));
  EXPECT_THAT(std::string(s.message()), HasSubstr("100"));
  ExpectUnchanged();
}

TEST_F(FailedCommitTest, DuplicateTimestampWithAnotherValueInsideTheBatch) {
  std::unique_ptr<Appender> app = storage_.NewAppender();
  app->Append(fresh_, 5, 7);
  app->Append(fresh_, 5, 8);
  absl::Status s = app->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(fresh_.ToString()));
  EXPECT_THAT(std::string(s.message()), HasSubstr("5"));
  ExpectUnchanged();
}

TEST_F(FailedCommitTest, StaleMarkerAndNaNAreDifferentValues) {
  // Values compare bit-wise: a stale marker is not the same value as an
  // ordinary NaN.
  Add(storage_, fresh_, {10}, {StaleNaN()});
  std::unique_ptr<Appender> app = storage_.NewAppender();
  app->Append(fresh_, 10, std::nan(""));
  absl::Status s = app->Commit();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(storage_.NumSamples(), 2);
}

TEST(MemStorageTest, SameTimestampSameValueIsAcceptedOnce) {
  const Labels l{{"__name__", "m"}};
  MemStorage storage;
  Add(storage, l, {10, 20}, {1, 2});
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(l, 20, 2);  // Same as the stored newest sample.
    app->Append(l, 30, 3);
    app->Append(l, 30, 3);  // Same as the previous one in the batch.
    absl::Status s = app->Commit();
    ASSERT_TRUE(s.ok()) << s;
  }
  EXPECT_EQ(storage.NumSamples(), 3);
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(10, 20, 30));
  EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3));

  // A repeated stale marker is the same value too.
  Add(storage, l, {40, 40}, {StaleNaN(), StaleNaN()});
  Add(storage, l, {40}, {StaleNaN()});
  EXPECT_EQ(storage.NumSamples(), 4);
}

TEST(MemStorageTest, StaleMarkersAreStoredBitExactly) {
  const Labels stale{{"__name__", "stale"}};
  const Labels nan{{"__name__", "nan"}};
  const Labels plain{{"__name__", "plain"}};
  MemStorage storage;
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->AppendSamples(stale, std::vector<int64_t>{10, 20, 30},
                       std::vector<double>{1, StaleNaN(), 2});
    app->Append(nan, 10, std::nan(""));
    app->Append(plain, 10, 1);
    ASSERT_TRUE(app->Commit().ok());
  }
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 3u);  // nan, plain, stale.
  EXPECT_EQ(got[0].labels, Str(nan));
  EXPECT_TRUE(std::isnan(got[0].values[0]));
  EXPECT_FALSE(IsStaleNaN(got[0].values[0]));
  EXPECT_TRUE(got[0].no_stale_markers);  // An ordinary NaN is no marker.
  EXPECT_EQ(got[1].labels, Str(plain));
  EXPECT_TRUE(got[1].no_stale_markers);
  EXPECT_EQ(got[2].labels, Str(stale));
  ASSERT_THAT(got[2].timestamps, ElementsAre(10, 20, 30));
  EXPECT_EQ(Bits(got[2].values[1]), 0x7ff0000000000002ULL);
  EXPECT_EQ(got[2].values[0], 1);
  EXPECT_EQ(got[2].values[2], 2);
  EXPECT_FALSE(got[2].no_stale_markers);

  // A marker appended later to a plain series.
  Add(storage, plain, {20}, {StaleNaN()});
  got = Select(storage, {M(MatchType::kEqual, "__name__", "plain")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].no_stale_markers);
  EXPECT_EQ(Bits(got[0].values[1]), kStaleNaNBits);

  // A marker only in a failed commit does not count.
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(nan, 20, StaleNaN());
    app->Append(nan, 15, 1);
    EXPECT_FALSE(app->Commit().ok());
  }
  got = Select(storage, {M(MatchType::kEqual, "__name__", "nan")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].no_stale_markers);
  EXPECT_THAT(got[0].timestamps, ElementsAre(10));
}

TEST(MemStorageTest, CountsAndClear) {
  const Labels a{{"__name__", "a"}};
  const Labels b{{"__name__", "b"}};
  MemStorage storage;
  Add(storage, a, {1, 2, 3}, {1, 2, 3});
  Add(storage, b, {1}, {1});
  Add(storage, a, {4}, {4});
  EXPECT_EQ(storage.NumSeries(), 2);
  EXPECT_EQ(storage.NumSamples(), 5);

  storage.Clear();
  EXPECT_EQ(storage.NumSeries(), 0);
  EXPECT_EQ(storage.NumSamples(), 0);
  EXPECT_THAT(Select(storage, {All()}), IsEmpty());
  EXPECT_THAT(Select(storage, {M(MatchType::kEqual, "__name__", "a")}),
              IsEmpty());

  // The storage is usable again; old samples no longer constrain new ones.
  Add(storage, b, {0}, {9});
  Add(storage, a, {0}, {8});
  EXPECT_EQ(storage.NumSeries(), 2);
  EXPECT_EQ(storage.NumSamples(), 2);
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, Str(a));
  EXPECT_THAT(got[0].values, ElementsAre(8));
  EXPECT_EQ(got[1].labels, Str(b));
  EXPECT_THAT(got[1].values, ElementsAre(9));
  EXPECT_THAT(SelectLabels(storage, {M(MatchType::kEqual, "__name__", "b")}),
              ElementsAre(Str(b)));
}

TEST(MemStorageTest, ConcurrentQueriesDuringCommits) {
  constexpr int kCommits = 500;
  constexpr int kSeries = 4;
  std::vector<Labels> labels;
  for (int k = 0; k < kSeries; ++k) {
    labels.push_back(Labels{{"__name__", "m"}, {"k", std::to_string(k)}});
  }
  MemStorage storage;
  std::atomic<bool> done{false};
  std::atomic<int> bad_snapshots{0};
  std::atomic<int> queries{0};

  auto reader = [&] {
    while (!done.load()) {
      absl::StatusOr<std::unique_ptr<Querier>> q =
          storage.NewQuerier(kMinTime, kMaxTime);
      if (!q.ok()) {
        ++bad_snapshots;
        continue;
      }
      absl::StatusOr<std::vector<SeriesData>> data = (*q)->Select(
          std::vector<Matcher>{M(MatchType::kEqual, "__name__", "m")}, kMinTime,
          kMaxTime);
      ++queries;
      if (!data.ok()) {
        ++bad_snapshots;
        continue;
      }
      // Every commit creates each series or adds one sample to each, so a
      // consistent snapshot has all series, of equal length, sorted.
      bool ok = data->empty() || data->size() == kSeries;
      for (const SeriesData& s : *data) {
        ok = ok && s.timestamps.size() == s.values.size() &&
             s.timestamps.size() == (*data)[0].timestamps.size() &&
             std::is_sorted(s.timestamps.begin(), s.timestamps.end()) &&
             std::adjacent_find(s.timestamps.begin(), s.timestamps.end()) ==
                 s.timestamps.end();
        for (size_t i = 0; ok && i < s.values.size(); ++i) {
          ok = s.values[i] == static_cast<double>(s.timestamps[i]);
        }
      }
      for (size_t i = 1; ok && i < data->size(); ++i) {
        ok = CompareLabels(*(*data)[i - 1].labels, *(*data)[i].labels) < 0;
      }
      if (!ok) ++bad_snapshots;
    }
  };

  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back(reader);
  std::thread writer([&] {
    for (int i = 0; i < kCommits; ++i) {
      std::unique_ptr<Appender> app = storage.NewAppender();
      for (int k = kSeries - 1; k >= 0; --k) {
        app->Append(labels[k], i, static_cast<double>(i));
      }
      if (!app->Commit().ok()) ++bad_snapshots;
    }
    done.store(true);
  });
  writer.join();
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(bad_snapshots.load(), 0);
  EXPECT_GT(queries.load(), 0);
  EXPECT_EQ(storage.NumSeries(), kSeries);
  EXPECT_EQ(storage.NumSamples(), kSeries * kCommits);
  std::vector<Selected> got = Select(storage, {All()});
  ASSERT_EQ(got.size(), static_cast<size_t>(kSeries));
  for (const Selected& s : got) {
    ASSERT_EQ(s.timestamps.size(), static_cast<size_t>(kCommits));
    EXPECT_EQ(s.timestamps.front(), 0);
    EXPECT_EQ(s.timestamps.back(), kCommits - 1);
  }
}

// Several stores read as one: series merged by labels in label order, a
// series several stores hold merged in time order with one sample per
// timestamp, the first store's where two have the same time.
TEST(FanoutQueryableTest, MergesSeriesAndSamples) {
  MemStorage first, second, third;
  Add(first, Labels{{"__name__", "m"}, {"k", "b"}}, {10, 20, 30}, {1, 2, 3});
  Add(second, Labels{{"__name__", "m"}, {"k", "b"}}, {20, 25, 40},
      {200, 250, 400});
  Add(second, Labels{{"__name__", "m"}, {"k", "a"}}, {5}, {50});
  Add(third, Labels{{"__name__", "m"}, {"k", "c"}}, {7}, {70});
  Add(third, Labels{{"__name__", "m"}, {"k", "b"}}, {30, 50}, {3000, 5000});
  FanoutQueryable fanout({&first, &second, &third});
  std::vector<Selected> got =
      Select(fanout, {M(MatchType::kEqual, "__name__", "m")});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].labels, "{__name__=\"m\", k=\"a\"}");
  EXPECT_THAT(got[0].timestamps, ElementsAre(5));
  EXPECT_EQ(got[1].labels, "{__name__=\"m\", k=\"b\"}");
  EXPECT_THAT(got[1].timestamps, ElementsAre(10, 20, 25, 30, 40, 50));
  EXPECT_THAT(got[1].values, ElementsAre(1, 2, 250, 3, 400, 5000));
  EXPECT_EQ(got[2].labels, "{__name__=\"m\", k=\"c\"}");
  // A selection none of the stores holds.
  EXPECT_THAT(Select(fanout, {M(MatchType::kEqual, "__name__", "x")}),
              IsEmpty());
  // Selects from several threads at once, as the engine does.
  std::unique_ptr<Querier> q = *fanout.NewQuerier(kMinTime, kMaxTime);
  EXPECT_TRUE(q->ConcurrentSelect());
  std::vector<std::thread> threads;
  std::atomic<int> merged{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::vector<SeriesData>> d =
          q->Select({M(MatchType::kEqual, "k", "b")}, kMinTime, kMaxTime);
      if (d.ok() && d->size() == 1 && (*d)[0].timestamps.size() == 6) ++merged;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(merged, 4);
}

}  // namespace
}  // namespace promeval
