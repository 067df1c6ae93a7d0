// Reading series data: Prometheus's series-description notation (promqltest
// `load` blocks and promtool's input_series), and text files in the
// OpenMetrics and Prometheus exposition formats.
//
// Loaders parse a whole input before appending anything, so a bad input
// leaves the storage untouched; errors name the place as file:line:col.
// All functions are thread-safe.
#ifndef PROMEVAL_LOADERS_H_
#define PROMEVAL_LOADERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "promeval/labels.h"
#include "promeval/storage.h"

namespace promeval {

// One item of an expanded value sequence.
struct SequenceValue {
  double value = 0;
  bool omitted = false;  // `_`: no sample at this position.
};

struct SeriesDescription {
  Labels labels;
  std::vector<SequenceValue> values;
};

// What a loader appended.
struct LoadStats {
  int64_t series = 0;
  int64_t samples = 0;
  int64_t min_timestamp_ms = 0;
  int64_t max_timestamp_ms = 0;
};

// Parses `metric{l="v"} 1 2+3x4 _ stale ...` (see PROMQLTEST-FORMAT.md §5):
// `v`, `_`, `_xN`, `vxN` (N+1 copies), `a+bxN` / `a-bxN` (N+1 values by
// repeated addition), `stale`, durations as seconds, Inf/NaN. Error
// messages start with the 1-based column. Native histogram literals
// `{{...}}` ("native histograms are not supported") and start-timestamp
// lines (`metric@st ...`: "start timestamps (@st) are not supported") fail
// with kUnimplemented; other bad input with kInvalidArgument.
absl::StatusOr<SeriesDescription> ParseSeriesDescription(
    absl::string_view line);

// Parses a PromQL-style metric `name{l="v", ...}` or `{__name__="x"}`.
absl::StatusOr<Labels> ParseMetric(absl::string_view text);

// Buffers the samples of `series` in `app`: value i at start_ms + i *
// interval_ms, omitted values skipped.
void AppendSeriesDescriptions(absl::Span<const SeriesDescription> series,
                              int64_t start_ms, int64_t interval_ms,
                              Appender& app);

// Whether `content` is a series script: its first line that is neither
// blank nor a `#` comment starts with "load".
bool IsSeriesScript(absl::string_view content);

// Loads a series script: promqltest `load <interval>` blocks (each a header
// line and series lines up to a blank line; samples from time 0), `#`
// comments and blank lines, nothing else. A series repeated in one block
// takes its last line. Everything is appended in one commit.
absl::StatusOr<LoadStats> LoadSeriesScript(absl::string_view content,
                                           absl::string_view filename,
                                           Appendable& storage);

enum class TextFormat {
  kAuto,  // OpenMetrics if the input ends with "# EOF", else Prometheus text.
  kOpenMetrics,  // Timestamps in seconds (fractions allowed), "# EOF" required.
  kPrometheusText  // Timestamps in milliseconds.
};

struct TextLoadOptions {
  TextFormat format = TextFormat::kAuto;
  // Timestamp (ms) of samples written without one.
  int64_t default_timestamp_ms = 0;
};

// Parses OpenMetrics or Prometheus text exposition `content` (named
// `filename` in errors) and appends every sample to `storage` in one commit.
absl::StatusOr<LoadStats> LoadText(absl::string_view content,
                                   absl::string_view filename,
                                   const TextLoadOptions& options,
                                   Appendable& storage);

}  // namespace promeval

#endif  // PROMEVAL_LOADERS_H_
