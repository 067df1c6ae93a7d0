// Go-compatible quoting, number and duration formats (see promeval/text.h).
#include "promeval/text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/utf8.h"

namespace promeval {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(std::string& out, uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (4 * i)) & 0xf];
}

// Go's appendEscapedRune for a valid rune.
void AppendEscapedRune(std::string& out, char32_t r, char quote) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out += '\\';
    AppendUtf8(out, r);
    return;
  }
  if (IsGoPrint(r)) {
    AppendUtf8(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
  }
  if (r < ' ' || r == 0x7f) {
    out += "\\x";
    AppendHex(out, r, 2);
  } else if (r < 0x10000) {
    out += "\\u";
    AppendHex(out, r, 4);
  } else {
    out += "\\U";
    AppendHex(out, r, 8);
  }
}

// Strips `_` digit separators after checking Go's underscoreOK rule: an
// underscore only between digits, or between a base prefix and a digit.
bool StripUnderscores(absl::string_view s, std::string& out) {
  out.clear();
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) out += s[i++];
  // 'saw' is '^' at the start, '0' after a digit or prefix, '_' after an
  // underscore, '!' after anything else.
  char saw = '^';
  bool hex = false;
  if (s.size() - i >= 2 && s[i] == '0') {
    char p = absl::ascii_tolower(s[i + 1]);
    if (p == 'x' || p == 'o' || p == 'b') {
      hex = p == 'x';
      absl::StrAppend(&out, s.substr(i, 2));
      i += 2;
      saw = '0';
    }
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    bool digit = absl::ascii_isdigit(c) || (hex && absl::ascii_isxdigit(c));
    if (digit) {
      saw = '0';
      out += c;
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
    out += c;
  }
  return saw != '_';
}

// strconv.ParseInt(s, 0, 64).
bool GoParseInt(absl::string_view s, int64_t& value) {
  std::string digits;
  if (!StripUnderscores(s, digits)) return false;
  absl::string_view d = digits;
  bool neg = false;
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) {
    neg = d[0] == '-';
    d.remove_prefix(1);
  }
  int base = 10;
  if (d.size() >= 2 && d[0] == '0') {
    char p = absl::ascii_tolower(d[1]);
    if (p == 'x') {
      base = 16;
      d.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      d.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      d.remove_prefix(2);
    } else {
      base = 8;
      d.remove_prefix(1);
    }
  }
  if (d.empty()) return false;
  uint64_t u = 0;
  auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), u, base);
  if (ec != std::errc() || ptr != d.data() + d.size()) return false;
  if (neg) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      return false;
    }
    value = static_cast<int64_t>(0 - u);
  } else {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return false;
    }
    value = static_cast<int64_t>(u);
  }
  return true;
}

std::string ParseFloatError(absl::string_view s, absl::string_view what) {
  return absl::StrCat("strconv.ParseFloat: parsing ", GoQuote(s), ": ", what);
}

}  // namespace

std::string GoQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    int width = 0;
    char32_t r = DecodeUtf8(s.substr(i), width);
    if (r == kRuneError && width == 1) {
      out += "\\x";
      AppendHex(out, static_cast<unsigned char>(s[i]), 2);
    } else {
      AppendEscapedRune(out, r, '"');
    }
    i += width;
  }
  out += '"';
  return out;
}

std::string GoJsonQuote(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    int width = 0;
    char32_t r = DecodeUtf8(s.substr(i), width);
    if (r == kRuneError && width == 1) {
      out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      out += r == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.data() + i, width);
    }
    i += width;
  }
  out += '"';
  return out;
}

std::string GoQuoteRune(char32_t r) {
  if (!IsValidRune(r)) r = kRuneError;
  std::string out = "'";
  AppendEscapedRune(out, r, '\'');
  out += '\'';
  return out;
}

std::string GoFormatRuneU(char32_t r) {
  std::string out = absl::StrFormat("U+%04X", static_cast<uint32_t>(r));
  if (IsValidRune(r) && IsGoPrint(r)) {
    out += " '";
    AppendUtf8(out, r);
    out += '\'';
  }
  return out;
}

absl::StatusOr<std::string> Unquote(absl::string_view s) {
  const absl::Status syntax = absl::InvalidArgumentError("invalid syntax");
  if (s.size() < 2) return syntax;
  char quote = s[0];
  if (quote != s.back()) return syntax;
  s = s.substr(1, s.size() - 2);
  if (quote == '`') {
    if (s.find('`') != absl::string_view::npos) return syntax;
    return std::string(s);
  }
  if (quote != '"' && quote != '\'') return syntax;
  if (s.find('\n') != absl::string_view::npos) return syntax;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == quote) return syntax;
    if (c >= 0x80) {
      int width = 0;
      char32_t r = DecodeUtf8(s.substr(i), width);
      AppendUtf8(out, r);
      i += width;
      continue;
    }
    if (c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return syntax;
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out += '\a';
        continue;
      case 'b':
        out += '\b';
        continue;
      case 'f':
        out += '\f';
        continue;
      case 'n':
        out += '\n';
        continue;
      case 'r':
        out += '\r';
        continue;
      case 't':
        out += '\t';
        continue;
      case 'v':
        out += '\v';
        continue;
      case '\\':
        out += '\\';
        continue;
      case '\'':
      case '"':
        if (e != quote) return syntax;
        out += e;
        continue;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > s.size()) return syntax;
        uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          char h = s[i + k];
          if (!absl::ascii_isxdigit(h)) return syntax;
          v = v * 16 + (absl::ascii_isdigit(h)
                            ? h - '0'
                            : absl::ascii_tolower(h) - 'a' + 10);
        }
        i += n;
        if (e == 'x') {
          out += static_cast<char>(v);
        } else {
          if (!IsValidRune(v)) return syntax;
          AppendUtf8(out, v);
        }
        continue;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > s.size()) return syntax;
          uint32_t v = e - '0';
          for (int k = 0; k < 2; ++k) {
            char o = s[i + k];
            if (o < '0' || o > '7') return syntax;
            v = v * 8 + (o - '0');
          }
          if (v > 255) return syntax;
          i += 2;
          out += static_cast<char>(v);
          continue;
        }
        return syntax;
    }
  }
  return out;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  auto [ptr, ec] =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, ptr);
}

std::string FormatFloatGo(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [ptr, ec] =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  absl::string_view sci(buf, ptr - buf);
  size_t e = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1),
                  sci.data() + sci.size(), exp);
  if (exp < -4 || exp >= 6) return std::string(sci);
  return FormatFloat(v);
}

std::string FormatRfc3339Millis(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) return out;
  struct Unit {
    const char* name;
    int64_t mult;
    bool exact;
  };
  static constexpr Unit kUnits[] = {
      {"y", 1000LL * 60 * 60 * 24 * 365, true},
      {"w", 1000LL * 60 * 60 * 24 * 7, true},
      {"d", 1000LL * 60 * 60 * 24, false},
      {"h", 1000LL * 60 * 60, false},
      {"m", 1000LL * 60, false},
      {"s", 1000, false},
      {"ms", 1, false},
  };
  for (const Unit& u : kUnits) {
    if (u.exact && ms % u.mult != 0) continue;
    int64_t v = ms / u.mult;
    if (v > 0) {
      absl::StrAppend(&out, v, u.name);
      ms -= v * u.mult;
    }
  }
  return out;
}

absl::StatusOr<int64_t> ParseDuration(absl::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  const std::string invalid =
      absl::StrCat("not a valid duration string: ", GoQuote(s));
  struct Unit {
    absl::string_view name;
    int pos;
    uint64_t mult_ns;
  };
  static constexpr Unit kUnits[] = {
      {"ms", 7, 1000000ULL},
      {"s", 6, 1000000000ULL},
      {"m", 5, 60 * 1000000000ULL},
      {"h", 4, 3600 * 1000000000ULL},
      {"d", 3, 24 * 3600 * 1000000000ULL},
      {"w", 2, 7 * 24 * 3600 * 1000000000ULL},
      {"y", 1, 365 * 24 * 3600 * 1000000000ULL},
  };
  constexpr uint64_t kMax = static_cast<uint64_t>(1) << 63;
  absl::string_view rest = s;
  uint64_t dur_ns = 0;
  int last_pos = 0;
  while (!rest.empty()) {
    if (!absl::ascii_isdigit(rest[0])) {
      return absl::InvalidArgumentError(invalid);
    }
    size_t i = 0;
    while (i < rest.size() && absl::ascii_isdigit(rest[i])) ++i;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + i, v);
    if (ec != std::errc()) return absl::InvalidArgumentError(invalid);
    rest.remove_prefix(i);
    size_t j = 0;
    while (j < rest.size() && !absl::ascii_isdigit(rest[j])) ++j;
    if (j == 0) return absl::InvalidArgumentError(invalid);
    absl::string_view name = rest.substr(0, j);
    rest.remove_prefix(j);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == name) unit = &u;
    }
    if (unit == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown unit ", GoQuote(name), " in duration ", GoQuote(s)));
    }
    if (unit->pos <= last_pos) return absl::InvalidArgumentError(invalid);
    last_pos = unit->pos;
    if (v > kMax / unit->mult_ns) {
      return absl::InvalidArgumentError("duration out of range");
    }
    dur_ns += v * unit->mult_ns;
    if (dur_ns > kMax - 1) {
      return absl::InvalidArgumentError("duration out of range");
    }
  }
  return static_cast<int64_t>(dur_ns / 1000000);
}

absl::StatusOr<double> ParseNumber(absl::string_view s) {
  int64_t i = 0;
  if (GoParseInt(s, i)) return static_cast<double>(i);
  std::string body;
  if (!StripUnderscores(s, body)) {
    return absl::InvalidArgumentError(ParseFloatError(s, "invalid syntax"));
  }
  absl::string_view b = body;
  absl::string_view unsigned_part = b;
  bool neg = false;
  if (!unsigned_part.empty() &&
      (unsigned_part[0] == '+' || unsigned_part[0] == '-')) {
    neg = unsigned_part[0] == '-';
    unsigned_part.remove_prefix(1);
  }
  std::string lower = absl::AsciiStrToLower(unsigned_part);
  if (lower == "inf" || lower == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity()
               : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  // Decimal: digits, one optional '.', optional exponent; hexadecimal
  // mantissas need a 'p' exponent in Go.
  bool hex = lower.size() > 2 && lower[0] == '0' && lower[1] == 'x';
  bool valid = !lower.empty();
  if (hex) {
    valid = lower.find('p') != std::string::npos;
  } else {
    bool digits = false, dot = false, exp = false;
    for (size_t k = 0; k < lower.size() && valid; ++k) {
      char c = lower[k];
      if (absl::ascii_isdigit(c)) {
        digits = true;
      } else if (c == '.' && !dot && !exp) {
        dot = true;
      } else if (c == 'e' && digits && !exp) {
        exp = true;
        if (k + 1 < lower.size() &&
            (lower[k + 1] == '+' || lower[k + 1] == '-')) {
          ++k;
        }
        if (k + 1 >= lower.size()) valid = false;
      } else {
        valid = false;
      }
    }
    valid = valid && digits;
  }
  if (!valid) {
    return absl::InvalidArgumentError(ParseFloatError(s, "invalid syntax"));
  }
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(body.c_str(), &end);
  if (end != body.c_str() + body.size()) {
    return absl::InvalidArgumentError(ParseFloatError(s, "invalid syntax"));
  }
  if (errno == ERANGE && std::isinf(v)) {
    return absl::InvalidArgumentError(ParseFloatError(s, "value out of range"));
  }
  return v;
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

bool IsLeapYear(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

CivilTime ToCivilTime(int64_t unix_seconds) {
  CivilTime c;
  int64_t days = FloorDiv(unix_seconds, 86400);
  int64_t secs = unix_seconds - days * 86400;
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>((secs % 3600) / 60);
  c.second = static_cast<int>(secs % 60);
  c.wday = static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01: Thursday.
  // Howard Hinnant's civil_from_days.
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = c.month <= 2 ? y + 1 : y;
  static constexpr int kCumulative[] = {0,   31,  59,  90,  120, 151,
                                        181, 212, 243, 273, 304, 334};
  c.yday = kCumulative[c.month - 1] + c.day +
           (c.month > 2 && IsLeapYear(c.year) ? 1 : 0);
  return c;
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace promeval
