// Fuzzes the OpenMetrics / Prometheus text loader. The first byte picks the
// format; the rest is the file. A load either fails (and appends nothing) or
// appends what it reports.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "fuzz/load_check.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  promeval::TextLoadOptions options;
  switch (data[0] % 3) {
    case 0:
      options.format = promeval::TextFormat::kAuto;
      break;
    case 1:
      options.format = promeval::TextFormat::kOpenMetrics;
      break;
    default:
      options.format = promeval::TextFormat::kPrometheusText;
      break;
  }
  options.default_timestamp_ms = 1000;
  absl::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  promeval::MemStorage storage;
  absl::StatusOr<promeval::LoadStats> stats =
      promeval::LoadText(content, "fuzz.om", options, storage);
  promeval::fuzz::CheckLoaded(storage, stats);
  return 0;
}
