// Parser properties that the case files cannot express: thread safety,
// robustness on hostile input, the function table, feature flags.
#include "promeval/parser.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace promeval {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The parse result as one comparable string.
std::string Outcome(absl::string_view input) {
  absl::StatusOr<ExprPtr> e = ParseExpr(input, ParseOptions::AllEnabled());
  return e.ok() ? ExprToString(**e) : std::string(e.status().message());
}

const std::vector<std::string>& Inputs() {
  static const auto* inputs = new std::vector<std::string>{
      "sum by (job) (rate(http_requests_total{job=~\"api.*\"}[5m]))",
      "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
      "a + on(b) group_left(c) d * 2 ^ 3",
      "foo[5m:1m] @ 100 offset -5m",
      "topk(3, foo) or bottomk(3, bar)",
      "foo{a=\"b\" c}",
      "sum(foo bar)",
      "foo[1h/2 + step()]",
      "label_replace(up, \"x\", \"$1\", \"y\", \"(.*)\")",
      "\"\\q\"",
      "1 == 1",
      "rate(foo)",
      "(((((((((((((foo)))))))))))))",
      "- - - - 1",
  };
  return *inputs;
}

TEST(ParserTest, ConcurrentParsesMatchSerialResults) {
  std::vector<std::string> expected;
  for (const std::string& in : Inputs()) expected.push_back(Outcome(in));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = 0; i < Inputs().size(); ++i) {
          if (Outcome(Inputs()[i]) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(mismatches, ::testing::Each(0));
}

TEST(ParserTest, InspectVisitsParentsBeforeChildrenLeftToRight) {
  absl::StatusOr<ExprPtr> e =
      ParseExpr("sum(rate(a[5m])) + -b * max_over_time(c[1h:1m])");
  ASSERT_TRUE(e.ok()) << e.status();
  std::vector<std::string> kinds;
  Inspect(**e, [&](const Expr& n) {
    kinds.push_back(std::string(NodeKindName(n.kind())));
  });
  EXPECT_THAT(
      kinds, ::testing::ElementsAre("BinaryExpr", "AggregateExpr", "Call",
                                    "MatrixSelector", "VectorSelector",
                                    "BinaryExpr", "UnaryExpr", "VectorSelector",
                                    "Call", "SubqueryExpr", "VectorSelector"));
}

TEST(ParserTest, EmptyAndBlankInput) {
  EXPECT_EQ(Outcome(""), "1:1: parse error: no expression found in input");
  EXPECT_EQ(Outcome(" \n\t "),
            "1:1: parse error: no expression found in input");
  EXPECT_EQ(Outcome("# only a comment\n"),
            "1:1: parse error: no expression found in input");
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '(');
  deep += "1";
  deep += std::string(100000, ')');
  EXPECT_THAT(Outcome(deep),
              HasSubstr("expression nests too deeply (more than 256 levels)"));

  std::string unary(200000, '-');
  unary += "1";
  EXPECT_THAT(Outcome(unary), HasSubstr("expression nests too deeply"));

  std::string pow = "1";
  for (int i = 0; i < 5000; ++i) pow += "^1";
  EXPECT_THAT(Outcome(pow), HasSubstr("expression nests too deeply"));

  std::string subqueries = "foo";
  for (int i = 0; i < 5000; ++i) subqueries += "[1m:]";
  EXPECT_THAT(Outcome(subqueries), HasSubstr("expression nests too deeply"));

  std::string offsets = "foo";
  for (int i = 0; i < 5000; ++i) offsets += "[1m:] offset 1m";
  EXPECT_THAT(Outcome(offsets), HasSubstr("expression nests too deeply"));

  // The error points at the token that went too deep.
  EXPECT_EQ(Outcome(std::string(300, '(')),
            "1:257: parse error: expression nests too deeply (more than 256 "
            "levels)");
}

TEST(ParserTest, NestingUpToTheLimitParses) {
  std::string nested(255, '(');
  nested += "foo";
  nested += std::string(255, ')');
  EXPECT_EQ(Outcome(nested), nested);

  std::string pow = "2";
  for (int i = 0; i < 250; ++i) pow += " ^ 2";
  EXPECT_EQ(Outcome(pow), pow);

  std::string calls = "foo";
  for (int i = 0; i < 250; ++i) calls = absl::StrCat("abs(", calls, ")");
  EXPECT_EQ(Outcome(calls), calls);

  std::string unary(250, '-');
  unary += "foo";
  EXPECT_EQ(Outcome(unary), unary);
}

TEST(ParserTest, OperatorChainsHaveNoLengthLimit) {
  // Left-associative chains do not nest in the parser and are walked
  // iteratively: a 100 000-term chain parses, prints, compares and frees.
  std::string chain = "a0";
  for (int i = 1; i < 100000; ++i) {
    absl::StrAppend(&chain, i % 3 == 0 ? " or a" : " + a", i);
  }
  absl::StatusOr<ExprPtr> e = ParseExpr(chain);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(ExprToString(**e), chain);
  EXPECT_EQ((*e)->type(), ValueType::kVector);
  absl::StatusOr<ExprPtr> again = ParseExpr(chain);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(ExprEqual(**e, **again));

  std::string scalars = "1";
  for (int i = 0; i < 100000; ++i) scalars += " + 1";
  absl::StatusOr<ExprPtr> s = ParseExpr(scalars);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->type(), ValueType::kScalar);
}

TEST(ParserTest, LongInputs) {
  std::string name(1 << 20, 'a');
  EXPECT_EQ(Outcome(name), name);

  std::string label =
      absl::StrCat("foo{a=\"", std::string(1 << 20, 'x'), "\"}");
  EXPECT_EQ(Outcome(label), label);

  std::string unterminated = absl::StrCat("\"", std::string(1 << 20, 'x'));
  EXPECT_EQ(Outcome(unterminated),
            "1:1: parse error: unterminated quoted string");

  std::string args = "label_join(up, \"a\", \",\"";
  for (int i = 0; i < 20000; ++i) absl::StrAppend(&args, ", \"l", i, "\"");
  args += ")";
  EXPECT_THAT(Outcome(args), StartsWith("label_join(up, \"a\", \",\", \"l0\""));
}

TEST(ParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::string alphabet =
      "abcxyz_:019.eE+-*/%^(){}[]\"'`\\=!~<>@,# \n\t"
      "\xc3\xa9\xff\x80";
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    int len = static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) input += alphabet[rng() % alphabet.size()];
    ParseOutcome out = ParseExprWithErrors(input, ParseOptions::AllEnabled());
    if (!out.errors.empty()) {
      ++errors;
      // Every error points into the input.
      EXPECT_GE(out.errors[0].pos.start, 0) << input;
      EXPECT_LE(out.errors[0].pos.start, static_cast<int>(input.size()))
          << input;
    } else {
      // Whatever parses, round-trips.
      std::string printed = ExprToString(*out.expr);
      absl::StatusOr<ExprPtr> again =
          ParseExpr(printed, ParseOptions::AllEnabled());
      ASSERT_TRUE(again.ok()) << input << " -> " << printed;
      EXPECT_TRUE(ExprEqual(*out.expr, **again)) << input << " -> " << printed;
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(ParserTest, InvalidUtf8) {
  EXPECT_EQ(Outcome("\xff"),
            "1:1: parse error: unexpected character: '\xef\xbf\xbd'");
  EXPECT_EQ(Outcome("foo{a=\"\xc3\x28\"}"),
            "1:7: parse error: invalid UTF-8 rune");
  EXPECT_EQ(Outcome("foo + \xe2\x82"),
            "1:7: parse error: unexpected character: '\xef\xbf\xbd'");
}

TEST(ParserTest, AllErrorsAreReported) {
  ParseOutcome out = ParseExprWithErrors(
      "rate(foo) + label_replace(bar, 1, \"a\", \"b\", \"c\")");
  ASSERT_EQ(out.errors.size(), 2u);
  EXPECT_EQ(out.errors[0].message,
            "expected type range vector in call to function \"rate\", got "
            "instant vector");
  EXPECT_EQ(out.errors[1].message,
            "expected type string in call to function \"label_replace\", got "
            "scalar");
  EXPECT_EQ(out.errors[1].pos.start, 31);
}

TEST(ParserTest, FeatureFlags) {
  ParseOptions options;
  EXPECT_TRUE(EnableParserFeature("promql-duration-expr", options));
  EXPECT_TRUE(options.duration_expressions);
  EXPECT_FALSE(options.experimental_functions);
  EXPECT_TRUE(EnableParserFeature("promql-experimental-functions", options));
  EXPECT_TRUE(EnableParserFeature("promql-extended-range-selectors", options));
  EXPECT_TRUE(EnableParserFeature("promql-binop-fill-modifiers", options));
  EXPECT_FALSE(EnableParserFeature("promql-delayed-name-removal", options));
  EXPECT_FALSE(EnableParserFeature("no-such-feature", options));
}

TEST(FunctionTableTest, SortedUniqueAndLookedUp) {
  absl::Span<const FunctionSignature> all = AllFunctions();
  ASSERT_GT(all.size(), 80u);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].name, all[i].name);
  }
  for (const FunctionSignature& f : all) {
    EXPECT_EQ(LookupFunction(f.name), &f);
  }
  EXPECT_EQ(LookupFunction("Rate"), nullptr);
  EXPECT_EQ(LookupFunction("holt_winters"), nullptr);  // Removed in 3.0.
  const FunctionSignature* label_join = LookupFunction("label_join");
  ASSERT_NE(label_join, nullptr);
  EXPECT_EQ(label_join->variadic, -1);
  EXPECT_EQ(LookupFunction("time")->return_type, ValueType::kScalar);
}

TEST(FunctionTableTest, ExperimentalFunctionsAreMarked) {
  std::vector<std::string> experimental;
  for (const FunctionSignature& f : AllFunctions()) {
    if (f.experimental) experimental.emplace_back(f.name);
  }
  EXPECT_THAT(experimental,
              ::testing::UnorderedElementsAre(
                  "double_exponential_smoothing", "end", "first_over_time",
                  "histogram_quantiles", "info", "mad_over_time", "max_of",
                  "min_of", "range", "sort_by_label", "sort_by_label_desc",
                  "start", "start_timestamp", "step", "ts_of_first_over_time",
                  "ts_of_last_over_time", "ts_of_max_over_time",
                  "ts_of_min_over_time"));
}

// An alternation of plain strings is matched without a regex engine; it must
// match exactly what the same alternation does through RE2 (the group makes
// the second pattern take the regex path).
TEST(MatcherTest, PlainAlternationsMatchLikeTheRegex) {
  const std::vector<std::string> patterns = {
      "api|web", "api", "", "a|", "|", "x|x|y", "ä|日本", "a-b|c d|e#f"};
  const std::vector<std::string> values = {
      "",     "api",  "web", "apiweb", "api|web", "API", "ap",
      "apix", "xapi", "a",   "x",      "y",       "ä",   "日本",
      "a-b",  "c d",  "e#f", "|",      "api\n",   "ab"};
  for (const std::string& pattern : patterns) {
    for (MatchType type : {MatchType::kRegexp, MatchType::kNotRegexp}) {
      absl::StatusOr<Matcher> plain = Matcher::Create(type, "l", pattern);
      absl::StatusOr<Matcher> regex =
          Matcher::Create(type, "l", absl::StrCat("(?:", pattern, ")"));
      ASSERT_TRUE(plain.ok() && regex.ok()) << pattern;
      for (const std::string& v : values) {
        EXPECT_EQ(plain->Matches(v), regex->Matches(v))
            << MatchTypeString(type) << " \"" << pattern << "\" on \"" << v
            << "\"";
      }
    }
  }
  // Spot checks of the expected answers themselves.
  const Matcher m = *Matcher::Create(MatchType::kRegexp, "l", "api|web");
  EXPECT_TRUE(m.Matches("api"));
  EXPECT_TRUE(m.Matches("web"));
  EXPECT_FALSE(m.Matches("apiweb"));
  EXPECT_FALSE(m.Matches(""));
  EXPECT_TRUE(Matcher::Create(MatchType::kRegexp, "l", "a|")->Matches(""));
  // Dot-all and anchored on the regex path.
  const Matcher dot = *Matcher::Create(MatchType::kRegexp, "l", "a.c|x");
  EXPECT_TRUE(dot.Matches("a\nc"));
  EXPECT_FALSE(dot.Matches("xa\nc"));
  // Invalid UTF-8 is an error, not a plain string.
  absl::StatusOr<Matcher> bad = Matcher::Create(MatchType::kRegexp, "l",
                                                "a\xff"
                                                "b");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("invalid UTF-8"));
}

}  // namespace
}  // namespace promeval
