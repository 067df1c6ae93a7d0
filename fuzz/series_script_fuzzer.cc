// Fuzzes the promqltest series-script loader (`load <interval>` blocks with
// the series-description notation, as `--data` and promtool's input_series
// read them): a load either fails and appends nothing, or appends what it
// reports.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "fuzz/load_check.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view content(reinterpret_cast<const char*>(data), size);
  promeval::MemStorage storage;
  absl::StatusOr<promeval::LoadStats> stats =
      promeval::LoadSeriesScript(content, "fuzz.load", storage);
  promeval::fuzz::CheckLoaded(storage, stats);
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
