// Messages the subcommands share: errors positioned in an expression given
// on the command line (with a caret line under the position), and unknown
// subcommands with the nearest names.
#ifndef PROMEVAL_CLI_MESSAGES_H_
#define PROMEVAL_CLI_MESSAGES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace promeval::cli {

// `message` on a line of its own, then the line of `input` that holds byte
// `pos` and a caret under that byte, both indented by two spaces; every line
// ends with a newline:
//
//   1:11: parse error: unexpected identifier "c" in label matching, ...
//     foo{a="b" c="d"}
//               ^
std::string WithCaret(absl::string_view message, absl::string_view input,
                      int pos);

// The names of `candidates` nearest to `word` by edit distance (insertions,
// deletions, substitutions and swaps of adjacent characters, as git's "did
// you mean"), in their order; empty when none is close: at most two edits,
// and fewer than half the characters of the longer of the two.
std::vector<std::string> NearestNames(
    absl::string_view word, const std::vector<std::string>& candidates);

// "COMMAND: unknown command "WORD"; did you mean "NAME"?" with the nearest
// of `commands`, or "COMMAND: unknown command "WORD" (commands: A, B)" when
// none is close.
std::string UnknownCommandMessage(absl::string_view command,
                                  absl::string_view word,
                                  const std::vector<std::string>& commands);

}  // namespace promeval::cli

#endif  // PROMEVAL_CLI_MESSAGES_H_
