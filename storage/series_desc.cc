// The series-description notation of promqltest and promtool.
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "promeval/loaders.h"
#include "promeval/text.h"
#include "promeval/value.h"

namespace promeval {
namespace {

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

absl::Status ErrorAt(size_t pos, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(pos + 1, ": ", message));
}

class MetricParser {
 public:
  explicit MetricParser(absl::string_view s) : s_(s) {}

  // Parses the metric at the start; pos() is then just after it.
  absl::StatusOr<Labels> Parse() {
    std::vector<Label> labels;
    SkipSpaces();
    if (pos_ < s_.size() && (IsIdentStart(s_[pos_]) || s_[pos_] == ':')) {
      size_t start = pos_;
      while (pos_ < s_.size() && (IsIdentChar(s_[pos_]) || s_[pos_] == ':')) {
        ++pos_;
      }
      labels.push_back(Label{std::string(kMetricName),
                             std::string(s_.substr(start, pos_ - start))});
    }
    bool braces = false;
    if (pos_ < s_.size() && s_[pos_] == '{') {
      braces = true;
      ++pos_;
      while (true) {
        SkipSpaces();
        if (pos_ >= s_.size())
          return ErrorAt(pos_, "unexpected end of input inside braces");
        if (s_[pos_] == '}') {
          ++pos_;
          break;
        }
        std::string name;
        bool quoted_name = false;
        if (s_[pos_] == '"' || s_[pos_] == '\'' || s_[pos_] == '`') {
          absl::StatusOr<std::string> q = QuotedString();
          if (!q.ok()) return q.status();
          name = *std::move(q);
          quoted_name = true;
        } else if (IsIdentStart(s_[pos_])) {
          size_t start = pos_;
          while (pos_ < s_.size() && IsIdentChar(s_[pos_])) ++pos_;
          name = std::string(s_.substr(start, pos_ - start));
        } else {
          return ErrorAt(
              pos_,
              absl::StrCat("unexpected character inside braces: ",
                           GoQuoteRune(static_cast<unsigned char>(s_[pos_]))));
        }
        SkipSpaces();
        if (quoted_name && pos_ < s_.size() &&
            (s_[pos_] == ',' || s_[pos_] == '}')) {
          // A quoted metric name: {"my.metric", ...}.
          labels.push_back(Label{std::string(kMetricName), std::move(name)});
        } else {
          if (pos_ >= s_.size() || s_[pos_] != '=') {
            return ErrorAt(pos_,
                           absl::StrCat("expected \"=\" after label name ",
                                        GoQuote(name)));
          }
          ++pos_;
          SkipSpaces();
          absl::StatusOr<std::string> value = QuotedString();
          if (!value.ok()) return value.status();
          labels.push_back(Label{std::move(name), *std::move(value)});
        }
        SkipSpaces();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          break;
        }
        return ErrorAt(pos_, "expected \",\" or \"}\" in label set");
      }
    }
    if (labels.empty() && !braces) {
      return ErrorAt(pos_, "expected a metric name or label set");
    }
    return Labels(std::move(labels));
  }

  size_t pos() const { return pos_; }

 private:
  void SkipSpaces() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }

  absl::StatusOr<std::string> QuotedString() {
    if (pos_ >= s_.size()) return ErrorAt(pos_, "expected a quoted string");
    char quote = s_[pos_];
    if (quote != '"' && quote != '\'' && quote != '`') {
      return ErrorAt(pos_, "expected a quoted string");
    }
    size_t start = pos_++;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && quote != '`') ++pos_;
      // As Prometheus's lexer: U+FFFD, or what decodes to it, is an error.
      int width = 1;
      if (pos_ < s_.size() &&
          DecodeUtf8(s_.substr(pos_), width) == kRuneError) {
        return ErrorAt(pos_, "invalid UTF-8 rune");
      }
      pos_ += width;
    }
    if (pos_ >= s_.size()) return ErrorAt(start, "unterminated quoted string");
    ++pos_;
    absl::StatusOr<std::string> out = Unquote(s_.substr(start, pos_ - start));
    if (!out.ok()) {
      return ErrorAt(start,
                     absl::StrCat("invalid string: ", out.status().message()));
    }
    return out;
  }

  absl::string_view s_;
  size_t pos_ = 0;
};

// A number of the notation: decimal/float (ParseInt-then-ParseFloat rules),
// a duration (as seconds), Inf or NaN.
absl::StatusOr<double> NumberValue(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("missing number");
  if (absl::ascii_isdigit(text[0])) {
    bool duration_like = true;
    for (char c : text) {
      if (!absl::ascii_isdigit(c) &&
          std::string_view("smhdwy").find(c) == std::string_view::npos) {
        duration_like = false;
      }
    }
    if (duration_like && !absl::ascii_isdigit(text.back())) {
      absl::StatusOr<int64_t> ms = ParseDuration(text);
      if (!ms.ok()) return ms.status();
      return static_cast<double>(*ms) / 1000.0;
    }
  }
  return ParseNumber(text);
}

// Splits a value item into number parts: returns the end of the number
// starting at `i` (signs only inside exponents).
size_t NumberEnd(absl::string_view t, size_t i) {
  size_t j = i;
  while (j < t.size()) {
    char c = t[j];
    if (c == 'x' && j > i && absl::ascii_isdigit(t[j - 1])) break;
    if ((c == '+' || c == '-')) {
      bool exponent = j > i && (t[j - 1] == 'e' || t[j - 1] == 'E') &&
                      j > i + 1 &&
                      (absl::ascii_isdigit(t[j - 2]) || t[j - 2] == '.');
      if (!exponent) break;
    } else if (!absl::ascii_isalnum(c) && c != '.' && c != '_') {
      break;
    }
    ++j;
  }
  return j;
}

// The most values one series description may expand to (a limit against
// hostile input: 2^24 values take 256 MiB).
constexpr uint64_t kMaxValues = uint64_t{1} << 24;

absl::Status ExpandItem(absl::string_view item, size_t column,
                        std::vector<SequenceValue>& out) {
  auto bad = [&](absl::string_view why) {
    return ErrorAt(column,
                   absl::StrCat(why, " in series values: ", GoQuote(item)));
  };
  auto repetitions = [&](absl::string_view digits,
                         uint64_t& n) -> absl::Status {
    if (digits.empty() || !absl::SimpleAtoi(digits, &n)) {
      return bad("invalid repetition");
    }
    if (n >= kMaxValues - out.size()) {
      return bad(
          absl::StrCat("repetition count too large (a series takes at "
                       "most ",
                       kMaxValues, " values)"));
    }
    return absl::OkStatus();
  };
  if (out.size() >= kMaxValues) {
    return bad(absl::StrCat("too many values (a series takes at most ",
                            kMaxValues, ")"));
  }
  if (item == "_") {
    out.push_back({0, true});
    return absl::OkStatus();
  }
  if (absl::StartsWith(item, "_x")) {
    uint64_t n = 0;
    if (absl::Status s = repetitions(item.substr(2), n); !s.ok()) return s;
    for (uint64_t i = 0; i < n; ++i) out.push_back({0, true});
    return absl::OkStatus();
  }
  if (item == "stale") {
    out.push_back({StaleNaN(), false});
    return absl::OkStatus();
  }
  size_t i = 0;
  bool negative = false;
  if (item[0] == '+' || item[0] == '-') {
    negative = item[0] == '-';
    i = 1;
  }
  size_t end = NumberEnd(item, i);
  absl::StatusOr<double> base = NumberValue(item.substr(i, end - i));
  if (!base.ok()) return bad(base.status().message());
  double value = negative ? -*base : *base;
  if (end == item.size()) {
    out.push_back({value, false});
    return absl::OkStatus();
  }
  double increment = 0;
  if (item[end] == '+' || item[end] == '-') {
    bool minus = item[end] == '-';
    size_t inc_end = NumberEnd(item, end + 1);
    absl::StatusOr<double> inc =
        NumberValue(item.substr(end + 1, inc_end - end - 1));
    if (!inc.ok()) return bad(inc.status().message());
    increment = minus ? -*inc : *inc;
    end = inc_end;
    if (end >= item.size() || item[end] != 'x')
      return bad("expected repetition \"x\"");
  }
  if (item[end] != 'x') return bad("unexpected character");
  uint64_t n = 0;
  if (absl::Status s = repetitions(item.substr(end + 1), n); !s.ok()) return s;
  // N+1 values; the increment is accumulated by repeated addition, as the
  // Prometheus grammar does.
  for (uint64_t k = 0; k <= n; ++k) {
    out.push_back({value, false});
    value += increment;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Labels> ParseMetric(absl::string_view text) {
  MetricParser parser(text);
  absl::StatusOr<Labels> labels = parser.Parse();
  if (!labels.ok()) return labels.status();
  size_t pos = parser.pos();
  while (pos < text.size() && IsSpace(text[pos])) ++pos;
  if (pos != text.size()) return ErrorAt(pos, "unexpected text after metric");
  return labels;
}

absl::StatusOr<SeriesDescription> ParseSeriesDescription(
    absl::string_view line) {
  MetricParser parser(line);
  absl::StatusOr<Labels> labels = parser.Parse();
  if (!labels.ok()) return labels.status();
  SeriesDescription desc;
  desc.labels = *std::move(labels);
  size_t pos = parser.pos();
  if (absl::StartsWith(line.substr(pos), "@st")) {
    return absl::UnimplementedError(
        absl::StrCat(pos + 1, ": start timestamps (@st) are not supported"));
  }
  while (pos < line.size()) {
    if (IsSpace(line[pos])) {
      ++pos;
      continue;
    }
    size_t start = pos;
    if (absl::StartsWith(line.substr(pos), "{{")) {
      return absl::UnimplementedError(
          absl::StrCat(pos + 1, ": native histograms are not supported"));
    }
    while (pos < line.size() && !IsSpace(line[pos])) ++pos;
    absl::Status s =
        ExpandItem(line.substr(start, pos - start), start, desc.values);
    if (!s.ok()) return s;
  }
  return desc;
}

}  // namespace promeval
