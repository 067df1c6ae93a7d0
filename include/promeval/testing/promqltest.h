// Running PromQL test scripts in Prometheus's promqltest format: `load`,
// `clear`, `eval instant at`, `eval range from .. to .. step`, with the
// `expect` lines, the legacy `eval_fail` / `eval_warn` / `eval_ordered`
// forms, and the same checks upstream makes (almost-equal values with a
// relative tolerance of 1e-6, the @-modifier and range-mode re-runs of
// instant evals).
//
// Native histograms are not supported: `load` lines holding `{{...}}` values
// are not loaded (and counted), `load_with_nhcb` loads only the float
// series. Evals that need them are listed in a SkipList with a reason and
// counted as skipped; an eval that needs them but is not listed fails.
//
// Part of the testing library (CMake target promeval::testing), not of what
// a host embeds (promeval::promeval). ScriptOptions::skips is borrowed for
// the run; reports own their contents.
//
// Thread-safety: RunPromqlTest may run concurrently on different scripts; a
// SkipList is immutable after Parse().
#ifndef PROMEVAL_TESTING_PROMQLTEST_H_
#define PROMEVAL_TESTING_PROMQLTEST_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/engine.h"

namespace promeval {

// The engine Prometheus runs its test scripts with: lookback 5m, 10000
// samples, subquery step 1m, delayed name removal and every experimental
// parser feature on.
EngineOptions PromqlTestEngineOptions();

// Evals not to run: lines `FILE:LINE  reason` (FILE is the script's base
// name, LINE the 1-based line of the eval command); `#` comments and blank
// lines are ignored.
class SkipList {
 public:
  // `filename` names the list in errors (file:line).
  static absl::StatusOr<SkipList> Parse(absl::string_view content,
                                        absl::string_view filename);

  // The reason the eval at `line` of `script` (a base name) is skipped, or
  // nullptr.
  const std::string* Find(absl::string_view script, int line) const;

  // The listed lines of `script`, sorted.
  std::vector<int> LinesOf(absl::string_view script) const;

  size_t size() const { return entries_.size(); }

 private:
  absl::flat_hash_map<std::pair<std::string, int>, std::string> entries_;
};

struct ScriptOptions {
  EngineOptions engine = PromqlTestEngineOptions();
  const SkipList* skips = nullptr;  // Not owned; may be null.
  // Run skipped evals too, to find skip entries that are no longer needed
  // (EvalOutcome::skip_is_stale).
  bool run_skipped = false;
  // Run every query also on an engine with these options and fail the eval
  // if the two results (or errors) differ in any bit: e.g. to check that
  // parallel evaluation gives exactly the single-threaded results.
  std::optional<EngineOptions> cross_check;
};

struct EvalOutcome {
  enum class Result { kPassed, kFailed, kSkipped };
  int line = 0;         // 1-based line of the eval command.
  std::string command;  // The eval command line.
  Result result = Result::kPassed;
  // kFailed: what differs; kSkipped: the reason.
  std::string message;
  // kSkipped with ScriptOptions::run_skipped: the eval passes.
  bool skip_is_stale = false;
};

struct ScriptReport {
  std::string file;  // As given to RunPromqlTest.
  std::vector<EvalOutcome> evals;
  // Errors outside evals (a load that does not parse, a skip entry that
  // names no eval), as "file:line: message". Each counts as a failure.
  std::vector<std::string> errors;
  // Series of `load` blocks holding native histograms, not loaded (and the
  // histograms load_with_nhcb would synthesise).
  int native_histogram_series = 0;

  int passed() const;
  int failed() const;  // Failed evals plus errors.
  int skipped() const;
};

// Runs the script `content`; `filename` names it in messages and its base
// name is the key into the skip list.
ScriptReport RunPromqlTest(absl::string_view content,
                           absl::string_view filename,
                           const ScriptOptions& options = {});

// "file:line: eval line: message" for each failure, then the skip count and
// the summary line "conformance: P passed, F failed, S skipped of N".
std::string FormatReports(const std::vector<ScriptReport>& reports);

}  // namespace promeval

#endif  // PROMEVAL_TESTING_PROMQLTEST_H_
