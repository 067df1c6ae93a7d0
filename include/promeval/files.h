// Reading input files.
#ifndef PROMEVAL_FILES_H_
#define PROMEVAL_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval {

// The whole content of `path` (a regular file or a pipe); kNotFound /
// kInvalidArgument naming the path ("open PATH: reason").
absl::StatusOr<std::string> ReadFile(absl::string_view path);

}  // namespace promeval

#endif  // PROMEVAL_FILES_H_
