// Runs PromQL test scripts: promeval's own (testdata/promqltest/*.test),
// which must pass completely, and Prometheus's own scripts from
// ../shared/prometheus/promqltest when that folder exists, with the evals
// listed in testdata/promqltest/SKIPS skipped. One test per file; every
// failing eval is reported as file:line with expected vs got. The skipped
// evals are run too: one that passes means its skip entry is stale.
#include "promeval/testing/promqltest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/files.h"
#include "tests/test_paths.h"

namespace promeval {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScriptsIn(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".test")
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// Checks a report: no failure, no stale skip.
void ExpectClean(const ScriptReport& r) {
  for (const std::string& e : r.errors) ADD_FAILURE() << e;
  for (const EvalOutcome& e : r.evals) {
    if (e.result == EvalOutcome::Result::kFailed) {
      ADD_FAILURE() << r.file << ":" << e.line << ": " << e.command << ": "
                    << e.message;
    }
    if (e.skip_is_stale) {
      ADD_FAILURE() << r.file << ":" << e.line << ": " << e.command
                    << ": listed in SKIPS (" << e.message
                    << ") but passes: remove the entry";
    }
  }
}

class OwnScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OwnScriptTest, Passes) {
  ScriptReport r = RunPromqlTest(testing::ReadTestFile(GetParam()), GetParam());
  ExpectClean(r);
  EXPECT_EQ(r.skipped(), 0);
  EXPECT_GT(r.passed(), 0) << "no eval in " << GetParam();
  std::cout << fs::path(GetParam()).filename().string() << ": " << r.passed()
            << " passed, " << r.failed() << " failed\n";
}

INSTANTIATE_TEST_SUITE_P(
    Scripts, OwnScriptTest,
    ::testing::ValuesIn(ScriptsIn(fs::path(testing::kSourceDir) /
                                  "testdata/promqltest")),
    TestName);

class UpstreamScriptTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<SkipList> list =
        SkipList::Parse(testing::ReadTestFile(SkipsPath()), SkipsPath());
    ASSERT_TRUE(list.ok()) << list.status();
    skips_ = new SkipList(*std::move(list));
  }
  static void TearDownTestSuite() {
    std::string summary = FormatReports(*reports_);
    std::cout << "upstream " << summary.substr(summary.rfind("conformance:"));
    delete skips_;
    skips_ = nullptr;
  }
  static std::string SkipsPath() {
    return std::string(testing::kSourceDir) + "/testdata/promqltest/SKIPS";
  }
  static SkipList* skips_;
  static std::vector<ScriptReport>* reports_;
};

SkipList* UpstreamScriptTest::skips_ = nullptr;
std::vector<ScriptReport>* UpstreamScriptTest::reports_ =
    new std::vector<ScriptReport>;

TEST_P(UpstreamScriptTest, PassesExceptSkipped) {
  ScriptOptions options;
  options.skips = skips_;
  options.run_skipped = true;
  ScriptReport r =
      RunPromqlTest(testing::ReadTestFile(GetParam()), GetParam(), options);
  ExpectClean(r);
  std::cout << fs::path(GetParam()).filename().string()
            << ": conformance: " << r.passed() << " passed, " << r.failed()
            << " failed, " << r.skipped() << " skipped of "
            << r.passed() + r.failed() + r.skipped() << "\n";
  reports_->push_back(std::move(r));
}

INSTANTIATE_TEST_SUITE_P(
    Scripts, UpstreamScriptTest,
    ::testing::ValuesIn(ScriptsIn(fs::path(testing::kSharedDir) /
                                  "prometheus/promqltest")),
    TestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(UpstreamScriptTest);

// Parallel evaluation gives exactly the single-threaded results: every
// query of every script, ours and Prometheus's, runs on a one-worker engine
// and on a three-worker one that splits even the smallest loops.
//
// What fails that check for the script at `path`: a script that cannot be
// read or does not load, one that runs no eval (it would check nothing), and
// every eval whose parallel result or error differs from the single-threaded
// one.
std::vector<std::string> ParallelCheckFailures(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) return {std::string(content.status().message())};
  ScriptOptions options;
  options.engine.workers = 1;
  EngineOptions parallel = options.engine;
  parallel.workers = 3;
  parallel.parallel_min_series = 1;
  options.cross_check = parallel;
  ScriptReport r = RunPromqlTest(*content, path, options);
  std::vector<std::string> failures = r.errors;
  int run = 0;
  for (const EvalOutcome& e : r.evals) {
    if (e.result != EvalOutcome::Result::kSkipped) ++run;
    if (absl::StartsWith(e.message, "cross-check")) {
      failures.push_back(
          absl::StrCat(r.file, ":", e.line, ": ", e.command, ": ", e.message));
    }
  }
  if (run == 0) failures.push_back(absl::StrCat(path, ": no eval ran"));
  return failures;
}

class ParallelScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParallelScriptTest, MatchesSingleThreaded) {
  for (const std::string& f : ParallelCheckFailures(GetParam())) {
    ADD_FAILURE() << f;
  }
}

// The check fails for a script that does not load, one without an eval and
// one that does not exist, not for a good one.
TEST(ParallelScriptCheck, FailsWhenAScriptDoesNotLoadOrRunsNoEval) {
  const testing::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  auto write = [&](const std::string& name, absl::string_view content) {
    const std::string path = (tmp.path() / name).string();
    std::ofstream(path) << content;
    return path;
  };
  const std::string good = write("good.test", R"(
load 1m
  up{job="a"} 1 2 3

eval instant at 1m up
  up{job="a"} 2
)");
  const std::string bad_load = write("bad_load.test", R"(
load 1m
  up{job="a" 1 2 3

eval instant at 1m up
  up{job="a"} 2
)");
  const std::string no_eval = write("no_eval.test", R"(
load 1m
  up{job="a"} 1 2 3
)");
  EXPECT_THAT(ParallelCheckFailures(good), ::testing::IsEmpty());
  EXPECT_THAT(ParallelCheckFailures(bad_load),
              ::testing::Contains(::testing::HasSubstr("bad_load.test:3:")));
  EXPECT_THAT(ParallelCheckFailures(no_eval),
              ::testing::ElementsAre(::testing::EndsWith(": no eval ran")));
  EXPECT_THAT(ParallelCheckFailures((tmp.path() / "missing.test").string()),
              ::testing::Not(::testing::IsEmpty()));
}

std::vector<std::string> AllScripts() {
  std::vector<std::string> files =
      ScriptsIn(fs::path(testing::kSourceDir) / "testdata/promqltest");
  for (std::string& f :
       ScriptsIn(fs::path(testing::kSharedDir) / "prometheus/promqltest")) {
    files.push_back(std::move(f));
  }
  return files;
}

INSTANTIATE_TEST_SUITE_P(Scripts, ParallelScriptTest,
                         ::testing::ValuesIn(AllScripts()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return absl::StrCat(info.index, "_", TestName(info));
                         });

}  // namespace
}  // namespace promeval
