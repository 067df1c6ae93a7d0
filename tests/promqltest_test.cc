// Runs PromQL test scripts: promeval's own (testdata/promqltest/*.test),
// which must pass completely, and Prometheus's own scripts from
// ../shared/prometheus/promqltest when that folder exists, with the evals
// listed in testdata/promqltest/SKIPS skipped. One test per file; every
// failing eval is reported as file:line with expected vs got. The skipped
// evals are run too: one that passes means its skip entry is stale.
#include "promeval/testing/promqltest.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
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
class ParallelScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParallelScriptTest, MatchesSingleThreaded) {
  ScriptOptions options;
  options.engine.workers = 1;
  EngineOptions parallel = options.engine;
  parallel.workers = 3;
  parallel.parallel_min_series = 1;
  options.cross_check = parallel;
  ScriptReport r =
      RunPromqlTest(testing::ReadTestFile(GetParam()), GetParam(), options);
  for (const EvalOutcome& e : r.evals) {
    EXPECT_FALSE(absl::StartsWith(e.message, "cross-check"))
        << r.file << ":" << e.line << ": " << e.command << ": " << e.message;
  }
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
