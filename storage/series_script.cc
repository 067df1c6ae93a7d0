// Series scripts: files of promqltest `load` blocks used as query data.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "promeval/loaders.h"
#include "promeval/text.h"
#include "storage/load_commit.h"

namespace promeval {

void AppendSeriesDescriptions(absl::Span<const SeriesDescription> series,
                              int64_t start_ms, int64_t interval_ms,
                              Appender& app) {
  std::vector<int64_t> timestamps;
  std::vector<double> values;
  for (const SeriesDescription& s : series) {
    timestamps.clear();
    values.clear();
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (s.values[i].omitted) continue;
      timestamps.push_back(start_ms + static_cast<int64_t>(i) * interval_ms);
      values.push_back(s.values[i].value);
    }
    app.AppendSamples(s.labels, timestamps, values);
  }
}

bool IsSeriesScript(absl::string_view content) {
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    return absl::StartsWith(line, "load") &&
           (line.size() == 4 || absl::ascii_isspace(line[4]));
  }
  return false;
}

absl::StatusOr<LoadStats> LoadSeriesScript(absl::string_view content,
                                           absl::string_view filename,
                                           Appendable& storage) {
  struct Block {
    int64_t interval = 0;
    std::vector<SeriesDescription> series;
    // Line and column of each series, for errors.
    std::vector<std::pair<int, size_t>> positions;
    absl::flat_hash_map<Labels, size_t> index;
  };
  std::vector<Block> blocks;
  bool in_block = false;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(content, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripTrailingAsciiWhitespace(raw);
    size_t indent = 0;
    while (indent < line.size() && absl::ascii_isspace(line[indent])) ++indent;
    line.remove_prefix(indent);
    auto error = [&](size_t col, absl::string_view message) {
      return absl::InvalidArgumentError(absl::StrCat(
          filename, ":", line_no, ":", indent + col, ": ", message));
    };
    if (line.empty() || line[0] == '#') {
      in_block = false;
      continue;
    }
    if (!in_block) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (words[0] != "load") {
        return error(
            1, absl::StrCat("expected a \"load <interval>\" command, got ",
                            GoQuote(words[0])));
      }
      if (words.size() != 2) return error(1, "expected \"load <interval>\"");
      absl::StatusOr<int64_t> interval = ParseDuration(words[1]);
      if (!interval.ok() || *interval <= 0) {
        return error(
            line.find(words[1]) + 1,
            absl::StrCat(
                "invalid interval ", GoQuote(words[1]),
                interval.ok()
                    ? ": must be positive"
                    : absl::StrCat(": ", interval.status().message())));
      }
      blocks.emplace_back();
      blocks.back().interval = *interval;
      in_block = true;
      continue;
    }
    absl::StatusOr<SeriesDescription> desc = ParseSeriesDescription(line);
    if (!desc.ok()) {
      // The message starts with the column in `line`.
      absl::string_view message = desc.status().message();
      size_t colon = message.find(": ");
      int col = 1;
      if (colon != absl::string_view::npos &&
          absl::SimpleAtoi(message.substr(0, colon), &col)) {
        message.remove_prefix(colon + 2);
      }
      return absl::Status(desc.status().code(),
                          absl::StrCat(filename, ":", line_no, ":",
                                       indent + col, ": ", message));
    }
    Block& block = blocks.back();
    auto [it, added] =
        block.index.try_emplace(desc->labels, block.series.size());
    if (added) {
      block.series.push_back(*std::move(desc));
      block.positions.emplace_back(line_no, indent + 1);
    } else {
      block.series[it->second] = *std::move(desc);
      block.positions[it->second] = {line_no, indent + 1};
    }
  }
  LoadStats stats;
  stats.min_timestamp_ms = std::numeric_limits<int64_t>::max();
  stats.max_timestamp_ms = std::numeric_limits<int64_t>::min();
  // Every block's samples start at time 0: a series in a later block must
  // not go back in time.
  absl::flat_hash_map<Labels, int64_t> last_time;
  std::unique_ptr<Appender> app = storage.NewAppender();
  for (const Block& b : blocks) {
    for (size_t k = 0; k < b.series.size(); ++k) {
      const SeriesDescription& s = b.series[k];
      int64_t first = -1, last = -1;
      for (size_t i = 0; i < s.values.size(); ++i) {
        if (s.values[i].omitted) continue;
        int64_t t = static_cast<int64_t>(i) * b.interval;
        if (first < 0) first = t;
        last = t;
        ++stats.samples;
        stats.min_timestamp_ms = std::min(stats.min_timestamp_ms, t);
        stats.max_timestamp_ms = std::max(stats.max_timestamp_ms, t);
      }
      auto [prev, added] = last_time.try_emplace(s.labels, last);
      if (added || first < 0) continue;
      if (first <= prev->second) {
        return absl::InvalidArgumentError(absl::StrCat(
            filename, ":", b.positions[k].first, ":", b.positions[k].second,
            ": ",
            first == prev->second ? "duplicate sample for timestamp "
                                  : "out of order sample for series ",
            first == prev->second
                ? absl::StrCat(first, " of series ", s.labels.ToString())
                : absl::StrCat(s.labels.ToString(), " at timestamp ", first),
            " (an earlier load block has samples up to ", prev->second, ")"));
      }
      prev->second = last;
    }
    AppendSeriesDescriptions(b.series, 0, b.interval, *app);
  }
  stats.series = static_cast<int64_t>(last_time.size());
  return CommitLoad(*app, filename, stats);
}

}  // namespace promeval
