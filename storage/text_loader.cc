// OpenMetrics and Prometheus text exposition format loader.
//
// Built for speed: one pass over the input, no allocation per sample. The
// series text of a line (name and label set, as written) is the key of the
// series, so labels are parsed and unescaped once per series; consecutive
// lines of the same series (the usual layout) skip even the hash lookup.
// Samples collect per series and go to the storage in one commit at the end.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/utf8.h"
#include "promeval/loaders.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"
#include "storage/load_commit.h"

namespace promeval {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

struct SeriesColumns {
  Labels labels;
  std::vector<int64_t> timestamps;
  std::vector<double> values;
};

class TextParser {
 public:
  TextParser(absl::string_view content, absl::string_view filename,
             const TextLoadOptions& options)
      : content_(content), filename_(filename), options_(options) {}

  absl::Status Parse();

  std::vector<SeriesColumns>& series() { return series_; }
  int64_t samples() const { return samples_; }

 private:
  absl::Status Error(size_t pos, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(
        filename_, ":", line_no_, ":", pos - line_start_ + 1, ": ", message));
  }

  absl::Status ParseSample(absl::string_view line);
  // The series of a sample line, parsed when first seen; `end` receives the
  // length of its text.
  absl::StatusOr<uint32_t> SeriesIndex(absl::string_view line, size_t& end);
  // Parses the series text at the start of `line`; `end` receives its
  // length.
  absl::StatusOr<Labels> ParseSeries(absl::string_view line, size_t& end) const;
  absl::StatusOr<std::string> ParseQuoted(absl::string_view line,
                                          size_t& i) const;
  absl::StatusOr<double> ParseValue(absl::string_view text, size_t pos) const;
  // Checks the type of a "# TYPE name type" line.
  absl::Status CheckType(absl::string_view line) const;
  absl::StatusOr<int64_t> ParseTimestamp(absl::string_view text,
                                         size_t pos) const;

  absl::string_view content_;
  absl::string_view filename_;
  const TextLoadOptions& options_;
  bool open_metrics_ = false;
  int line_no_ = 0;
  size_t line_start_ = 0;

  std::vector<SeriesColumns> series_;
  absl::flat_hash_map<absl::string_view, uint32_t> by_text_;
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> by_labels_;
  absl::string_view last_text_;
  uint32_t last_index_ = 0;
  int64_t samples_ = 0;
};

absl::StatusOr<std::string> TextParser::ParseQuoted(absl::string_view line,
                                                    size_t& i) const {
  // REQUIRES: line[i] == '"'.
  size_t start = i++;
  std::string out;
  while (true) {
    size_t j = i;
    while (j < line.size() && line[j] != '"' && line[j] != '\\') ++j;
    out.append(line.data() + i, j - i);
    if (j >= line.size()) {
      return Error(line_start_ + start, "unterminated quoted string");
    }
    if (line[j] == '"') {
      i = j + 1;
      return out;
    }
    if (j + 1 >= line.size()) {
      return Error(line_start_ + start, "unterminated quoted string");
    }
    char c = line[j + 1];
    if (c == 'n') {
      out += '\n';
    } else if (c == '\\' || c == '"') {
      out += c;
    } else {
      return Error(line_start_ + j, absl::StrCat("invalid escape sequence \"\\",
                                                 absl::string_view(&c, 1),
                                                 "\" in quoted string"));
    }
    i = j + 2;
  }
}

absl::StatusOr<Labels> TextParser::ParseSeries(absl::string_view line,
                                               size_t& end) const {
  std::vector<Label> labels;
  std::vector<size_t> name_positions;  // Of labels[k] (unused for the name).
  size_t i = 0;
  if (i < line.size() && IsNameStart(line[i])) {
    while (i < line.size() && IsNameChar(line[i])) ++i;
    labels.push_back(
        Label{std::string(kMetricName), std::string(line.substr(0, i))});
  }
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      while (i < line.size() && IsBlank(line[i])) ++i;
      if (i >= line.size())
        return Error(line_start_ + i, "unexpected end of line in label set");
      if (line[i] == '}') {
        ++i;
        break;
      }
      std::string name;
      bool quoted = false;
      size_t name_pos = i;
      if (line[i] == '"') {
        absl::StatusOr<std::string> q = ParseQuoted(line, i);
        if (!q.ok()) return q.status();
        name = *std::move(q);
        quoted = true;
      } else if (IsNameStart(line[i]) && line[i] != ':') {
        size_t s = i;
        while (i < line.size() && IsNameChar(line[i]) && line[i] != ':') ++i;
        name = std::string(line.substr(s, i - s));
      } else {
        return Error(line_start_ + i, "expected a label name");
      }
      while (i < line.size() && IsBlank(line[i])) ++i;
      if (quoted && i < line.size() && (line[i] == ',' || line[i] == '}')) {
        // {"metric.name", ...}: a quoted metric name.
        if (!labels.empty() && labels[0].name == kMetricName) {
          return Error(line_start_ + name_pos, "metric name given twice");
        }
        if (!IsValidUtf8(name)) {
          return Error(
              line_start_ + name_pos,
              absl::StrCat("invalid UTF-8 metric name ", GoQuote(name)));
        }
        labels.push_back(Label{std::string(kMetricName), std::move(name)});
      } else {
        if (i >= line.size() || line[i] != '=') {
          return Error(
              line_start_ + i,
              absl::StrCat("expected \"=\" after label name ", GoQuote(name)));
        }
        ++i;
        while (i < line.size() && IsBlank(line[i])) ++i;
        if (i >= line.size() || line[i] != '"') {
          return Error(line_start_ + i, "expected a quoted label value");
        }
        const size_t value_pos = i;
        absl::StatusOr<std::string> value = ParseQuoted(line, i);
        if (!value.ok()) return value.status();
        if (!IsValidLabelName(name)) {
          return Error(line_start_ + name_pos,
                       absl::StrCat("invalid label name ", GoQuote(name)));
        }
        if (!IsValidUtf8(*value)) {
          return Error(
              line_start_ + value_pos,
              absl::StrCat("invalid UTF-8 label value ", GoQuote(*value),
                           " of label ", GoQuote(name)));
        }
        name_positions.resize(labels.size(), 0);
        name_positions.push_back(name_pos);
        labels.push_back(Label{std::move(name), *std::move(value)});
      }
      while (i < line.size() && IsBlank(line[i])) ++i;
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return Error(line_start_ + i, "expected \",\" or \"}\" in label set");
    }
  }
  if (labels.empty() || labels[0].name != kMetricName) {
    bool named = std::any_of(labels.begin(), labels.end(), [](const Label& l) {
      return l.name == kMetricName;
    });
    if (!named) return Error(line_start_, "expected a metric name");
  }
  // Duplicate names, found by sorting (label sets may be enormous); the
  // error names the earliest repetition.
  name_positions.resize(labels.size(), 0);
  std::vector<size_t> order(labels.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return labels[a].name < labels[b].name;
  });
  size_t duplicate = labels.size();
  for (size_t k = 1; k < order.size(); ++k) {
    if (labels[order[k]].name == labels[order[k - 1]].name &&
        (duplicate == labels.size() || order[k] < duplicate)) {
      duplicate = order[k];
    }
  }
  if (duplicate != labels.size()) {
    return Error(
        line_start_ + name_positions[duplicate],
        absl::StrCat("duplicate label name ", GoQuote(labels[duplicate].name)));
  }
  end = i;
  return Labels(std::move(labels));
}

absl::Status TextParser::CheckType(absl::string_view line) const {
  static constexpr absl::string_view kOpenMetricsTypes[] = {
      "counter",  "gauge", "histogram", "gaugehistogram",
      "stateset", "info",  "summary",   "unknown"};
  static constexpr absl::string_view kTextTypes[] = {
      "counter", "gauge", "histogram", "summary", "untyped"};
  // "# TYPE name type": the type is the last word.
  size_t type_pos = line.find_last_of(' ');
  absl::string_view type = line.substr(type_pos + 1);
  absl::Span<const absl::string_view> types =
      open_metrics_ ? absl::MakeConstSpan(kOpenMetricsTypes)
                    : absl::MakeConstSpan(kTextTypes);
  if (type_pos <= 6 ||
      std::find(types.begin(), types.end(), type) == types.end()) {
    return Error(line_start_ + type_pos + 1,
                 absl::StrCat("invalid metric type ", GoQuote(type)));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> TextParser::ParseValue(absl::string_view text,
                                              size_t pos) const {
  const char* p = text.data();
  const char* e = p + text.size();
  bool negative = false;
  if (p < e && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    ++p;
  }
  if (p < e && (*p == '+' || *p == '-')) {
    return Error(pos, absl::StrCat("invalid value ", GoQuote(text)));
  }
  // Integers (the common case) exactly and fast.
  if (e - p > 0 && e - p <= 15) {
    int64_t n = 0;
    const char* q = p;
    while (q < e && *q >= '0' && *q <= '9') n = n * 10 + (*q++ - '0');
    if (q == e)
      return negative ? -static_cast<double>(n) : static_cast<double>(n);
  }
  double v = 0;
  auto [end, ec] = std::from_chars(p, e, v, std::chars_format::general);
  if (ec == std::errc() && end == e) return negative ? -v : v;
  return Error(pos, absl::StrCat("invalid value ", GoQuote(text)));
}

absl::StatusOr<int64_t> TextParser::ParseTimestamp(absl::string_view text,
                                                   size_t pos) const {
  if (!open_metrics_) {
    int64_t ms = 0;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Error(pos, absl::StrCat("invalid timestamp ", GoQuote(text)));
    }
    return ms;
  }
  // OpenMetrics: seconds, fractions allowed; Prometheus keeps
  // int64(seconds * 1000).
  const char* p = text.data();
  const char* e = p + text.size();
  bool negative = p < e && *p == '-';
  const char* q = negative ? p + 1 : p;
  int64_t n = 0;
  const char* d = q;
  while (d < e && *d >= '0' && *d <= '9' && d - q < 15)
    n = n * 10 + (*d++ - '0');
  if (d == e && d > q) return (negative ? -n : n) * 1000;
  double seconds = 0;
  auto [end, ec] = std::from_chars(p, e, seconds, std::chars_format::general);
  if (ec != std::errc() || end != e || !std::isfinite(seconds) ||
      std::fabs(seconds) > 9.2e15) {
    return Error(pos, absl::StrCat("invalid timestamp ", GoQuote(text)));
  }
  return static_cast<int64_t>(seconds * 1000);
}

absl::StatusOr<uint32_t> TextParser::SeriesIndex(absl::string_view line,
                                                 size_t& end) {
  if (!last_text_.empty() && line.size() > last_text_.size() &&
      IsBlank(line[last_text_.size()]) &&
      std::memcmp(line.data(), last_text_.data(), last_text_.size()) == 0) {
    end = last_text_.size();
    return last_index_;
  }
  // The end of the series text: after the label set's closing brace (outside
  // quotes), or at the first blank if there is no label set.
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && !IsBlank(line[i])) ++i;
  if (i < line.size() && line[i] == '{') {
    bool quoted = false;
    for (++i; i < line.size(); ++i) {
      char c = line[i];
      if (quoted) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '}') {
        ++i;
        break;
      }
    }
  }
  end = i;
  absl::string_view text = line.substr(0, end);
  uint32_t index;
  if (auto it = by_text_.find(text); it != by_text_.end()) {
    index = it->second;
  } else {
    size_t parsed_end = 0;
    absl::StatusOr<Labels> labels = ParseSeries(line, parsed_end);
    if (!labels.ok()) return labels.status();
    if (parsed_end != end) {
      return Error(line_start_ + parsed_end,
                   "unexpected character after the series");
    }
    // The same series may be written another way (labels in another
    // order, `x` and `x{}`): the label set decides.
    std::vector<uint32_t>& same_hash = by_labels_[labels->Hash()];
    auto same =
        std::find_if(same_hash.begin(), same_hash.end(),
                     [&](uint32_t i) { return series_[i].labels == *labels; });
    if (same != same_hash.end()) {
      index = *same;
    } else {
      index = static_cast<uint32_t>(series_.size());
      series_.push_back(SeriesColumns{*std::move(labels), {}, {}});
      same_hash.push_back(index);
    }
    by_text_.emplace(text, index);
  }
  last_text_ = text;
  last_index_ = index;
  return index;
}

absl::Status TextParser::ParseSample(absl::string_view line) {
  size_t end = 0;
  absl::StatusOr<uint32_t> index = SeriesIndex(line, end);
  if (!index.ok()) return index.status();
  // Value and optional timestamp, separated by blanks.
  size_t i = end;
  if (i >= line.size() || !IsBlank(line[i])) {
    return Error(line_start_ + i,
                 "expected a blank and a value after the series");
  }
  while (i < line.size() && IsBlank(line[i])) ++i;
  size_t v_start = i;
  while (i < line.size() && !IsBlank(line[i])) ++i;
  if (v_start == i) return Error(line_start_ + v_start, "expected a value");
  absl::StatusOr<double> value =
      ParseValue(line.substr(v_start, i - v_start), line_start_ + v_start);
  if (!value.ok()) return value.status();
  while (i < line.size() && IsBlank(line[i])) ++i;
  int64_t t = options_.default_timestamp_ms;
  if (i < line.size() && line[i] != '#') {
    size_t t_start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    absl::StatusOr<int64_t> ts = ParseTimestamp(
        line.substr(t_start, i - t_start), line_start_ + t_start);
    if (!ts.ok()) return ts.status();
    t = *ts;
    while (i < line.size() && IsBlank(line[i])) ++i;
  }
  // An OpenMetrics exemplar (`# {...} v [t]`) is ignored.
  if (i < line.size() && !(open_metrics_ && line[i] == '#')) {
    return Error(line_start_ + i, "unexpected text after the sample");
  }
  SeriesColumns& s = series_[*index];
  if (!s.timestamps.empty() && t <= s.timestamps.back()) {
    if (t < s.timestamps.back()) {
      return Error(line_start_,
                   absl::StrCat("out of order sample for series ",
                                s.labels.ToString(), " at timestamp ", t));
    }
    if (std::memcmp(&s.values.back(), &*value, sizeof(double)) != 0) {
      return Error(line_start_,
                   absl::StrCat("duplicate sample for timestamp ", t,
                                " of series ", s.labels.ToString()));
    }
    return absl::OkStatus();
  }
  s.timestamps.push_back(t);
  s.values.push_back(*value);
  ++samples_;
  return absl::OkStatus();
}

absl::Status TextParser::Parse() {
  switch (options_.format) {
    case TextFormat::kOpenMetrics:
      open_metrics_ = true;
      break;
    case TextFormat::kPrometheusText:
      break;
    case TextFormat::kAuto: {
      absl::string_view tail = content_;
      while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' ||
                               IsBlank(tail.back()))) {
        tail.remove_suffix(1);
      }
      open_metrics_ = absl::EndsWith(tail, "# EOF");
      break;
    }
  }
  bool eof = false;
  size_t pos = 0;
  while (pos < content_.size()) {
    const char* nl = static_cast<const char*>(
        std::memchr(content_.data() + pos, '\n', content_.size() - pos));
    size_t line_end = nl == nullptr ? content_.size() : nl - content_.data();
    absl::string_view line = content_.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no_;
    line_start_ = pos;
    pos = line_end + 1;
    if (eof) {
      if (!line.empty())
        return Error(line_start_, "unexpected content after \"# EOF\"");
      continue;
    }
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line == "# EOF") {
        if (!open_metrics_)
          return Error(line_start_, "\"# EOF\" in Prometheus text format");
        eof = true;
      } else if (absl::StartsWith(line, "# TYPE ")) {
        PROMEVAL_RETURN_IF_ERROR(CheckType(line));
      }
      continue;  // HELP, UNIT and comments.
    }
    size_t first = 0;
    while (first < line.size() && IsBlank(line[first])) ++first;
    if (first == line.size()) continue;
    if (first > 0)
      return Error(line_start_, "a sample line must not start with blanks");
    absl::Status s = ParseSample(line);
    if (!s.ok()) return s;
  }
  if (open_metrics_ && !eof) {
    line_start_ = content_.size();
    return absl::InvalidArgumentError(
        absl::StrCat(filename_, ":", line_no_ + 1,
                     ":1: OpenMetrics input must end with \"# EOF\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LoadStats> LoadText(absl::string_view content,
                                   absl::string_view filename,
                                   const TextLoadOptions& options,
                                   Appendable& storage) {
  TextParser parser(content, filename, options);
  PROMEVAL_RETURN_IF_ERROR(parser.Parse());
  LoadStats stats;
  stats.min_timestamp_ms = std::numeric_limits<int64_t>::max();
  stats.max_timestamp_ms = std::numeric_limits<int64_t>::min();
  std::unique_ptr<Appender> app = storage.NewAppender();
  for (SeriesColumns& s : parser.series()) {
    if (s.timestamps.empty()) continue;
    ++stats.series;
    stats.min_timestamp_ms =
        std::min(stats.min_timestamp_ms, s.timestamps.front());
    stats.max_timestamp_ms =
        std::max(stats.max_timestamp_ms, s.timestamps.back());
    app->AppendSamples(s.labels, s.timestamps, s.values);
  }
  stats.samples = parser.samples();
  return CommitLoad(*app, filename, stats);
}

}  // namespace promeval
