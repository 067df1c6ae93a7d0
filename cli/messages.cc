#include "cli/messages.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace promeval::cli {

std::string WithCaret(absl::string_view message, absl::string_view input,
                      int pos) {
  const size_t at =
      std::min(static_cast<size_t>(std::max(pos, 0)), input.size());
  const size_t line_start =
      at == 0 ? 0 : input.rfind('\n', at - 1) + 1;  // npos + 1 == 0.
  size_t line_end = input.find('\n', at);
  if (line_end == absl::string_view::npos) line_end = input.size();
  std::string caret;
  for (size_t i = line_start; i < at; ++i) {
    caret += input[i] == '\t' ? '\t' : ' ';
  }
  return absl::StrCat(message, "\n  ",
                      input.substr(line_start, line_end - line_start), "\n  ",
                      caret, "^\n");
}

namespace {

// Optimal string alignment distance: the fewest insertions, deletions,
// substitutions and swaps of adjacent characters that turn `a` into `b`.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> NearestNames(
    absl::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string> nearest;
  size_t best = 3;  // At most two edits.
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(word, c);
    if (d > best || 2 * d >= std::max(word.size(), c.size())) continue;
    if (d < best) nearest.clear();
    best = d;
    nearest.push_back(c);
  }
  return nearest;
}

std::string UnknownCommandMessage(absl::string_view command,
                                  absl::string_view word,
                                  const std::vector<std::string>& commands) {
  std::string message =
      absl::StrCat(command, ": unknown command \"", word, "\"");
  std::vector<std::string> nearest = NearestNames(word, commands);
  if (nearest.empty()) {
    absl::StrAppend(&message, " (commands: ", absl::StrJoin(commands, ", "),
                    ")");
  } else {
    absl::StrAppend(&message, "; did you mean \"",
                    absl::StrJoin(nearest, "\" or \""), "\"?");
  }
  return message;
}

}  // namespace promeval::cli
