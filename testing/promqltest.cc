// The promqltest script runner (see ../shared/PROMQLTEST-FORMAT.md and
// Prometheus's promql/promqltest/test.go for the behaviour it mirrors).
#include "promeval/testing/promqltest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "eval/almost.h"
#include "promeval/loaders.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"
#include "re2/re2.h"

namespace promeval {
namespace {

using eval::AlmostEqual;

constexpr double kEpsilon = 1e-6;
constexpr int64_t kMinute = 60 * 1000;

// Go's %v of a float64.
std::string V(double v) { return FormatFloatGo(v); }

enum class ExpectKind { kOrdered, kFail, kWarn, kNoWarn, kInfo, kNoInfo };

// An `expect <kind> msg: ...` / `regex: ...` line; neither: matches anything.
struct Expectation {
  std::string message;
  std::shared_ptr<RE2> regex;

  bool Matches(const std::string& s) const {
    if (regex == nullptr) return s == message;
    return RE2::PartialMatch(s, *regex);
  }
  std::string Describe() const {
    return regex == nullptr
               ? absl::StrCat("message ", GoQuote(message))
               : absl::StrCat("pattern ", GoQuote(regex->pattern()));
  }
};

struct ExpectedSeries {
  Labels labels;
  int pos = 0;  // 1-based position among the result lines.
  std::vector<SequenceValue> values;
};

struct EvalCommand {
  int line = 0;
  std::string text;  // The command line.
  std::string expr;
  bool is_range = false;
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 0;
  int64_t eval_time = 0;  // Instant evals.
  bool legacy_fail = false, legacy_warn = false, legacy_info = false,
       legacy_ordered = false;
  std::string expected_fail_message;
  std::shared_ptr<RE2> expected_fail_regexp;
  std::vector<Expectation> expects[6];
  bool expect_scalar = false;
  std::vector<ExpectedSeries> expected;
  std::optional<std::string> expected_string;
  bool exclude_from_range_query = false;
  // A problem found while reading the eval (reported as its failure).
  std::string parse_error;

  const std::vector<Expectation>& Of(ExpectKind k) const {
    return expects[static_cast<int>(k)];
  }
  bool IsOrdered() const {
    return legacy_ordered || !Of(ExpectKind::kOrdered).empty();
  }
  bool IsFail() const { return legacy_fail || !Of(ExpectKind::kFail).empty(); }

  const ExpectedSeries* Find(const Labels& labels) const {
    for (const ExpectedSeries& e : expected) {
      if (e.labels == labels) return &e;
    }
    return nullptr;
  }
};

struct LoadCommand {
  int line = 0;
  int64_t gap = 0;
  std::vector<SeriesDescription> series;  // Later duplicates replaced.
  // Series holding native histograms, not loaded, and series with start
  // timestamps (`@st` lines, whose start timestamps are not loaded).
  std::vector<Labels> native_histograms;
  std::vector<Labels> start_timestamps;
};

// The metric part of a series-description line: up to the first blank
// outside quotes and braces.
absl::string_view MetricPart(absl::string_view line) {
  char quote = 0;
  int depth = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote != 0) {
      if (c == '\\' && quote != '`') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      --depth;
    } else if ((c == ' ' || c == '\t') && depth == 0) {
      return line.substr(0, i);
    }
  }
  return line;
}

// The series load_with_nhcb synthesises native histograms for: the base
// name of *_bucket (without le), *_count and *_sum series.
std::optional<Labels> NhcbBase(const Labels& labels) {
  absl::string_view name = labels.Get(kMetricName);
  for (absl::string_view suffix : {"_bucket", "_count", "_sum"}) {
    if (!absl::EndsWith(name, suffix)) continue;
    if (suffix == "_bucket" && !labels.Has("le")) return std::nullopt;
    return LabelsBuilder(labels)
        .Set(kMetricName, name.substr(0, name.size() - suffix.size()))
        .Del("le")
        .Build();
  }
  return std::nullopt;
}

struct ClearCommand {};

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

absl::StatusOr<int64_t> ParseTime(absl::string_view s, absl::string_view what) {
  absl::StatusOr<int64_t> ms = ParseDuration(s);
  if (!ms.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " definition ", GoQuote(s), ": ",
                     ms.status().message()));
  }
  return ms;
}

// Prometheus's test parseNumber: ParseInt(s, 0, 64), then ParseFloat.
std::optional<double> ParseScalarLine(absl::string_view s) {
  absl::StatusOr<double> v = ParseNumber(s);
  if (!v.ok()) return std::nullopt;
  return *v;
}

absl::StatusOr<Expectation> ParseExpectLine(const std::string& line,
                                            ExpectKind& kind) {
  static const RE2* const kExpect = new RE2(
      R"(^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$)");
  std::string mode, match_type, text;
  if (!RE2::FullMatch(line, *kExpect, &mode, &match_type, &text)) {
    return absl::InvalidArgumentError(
        "invalid expect statement, must match `expect <type> <match_type>: "
        "<string>` format");
  }
  if (mode == "ordered") kind = ExpectKind::kOrdered;
  if (mode == "fail") kind = ExpectKind::kFail;
  if (mode == "warn") kind = ExpectKind::kWarn;
  if (mode == "no_warn") kind = ExpectKind::kNoWarn;
  if (mode == "info") kind = ExpectKind::kInfo;
  if (mode == "no_info") kind = ExpectKind::kNoInfo;
  Expectation e;
  std::string value(absl::StripAsciiWhitespace(text));
  if (match_type == "msg") {
    e.message = value;
  } else {
    e.regex = std::make_shared<RE2>(match_type == "regex" ? value : ".*");
    if (!e.regex->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid regex ", value, " for ", mode));
    }
  }
  return e;
}

class ScriptRunner {
 public:
  ScriptRunner(absl::string_view filename, const ScriptOptions& options)
      : filename_(filename), options_(options) {
    base_name_ = std::string(filename);
    if (size_t slash = base_name_.rfind('/'); slash != std::string::npos) {
      base_name_ = base_name_.substr(slash + 1);
    }
  }

  ScriptReport Run(absl::string_view content);

 private:
  struct Command {
    std::optional<LoadCommand> load;
    std::optional<EvalCommand> eval;
    bool clear = false;
  };

  std::string Where(int line) const {
    return absl::StrCat(filename_, ":", line);
  }

  // Parses the command at lines_[i]; returns the index of its last line.
  size_t ParseLoad(size_t i, bool with_nhcb, Command& cmd);
  size_t ParseEval(size_t i, Command& cmd);
  void ParseEvalBody(size_t& i, EvalCommand& ev);

  absl::Status ExecLoad(const LoadCommand& load);
  // An empty string when the eval passes.
  std::string ExecEval(const EvalCommand& ev);
  std::string ExecRange(const EvalCommand& ev);
  // Runs a query (and the cross-check, recording a difference).
  absl::StatusOr<QueryResult> Query(absl::string_view expr, int64_t start,
                                    int64_t end, int64_t step, bool instant);
  std::string ExecInstant(const EvalCommand& ev);
  std::string RunInstantVariant(const EvalCommand& ev, const std::string& expr,
                                int64_t t);
  // Whether a selector of the eval's expression selects one of `series`.
  bool Selects(const EvalCommand& ev, const std::vector<Labels>& series) const;

  const std::string filename_;
  std::string base_name_;
  const ScriptOptions& options_;
  std::vector<std::string> lines_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Engine> cross_check_engine_;  // ScriptOptions::cross_check.
  // The first difference the cross-check found in the current eval.
  std::string cross_check_failure_;
  MemStorage storage_;
  // Since the last clear.
  std::vector<Labels> native_histograms_;
  std::vector<Labels> start_timestamps_;
  ScriptReport report_;
};

bool ScriptRunner::Selects(const EvalCommand& ev,
                           const std::vector<Labels>& series) const {
  if (series.empty()) return false;
  absl::StatusOr<ExprPtr> expr = ParseExpr(ev.expr, options_.engine.parser);
  if (!expr.ok()) return false;
  bool selects = false;
  Inspect(**expr, [&](const Expr& e) {
    const auto* vs = As<VectorSelector>(&e);
    if (vs == nullptr || selects) return;
    for (const Labels& l : series) {
      if (std::all_of(
              vs->matchers.begin(), vs->matchers.end(),
              [&](const Matcher& m) { return m.Matches(l.Get(m.name())); })) {
        selects = true;
        return;
      }
    }
  });
  return selects;
}

size_t ScriptRunner::ParseLoad(size_t i, bool with_nhcb, Command& cmd) {
  static const RE2* const kLoad = new RE2(R"(^load(?:_(with_nhcb))?\s+(.+?)$)");
  LoadCommand load;
  load.line = static_cast<int>(i) + 1;
  std::string nhcb, step;
  if (!RE2::FullMatch(lines_[i], *kLoad, &nhcb, &step)) {
    report_.errors.push_back(absl::StrCat(
        Where(load.line),
        ": invalid load command. (load[_with_nhcb] <step:duration>)"));
    return i;
  }
  absl::StatusOr<int64_t> gap = ParseTime(step, "step");
  if (!gap.ok()) {
    report_.errors.push_back(
        absl::StrCat(Where(load.line), ": ", gap.status().message()));
    return i;
  }
  load.gap = *gap;
  bool ok = true;
  while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
    ++i;
    absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(lines_[i]);
    if (absl::IsUnimplemented(desc.status())) {
      absl::string_view metric = MetricPart(lines_[i]);
      bool start_timestamps = absl::ConsumeSuffix(&metric, "@st");
      absl::StatusOr<Labels> labels = ParseMetric(metric);
      if (labels.ok()) {
        (start_timestamps ? load.start_timestamps : load.native_histograms)
            .push_back(*std::move(labels));
      }
      continue;
    }
    if (!desc.ok()) {
      report_.errors.push_back(absl::StrCat(Where(static_cast<int>(i) + 1), ":",
                                            desc.status().message()));
      ok = false;
      continue;
    }
    auto same = std::find_if(
        load.series.begin(), load.series.end(),
        [&](const SeriesDescription& s) { return s.labels == desc->labels; });
    if (same != load.series.end()) {
      *same = *std::move(desc);
    } else {
      load.series.push_back(*std::move(desc));
    }
  }
  if (with_nhcb) {
    // Only the float series are loaded; no NHCB series is synthesised.
    for (const SeriesDescription& d : load.series) {
      if (std::optional<Labels> base = NhcbBase(d.labels)) {
        load.native_histograms.push_back(*std::move(base));
      }
    }
  }
  if (ok) cmd.load = std::move(load);
  return i;
}

size_t ScriptRunner::ParseEval(size_t i, Command& cmd) {
  static const RE2* const kInstant = new RE2(
      R"(^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
  static const RE2* const kRange = new RE2(
      R"(^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
  EvalCommand ev;
  ev.line = static_cast<int>(i) + 1;
  ev.text = lines_[i];
  std::string mod, at, from, to, step;
  auto fail = [&](std::string message) {
    if (ev.parse_error.empty()) ev.parse_error = std::move(message);
  };
  if (RE2::FullMatch(lines_[i], *kInstant, &mod, &at, &ev.expr)) {
    absl::StatusOr<int64_t> t = ParseTime(at, "timestamp");
    if (!t.ok()) fail(std::string(t.status().message()));
    ev.eval_time = ev.start = t.value_or(0);
    ev.end = std::numeric_limits<int64_t>::min();
  } else if (RE2::FullMatch(lines_[i], *kRange, &mod, &from, &to, &step,
                            &ev.expr)) {
    ev.is_range = true;
    absl::StatusOr<int64_t> s = ParseTime(from, "start timestamp");
    absl::StatusOr<int64_t> e = ParseTime(to, "end timestamp");
    absl::StatusOr<int64_t> st = ParseTime(step, "step");
    for (const auto* r : {&s, &e, &st}) {
      if (!r->ok()) fail(std::string(r->status().message()));
    }
    ev.start = s.value_or(0);
    ev.end = e.value_or(0);
    ev.step = st.value_or(0);
    if (ev.end < ev.start) {
      fail(absl::StrCat("invalid test definition, end timestamp (", to,
                        ") is before start timestamp (", from, ")"));
    }
  } else {
    fail(
        "invalid evaluation command. Must be either "
        "'eval[_fail|_warn|_ordered] "
        "instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range "
        "from <from> to <to> step <step> <query>'");
  }
  ev.legacy_fail = mod == "fail";
  ev.legacy_warn = mod == "warn";
  ev.legacy_info = mod == "info";
  ev.legacy_ordered = mod == "ordered";
  if (!options_.run_skipped && options_.skips != nullptr &&
      options_.skips->Find(base_name_, ev.line) != nullptr) {
    // Not parsed further: skipped evals may use syntax or notation that is
    // not supported.
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) ++i;
  } else {
    ParseEvalBody(i, ev);
  }
  cmd.eval = std::move(ev);
  return i;
}

void ScriptRunner::ParseEvalBody(size_t& i, EvalCommand& ev) {
  auto fail = [&](absl::string_view message) {
    if (ev.parse_error.empty()) ev.parse_error = std::string(message);
  };
  absl::StatusOr<ExprPtr> parsed = ParseExpr(ev.expr, options_.engine.parser);
  if (!parsed.ok()) fail(parsed.status().message());
  bool expect_range_vector = false;
  int pos = 0;
  while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
    ++i;
    const std::string& def = lines_[i];
    if (ev.IsFail() && absl::StartsWith(def, "expected_fail_message")) {
      ev.expected_fail_message = std::string(absl::StripAsciiWhitespace(
          absl::StripPrefix(def, "expected_fail_message")));
      break;
    }
    if (ev.IsFail() && absl::StartsWith(def, "expected_fail_regexp")) {
      std::string pattern(absl::StripAsciiWhitespace(
          absl::StripPrefix(def, "expected_fail_regexp")));
      ev.expected_fail_regexp = std::make_shared<RE2>(pattern);
      if (!ev.expected_fail_regexp->ok()) {
        fail(absl::StrCat("invalid regexp '", pattern,
                          "' for expected_fail_regexp"));
      }
      break;
    }
    if (absl::StartsWith(def, "expect range vector")) {
      static const RE2* const kRangeVector = new RE2(
          R"(^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$)");
      std::string from, to, step;
      if (!RE2::FullMatch(def, *kRangeVector, &from, &to, &step)) {
        fail(absl::StrCat("invalid range vector definition ", GoQuote(def)));
        continue;
      }
      absl::StatusOr<int64_t> s = ParseTime(from, "start timestamp");
      absl::StatusOr<int64_t> e = ParseTime(to, "end timestamp");
      absl::StatusOr<int64_t> st = ParseTime(step, "step");
      if (!s.ok() || !e.ok() || !st.ok()) {
        fail("invalid range vector definition");
        continue;
      }
      expect_range_vector = true;
      ev.start = *s;
      ev.end = *e;
      ev.step = *st;
      ev.eval_time = *e;
      ev.exclude_from_range_query = true;
      continue;
    }
    if (absl::StartsWith(def, "expect string")) {
      absl::string_view quoted = absl::StripPrefix(def, "expect string ");
      absl::StatusOr<std::string> s = Unquote(quoted);
      if (def == "expect string" || quoted.empty() || !s.ok()) {
        fail(
            "expected string literal not valid - check that the string is "
            "correctly quoted");
        continue;
      }
      ev.expected_string = *s;
      ev.exclude_from_range_query = true;
      continue;
    }
    if (absl::StrSplit(def, ' ').begin()->compare("expect") == 0) {
      ExpectKind kind = ExpectKind::kOrdered;
      absl::StatusOr<Expectation> e = ParseExpectLine(def, kind);
      if (!e.ok()) {
        fail(e.status().message());
        continue;
      }
      ev.expects[static_cast<int>(kind)].push_back(*std::move(e));
      if ((!ev.Of(ExpectKind::kInfo).empty() &&
           !ev.Of(ExpectKind::kNoInfo).empty()) ||
          (!ev.Of(ExpectKind::kWarn).empty() &&
           !ev.Of(ExpectKind::kNoWarn).empty()) ||
          ev.Of(ExpectKind::kFail).size() > 1) {
        fail("invalid expect lines");
      }
      continue;
    }
    ++pos;
    if (std::optional<double> v = ParseScalarLine(def)) {
      ev.expect_scalar = true;
      ev.expected.clear();
      ev.expected.push_back(
          ExpectedSeries{Labels(), 0, {SequenceValue{*v, false}}});
      break;
    }
    absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(def);
    if (!desc.ok()) {
      fail(absl::StrCat("line ", i + 1, ":", desc.status().message(),
                        absl::IsUnimplemented(desc.status())
                            ? " (list the eval in the skip list)"
                            : ""));
      continue;
    }
    if (desc->values.size() > 1 && !ev.is_range && !expect_range_vector) {
      fail(
          "expecting multiple values in instant evaluation not allowed. "
          "consider using 'expect range vector' directive to enable a range "
          "vector result for an instant query");
      continue;
    }
    if (desc->values.empty() && !ev.is_range && !expect_range_vector) {
      fail(absl::StrCat("line ", i + 1, ": expected series ",
                        desc->labels.ToString(),
                        " has no value for the instant evaluation"));
      continue;
    }
    ev.expect_scalar = false;
    ExpectedSeries e{desc->labels, pos, std::move(desc->values)};
    auto same = std::find_if(
        ev.expected.begin(), ev.expected.end(),
        [&](const ExpectedSeries& x) { return x.labels == e.labels; });
    if (same != ev.expected.end()) {
      *same = std::move(e);
    } else {
      ev.expected.push_back(std::move(e));
    }
  }
}

absl::Status ScriptRunner::ExecLoad(const LoadCommand& load) {
  std::unique_ptr<Appender> app = storage_.NewAppender();
  AppendSeriesDescriptions(load.series, 0, load.gap, *app);
  return app->Commit();
}

std::string FormatPoints(const Series& s) {
  std::vector<std::string> points;
  for (const FPoint& p : s.points)
    points.push_back(absl::StrCat(V(p.v), " @[", p.t, "]"));
  return absl::StrCat(s.points.size(), " float point",
                      s.points.size() == 1 ? "" : "s", " [",
                      absl::StrJoin(points, " "), "]");
}

std::string FormatValues(const std::vector<SequenceValue>& values) {
  std::vector<std::string> out;
  for (const SequenceValue& v : values)
    out.push_back(v.omitted ? "_" : V(v.value));
  return absl::StrCat("[", absl::StrJoin(out, " "), "]");
}

// compareResult of test.go: an empty string when `result` matches.
std::string CompareResult(const EvalCommand& ev, const QueryResult& result) {
  switch (result.type) {
    case ValueType::kMatrix: {
      if (ev.IsOrdered())
        return "expected ordered result, but query returned a matrix";
      if (ev.expect_scalar) return "expected scalar result, but got matrix";
      for (size_t i = 1; i < result.matrix.size(); ++i) {
        if (CompareLabels(result.matrix[i - 1].labels,
                          result.matrix[i].labels) > 0) {
          return absl::StrCat(
              "matrix results should always be sorted by labels, but matrix is "
              "not sorted: series at index ",
              i, " with labels ", result.matrix[i].labels.ToString(),
              " sorts before series at index ", i - 1, " with labels ",
              result.matrix[i - 1].labels.ToString());
        }
      }
      for (const Series& s : result.matrix) {
        const ExpectedSeries* exp = ev.Find(s.labels);
        if (exp == nullptr) {
          return absl::StrCat("unexpected metric ", s.labels.ToString(),
                              " in result, has ", FormatPoints(s));
        }
        std::vector<FPoint> want;
        for (size_t i = 0; i < exp->values.size(); ++i) {
          int64_t t = ev.start + static_cast<int64_t>(i) * ev.step;
          if (t > ev.end) {
            return absl::StrCat(
                "expected ", exp->values.size(), " points for ",
                s.labels.ToString(),
                ", but query time range cannot return this many points");
          }
          if (!exp->values[i].omitted)
            want.push_back(FPoint{t, exp->values[i].value});
        }
        if (want.size() != s.points.size()) {
          return absl::StrCat("expected ", want.size(),
                              " float points and 0 histogram points for ",
                              s.labels.ToString(), ", but got ",
                              FormatPoints(s));
        }
        for (size_t i = 0; i < want.size(); ++i) {
          if (want[i].t != s.points[i].t) {
            return absl::StrCat("expected float value at index ", i, " for ",
                                s.labels.ToString(), " to have timestamp ",
                                want[i].t, ", but it had timestamp ",
                                s.points[i].t, " (result has ", FormatPoints(s),
                                ")");
          }
          if (!AlmostEqual(s.points[i].v, want[i].v, kEpsilon)) {
            return absl::StrCat("expected float value at index ", i,
                                " (t=", s.points[i].t, ") for ",
                                s.labels.ToString(), " to be ", V(want[i].v),
                                ", but got ", V(s.points[i].v), " (result has ",
                                FormatPoints(s), ")");
          }
        }
      }
      for (const ExpectedSeries& e : ev.expected) {
        bool seen =
            std::any_of(result.matrix.begin(), result.matrix.end(),
                        [&](const Series& s) { return s.labels == e.labels; });
        if (!seen)
          return absl::StrCat("expected metric ", e.labels.ToString(),
                              " not found");
      }
      return "";
    }
    case ValueType::kVector: {
      if (ev.expect_scalar) return "expected scalar result, but got vector";
      for (size_t pos = 0; pos < result.vector.size(); ++pos) {
        const Sample& s = result.vector[pos];
        const ExpectedSeries* exp = ev.Find(s.labels);
        if (exp == nullptr) {
          return absl::StrCat("unexpected metric ", s.labels.ToString(),
                              " in result, has value ", V(s.v));
        }
        if (ev.IsOrdered() && exp->pos != static_cast<int>(pos) + 1) {
          return absl::StrCat("expected metric ", s.labels.ToString(), " with ",
                              FormatValues(exp->values), " at position ",
                              exp->pos, " but was at ", pos + 1);
        }
        if (!AlmostEqual(exp->values[0].value, s.v, kEpsilon)) {
          return absl::StrCat("expected ", V(exp->values[0].value), " for ",
                              s.labels.ToString(), " but got ", V(s.v));
        }
      }
      for (const ExpectedSeries& e : ev.expected) {
        bool seen =
            std::any_of(result.vector.begin(), result.vector.end(),
                        [&](const Sample& s) { return s.labels == e.labels; });
        if (!seen) {
          return absl::StrCat("expected metric ", e.labels.ToString(), " with ",
                              FormatValues(e.values), " not found");
        }
      }
      return "";
    }
    case ValueType::kScalar:
      if (!ev.expect_scalar) {
        return absl::StrCat("expected vector or matrix result, but got scalar ",
                            V(result.scalar));
      }
      if (!AlmostEqual(ev.expected[0].values[0].value, result.scalar,
                       kEpsilon)) {
        return absl::StrCat("expected scalar ",
                            V(ev.expected[0].values[0].value), " but got ",
                            V(result.scalar));
      }
      return "";
    case ValueType::kString: {
      std::string want = ev.expected_string.value_or("");
      if (want != result.string) {
        return absl::StrCat("expected string \"", want, "\" but got \"",
                            result.string, "\"");
      }
      return "";
    }
    case ValueType::kNone:
      break;
  }
  return "unexpected result type";
}

std::string CheckAnnotations(const EvalCommand& ev, const std::string& expr,
                             const QueryResult& result) {
  std::vector<std::string> warnings, infos;
  for (const Annotation& a : result.annotations) {
    (a.kind == Annotation::Kind::kWarning ? warnings : infos)
        .push_back(a.ToString(expr));
  }
  std::vector<std::string> all = warnings;
  all.insert(all.end(), infos.begin(), infos.end());
  std::string found = absl::StrCat("[", absl::StrJoin(all, " "), "]");
  if (ev.legacy_warn && warnings.empty()) {
    return absl::StrCat("expected warnings evaluating query ", GoQuote(expr),
                        " but got none");
  }
  if (ev.legacy_info && infos.empty()) {
    return absl::StrCat("expected info annotations evaluating query ",
                        GoQuote(expr), " but got none");
  }
  auto validate = [&](const std::vector<Expectation>& expected,
                      const std::vector<std::string>& actual,
                      absl::string_view type) -> std::string {
    if (expected.empty()) return "";
    if (actual.empty()) {
      return absl::StrCat("expected ", type,
                          " annotations but none were found for query ",
                          GoQuote(expr));
    }
    for (const Expectation& e : expected) {
      if (std::none_of(actual.begin(), actual.end(),
                       [&](const std::string& a) { return e.Matches(a); })) {
        return absl::StrCat("expected ", type, " annotation matching ",
                            e.Describe(),
                            " but no matching annotation was found for query ",
                            GoQuote(expr), ", found: ", found);
      }
    }
    for (const std::string& a : actual) {
      if (std::none_of(expected.begin(), expected.end(),
                       [&](const Expectation& e) { return e.Matches(a); })) {
        return absl::StrCat("unexpected ", type, " annotation ", GoQuote(a),
                            " found for query ", expr);
      }
    }
    return "";
  };
  if (std::string d = validate(ev.Of(ExpectKind::kWarn), warnings, "warn");
      !d.empty()) {
    return d;
  }
  if (std::string d = validate(ev.Of(ExpectKind::kInfo), infos, "info");
      !d.empty()) {
    return d;
  }
  if (!ev.Of(ExpectKind::kNoWarn).empty() && !warnings.empty()) {
    return absl::StrCat("unexpected warning annotations evaluating query ",
                        GoQuote(expr), ": ", found);
  }
  if (!ev.Of(ExpectKind::kNoInfo).empty() && !infos.empty()) {
    return absl::StrCat("unexpected info annotations evaluating query ",
                        GoQuote(expr), ": ", found);
  }
  return "";
}

// An empty string if `error` is the failure the eval expects.
std::string CheckExpectedFailure(const EvalCommand& ev,
                                 absl::string_view error) {
  std::string err(error);
  if (!ev.expected_fail_message.empty() && ev.expected_fail_message != err) {
    return absl::StrCat("expected error ", GoQuote(ev.expected_fail_message),
                        ", but got: ", err);
  }
  if (ev.expected_fail_regexp != nullptr &&
      !RE2::PartialMatch(err, *ev.expected_fail_regexp)) {
    return absl::StrCat("expected error matching pattern ",
                        GoQuote(ev.expected_fail_regexp->pattern()),
                        ", but got: ", err);
  }
  const std::vector<Expectation>& fail = ev.Of(ExpectKind::kFail);
  if (!fail.empty() && !fail[0].Matches(err)) {
    return absl::StrCat("expected error matching ", fail[0].Describe(),
                        ", but got: ", err);
  }
  return "";
}

// Sets `@ t` on every selector and subquery without one, not descending into
// subqueries (test.go's atModifierTestCases). Returns false if the
// expression calls, outside subqueries, a function whose value depends on
// the evaluation time.
bool SetAt(Expr& e, int64_t t) {
  AtModifier at{AtModifier::Kind::kTimestamp, t};
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      // `@ start()` and `@ end()` are replaced too: upstream sets the
      // timestamp wherever none is set, and those two are not timestamps.
      auto& vs = static_cast<VectorSelector&>(e);
      if (vs.at.kind != AtModifier::Kind::kTimestamp) vs.at = at;
      return true;
    }
    case NodeKind::kMatrixSelector:
      return SetAt(*static_cast<MatrixSelector&>(e).vector_selector, t);
    case NodeKind::kSubqueryExpr: {
      // Nothing inside a subquery is changed or inspected.
      auto& sq = static_cast<SubqueryExpr&>(e);
      if (sq.at.kind != AtModifier::Kind::kTimestamp) sq.at = at;
      return true;
    }
    case NodeKind::kCall: {
      auto& c = static_cast<Call&>(e);
      bool safe = !c.func->at_modifier_unsafe;
      for (ExprPtr& a : c.args) safe = SetAt(*a, t) && safe;
      return safe;
    }
    case NodeKind::kAggregateExpr: {
      auto& a = static_cast<AggregateExpr&>(e);
      bool safe = SetAt(*a.expr, t);
      if (a.param != nullptr) safe = SetAt(*a.param, t) && safe;
      return safe;
    }
    case NodeKind::kBinaryExpr: {
      // Along the left spine iteratively: operator chains may be long.
      Expr* leftmost = nullptr;
      std::vector<BinaryExpr*> spine = LeftSpine(e, &leftmost);
      bool safe = SetAt(*leftmost, t);
      for (BinaryExpr* b : spine) safe = SetAt(*b->rhs, t) && safe;
      return safe;
    }
    case NodeKind::kParenExpr:
      return SetAt(*static_cast<ParenExpr&>(e).expr, t);
    case NodeKind::kUnaryExpr:
      return SetAt(*static_cast<UnaryExpr&>(e).expr, t);
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kDurationExpr:
      return true;
  }
  return true;
}

std::string ScriptRunner::ExecEval(const EvalCommand& ev) {
  if (!ev.parse_error.empty()) return ev.parse_error;
  cross_check_failure_.clear();
  std::string diff = ev.is_range ? ExecRange(ev) : ExecInstant(ev);
  return cross_check_failure_.empty() ? diff : cross_check_failure_;
}

namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// Where two results of one query differ in any bit ("" if nowhere).
std::string ResultDifference(const absl::StatusOr<QueryResult>& a,
                             const absl::StatusOr<QueryResult>& b) {
  if (a.ok() != b.ok() || (!a.ok() && a.status() != b.status())) {
    return absl::StrCat("outcome ", a.status().ToString(), " vs ",
                        b.status().ToString());
  }
  if (!a.ok()) return "";
  if (a->type != b->type) return "result types";
  if (Bits(a->scalar) != Bits(b->scalar) || a->string != b->string ||
      a->timestamp != b->timestamp) {
    return "scalar or string results";
  }
  if (a->annotations != b->annotations) return "annotations";
  if (a->vector.size() != b->vector.size()) return "vector sizes";
  for (size_t i = 0; i < a->vector.size(); ++i) {
    const Sample& x = a->vector[i];
    const Sample& y = b->vector[i];
    if (x.labels != y.labels || x.t != y.t || Bits(x.v) != Bits(y.v)) {
      return absl::StrCat("vector element ", i, ": ", x.labels.ToString(),
                          " vs ", y.labels.ToString());
    }
  }
  if (a->matrix.size() != b->matrix.size()) return "matrix sizes";
  for (size_t i = 0; i < a->matrix.size(); ++i) {
    const Series& x = a->matrix[i];
    const Series& y = b->matrix[i];
    if (x.labels != y.labels || x.points.size() != y.points.size()) {
      return absl::StrCat("matrix series ", i, ": ", x.labels.ToString(),
                          " vs ", y.labels.ToString());
    }
    for (size_t k = 0; k < x.points.size(); ++k) {
      if (x.points[k].t != y.points[k].t ||
          Bits(x.points[k].v) != Bits(y.points[k].v)) {
        return absl::StrCat("matrix series ", x.labels.ToString(), " point ",
                            k);
      }
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<QueryResult> ScriptRunner::Query(absl::string_view expr,
                                                int64_t start, int64_t end,
                                                int64_t step, bool instant) {
  auto run = [&](const Engine& engine) {
    return instant ? engine.InstantQuery(storage_, expr, start)
                   : engine.RangeQuery(storage_, expr, start, end, step);
  };
  absl::StatusOr<QueryResult> res = run(*engine_);
  if (cross_check_engine_ != nullptr && cross_check_failure_.empty()) {
    std::string diff = ResultDifference(res, run(*cross_check_engine_));
    if (!diff.empty()) {
      cross_check_failure_ = absl::StrCat(
          "cross-check: ", instant ? "instant" : "range", " query ",
          GoQuote(expr), " at ", start, " differs: ", diff);
    }
  }
  return res;
}

std::string ScriptRunner::ExecRange(const EvalCommand& ev) {
  absl::StatusOr<QueryResult> res =
      Query(ev.expr, ev.start, ev.end, ev.step, /*instant=*/false);
  if (!res.ok()) {
    if (ev.IsFail()) return CheckExpectedFailure(ev, res.status().message());
    return absl::StrCat("error evaluating query: ", res.status().message());
  }
  if (ev.IsFail()) return "expected error evaluating query but got none";
  if (std::string d = CheckAnnotations(ev, ev.expr, *res); !d.empty()) return d;
  return CompareResult(ev, *res);
}

std::string ScriptRunner::ExecInstant(const EvalCommand& ev) {
  std::vector<std::pair<std::string, int64_t>> queries = {
      {ev.expr, ev.eval_time}};
  absl::StatusOr<ExprPtr> expr = ParseExpr(ev.expr, options_.engine.parser);
  if (expr.ok()) {
    int64_t ts = ev.eval_time;
    if (SetAt(**expr, ts)) {
      std::string with_at = ExprToString(**expr);
      std::vector<int64_t> times = {-10 * ts, 0, ts / 5, ts, 10 * ts};
      if (ts == 0) times = {-1000, 0, 1000};
      for (int64_t t : times) queries.emplace_back(with_at, t);
    }
  }
  for (const auto& [q, t] : queries) {
    if (std::string d = RunInstantVariant(ev, q, t); !d.empty()) {
      if (q == ev.expr && t == ev.eval_time) return d;
      return absl::StrCat("variant ", GoQuote(q), " at ", t, "ms: ", d);
    }
  }
  return "";
}

std::string ScriptRunner::RunInstantVariant(const EvalCommand& ev,
                                            const std::string& expr,
                                            int64_t t) {
  absl::StatusOr<QueryResult> res = Query(expr, t, t, 0, /*instant=*/true);
  if (!res.ok()) {
    if (ev.IsFail()) return CheckExpectedFailure(ev, res.status().message());
    return absl::StrCat("error evaluating query: ", res.status().message());
  }
  if (ev.IsFail()) return "expected error evaluating query but got none";
  if (std::string d = CheckAnnotations(ev, expr, *res); !d.empty()) return d;
  if (std::string d = CompareResult(ev, *res); !d.empty()) return d;
  if (ev.exclude_from_range_query) return "";
  static const RE2* const kContextFuncs =
      new RE2(R"((start|end|range|step)\(\))");
  if (RE2::PartialMatch(expr, *kContextFuncs)) return "";
  absl::StatusOr<QueryResult> range =
      Query(expr, t - kMinute, t + kMinute, kMinute, /*instant=*/false);
  if (!range.ok()) {
    return absl::StrCat("error evaluating query in range mode: ",
                        range.status().message());
  }
  if (ev.IsOrdered()) return "";
  for (size_t i = 1; i < range->matrix.size(); ++i) {
    if (CompareLabels(range->matrix[i - 1].labels, range->matrix[i].labels) >
        0) {
      return "range mode: matrix results should always be sorted by labels";
    }
  }
  QueryResult at_t;
  at_t.type = ValueType::kVector;
  for (const Series& s : range->matrix) {
    for (const FPoint& p : s.points) {
      if (p.t == t) {
        at_t.vector.push_back(Sample{s.labels, p.t, p.v});
        break;
      }
    }
  }
  if (res->type == ValueType::kScalar) {
    if (at_t.vector.empty())
      return "range mode: no scalar value at the eval time";
    at_t.type = ValueType::kScalar;
    at_t.scalar = at_t.vector[0].v;
  }
  if (std::string d = CompareResult(ev, at_t); !d.empty()) {
    return absl::StrCat("range mode: ", d);
  }
  return "";
}

ScriptReport ScriptRunner::Run(absl::string_view content) {
  report_.file = filename_;
  absl::StatusOr<std::unique_ptr<Engine>> engine =
      Engine::Create(options_.engine);
  if (!engine.ok()) {
    report_.errors.push_back(
        absl::StrCat(filename_, ": ", engine.status().message()));
    return report_;
  }
  engine_ = *std::move(engine);
  if (options_.cross_check.has_value()) {
    absl::StatusOr<std::unique_ptr<Engine>> other =
        Engine::Create(*options_.cross_check);
    if (!other.ok()) {
      report_.errors.push_back(
          absl::StrCat(filename_, ": ", other.status().message()));
      return report_;
    }
    cross_check_engine_ = *std::move(other);
  }
  for (absl::string_view l : absl::StrSplit(content, '\n')) {
    l = absl::StripAsciiWhitespace(l);
    if (absl::StartsWith(l, "#")) l = "";
    lines_.emplace_back(l);
  }
  std::vector<Command> cmds;
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].empty()) continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(lines_[i], absl::ByAnyChar(" \t"), absl::SkipEmpty());
    std::string word = Lower(words[0]);
    Command cmd;
    if (word == "clear") {
      cmd.clear = true;
    } else if (absl::StartsWith(word, "load")) {
      i = ParseLoad(i, word == "load_with_nhcb", cmd);
      if (!cmd.load.has_value()) continue;
    } else if (absl::StartsWith(word, "eval")) {
      i = ParseEval(i, cmd);
    } else {
      report_.errors.push_back(absl::StrCat(Where(static_cast<int>(i) + 1),
                                            ": invalid command ",
                                            GoQuote(lines_[i])));
      continue;
    }
    cmds.push_back(std::move(cmd));
  }
  if (options_.skips != nullptr) {
    for (int line : options_.skips->LinesOf(base_name_)) {
      bool is_eval =
          std::any_of(cmds.begin(), cmds.end(), [&](const Command& c) {
            return c.eval.has_value() && c.eval->line == line;
          });
      if (!is_eval) {
        report_.errors.push_back(absl::StrCat(
            Where(line),
            ": the skip list names this line, which is not an eval"));
      }
    }
  }
  bool load_failed = false;
  for (const Command& cmd : cmds) {
    if (cmd.clear) {
      storage_.Clear();
      native_histograms_.clear();
      start_timestamps_.clear();
      load_failed = false;
    } else if (cmd.load.has_value()) {
      for (const Labels& l : cmd.load->native_histograms) {
        native_histograms_.push_back(l);
        ++report_.native_histogram_series;
      }
      for (const Labels& l : cmd.load->start_timestamps) {
        start_timestamps_.push_back(l);
      }
      if (absl::Status s = ExecLoad(*cmd.load); !s.ok()) {
        report_.errors.push_back(
            absl::StrCat(Where(cmd.load->line), ": ", s.message()));
        load_failed = true;
      }
    } else if (cmd.eval.has_value()) {
      const EvalCommand& ev = *cmd.eval;
      EvalOutcome out;
      out.line = ev.line;
      out.command = ev.text;
      const std::string* skip = options_.skips == nullptr
                                    ? nullptr
                                    : options_.skips->Find(base_name_, ev.line);
      if (skip != nullptr) {
        out.result = EvalOutcome::Result::kSkipped;
        out.message = *skip;
        out.skip_is_stale =
            options_.run_skipped && !load_failed && ExecEval(ev).empty();
      } else if (load_failed) {
        out.result = EvalOutcome::Result::kFailed;
        out.message = "not run: a load before it failed";
      } else {
        out.message = ExecEval(ev);
        out.result = out.message.empty() ? EvalOutcome::Result::kPassed
                                         : EvalOutcome::Result::kFailed;
        if (!out.message.empty() && Selects(ev, native_histograms_)) {
          absl::StrAppend(&out.message,
                          " [the query selects native-histogram series, which "
                          "were not loaded]");
        }
        if (!out.message.empty() && Selects(ev, start_timestamps_)) {
          absl::StrAppend(&out.message,
                          " [the query selects series with start timestamps "
                          "(@st), which were not loaded]");
        }
      }
      report_.evals.push_back(std::move(out));
    }
  }
  return report_;
}

}  // namespace

EngineOptions PromqlTestEngineOptions() {
  EngineOptions o;
  o.lookback_delta_ms = 5 * kMinute;
  o.max_samples = 10000;
  o.timeout = absl::Seconds(100);
  o.delayed_name_removal = true;
  o.default_subquery_step_ms = kMinute;
  o.parser = ParseOptions::AllEnabled();
  return o;
}

absl::StatusOr<SkipList> SkipList::Parse(absl::string_view content,
                                         absl::string_view filename) {
  SkipList list;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find_first_of(" \t");
    absl::string_view key = line.substr(0, space);
    absl::string_view reason =
        space == absl::string_view::npos
            ? absl::string_view()
            : absl::StripAsciiWhitespace(line.substr(space));
    size_t colon = key.rfind(':');
    int eval_line = 0;
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(key.substr(colon + 1), &eval_line) ||
        eval_line <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(filename, ":", line_no,
                       ":1: expected FILE:LINE followed by a reason"));
    }
    if (reason.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          filename, ":", line_no, ":", space + 1, ": the skip has no reason"));
    }
    auto [it, inserted] = list.entries_.try_emplace(
        std::make_pair(std::string(key.substr(0, colon)), eval_line), reason);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          filename, ":", line_no, ":1: ", key, " is listed twice"));
    }
  }
  return list;
}

const std::string* SkipList::Find(absl::string_view script, int line) const {
  auto it = entries_.find(std::make_pair(std::string(script), line));
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<int> SkipList::LinesOf(absl::string_view script) const {
  std::vector<int> lines;
  for (const auto& [key, reason] : entries_) {
    if (key.first == script) lines.push_back(key.second);
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

int ScriptReport::passed() const {
  return static_cast<int>(
      std::count_if(evals.begin(), evals.end(), [](const EvalOutcome& e) {
        return e.result == EvalOutcome::Result::kPassed;
      }));
}

int ScriptReport::failed() const {
  return static_cast<int>(errors.size()) +
         static_cast<int>(std::count_if(
             evals.begin(), evals.end(), [](const EvalOutcome& e) {
               return e.result == EvalOutcome::Result::kFailed;
             }));
}

int ScriptReport::skipped() const {
  return static_cast<int>(
      std::count_if(evals.begin(), evals.end(), [](const EvalOutcome& e) {
        return e.result == EvalOutcome::Result::kSkipped;
      }));
}

ScriptReport RunPromqlTest(absl::string_view content,
                           absl::string_view filename,
                           const ScriptOptions& options) {
  ScriptRunner runner(filename, options);
  return runner.Run(content);
}

std::string FormatReports(const std::vector<ScriptReport>& reports) {
  std::string out;
  int passed = 0, failed = 0, skipped = 0;
  for (const ScriptReport& r : reports) {
    for (const std::string& e : r.errors) absl::StrAppend(&out, e, "\n");
    for (const EvalOutcome& e : r.evals) {
      if (e.result == EvalOutcome::Result::kFailed) {
        absl::StrAppend(&out, r.file, ":", e.line, ": ", e.command, ": ",
                        e.message, "\n");
      }
    }
    passed += r.passed();
    failed += r.failed();
    skipped += r.skipped();
  }
  absl::StrAppend(&out, "conformance: ", passed, " passed, ", failed,
                  " failed, ", skipped, " skipped of ",
                  passed + failed + skipped, "\n");
  return out;
}

}  // namespace promeval
