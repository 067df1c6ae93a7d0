// Rule unit-test files (promtool's format): our own under
// testdata/rules/tests/ must pass, and every bundled promtool fixture in
// ../shared/prometheus/promtool-testdata/ must pass or fail as promtool's own
// test (cmd/promtool/unittest_test.go) expects.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/testing/rule_test.h"
#include "tests/test_paths.h"

namespace promeval {
namespace {

namespace fs = std::filesystem;

std::string Report(const RuleTestFileResult& r) {
  std::string out;
  for (const std::string& e : r.errors) out += e + "\n";
  for (const RuleTestGroupResult& g : r.groups) {
    for (const std::string& f : g.failures) out += f + "\n";
  }
  return out;
}

std::vector<std::string> OwnFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(
           fs::path(PROMEVAL_SOURCE_DIR) / "testdata/rules/tests")) {
    std::string p = entry.path().string();
    if (p.size() > 9 && p.substr(p.size() - 9) == ".test.yml") {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(RuleUnitTestFiles, OwnFilesPass) {
  std::vector<std::string> files = OwnFiles();
  ASSERT_GE(files.size(), 3u);
  for (const std::string& f : files) {
    RuleTestFileResult r = RunRuleTestFile(f, RuleTestOptions());
    EXPECT_TRUE(r.passed()) << f << ":\n" << Report(r);
    for (const RuleTestGroupResult& g : r.groups) {
      EXPECT_TRUE(g.skipped.empty()) << f << ": " << g.skipped;
    }
  }
}

struct UpstreamCase {
  const char* file;
  std::vector<std::string> run;
  bool ignore_unknown_fields;
  bool pass;
};

TEST(RuleUnitTestFiles, UpstreamOutcomesMatchPromtool) {
  const fs::path dir =
      fs::path(PROMEVAL_SOURCE_DIR) / "../shared/prometheus/promtool-testdata";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not found";
  const std::vector<UpstreamCase> cases = {
      {"unittest.yml", {}, false, true},
      {"long-period.yml", {}, false, true},
      {"at-modifier-test.yml", {}, false, true},
      {"negative-offset-test.yml", {}, false, true},
      {"no-test-group-interval.yml", {}, false, true},
      {"start-time-test.yml", {}, false, true},
      {"rules_run.yml", {"correct"}, false, true},
      {"rules_run_extrafields.yml", {}, true, true},
      {"rules_run_fuzzy.yml", {"correct"}, false, true},
      {"bad-input-series.yml", {}, false, false},
      {"bad-promql.yml", {}, false, false},
      {"bad-rules-syntax-test.yml", {}, false, false},
      {"bad-rules-error-test.yml", {}, false, false},
      {"failing.yml", {}, false, false},
      {"rules_run.yml", {}, false, false},
      {"rules_run.yml", {"wrong"}, false, false},
      {"rules_run_extrafields.yml", {}, false, false},
      {"rules_run_no_fuzzy.yml", {}, false, false},
      {"rules_run_fuzzy.yml", {"wrong"}, false, false},
  };
  for (const UpstreamCase& c : cases) {
    RuleTestOptions options;
    options.run = c.run;
    options.ignore_unknown_fields = c.ignore_unknown_fields;
    RuleTestFileResult r = RunRuleTestFile((dir / c.file).string(), options);
    EXPECT_EQ(r.passed(), c.pass)
        << c.file << " --run=" << ::testing::PrintToString(c.run) << "\n"
        << Report(r);
  }
}

// Evaluating each rule over all evaluation times at once (the default)
// gives every test group the outcome and reports of evaluating the rules
// one time after the other, as promtool does: on every rule-test file we
// have, passing and failing, with and without rules that read later rules.
TEST(RuleUnitTestFiles, RangeEvaluationMatchesStepByStep) {
  const fs::path root = fs::path(PROMEVAL_SOURCE_DIR);
  std::vector<std::pair<std::string, RuleTestOptions>> runs;
  auto add = [&](const fs::path& file, std::vector<std::string> run = {},
                 bool ignore_unknown_fields = false) {
    RuleTestOptions options;
    options.run = std::move(run);
    options.ignore_unknown_fields = ignore_unknown_fields;
    runs.emplace_back(file.string(), options);
  };
  for (const std::string& f : OwnFiles()) add(f);
  add(root / "examples/batchsql/rules.test.yml");
  add(root / "testdata/cli/rules/failing.test.yml");
  for (const auto& entry :
       fs::directory_iterator(root / "testdata/bad/ruletests")) {
    const std::string p = entry.path().string();
    if (p.size() > 9 && p.substr(p.size() - 9) == ".test.yml") add(p);
  }
  const fs::path upstream = root / "../shared/prometheus/promtool-testdata";
  if (fs::exists(upstream)) {
    for (const char* f :
         {"unittest.yml", "long-period.yml", "at-modifier-test.yml",
          "negative-offset-test.yml", "no-test-group-interval.yml",
          "start-time-test.yml", "rules_run.yml", "rules_run_fuzzy.yml",
          "rules_run_no_fuzzy.yml", "bad-input-series.yml", "bad-promql.yml",
          "bad-rules-syntax-test.yml", "bad-rules-error-test.yml",
          "failing.yml"}) {
      add(upstream / f);
    }
    add(upstream / "rules_run_extrafields.yml", {}, true);
  }
  int ranged = 0, stepped = 0;
  for (const auto& [file, options] : runs) {
    RuleTestOptions steps = options;
    steps.step_by_step = true;
    const RuleTestFileResult a = RunRuleTestFile(file, options);
    const RuleTestFileResult b = RunRuleTestFile(file, steps);
    EXPECT_EQ(a.errors, b.errors) << file;
    ASSERT_EQ(a.groups.size(), b.groups.size()) << file;
    for (size_t i = 0; i < a.groups.size(); ++i) {
      const RuleTestGroupResult& x = a.groups[i];
      const RuleTestGroupResult& y = b.groups[i];
      EXPECT_EQ(x.passed, y.passed) << file << " group " << i;
      EXPECT_EQ(x.skipped, y.skipped) << file << " group " << i;
      EXPECT_EQ(x.failures, y.failures) << file << " group " << i;
      if (x.skipped.empty()) ++(x.step_by_step ? stepped : ranged);
    }
  }
  // Both ways were taken.
  EXPECT_GE(ranged, 5);
  EXPECT_GE(stepped, 3);
  const RuleTestFileResult range = RunRuleTestFile(
      (root / "testdata/rules/tests/range.test.yml").string(), {});
  ASSERT_EQ(range.groups.size(), 1u);
  EXPECT_FALSE(range.groups[0].step_by_step);
  const RuleTestFileResult depends = RunRuleTestFile(
      (root / "testdata/rules/tests/depends.test.yml").string(), {});
  ASSERT_EQ(depends.groups.size(), 1u);
  EXPECT_TRUE(depends.groups[0].step_by_step);
}

TEST(RuleUnitTestFiles, NativeHistogramGroupsAreSkippedNotPassed) {
  const fs::path file = fs::path(PROMEVAL_SOURCE_DIR) /
                        "../shared/prometheus/promtool-testdata/unittest.yml";
  if (!fs::exists(file)) GTEST_SKIP() << file << " not found";
  RuleTestFileResult r = RunRuleTestFile(file.string(), RuleTestOptions());
  int skipped = 0;
  for (const RuleTestGroupResult& g : r.groups) {
    if (!g.skipped.empty()) {
      ++skipped;
      EXPECT_FALSE(g.passed);
      EXPECT_THAT(g.skipped, ::testing::HasSubstr("native histograms"));
    }
  }
  EXPECT_GE(skipped, 1);
}

// Random edits of a valid test file (and of its rule file) give a result
// or an error, never a crash or a hang.
TEST(RuleUnitTestFiles, MutatedFilesNeverCrash) {
  const fs::path src = fs::path(PROMEVAL_SOURCE_DIR) / "testdata/rules/tests";
  const testing::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const fs::path& dir = tmp.path();
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string test = read(src / "alerts.test.yml");
  const std::string rules = read(src / "alerts.rules.yml");
  static constexpr char kAlphabet[] = "{}[]:-'\"#&*!|>%@` \n\tx0_";
  std::mt19937 rng(20261129);
  auto mutate = [&](std::string s) {
    for (int k = 0, n = 1 + rng() % 4; k < n; ++k) {
      size_t pos = rng() % (s.size() + 1);
      if (rng() % 2 == 0) {
        s.insert(pos, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
      } else if (pos < s.size()) {
        s.erase(pos, 1 + rng() % 8);
      }
    }
    return s;
  };
  for (int i = 0; i < 150; ++i) {
    const bool mutate_rules = i % 3 == 0;
    std::ofstream(dir / "alerts.test.yml")
        << (mutate_rules ? test : mutate(test));
    std::ofstream(dir / "alerts.rules.yml")
        << (mutate_rules ? mutate(rules) : rules);
    RuleTestFileResult r =
        RunRuleTestFile((dir / "alerts.test.yml").string(), RuleTestOptions());
    for (const std::string& e : r.errors) EXPECT_FALSE(e.empty());
  }
}

TEST(RuleUnitTestFiles, MissingFileIsAnError) {
  RuleTestFileResult r =
      RunRuleTestFile("/nonexistent/promeval.yml", RuleTestOptions());
  EXPECT_FALSE(r.passed());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], ::testing::HasSubstr("/nonexistent/promeval.yml"));
}

}  // namespace
}  // namespace promeval
