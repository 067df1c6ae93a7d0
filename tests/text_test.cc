// Go-compatible formatting and parsing (promeval/text.h). Expected values are
// what Go's strconv / fmt and Prometheus's model package produce.
#include "promeval/text.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace promeval {
namespace {

TEST(GoQuoteTest, EscapesLikeStrconvQuote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x7f", 3)), "\"\\x00\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("é😀"), "\"é😀\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(GoQuote("a\xc3"), "\"a\\xc3\"");
  EXPECT_EQ(GoQuote("\xc2\xa0"), "\"\\u00a0\"");      // No-break space.
  EXPECT_EQ(GoQuote("\xe2\x80\x8b"), "\"\\u200b\"");  // Zero width space.
  EXPECT_EQ(GoQuote("\xf3\xa0\x80\x81"), "\"\\U000e0001\"");
  EXPECT_EQ(GoQuote("'"), "\"'\"");
}

TEST(GoQuoteTest, Runes) {
  EXPECT_EQ(GoQuoteRune('a'), "'a'");
  EXPECT_EQ(GoQuoteRune('\''), "'\\''");
  EXPECT_EQ(GoQuoteRune('"'), "'\"'");
  EXPECT_EQ(GoQuoteRune('\n'), "'\\n'");
  EXPECT_EQ(GoQuoteRune(0xFFFD), "'\xef\xbf\xbd'");
  EXPECT_EQ(GoQuoteRune(0x110000), "'\xef\xbf\xbd'");
  EXPECT_EQ(GoFormatRuneU('q'), "U+0071 'q'");
  EXPECT_EQ(GoFormatRuneU('\n'), "U+000A");
  EXPECT_EQ(GoFormatRuneU(0x1F600), "U+1F600 '😀'");
}

TEST(UnquoteTest, GoEscapes) {
  EXPECT_EQ(*Unquote("\"a\\tb\""), "a\tb");
  EXPECT_EQ(*Unquote("'a\\'b'"), "a'b");
  EXPECT_EQ(*Unquote("`a\\tb`"), "a\\tb");
  EXPECT_EQ(*Unquote("\"\\x41\\101\\u00e9\\U0001F600\""), "AAé😀");
  EXPECT_EQ(*Unquote("\"\\xff\""), "\xff");
  EXPECT_FALSE(Unquote("\"a").ok());
  EXPECT_FALSE(Unquote("\"a\"b\"").ok());
  EXPECT_FALSE(Unquote("\"\\'\"").ok());
  EXPECT_FALSE(Unquote("'\\\"'").ok());
  EXPECT_FALSE(Unquote("\"\\q\"").ok());
  EXPECT_FALSE(Unquote("\"\\400\"").ok());
  EXPECT_FALSE(Unquote("\"\\uD800\"").ok());
  EXPECT_FALSE(Unquote("`a`b`").ok());
  EXPECT_FALSE(Unquote("\"a\nb\"").ok());
  EXPECT_EQ(Unquote("x").status().message(), "invalid syntax");
}

TEST(FormatFloatTest, PromQLFormat) {
  EXPECT_EQ(FormatFloat(0), "0");
  EXPECT_EQ(FormatFloat(-0.0), "-0");
  EXPECT_EQ(FormatFloat(1), "1");
  EXPECT_EQ(FormatFloat(0.1), "0.1");
  EXPECT_EQ(FormatFloat(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatFloat(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatFloat(1e-7), "0.0000001");
  EXPECT_EQ(FormatFloat(123456789.125), "123456789.125");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatFloat(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatFloat(std::nan("")), "NaN");
}

TEST(FormatFloatTest, GoPercentV) {
  EXPECT_EQ(FormatFloatGo(0), "0");
  EXPECT_EQ(FormatFloatGo(999999), "999999");
  EXPECT_EQ(FormatFloatGo(1e6), "1e+06");
  EXPECT_EQ(FormatFloatGo(1234567), "1.234567e+06");
  EXPECT_EQ(FormatFloatGo(0.0001), "0.0001");
  EXPECT_EQ(FormatFloatGo(0.00001), "1e-05");
  EXPECT_EQ(FormatFloatGo(0.5), "0.5");
  EXPECT_EQ(FormatFloatGo(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(FormatFloatGo(1e100), "1e+100");
  EXPECT_EQ(FormatFloatGo(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatFloatGo(std::nan("")), "NaN");
}

TEST(DurationTest, FormatLikeModelDuration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(1), "1ms");
  EXPECT_EQ(FormatDuration(1500), "1s500ms");
  EXPECT_EQ(FormatDuration(90 * 60 * 1000), "1h30m");
  EXPECT_EQ(FormatDuration(24 * 3600 * 1000), "1d");
  EXPECT_EQ(FormatDuration(7 * 24 * 3600 * 1000LL), "1w");
  EXPECT_EQ(FormatDuration(8 * 24 * 3600 * 1000LL), "8d");  // w only if exact.
  EXPECT_EQ(FormatDuration(365 * 24 * 3600 * 1000LL), "1y");
  EXPECT_EQ(FormatDuration(372 * 24 * 3600 * 1000LL), "372d");
  EXPECT_EQ(FormatDuration(2 * 365 * 24 * 3600 * 1000LL), "2y");
}

TEST(DurationTest, ParseLikeModelParseDuration) {
  EXPECT_EQ(*ParseDuration("0"), 0);
  EXPECT_EQ(*ParseDuration("5m"), 300000);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("1y2w3d4h5m6s7ms"),
            ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000LL + 7);
  EXPECT_EQ(*ParseDuration("500ms"), 500);
  EXPECT_EQ(ParseDuration("").status().message(), "empty duration string");
  EXPECT_EQ(ParseDuration("5").status().message(),
            "not a valid duration string: \"5\"");
  EXPECT_EQ(ParseDuration("1m1h").status().message(),
            "not a valid duration string: \"1m1h\"");
  EXPECT_EQ(ParseDuration("1x").status().message(),
            "unknown unit \"x\" in duration \"1x\"");
  EXPECT_EQ(ParseDuration("-5m").status().message(),
            "not a valid duration string: \"-5m\"");
  EXPECT_EQ(ParseDuration("300y").status().message(), "duration out of range");
}

TEST(ParseNumberTest, IntThenFloatAsGo) {
  EXPECT_EQ(*ParseNumber("10"), 10);
  EXPECT_EQ(*ParseNumber("010"), 8);
  EXPECT_EQ(*ParseNumber("08"), 8);
  EXPECT_EQ(*ParseNumber("0x1F"), 31);
  EXPECT_EQ(*ParseNumber("0o17"), 15);
  EXPECT_EQ(*ParseNumber("0b101"), 5);
  EXPECT_EQ(*ParseNumber("1_000"), 1000);
  EXPECT_EQ(*ParseNumber("1.5e3"), 1500);
  EXPECT_EQ(*ParseNumber(".5"), 0.5);
  EXPECT_EQ(*ParseNumber("5."), 5);
  EXPECT_TRUE(std::isinf(*ParseNumber("Inf")));
  EXPECT_TRUE(std::isnan(*ParseNumber("nan")));
  EXPECT_EQ(*ParseNumber("99999999999999999999"), 1e20);
  EXPECT_EQ(ParseNumber("1e400").status().message(),
            "strconv.ParseFloat: parsing \"1e400\": value out of range");
  EXPECT_EQ(ParseNumber("1e5.3").status().message(),
            "strconv.ParseFloat: parsing \"1e5.3\": invalid syntax");
  EXPECT_EQ(ParseNumber("1__0").status().message(),
            "strconv.ParseFloat: parsing \"1__0\": invalid syntax");
}

}  // namespace
}  // namespace promeval
