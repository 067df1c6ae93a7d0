// Go's regexp error texts for RE2 errors (Prometheus compiles its regexes
// with Go's regexp package; RE2 accepts the same syntax).
//
// Internal to promeval.
#ifndef PROMEVAL_BASE_GO_REGEXP_H_
#define PROMEVAL_BASE_GO_REGEXP_H_

#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace promeval {

// Go's regexp/syntax ErrorCode text, e.g. "missing closing )".
absl::string_view GoRegexpErrorCode(RE2::ErrorCode code);

}  // namespace promeval

#endif  // PROMEVAL_BASE_GO_REGEXP_H_
