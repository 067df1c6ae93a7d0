// The data loaders: the series-description notation (PROMQLTEST-FORMAT.md
// §5), OpenMetrics / Prometheus text exposition, and series scripts of
// promqltest `load` blocks. Expected values follow from the formats'
// definitions.
#include "promeval/loaders.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/labels.h"
#include "promeval/storage.h"
#include "promeval/value.h"

namespace promeval {
namespace {

using ::testing::ContainsRegex;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// ---------------------------------------------------------------------------
// ParseSeriesDescription

// An expected sequence item: a value, or nullopt for an omitted position.
using Item = std::optional<double>;
const Item kOmitted = std::nullopt;

// Compares values bit-exactly, except that any non-stale NaN matches a
// non-stale NaN (the NaN payload of a parsed "NaN" is not specified here).
void ExpectSequence(absl::string_view line, const std::vector<Item>& want) {
  SCOPED_TRACE(line);
  absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(line);
  ASSERT_TRUE(desc.ok()) << desc.status();
  ASSERT_EQ(desc->values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("item ", i));
    const SequenceValue& got = desc->values[i];
    if (!want[i].has_value()) {
      EXPECT_TRUE(got.omitted);
      continue;
    }
    EXPECT_FALSE(got.omitted);
    double w = *want[i];
    if (std::isnan(w) && !IsStaleNaN(w)) {
      EXPECT_TRUE(std::isnan(got.value)) << got.value;
      EXPECT_FALSE(IsStaleNaN(got.value));
    } else {
      EXPECT_EQ(Bits(got.value), Bits(w)) << got.value << " vs " << w;
    }
  }
}

Labels LabelsOf(absl::string_view line) {
  absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(line);
  EXPECT_TRUE(desc.ok()) << line << ": " << desc.status();
  return desc.ok() ? desc->labels : Labels{{"parse", "failed"}};
}

TEST(ParseSeriesDescriptionTest, SingleValuesAndOmissions) {
  ExpectSequence("m 1", {1.0});
  ExpectSequence("m _", {kOmitted});
  ExpectSequence("m _x3", {kOmitted, kOmitted, kOmitted});
  ExpectSequence("m _x0", {});
  ExpectSequence("m 1 _x3 stale",
                 {1.0, kOmitted, kOmitted, kOmitted, StaleNaN()});
  ExpectSequence("m", {});
  ExpectSequence("m   1\t2  ", {1.0, 2.0});
  ExpectSequence("m 0.5 -3 +4 1e3 2.5e-1 -2E2",
                 {0.5, -3.0, 4.0, 1000.0, 0.25, -200.0});
}

TEST(ParseSeriesDescriptionTest, Repetitions) {
  ExpectSequence("m 1x3", {1.0, 1.0, 1.0, 1.0});  // N+1 values.
  ExpectSequence("m 1x0", {1.0});
  ExpectSequence("m -5x1", {-5.0, -5.0});
  ExpectSequence("m 1+2x3", {1.0, 3.0, 5.0, 7.0});
  ExpectSequence("m 1-2x3", {1.0, -1.0, -3.0, -5.0});
  ExpectSequence("m 1-2x4", {1.0, -1.0, -3.0, -5.0, -7.0});
  ExpectSequence("m -2+4x3", {-2.0, 2.0, 6.0, 10.0});
  ExpectSequence("m 0+10x5", {0.0, 10.0, 20.0, 30.0, 40.0, 50.0});
  ExpectSequence("m 3+0x2", {3.0, 3.0, 3.0});
  ExpectSequence("m 7+1x0", {7.0});
  ExpectSequence("m 1x2 _x2 5-1x1",
                 {1.0, 1.0, 1.0, kOmitted, kOmitted, 5.0, 4.0});
  // Exponent signs are part of the number, not an increment.
  ExpectSequence("m 1e-3+1e+3x1", {0.001, 0.001 + 1000.0});
}

TEST(ParseSeriesDescriptionTest, IncrementIsAccumulatedByRepeatedAddition) {
  std::vector<Item> want;
  double v = 0;
  for (int i = 0; i <= 10; ++i) {
    want.push_back(v);
    v += 0.1;
  }
  // Ten additions of 0.1 do not give 1 exactly; i * 0.1 would differ too.
  ASSERT_NE(*want[10], 1.0);
  ASSERT_NE(*want[8], 8 * 0.1);
  ExpectSequence("m 0+0.1x10", want);

  want.clear();
  v = 1;
  for (int i = 0; i <= 20; ++i) {
    want.push_back(v);
    v -= 0.3;
  }
  ExpectSequence("m 1-0.3x20", want);
}

TEST(ParseSeriesDescriptionTest, StaleMarkerIsBitExact) {
  absl::StatusOr<SeriesDescription> desc =
      ParseSeriesDescription("m 1 stale 2");
  ASSERT_TRUE(desc.ok()) << desc.status();
  ASSERT_EQ(desc->values.size(), 3u);
  EXPECT_FALSE(desc->values[1].omitted);
  EXPECT_EQ(Bits(desc->values[1].value), 0x7ff0000000000002ULL);
  EXPECT_TRUE(IsStaleNaN(desc->values[1].value));
}

TEST(ParseSeriesDescriptionTest, DurationsAreSeconds) {
  ExpectSequence("m 1m", {60.0});
  ExpectSequence("m 2h", {7200.0});
  ExpectSequence("m 1h30m", {5400.0});
  ExpectSequence("m 1d", {86400.0});
  ExpectSequence("m 1ms", {0.001});
  ExpectSequence("m 90s", {90.0});
  ExpectSequence("m -1m", {-60.0});
  ExpectSequence("m 1m -30s +2m", {60.0, -30.0, 120.0});
}

TEST(ParseSeriesDescriptionTest, SpecialNumbers) {
  ExpectSequence("m Inf +Inf -Inf", {kInf, kInf, -kInf});
  ExpectSequence("m inf -inf", {kInf, -kInf});
  ExpectSequence("m NaN nan", {std::nan(""), std::nan("")});
  ExpectSequence("m 1_000", {1000.0});
  ExpectSequence("m 1_000_000", {1e6});
  ExpectSequence("m 010", {8.0});  // strconv.ParseInt base 0: octal.
  ExpectSequence("m -010", {-8.0});
  ExpectSequence("m 0", {0.0});
  ExpectSequence("m 010+1x1", {8.0, 9.0});
}

TEST(ParseSeriesDescriptionTest, MetricForms) {
  EXPECT_EQ(LabelsOf("name{a=\"b\"} 1"),
            (Labels{{"__name__", "name"}, {"a", "b"}}));
  EXPECT_EQ(LabelsOf("name 1"), (Labels{{"__name__", "name"}}));
  EXPECT_EQ(LabelsOf("a:b:c_1 1"), (Labels{{"__name__", "a:b:c_1"}}));
  EXPECT_EQ(LabelsOf("{__name__=\"x\"} 1"), (Labels{{"__name__", "x"}}));
  EXPECT_EQ(LabelsOf("{__name__=\"x\", j=\"k\"} 1"),
            (Labels{{"__name__", "x"}, {"j", "k"}}));
  EXPECT_EQ(LabelsOf("{\"quoted.name\", a=\"b\"} 1"),
            (Labels{{"__name__", "quoted.name"}, {"a", "b"}}));
  EXPECT_EQ(LabelsOf("{a=\"b\", \"quoted.name\"} 1"),
            (Labels{{"__name__", "quoted.name"}, {"a", "b"}}));
  EXPECT_EQ(LabelsOf("{\"my.metric\", \"label.x\"=\"v\"} 1"),
            (Labels{{"__name__", "my.metric"}, {"label.x", "v"}}));
  EXPECT_EQ(LabelsOf("{} 1"), Labels());
  EXPECT_TRUE(LabelsOf("{} 1").empty());
  // Label order in the text does not matter; "" is an absent label.
  EXPECT_EQ(LabelsOf("m{z=\"1\", a=\"2\", e=\"\"} 1"),
            (Labels{{"__name__", "m"}, {"a", "2"}, {"z", "1"}}));
  EXPECT_EQ(LabelsOf("m{a=\"b\",} 1"), (Labels{{"__name__", "m"}, {"a", "b"}}));
  // PromQL string literals: three quote kinds, Go escapes (none in `...`).
  EXPECT_EQ(
      LabelsOf("m{a='x', b=`r\\n`, c=\"e\\\"\\n\\\\\"} 1"),
      (Labels{{"__name__", "m"}, {"a", "x"}, {"b", "r\\n"}, {"c", "e\"\n\\"}}));
  // The values are unaffected by the metric form.
  ExpectSequence("{\"quoted.name\", a=\"b\"} 1 2", {1.0, 2.0});
  ExpectSequence("{} 3", {3.0});
}

// The status of a bad line.
absl::Status SeriesError(absl::string_view line) {
  absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(line);
  return desc.ok() ? absl::OkStatus() : desc.status();
}

TEST(ParseSeriesDescriptionTest, ErrorsStartWithTheColumn) {
  struct Case {
    const char* line;
    const char* column_prefix;
  };
  const Case cases[] = {
      {"m 1 abc", "5: "},         // Not a number.
      {"m foo", "3: "},           // Not a number, first item.
      {"m 1 2x", "5: "},          // Missing repetition count.
      {"m 1 _xa", "5: "},         // Bad repetition count.
      {"m 1 2x-1", "5: "},        // Negative repetition count.
      {"m 1+2", "3: "},           // Increment without repetition.
      {"m 1  stalex2", "6: "},    // `stale` cannot be repeated.
      {"m{a=b} 1", "5: "},        // Unquoted label value.
      {"m{a=\"b\" 1", "9: "},     // Missing "," or "}".
      {"m{a=\"b\"", "8: "},       // Missing "}" at the end.
      {"m{a=\"\\q\"} 1", "5: "},  // Bad escape in the string at column 5.
      {"m{1a=\"b\"} 1", "3: "},   // Label names cannot start with a digit.
      {"m{a} 1", "4: "},          // Missing "=".
      {"1 2", "1: "},             // No metric.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    absl::Status s = SeriesError(c.line);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), StartsWith(c.column_prefix));
  }
}

TEST(ParseSeriesDescriptionTest, NativeHistogramsAreUnimplemented) {
  absl::Status s = SeriesError("m {{schema:0 sum:1 count:1}}");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("native histograms are not supported"));
  EXPECT_THAT(std::string(s.message()), StartsWith("3: "));

  s = SeriesError("m 1 {{schema:0 sum:1 count:1}}x2");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("native histograms are not supported"));
  EXPECT_THAT(std::string(s.message()), StartsWith("5: "));

  s = SeriesError("m{a=\"b\"}@st _ 1m");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
}

TEST(ParseMetricTest, Forms) {
  absl::StatusOr<Labels> l = ParseMetric("foo{a=\"b\"}");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, (Labels{{"__name__", "foo"}, {"a", "b"}}));
  l = ParseMetric("{__name__=\"x\"}");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, (Labels{{"__name__", "x"}}));
  l = ParseMetric("{\"my.metric\", a=\"b\"}");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, (Labels{{"__name__", "my.metric"}, {"a", "b"}}));
  EXPECT_EQ(ParseMetric("foo 1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMetric("foo{").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Storage contents

struct Series {
  std::string labels;  // Labels::ToString().
  std::vector<int64_t> timestamps;
  std::vector<double> values;
};

std::vector<Series> Dump(MemStorage& storage) {
  absl::StatusOr<std::unique_ptr<Querier>> q =
      storage.NewQuerier(kMinTime, kMaxTime);
  EXPECT_TRUE(q.ok());
  if (!q.ok()) return {};
  absl::StatusOr<Matcher> all =
      Matcher::Create(MatchType::kRegexp, "__name__", ".*");
  EXPECT_TRUE(all.ok());
  absl::StatusOr<std::vector<SeriesData>> data =
      (*q)->Select({*all}, kMinTime, kMaxTime);
  EXPECT_TRUE(data.ok());
  if (!data.ok()) return {};
  std::vector<Series> out;
  for (const SeriesData& s : *data) {
    out.push_back(Series{s.labels->ToString(),
                         {s.timestamps.begin(), s.timestamps.end()},
                         {s.values.begin(), s.values.end()}});
  }
  return out;
}

std::string Str(const Labels& l) { return l.ToString(); }

// ---------------------------------------------------------------------------
// LoadText: OpenMetrics

absl::Status LoadError(absl::string_view content, TextFormat format,
                       MemStorage& storage) {
  TextLoadOptions options;
  options.format = format;
  absl::StatusOr<LoadStats> stats =
      LoadText(content, "f.txt", options, storage);
  return stats.ok() ? absl::OkStatus() : stats.status();
}

constexpr absl::string_view kOpenMetricsInput = R"(# HELP my_metric A gauge.
# TYPE my_metric gauge
# UNIT my_metric seconds
my_metric{a="x"} 1 1700000000.5
my_metric{a="x"} 2 1700000001
my_metric{a="y"} 3.5e2 1700000000 # {trace_id="abc"} 1.0 1700000000.1
other NaN 1700000000
other +Inf 1700000001
other -Inf 1700000002
{"my.metric",a="b"} -1.5E-3 1700000000.25
esc{v="a\\b\"c\nd"} 7 1700000000
ints 123456789012 1700000000
ints -42 1700000001
# EOF
)";

void ExpectOpenMetricsContent(MemStorage& storage) {
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 6u);
  // In label order: {__name__="esc"...}, "ints", "my.metric", "my_metric"
  // ('.' < '_'), "other".
  EXPECT_EQ(got[0].labels,
            Str(Labels{{"__name__", "esc"}, {"v", "a\\b\"c\nd"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(1700000000000));
  EXPECT_THAT(got[0].values, ElementsAre(7));

  EXPECT_EQ(got[1].labels, Str(Labels{{"__name__", "ints"}}));
  EXPECT_THAT(got[1].timestamps, ElementsAre(1700000000000, 1700000001000));
  EXPECT_THAT(got[1].values, ElementsAre(123456789012.0, -42.0));

  EXPECT_EQ(got[2].labels, Str(Labels{{"__name__", "my.metric"}, {"a", "b"}}));
  EXPECT_THAT(got[2].timestamps, ElementsAre(1700000000250));
  EXPECT_THAT(got[2].values, ElementsAre(-0.0015));

  EXPECT_EQ(got[3].labels, Str(Labels{{"__name__", "my_metric"}, {"a", "x"}}));
  EXPECT_THAT(got[3].timestamps, ElementsAre(1700000000500, 1700000001000));
  EXPECT_THAT(got[3].values, ElementsAre(1, 2));

  EXPECT_EQ(got[4].labels, Str(Labels{{"__name__", "my_metric"}, {"a", "y"}}));
  EXPECT_THAT(got[4].timestamps, ElementsAre(1700000000000));
  EXPECT_THAT(got[4].values, ElementsAre(350));

  EXPECT_EQ(got[5].labels, Str(Labels{{"__name__", "other"}}));
  EXPECT_THAT(got[5].timestamps,
              ElementsAre(1700000000000, 1700000001000, 1700000002000));
  ASSERT_EQ(got[5].values.size(), 3u);
  EXPECT_TRUE(std::isnan(got[5].values[0]));
  EXPECT_FALSE(IsStaleNaN(got[5].values[0]));
  EXPECT_EQ(got[5].values[1], kInf);
  EXPECT_EQ(got[5].values[2], -kInf);
}

TEST(LoadTextTest, OpenMetrics) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  absl::StatusOr<LoadStats> stats =
      LoadText(kOpenMetricsInput, "in.om", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ExpectOpenMetricsContent(storage);
  EXPECT_EQ(stats->series, 6);
  EXPECT_EQ(stats->samples, 10);
  EXPECT_EQ(stats->min_timestamp_ms, 1700000000000);
  EXPECT_EQ(stats->max_timestamp_ms, 1700000002000);
  EXPECT_EQ(storage.NumSeries(), 6);
  EXPECT_EQ(storage.NumSamples(), 10);
}

TEST(LoadTextTest, OpenMetricsIsDetectedByTheTrailingEof) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats =
      LoadText(kOpenMetricsInput, "in.om", TextLoadOptions(), storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ExpectOpenMetricsContent(storage);
  EXPECT_EQ(stats->samples, 10);

  // Without the final newline, too: seconds, not milliseconds.
  MemStorage storage2;
  stats = LoadText("x 1 2\n# EOF", "in.om", TextLoadOptions(), storage2);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::vector<Series> got = Dump(storage2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(2000));
}

TEST(LoadTextTest, OpenMetricsSampleWithoutTimestampGetsTheDefault) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  options.default_timestamp_ms = 1234;
  absl::StatusOr<LoadStats> stats =
      LoadText("a 1\nb 2 # {id=\"x\"} 5\n# EOF\n", "in.om", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(1234));
  EXPECT_THAT(got[0].values, ElementsAre(1));
  EXPECT_THAT(got[1].timestamps, ElementsAre(1234));
  EXPECT_THAT(got[1].values, ElementsAre(2));
}

TEST(LoadTextTest, OpenMetricsRequiresEof) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  absl::StatusOr<LoadStats> stats =
      LoadText("a 1 1\nb 2 2\n", "in.om", options, storage);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()), StartsWith("in.om:"));
  EXPECT_THAT(std::string(stats.status().message()), HasSubstr("# EOF"));
  EXPECT_EQ(storage.NumSeries(), 0);
}

TEST(LoadTextTest, OpenMetricsContentAfterEofIsAnError) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  absl::StatusOr<LoadStats> stats =
      LoadText("a 1 1\n# EOF\nb 2 2\n# EOF\n", "in.om", options, storage);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(stats.status().message()), StartsWith("in.om:3:1: "));
  EXPECT_EQ(storage.NumSeries(), 0);

  // Blank lines after it are fine.
  stats = LoadText("a 1 1\n# EOF\n\n", "in.om", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(storage.NumSamples(), 1);
}

// ---------------------------------------------------------------------------
// LoadText: Prometheus text

constexpr absl::string_view kPrometheusInput = R"(# HELP x A counter.
# TYPE x counter
x{a="1"} 5 1000
x{a="1"} 6 2000
# A comment.

y 7
x{a="2"} 1.5e1 1500
)";

void ExpectPrometheusContent(MemStorage& storage) {
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].labels, Str(Labels{{"__name__", "x"}, {"a", "1"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(1000, 2000));
  EXPECT_THAT(got[0].values, ElementsAre(5, 6));
  EXPECT_EQ(got[1].labels, Str(Labels{{"__name__", "x"}, {"a", "2"}}));
  EXPECT_THAT(got[1].timestamps, ElementsAre(1500));
  EXPECT_THAT(got[1].values, ElementsAre(15));
  EXPECT_EQ(got[2].labels, Str(Labels{{"__name__", "y"}}));
  EXPECT_THAT(got[2].timestamps, ElementsAre(5000));
  EXPECT_THAT(got[2].values, ElementsAre(7));
}

TEST(LoadTextTest, PrometheusText) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  options.default_timestamp_ms = 5000;
  absl::StatusOr<LoadStats> stats =
      LoadText(kPrometheusInput, "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ExpectPrometheusContent(storage);
  EXPECT_EQ(stats->series, 3);
  EXPECT_EQ(stats->samples, 4);
  EXPECT_EQ(stats->min_timestamp_ms, 1000);
  EXPECT_EQ(stats->max_timestamp_ms, 5000);
}

TEST(LoadTextTest, PrometheusTextIsTheDefaultWithoutEof) {
  MemStorage storage;
  TextLoadOptions options;
  options.default_timestamp_ms = 5000;
  absl::StatusOr<LoadStats> stats =
      LoadText(kPrometheusInput, "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ExpectPrometheusContent(storage);
}

TEST(LoadTextTest, PrometheusTextDetails) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  // CRLF line ends, tabs as separators, a repeated identical sample, values
  // NaN/Inf, negative timestamps, no trailing newline.
  absl::StatusOr<LoadStats> stats = LoadText(
      "a 1 -10\r\na\t2\t20\r\na 2 20\nb NaN 0\nb +Inf 1\nb -Inf 2\n"
      "c{l=\"v\",} 3e-2 7",
      "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 3);
  EXPECT_EQ(stats->samples, 6);
  EXPECT_EQ(stats->min_timestamp_ms, -10);
  EXPECT_EQ(stats->max_timestamp_ms, 20);
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(-10, 20));
  EXPECT_THAT(got[0].values, ElementsAre(1, 2));
  EXPECT_THAT(got[1].timestamps, ElementsAre(0, 1, 2));
  EXPECT_TRUE(std::isnan(got[1].values[0]));
  EXPECT_EQ(got[1].values[1], kInf);
  EXPECT_EQ(got[1].values[2], -kInf);
  EXPECT_EQ(got[2].labels, Str(Labels{{"__name__", "c"}, {"l", "v"}}));
  EXPECT_THAT(got[2].timestamps, ElementsAre(7));
  EXPECT_THAT(got[2].values, ElementsAre(0.03));
}

TEST(LoadTextTest, OneSeriesWrittenInDifferentWays) {
  // Label order, blanks, `{}`, an empty label value and the quoted-name form
  // do not change the series: these lines are one series with increasing
  // timestamps.
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  absl::StatusOr<LoadStats> stats = LoadText(
      "a{x=\"1\",y=\"2\"} 1 1000\n"
      "a{y=\"2\",x=\"1\"} 2 2000\n"
      "a{x=\"1\",y=\"2\"} 3 3000\n"
      "a{ x=\"1\", y=\"2\", z=\"\" } 4 4000\n"
      "{\"a\",x=\"1\",y=\"2\"} 5 5000\n"
      "b 1 1000\n"
      "b{} 2 2000\n",
      "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 7);
  EXPECT_EQ(storage.NumSeries(), 2);
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels,
            Str(Labels{{"__name__", "a"}, {"x", "1"}, {"y", "2"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(1000, 2000, 3000, 4000, 5000));
  EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(got[1].timestamps, ElementsAre(1000, 2000));
}

TEST(LoadTextTest, StatsCountASeriesWrittenInDifferentWaysOnce) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  absl::StatusOr<LoadStats> stats =
      LoadText("b 1 1000\nb 2 2000\nb{} 3 3000\nc{} 1 1000\nc 1 1000\n",
               "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(storage.NumSeries(), 2);
  EXPECT_EQ(storage.NumSamples(), 4);
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 4);
}

TEST(LoadTextTest, OneSeriesWrittenInDifferentWaysChecksTheLine) {
  // A duplicate timestamp of one series is a parse error of its line,
  // however the series is written.
  MemStorage storage;
  absl::Status s = LoadError("a 1 1000\nb 1 1000\na{} 2 1000\n",
                             TextFormat::kPrometheusText, storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("f.txt:3:1: "));
  s = LoadError("a{x=\"1\",y=\"2\"} 1 2000\na{y=\"2\",x=\"1\"} 1 1000\n",
                TextFormat::kPrometheusText, storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("f.txt:2:1: "));
  EXPECT_EQ(storage.NumSeries(), 0);
}

TEST(LoadTextTest, BracesAndCommasInsideLabelValues) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  absl::StatusOr<LoadStats> stats =
      LoadText("x{a=\"}{, \\\" 1\"} 1 10\n", "in.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, Str(Labels{{"__name__", "x"}, {"a", "}{, \" 1"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(10));
}

TEST(LoadTextTest, EmptyInput) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats =
      LoadText("# only comments\n\n", "in.prom", TextLoadOptions(), storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 0);
  EXPECT_EQ(stats->samples, 0);
  EXPECT_EQ(stats->min_timestamp_ms, 0);
  EXPECT_EQ(stats->max_timestamp_ms, 0);
  EXPECT_EQ(storage.NumSeries(), 0);
}

// ---------------------------------------------------------------------------
// LoadText: errors

TEST(LoadTextTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* content;
    TextFormat format;
    const char* prefix;  // Exact "FILE:LINE:COL: ", or "" when not checked.
  };
  const Case cases[] = {
      // Bad value: "bad " is 4 characters.
      {"ok 1 1000\nbad 1x2 1000\n", TextFormat::kPrometheusText, "f.txt:2:5: "},
      // Missing closing brace: "," or "}" expected where the "1" is.
      {"ok 1\nx{a=\"b\" 1\n", TextFormat::kPrometheusText, "f.txt:2:9: "},
      // Missing closing brace at the end of the line.
      {"x{a=\"b\"\n", TextFormat::kPrometheusText, "f.txt:1:8: "},
      // Bad escape: the backslash of \t is column 7.
      {"a 1\n\nx{a=\"x\\ty\"} 1\n", TextFormat::kPrometheusText, "f.txt:3:7: "},
      // Invalid label names.
      {"x{\"\"=\"v\"} 1\n", TextFormat::kPrometheusText, "f.txt:1:3: "},
      {"x{1a=\"v\"} 1\n", TextFormat::kPrometheusText, "f.txt:1:3: "},
      // Out of order sample of the same series: the line of the sample.
      {"a 1 2000\nb 1 1000\na 2 1000\n", TextFormat::kPrometheusText,
       "f.txt:3:1: "},
      // Duplicate timestamp with another value.
      {"a 1 2000\na 2 2000\n", TextFormat::kPrometheusText, "f.txt:2:1: "},
      // Bad timestamps.
      {"a 1 abc\n", TextFormat::kPrometheusText, "f.txt:1:5: "},
      {"a 1 1.5\n", TextFormat::kPrometheusText, "f.txt:1:5: "},
      {"a 1 abc\n# EOF\n", TextFormat::kOpenMetrics, "f.txt:1:5: "},
      // Text after the timestamp.
      {"a 1 1000 x\n", TextFormat::kPrometheusText, "f.txt:1:10: "},
      // "# EOF" in Prometheus text.
      {"a 1\n# EOF\nb 1\n", TextFormat::kAuto, "f.txt:2:1: "},
      // Others, position not checked.
      {"x\n", TextFormat::kPrometheusText, ""},
      {" x 1\n", TextFormat::kPrometheusText, ""},
      {"{a=\"b\"} 1\n", TextFormat::kPrometheusText, ""},
      {"x{a=\"b\",a=\"c\"} 1\n", TextFormat::kPrometheusText, ""},
      {"x{a=\"b} 1\n", TextFormat::kPrometheusText, ""},
      {"x{a=b} 1\n", TextFormat::kPrometheusText, ""},
      {"x 1 # {a=\"b\"} 1\n", TextFormat::kPrometheusText, ""},
      {"x 1_000\n", TextFormat::kPrometheusText, "f.txt:1:3: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    MemStorage storage;
    absl::Status s = LoadError(c.content, c.format, storage);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()),
                ContainsRegex("^f\\.txt:[0-9]+:[0-9]+: "));
    if (*c.prefix != '\0') {
      EXPECT_THAT(std::string(s.message()), StartsWith(c.prefix));
    }
    EXPECT_EQ(storage.NumSeries(), 0);
    EXPECT_EQ(storage.NumSamples(), 0);
  }
}

TEST(LoadTextTest, ValueWithTwoSignsIsAnError) {
  // Go's strconv.ParseFloat, which Prometheus's text parsers use, accepts
  // one optional sign: "--1" and "+-1" are invalid values.
  for (const char* content : {"x --1\n", "x +-1\n", "x -+1\n"}) {
    SCOPED_TRACE(content);
    MemStorage storage;
    absl::Status s = LoadError(content, TextFormat::kPrometheusText, storage);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), StartsWith("f.txt:1:3: "));
    EXPECT_EQ(storage.NumSeries(), 0);
  }
}

TEST(LoadTextTest, ErrorMessagesNameTheProblem) {
  MemStorage storage;
  absl::Status s =
      LoadError("a 1 2000\na 2 1000\n", TextFormat::kPrometheusText, storage);
  EXPECT_THAT(std::string(s.message()), HasSubstr("out of order"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1000"));
  s = LoadError("x{a=\"\\q\"} 1\n", TextFormat::kPrometheusText, storage);
  EXPECT_THAT(std::string(s.message()), HasSubstr("escape"));
}

TEST(LoadTextTest, FailedLoadLeavesTheStorageUnchanged) {
  MemStorage storage;
  {
    std::unique_ptr<Appender> app = storage.NewAppender();
    app->Append(Labels{{"__name__", "pre"}}, 0, 1);
    app->Append(Labels{{"__name__", "a"}}, 5000, 1);
    ASSERT_TRUE(app->Commit().ok());
  }
  auto expect_unchanged = [&] {
    EXPECT_EQ(storage.NumSeries(), 2);
    EXPECT_EQ(storage.NumSamples(), 2);
    std::vector<Series> got = Dump(storage);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].labels, Str(Labels{{"__name__", "a"}}));
    EXPECT_THAT(got[0].timestamps, ElementsAre(5000));
    EXPECT_EQ(got[1].labels, Str(Labels{{"__name__", "pre"}}));
    EXPECT_THAT(got[1].timestamps, ElementsAre(0));
  };

  // A parse error in the last line after good lines.
  absl::Status s = LoadError("pre 2 10\nnew 1 10\nnew 2 20\nbad{\n",
                             TextFormat::kPrometheusText, storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  expect_unchanged();

  // Good input by itself, but older than what the storage holds for `a`: the
  // commit fails and nothing of the input is applied.
  s = LoadError("new 1 10\npre 2 10\na 1 1000\n", TextFormat::kPrometheusText,
                storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("f.txt"));
  expect_unchanged();

  // A missing "# EOF".
  s = LoadError("new 1 10\n", TextFormat::kOpenMetrics, storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  expect_unchanged();
}

TEST(LoadTextTest, LoadsAddToEarlierLoads) {
  MemStorage storage;
  TextLoadOptions options;
  options.format = TextFormat::kPrometheusText;
  ASSERT_TRUE(LoadText("a 1 1000\n", "1.prom", options, storage).ok());
  absl::StatusOr<LoadStats> stats =
      LoadText("a 2 2000\nb 3 3000\n", "2.prom", options, storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 2);
  EXPECT_EQ(stats->min_timestamp_ms, 2000);
  EXPECT_EQ(stats->max_timestamp_ms, 3000);
  EXPECT_EQ(storage.NumSeries(), 2);
  EXPECT_EQ(storage.NumSamples(), 3);
}

// ---------------------------------------------------------------------------
// Series scripts

TEST(IsSeriesScriptTest, FirstMeaningfulLineStartsWithLoad) {
  EXPECT_TRUE(IsSeriesScript("load 1m\n  m 1 2\n"));
  EXPECT_TRUE(IsSeriesScript("# comment\n\n   \nload 5m\n  m 1\n"));
  EXPECT_TRUE(IsSeriesScript("  load\t30s\n"));
  EXPECT_TRUE(IsSeriesScript("load"));
  EXPECT_FALSE(IsSeriesScript("loadx 1m\n"));
  EXPECT_FALSE(IsSeriesScript("m 1 1000\n"));
  EXPECT_FALSE(IsSeriesScript("# HELP m x\nm 1\n# EOF\n"));
  EXPECT_FALSE(IsSeriesScript("eval instant at 0 m\n"));
  EXPECT_FALSE(IsSeriesScript(""));
  EXPECT_FALSE(IsSeriesScript("# only\n# comments\n"));
}

constexpr absl::string_view kScript = R"(# Test data.

load 1m
  metric{a="1"} 1 2 3
  metric{a="2"} 0+10x2

# Second block.
load 30s
	other _ 5 stale
  # A comment ends the block.
load 10s
  dup 1 2 3
  dup{} 9
  dup 7 _ 9
)";

TEST(LoadSeriesScriptTest, LoadBlocks) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats =
      LoadSeriesScript(kScript, "data.test", storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 4);
  EXPECT_EQ(stats->samples, 3 + 3 + 2 + 2);
  EXPECT_EQ(stats->min_timestamp_ms, 0);
  EXPECT_EQ(stats->max_timestamp_ms, 120000);
  EXPECT_EQ(storage.NumSeries(), 4);
  EXPECT_EQ(storage.NumSamples(), 10);

  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 4u);
  // Value i at i * interval; the last line of `dup` in its block wins (`dup`
  // and `dup{}` are the same series).
  EXPECT_EQ(got[0].labels, Str(Labels{{"__name__", "dup"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(0, 20000));
  EXPECT_THAT(got[0].values, ElementsAre(7, 9));
  EXPECT_EQ(got[1].labels, Str(Labels{{"__name__", "metric"}, {"a", "1"}}));
  EXPECT_THAT(got[1].timestamps, ElementsAre(0, 60000, 120000));
  EXPECT_THAT(got[1].values, ElementsAre(1, 2, 3));
  EXPECT_EQ(got[2].labels, Str(Labels{{"__name__", "metric"}, {"a", "2"}}));
  EXPECT_THAT(got[2].timestamps, ElementsAre(0, 60000, 120000));
  EXPECT_THAT(got[2].values, ElementsAre(0, 10, 20));
  EXPECT_EQ(got[3].labels, Str(Labels{{"__name__", "other"}}));
  EXPECT_THAT(got[3].timestamps, ElementsAre(30000, 60000));
  ASSERT_EQ(got[3].values.size(), 2u);
  EXPECT_EQ(got[3].values[0], 5);
  EXPECT_EQ(Bits(got[3].values[1]), kStaleNaNBits);
}

TEST(LoadSeriesScriptTest, BlocksOfOneSeriesAddUp) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats = LoadSeriesScript(
      "load 1m\n  m 1 _ _\n\nload 1m\n  n 5\n\nload 2m\n  m _ _ 3\n",
      "data.test", storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 3);
  EXPECT_EQ(stats->min_timestamp_ms, 0);
  EXPECT_EQ(stats->max_timestamp_ms, 240000);
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0].timestamps, ElementsAre(0, 240000));
  EXPECT_THAT(got[0].values, ElementsAre(1, 3));
}

TEST(LoadSeriesScriptTest, CrlfLineEnds) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats = LoadSeriesScript(
      "# c\r\nload 5m\r\n  m{a=\"b\"} 1+1x2\r\n\r\n", "crlf.test", storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, Str(Labels{{"__name__", "m"}, {"a", "b"}}));
  EXPECT_THAT(got[0].timestamps, ElementsAre(0, 300000, 600000));
  EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3));
}

absl::Status ScriptError(absl::string_view content, MemStorage& storage) {
  absl::StatusOr<LoadStats> stats =
      LoadSeriesScript(content, "s.test", storage);
  return stats.ok() ? absl::OkStatus() : stats.status();
}

TEST(LoadSeriesScriptTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* content;
    const char* prefix;
  };
  const Case cases[] = {
      // A bad value in an indented line: 4 blanks + "metric 1 " = 13.
      {"load 1m\n    metric 1 bad\n", "s.test:2:14: "},
      {"# c\nload 1m\n\tm{a=\"b\" 1\n", "s.test:3:10: "},
      {"load 1m\n  m 1\n  m 1 2x\n", "s.test:3:7: "},
      // Not a load command.
      {"load 1m\n  m 1\n\neval instant at 0 m\n", "s.test:4:1: "},
      {"  eval instant at 0 m\n", "s.test:1:3: "},
      {"clear\n", "s.test:1:1: "},
      // Bad intervals.
      {"load abc\n  m 1\n", "s.test:1:6: "},
      {"load 0s\n  m 1\n", "s.test:1:6: "},
      {"load\n  m 1\n", "s.test:1:1: "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    MemStorage storage;
    absl::Status s = ScriptError(c.content, storage);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_THAT(std::string(s.message()), StartsWith(c.prefix));
    EXPECT_EQ(storage.NumSeries(), 0);
  }
}

TEST(LoadSeriesScriptTest, EvalLinesAreRejected) {
  MemStorage storage;
  // After a blank line an eval command is no load block.
  absl::Status s =
      ScriptError("load 1m\n  m 1 2\n\neval instant at 1m m\n  m 2\n", storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("s.test:4:"));
  EXPECT_EQ(storage.NumSeries(), 0);
  // Inside a block it is no series line either.
  s = ScriptError("load 1m\n  m 1 2\neval instant at 1m m\n", storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("s.test:3:"));
  EXPECT_EQ(storage.NumSeries(), 0);
}

TEST(LoadSeriesScriptTest, NativeHistogramsAreUnimplemented) {
  MemStorage storage;
  absl::Status s =
      ScriptError("load 1m\n  m 1\n  h {{schema:0 sum:1 count:1}}\n", storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("s.test:3:5: "));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("native histograms are not supported"));
  EXPECT_EQ(storage.NumSeries(), 0);
}

TEST(LoadSeriesScriptTest, FailedLoadLeavesTheStorageUnchanged) {
  MemStorage storage;
  ASSERT_TRUE(LoadSeriesScript("load 1m\n  m 1 2 3\n", "a.test", storage).ok());
  // A parse error after good blocks.
  absl::Status s = ScriptError("load 1m\n  n 1\n\nload 1m\n  n2 x\n", storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // Samples older than the stored ones of `m`: the commit fails.
  s = ScriptError("load 1m\n  n 1\n  m 5\n", storage);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), StartsWith("s.test"));
  EXPECT_EQ(storage.NumSeries(), 1);
  EXPECT_EQ(storage.NumSamples(), 3);
  std::vector<Series> got = Dump(storage);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].values, ElementsAre(1, 2, 3));
}

TEST(LoadSeriesScriptTest, OnlyCommentsAndBlankLines) {
  MemStorage storage;
  absl::StatusOr<LoadStats> stats =
      LoadSeriesScript("# nothing\n\n  \n", "e.test", storage);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 0);
  EXPECT_EQ(stats->samples, 0);
  EXPECT_EQ(storage.NumSeries(), 0);
}

// Hostile input: random bytes and random mutations of valid inputs never
// crash a loader; each either loads or fails with kInvalidArgument (or
// kUnimplemented), and a failed load leaves the storage empty.
TEST(LoaderRobustnessTest, RandomAndMutatedInput) {
  const std::string valid_om =
      "# TYPE a counter\na_total{x=\"1\",y=\"a\\\"b\"} 1 1700000000.5\n"
      "a_total{x=\"1\",y=\"a\\\"b\"} 2 1700000001 # {id=\"e\"} "
      "1\n{\"q.n\",z=\"\"} NaN\n# EOF\n";
  const std::string valid_script =
      "load 1m\n  m{a=\"b\"} 0+1x3 _ stale -1e3 1m\n";
  static constexpr char kAlphabet[] = "{}\",=# \n\\x_+-.0123456789eE";
  std::mt19937 rng(20261122);
  auto check = [](const absl::Status& s, MemStorage& storage) {
    EXPECT_TRUE(s.ok() || absl::IsInvalidArgument(s) ||
                absl::IsUnimplemented(s))
        << s;
    if (!s.ok()) {
      EXPECT_EQ(storage.NumSeries(), 0);
    }
  };
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    if (round % 3 == 0) {
      input.resize(rng() % 200);
      for (char& c : input) c = static_cast<char>(rng() % 256);
    } else {
      input = round % 3 == 1 ? valid_om : valid_script;
      for (int edits = 1 + rng() % 4; edits > 0; --edits) {
        size_t pos = rng() % (input.size() + 1);
        switch (rng() % 3) {
          case 0:
            input.insert(pos, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
            break;
          case 1:
            if (pos < input.size()) input.erase(pos, 1 + rng() % 3);
            break;
          default:
            if (pos < input.size()) input[pos] = static_cast<char>(rng() % 256);
        }
      }
    }
    for (TextFormat format : {TextFormat::kAuto, TextFormat::kOpenMetrics,
                              TextFormat::kPrometheusText}) {
      MemStorage storage;
      TextLoadOptions options;
      options.format = format;
      check(LoadText(input, "fuzz", options, storage).status(), storage);
    }
    MemStorage storage;
    check(LoadSeriesScript(input, "fuzz", storage).status(), storage);
    absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(input);
    EXPECT_TRUE(desc.ok() || absl::IsInvalidArgument(desc.status()) ||
                absl::IsUnimplemented(desc.status()))
        << desc.status();
  }
}

}  // namespace
}  // namespace promeval
