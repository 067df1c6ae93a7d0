// Data-driven parser tests: testdata/parser/*.cases.
//
// A case is a block of lines separated from the next by a blank line:
//   > input            the expression (several "> " lines join with "\n";
//                      ">e " lines take C escapes: \n \t \\ \xHH)
//   % flag             a parser feature flag, or "% all"
//   = shape            the expected tree as an S-expression (tests/ast_shape.h)
//   ~ text             the expected canonical form (default: the input)
//   t line             a line of the expected ExprTreeString (with positions)
//   ! error            the expected first error, as ParseExpr reports it
// Every valid case must also round-trip: parse(print(e)) equals e.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "promeval/parser.h"
#include "tests/ast_shape.h"
#include "tests/test_paths.h"

namespace promeval {
namespace {

struct Case {
  std::string location;  // file:line
  std::string input;
  ParseOptions options;
  std::optional<std::string> shape;
  std::optional<std::string> canonical;
  std::optional<std::string> error;
  std::vector<std::string> tree;
};

std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'x':
        out += static_cast<char>(
            std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(testing::kSourceDir) / "testdata/parser")) {
    if (entry.path().extension() == ".cases") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    int lineno = 0;
    std::optional<Case> current;
    auto flush = [&] {
      if (current && !current->location.empty()) cases.push_back(*current);
      current.reset();
    };
    while (std::getline(in, line)) {
      ++lineno;
      if (line.empty()) {
        flush();
        continue;
      }
      if (line[0] == '#') continue;
      if (!current) current.emplace();
      absl::string_view rest =
          absl::string_view(line).substr(std::min<size_t>(2, line.size()));
      std::string input_line;
      if (absl::StartsWith(line, "> ") || absl::StartsWith(line, ">e ")) {
        if (current->location.empty()) {
          current->location =
              absl::StrCat(file.filename().string(), ":", lineno);
        } else {
          current->input += "\n";
        }
        current->input +=
            line[1] == 'e' ? Unescape(line.substr(3)) : std::string(rest);
      } else if (line[0] == '%') {
        if (rest == "all") {
          current->options = ParseOptions::AllEnabled();
        } else {
          EXPECT_TRUE(EnableParserFeature(rest, current->options)) << line;
        }
      } else if (line[0] == '=') {
        current->shape = std::string(rest);
      } else if (line[0] == '~') {
        current->canonical = std::string(rest);
      } else if (line[0] == '!') {
        current->error = std::string(rest);
      } else if (line[0] == 't') {
        current->tree.push_back(std::string(rest));
      } else {
        ADD_FAILURE() << file << ":" << lineno << ": bad line: " << line;
      }
    }
    flush();
  }
  return cases;
}

class ParserCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParserCaseTest, Parses) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.location);
  absl::StatusOr<ExprPtr> parsed = ParseExpr(c.input, c.options);
  if (c.error) {
    ASSERT_FALSE(parsed.ok()) << "parsed as " << ExprToString(**parsed);
    EXPECT_EQ(parsed.status().message(), *c.error);
    return;
  }
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Expr& expr = **parsed;
  if (c.shape) {
    EXPECT_EQ(testing::AstShape(expr), *c.shape);
  }
  std::string printed = ExprToString(expr);
  EXPECT_EQ(printed, c.canonical.value_or(c.input));
  if (!c.tree.empty()) {
    EXPECT_EQ(ExprTreeString(expr), absl::StrJoin(c.tree, "\n") + "\n");
  }
  // Round trip.
  absl::StatusOr<ExprPtr> reparsed = ParseExpr(printed, c.options);
  ASSERT_TRUE(reparsed.ok()) << printed << ": " << reparsed.status();
  EXPECT_TRUE(ExprEqual(expr, **reparsed))
      << testing::AstShape(expr) << " vs " << testing::AstShape(**reparsed);
}

// ExprParser reuses the parse tree of an earlier expression with the same
// token types: over all cases in file order and then in reverse (so that
// nearly every expression meets a tree made from another text), each result
// equals ParseExprWithErrors': the same tree with the same positions, or
// the same errors.
TEST(ExprParserTest, SameResultsAsParsingEachAlone) {
  std::vector<Case> cases = LoadCases();
  ASSERT_GT(cases.size(), 500u);
  std::map<std::string, std::unique_ptr<ExprParser>> parsers;  // By options.
  auto key = [](const ParseOptions& o) {
    return absl::StrCat(o.experimental_functions, o.duration_expressions,
                        o.extended_range_selectors, o.binop_fill_modifiers);
  };
  size_t parsed = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t n = 0; n < cases.size(); ++n) {
      const Case& c = cases[pass == 0 ? n : cases.size() - 1 - n];
      std::unique_ptr<ExprParser>& parser = parsers[key(c.options)];
      if (parser == nullptr) parser = std::make_unique<ExprParser>(c.options);
      ParseOutcome want = ParseExprWithErrors(c.input, c.options);
      ParseOutcome got = parser->Parse(c.input);
      ASSERT_EQ(got.errors.size(), want.errors.size()) << c.location;
      for (size_t i = 0; i < want.errors.size(); ++i) {
        EXPECT_EQ(got.errors[i].ToString(c.input),
                  want.errors[i].ToString(c.input))
            << c.location;
      }
      if (want.expr == nullptr) continue;
      ASSERT_NE(got.expr, nullptr) << c.location;
      EXPECT_EQ(ExprTreeString(*got.expr), ExprTreeString(*want.expr))
          << c.location;
      EXPECT_TRUE(ExprEqual(*got.expr, *want.expr)) << c.location;
      ++parsed;
    }
  }
  EXPECT_GT(parsed, 800u);
}

// Expressions of a few shapes whose names, numbers and lengths differ, so
// that every position and text in a reused tree must come from the new
// tokens.
TEST(ExprParserTest, ReusedTreesTakeTheNewTextAndPositions) {
  // Three or four of each shape (the same token types in the same order).
  const std::vector<std::string> inputs = {
      "sum by (job) (rate(http_requests_total{code=\"500\"}[5m]))",
      "sum by (instance_name) (irate(x{a=\"b|c\"}[1h30m]))",
      "sum by (k) (delta(node_filesystem_avail_bytes{mountpoint=\"/\"}[2d]))",
      "a / on (pod) group_left (team) b * 100",
      "some_long_metric_name_total / on (instance) group_left (x) "
      "another_quite_long_metric_name * 0.5",
      "q / on (z) group_left (y) w * 1e3",
      "x offset 5m + y @ 100",
      "longer_metric_name offset 1h30m + shorter @ 1700000000.5",
      "m offset 1d + n @ 0",
      "histogram_quantile(0.99, sum by (le) (rate(lat_bucket[5m])))",
      "histogram_quantile(0.5, sum by (le) "
      "(rate(request_duration_bucket[1m])))",
      "-max_over_time(up[10m:1m])",
      "-min_over_time(another_metric_total[1h:5m])",
      "-avg_over_time(v[90s:15s])",
  };
  ExprParser parser(ParseOptions::AllEnabled());
  for (int pass = 0; pass < 3; ++pass) {
    for (size_t n = 0; n < inputs.size(); ++n) {
      const std::string& input = inputs[pass == 1 ? inputs.size() - 1 - n : n];
      ParseOutcome want =
          ParseExprWithErrors(input, ParseOptions::AllEnabled());
      ParseOutcome got = parser.Parse(input);
      ASSERT_NE(want.expr, nullptr) << input;
      ASSERT_NE(got.expr, nullptr) << input;
      EXPECT_EQ(ExprTreeString(*got.expr), ExprTreeString(*want.expr));
      EXPECT_EQ(ExprToString(*got.expr), ExprToString(*want.expr));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ParserCaseTest,
                         ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.location;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace promeval
