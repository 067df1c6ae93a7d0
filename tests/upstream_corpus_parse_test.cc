// Every expression of Prometheus's own promqltest scripts parses (with all
// experimental features on, as Prometheus parses them) and round-trips
// through the printer. The scripts are read from ../shared at test time.
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "promeval/parser.h"
#include "re2/re2.h"
#include "tests/test_paths.h"

namespace promeval {
namespace {

TEST(UpstreamCorpusParseTest, EveryEvalExpressionParsesAndRoundTrips) {
  std::filesystem::path dir =
      std::filesystem::path(testing::kSharedDir) / "prometheus/promqltest";
  if (!std::filesystem::exists(dir)) {
    GTEST_SKIP() << dir << " not found";
  }
  // The patterns of promqltest's parseEval.
  RE2 instant(
      R"(^eval(?:_(?:fail|warn|ordered|info))?\s+instant\s+(?:at\s+(?:.+?))?\s+(.+)$)");
  RE2 range(
      R"(^eval(?:_(?:fail|warn|info))?\s+range\s+from\s+.+\s+to\s+.+\s+step\s+.+?\s+(.+)$)");
  int files = 0, parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      std::string trimmed(absl::StripAsciiWhitespace(line));
      std::string expr;
      if (!RE2::FullMatch(trimmed, instant, &expr) &&
          !RE2::FullMatch(trimmed, range, &expr)) {
        continue;
      }
      SCOPED_TRACE(entry.path().filename().string() + ":" +
                   std::to_string(lineno) + ": " + expr);
      absl::StatusOr<ExprPtr> e = ParseExpr(expr, ParseOptions::AllEnabled());
      ASSERT_TRUE(e.ok()) << e.status();
      std::string printed = ExprToString(**e);
      absl::StatusOr<ExprPtr> again =
          ParseExpr(printed, ParseOptions::AllEnabled());
      ASSERT_TRUE(again.ok()) << printed << ": " << again.status();
      EXPECT_TRUE(ExprEqual(**e, **again)) << printed;
      ++parsed;
    }
  }
  std::cout << "upstream corpus: " << parsed << " eval expressions parsed from "
            << files << " files\n";
  EXPECT_GT(parsed, 2000);
}

}  // namespace
}  // namespace promeval
