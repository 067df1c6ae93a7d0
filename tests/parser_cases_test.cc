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
