// Reading input files and writing output files.
#ifndef PROMEVAL_FILES_H_
#define PROMEVAL_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval {

// The whole content of `path` (a regular file or a pipe); kNotFound /
// kInvalidArgument naming the path ("open PATH: reason").
absl::StatusOr<std::string> ReadFile(absl::string_view path);

// Writes `content` to `path` through a temporary file in the same folder and
// a rename: readers see the old file or the whole new one, and a failure
// leaves no partial file.
absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view content);

}  // namespace promeval

#endif  // PROMEVAL_FILES_H_
