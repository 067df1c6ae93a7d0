// The hand-written scanner (ScanRawToken) agrees with the lexer ANTLR
// generates from grammar/PromQL.g4 at every position of the parser cases'
// inputs, of tricky strings and of random strings over PromQL's characters.
#include "parser/token_source.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parser/grammar_lexer.h"
#include "tests/test_paths.h"

namespace promeval::parser_internal {
namespace {

// Compares both at every code point of `input`; returns the mismatches.
int ExpectSameTokens(absl::string_view input) {
  GrammarLexer grammar(input);
  int mismatches = 0;
  for (int pos : grammar.code_points()) {
    std::string why;
    if (!SameRawToken(ScanRawToken(input, pos), grammar.TokenAt(pos), input,
                      &why)) {
      ADD_FAILURE() << "input \"" << input << "\" at byte " << pos << ": "
                    << why;
      if (++mismatches > 5) break;
    }
  }
  return mismatches;
}

TEST(TokenSourceTest, ScannerAgreesWithTheGrammarOnTheParserCases) {
  std::filesystem::path dir =
      std::filesystem::path(testing::kSourceDir) / "testdata/parser";
  int inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string text = testing::ReadTestFile(entry.path().string());
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::ConsumePrefix(&line, "> ")) continue;
      ++inputs;
      if (ExpectSameTokens(line) > 0) return;
    }
  }
  EXPECT_GT(inputs, 500);
}

TEST(TokenSourceTest, ScannerAgreesWithTheGrammarOnTrickyInput) {
  for (absl::string_view input : {
           "",
           " ",
           "\t\r\n x",
           "# comment\r\nfoo",
           "#",
           "a#b",
           "Inf",
           "inf",
           "NaN",
           "nAn",
           "Infinity",
           "inf:x",
           "nan_",
           "infx",
           "sum",
           "SUM",
           "sum_",
           "sum:",
           "count_values",
           "count_valuesx",
           "limit_ratio",
           "atan2",
           "ATAN2x",
           "group_left",
           "fill_right",
           "by",
           "BY:",
           "a:b:c",
           ":",
           "::",
           ":a",
           ":1",
           "a:",
           "_",
           "_1",
           "1",
           "1.5",
           ".5",
           ".",
           "..",
           "1e5",
           "1e+5",
           "0x1F",
           "0x_1",
           "5m",
           "1h30m",
           "500ms",
           "1y2w",
           "1a",
           "1_000",
           "1__0",
           "1.2.3",
           "\"a\"",
           "'a'",
           "`a`",
           "\"a",
           "'a\\'",
           "\"\\\"\"",
           "\"a\nb\"",
           "`a\nb`",
           "==",
           "=~",
           "=",
           "!=",
           "!~",
           "!",
           "<=",
           "</",
           "<",
           ">=",
           ">/",
           ">",
           "===",
           "!==",
           "<</",
           "(",
           ")",
           "{",
           "}",
           "[",
           "]",
           ",",
           "@",
           "+",
           "-",
           "*",
           "/",
           "%",
           "^",
           ";",
           "?",
           "$",
           "&",
           "|",
           "\\",
           "ä",
           "日本",
           "\xff",
           "\xc3",
           "a\xff"
           "b",
           "é1",
           "\x7f",
           "\x01",
           "foo{bar=~\"a|b\"}[5m:1m] offset -1h @ end()",
       }) {
    ExpectSameTokens(input);
  }
}

TEST(TokenSourceTest, ScannerAgreesWithTheGrammarOnRandomInput) {
  // Single characters, then words and non-ASCII pieces.
  std::vector<std::string> pieces;
  for (char c : absl::string_view(
           "aInfNsm_:019.eEx+-=!~<>/\"'`\\# \n\r\t{}[](),@*%^;")) {
    pieces.emplace_back(1, c);
  }
  for (const char* p :
       {"ä", "\xff", "sum", "by", "inf", "nan", "on", "and", "offset",
        "count_values", "atan2", "fill_left", "step", "ms", "5m", "1e3"}) {
    pieces.emplace_back(p);
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> piece(0, pieces.size() - 1);
  std::uniform_int_distribution<int> length(1, 8);
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    for (int n = length(rng); n > 0; --n) input += pieces[piece(rng)];
    if (ExpectSameTokens(input) > 0) return;
  }
}

}  // namespace
}  // namespace promeval::parser_internal
