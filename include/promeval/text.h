// Text conversions that must match Go's (and so Prometheus's) exactly:
// string quoting and unquoting, float formatting, durations.
//
// Prometheus prints numbers, strings and durations with Go's strconv and
// model.Duration; promeval's output and error messages must be byte-identical,
// so these functions reimplement those formats. All functions are pure and
// thread-safe.
#ifndef PROMEVAL_TEXT_H_
#define PROMEVAL_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval {

// Go's strconv.Quote: a double-quoted string with Go escapes; invalid UTF-8
// bytes become \x escapes, non-printable runes \u / \U escapes.
std::string GoQuote(absl::string_view s);

// Go's encoding/json string encoding (HTML-safe, as Prometheus's API
// writes it): a double-quoted string escaping \" \\ \n \r \t, other
// control characters, <, > and & as \u00XX, U+2028 and U+2029 as \u2028 and
// \u2029; invalid UTF-8 bytes become \ufffd.
std::string GoJsonQuote(absl::string_view s);

// Go's strconv.QuoteRune for a code point (invalid ones print as U+FFFD).
std::string GoQuoteRune(char32_t r);

// Go's fmt "%#U": "U+0071 'q'" (without the quoted rune when unprintable).
std::string GoFormatRuneU(char32_t r);

// Prometheus's strutil.Unquote: removes the quotes of a '...', "..." or `...`
// string literal and interprets Go escape sequences (not in `...`).
absl::StatusOr<std::string> Unquote(absl::string_view quoted);

// strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an
// exponent; NaN, +Inf, -Inf. PromQL's own number format.
std::string FormatFloat(double v);

// strconv.FormatFloat(v, 'g', -1, 64), which is also fmt's "%v" for a
// float64: shortest round-trip digits, in exponent form ("1e+06",
// "1.5e-05") iff the decimal exponent is < -4 or >= 6.
std::string FormatFloatGo(double v);

// Go's html/template.HTMLEscapeString: escapes <, >, &, ' and " (as &#39;
// and &#34;) and replaces NUL with U+FFFD. Also valid XML text.
std::string HtmlEscape(absl::string_view s);

// The UTC calendar date and time of a Unix time in seconds, for the whole
// int64 range (Go's time.Time fields in UTC).
struct CivilTime {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
  int hour, minute, second;
  int yday;  // 1..366
  int wday;  // 0 = Sunday
};
CivilTime ToCivilTime(int64_t unix_seconds);

// Whether `year` is a leap year of the proleptic Gregorian calendar.
bool IsLeapYear(int64_t year);

// A time in milliseconds since the epoch as RFC 3339 in UTC with
// milliseconds: "2024-01-01T00:00:00.000Z".
std::string FormatRfc3339Millis(int64_t ms);

// Prometheus's model.Duration string form of a duration in milliseconds:
// "1h30m", "500ms", "1w2d", "0s". Negative durations are printed with "-".
std::string FormatDuration(int64_t ms);

// Prometheus's model.ParseDuration: units y w d h m s ms in that order, each
// at most once, "0" allowed. Returns milliseconds.
absl::StatusOr<int64_t> ParseDuration(absl::string_view s);

// Parses a PromQL number as Prometheus's parser does: strconv.ParseInt(s, 0,
// 64) first (so "010" is octal and "0x1f" hex, "_" separators allowed), then
// strconv.ParseFloat. The error text is Go's.
absl::StatusOr<double> ParseNumber(absl::string_view s);

}  // namespace promeval

#endif  // PROMEVAL_TEXT_H_
