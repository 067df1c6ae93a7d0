// File helpers shared by the subcommands.
#ifndef PROMEVAL_CLI_FILES_H_
#define PROMEVAL_CLI_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval::cli {

// The whole content of `path`; kNotFound / kInvalidArgument naming the path.
absl::StatusOr<std::string> ReadFile(absl::string_view path);

}  // namespace promeval::cli

#endif  // PROMEVAL_CLI_FILES_H_
