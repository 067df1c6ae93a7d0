// Fuzzes rule-file loading and validation (YAML decoding, expressions,
// templates): every input is accepted or rejected with positioned errors.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "promeval/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view content(reinterpret_cast<const char*>(data), size);
  promeval::RuleLoadOptions options;
  options.ignore_unknown_fields = size > 0 && (data[size - 1] & 1);
  (void)promeval::ParseRuleFile(content, "fuzz.yml", options);
  return 0;
}
