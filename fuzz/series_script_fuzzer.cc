// Fuzzes the promqltest series-script loader (`load <interval>` blocks with
// the series-description notation, as `--data` and promtool's input_series
// read them): a load either fails and appends nothing, or appends what it
// reports.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view content(reinterpret_cast<const char*>(data), size);
  promeval::MemStorage storage;
  absl::StatusOr<promeval::LoadStats> stats =
      promeval::LoadSeriesScript(content, "fuzz.load", storage);
  static const promeval::Matcher any = *promeval::Matcher::Create(
      promeval::MatchType::kRegexp, "__name__", ".*");
  auto querier = storage.NewQuerier(INT64_MIN, INT64_MAX);
  if (!querier.ok()) std::abort();
  auto all = (*querier)->Select({&any, 1}, INT64_MIN, INT64_MAX);
  if (!all.ok()) std::abort();
  int64_t samples = 0;
  for (const promeval::SeriesData& s : *all) samples += s.timestamps.size();
  const int64_t want = stats.ok() ? stats->samples : 0;
  if (samples != want) {
    std::fprintf(stderr, "loaded %lld samples, stored %lld\n",
                 static_cast<long long>(want), static_cast<long long>(samples));
    std::abort();
  }
  // Each line on its own, as promtool's input_series values are read.
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == absl::string_view::npos) end = content.size();
    (void)promeval::ParseSeriesDescription(content.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
