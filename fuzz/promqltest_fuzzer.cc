// Fuzzes the promqltest script runner: load blocks, eval commands and their
// expected results, run with tight engine limits. Any script passes, fails
// or reports errors; nothing crashes or hangs.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "promeval/testing/promqltest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const promeval::ScriptOptions options = [] {
    promeval::ScriptOptions o;
    o.engine.timeout = absl::Seconds(1);
    // No thread pool per script (the eval fuzzer covers parallel paths).
    o.engine.workers = 1;
    return o;
  }();
  absl::string_view content(reinterpret_cast<const char*>(data), size);
  promeval::ScriptReport report =
      promeval::RunPromqlTest(content, "fuzz.test", options);
  (void)promeval::FormatReports({report});
  return 0;
}
