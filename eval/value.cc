#include "promeval/value.h"

#include "absl/strings/str_cat.h"
#include "promeval/text.h"

namespace promeval {

std::string Annotation::ToString(absl::string_view query) const {
  return absl::StrCat(
      kind == Kind::kWarning ? "PromQL warning: " : "PromQL info: ", message,
      " (", LineColumn(query, pos.start), ")");
}

std::string FormatSampleValue(double v) { return FormatFloat(v); }

}  // namespace promeval
