// Rule unit tests: promtool's `test rules` files (cmd/promtool/unittest.go),
// run unchanged.
//
// A test file names rule files and test groups; each test group loads its
// input series into a fresh store, evaluates every rule group at every
// evaluation interval from the group's start, checks the firing alerts at
// the requested times and, at the end, the results of PromQL expressions.
// The outcomes match promtool's; the failure reports are promeval's own,
// one block per failing assertion with a line diff of expected and got.
//
// Part of the testing library (CMake target promeval::testing), not of what
// a host embeds (promeval::promeval). Results own their contents.
//
// Thread-safety: RunRuleTestFile may run concurrently on different files.
#ifndef PROMEVAL_TESTING_RULE_TEST_H_
#define PROMEVAL_TESTING_RULE_TEST_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "promeval/engine.h"

namespace promeval {

struct RuleTestOptions {
  // Run only the test groups whose name matches one of these regular
  // expressions (RE2, unanchored); empty: all.
  std::vector<std::string> run;
  // Accept unknown fields in test and rule files.
  bool ignore_unknown_fields = false;
  // PromQL features (parser features, delayed name removal).
  EngineOptions engine;
  // Evaluate the rules at one evaluation time after the other, as promtool
  // does, instead of each rule over all times at once with range queries
  // where that gives the same results (the default; see
  // GroupEvaluator::EvalRuleOverRange).
  bool step_by_step = false;
};

struct RuleTestGroupResult {
  std::string name;  // The test group's `name` ("" if none).
  int index = 0;     // 0-based position in the file.
  bool passed = false;
  // Why the group was not run (e.g. it needs native histograms); then
  // `passed` is false and `failures` empty.
  std::string skipped;
  // One formatted report per failing assertion or error.
  std::vector<std::string> failures;
  // The rules were evaluated one evaluation time after the other: asked
  // for (RuleTestOptions::step_by_step), or a rule reads what it or a
  // later rule writes, or an evaluation failed (see RangeEvaluable()).
  bool step_by_step = false;
  double seconds = 0;
};

struct RuleTestFileResult {
  std::string path;
  // Errors that stop the whole file (unreadable, bad YAML, ...).
  std::vector<std::string> errors;
  std::vector<std::string> warnings;  // E.g. a rule_files glob without match.
  std::vector<RuleTestGroupResult> groups;

  // No file error and no failed test group.
  bool passed() const;
};

RuleTestFileResult RunRuleTestFile(absl::string_view path,
                                   const RuleTestOptions& options);

}  // namespace promeval

#endif  // PROMEVAL_TESTING_RULE_TEST_H_
