// Go's fmt and time formats for templates: fmt.Sprint, Sprintln and Sprintf
// (fmt/print.go, format.go) over the template values, the %v of each value,
// and time.Time.Format / String and time.Duration.String (time/format.go,
// time.go) in UTC.
#include "template/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace promeval::tmpl {
namespace {

std::string Pad(int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
  if (v < 0) s.insert(s.begin(), '-');
  return s;
}

}  // namespace

GoTime ToGoTime(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t ns = unix_nanos % 1000000000;
  if (ns < 0) {
    ns += 1000000000;
    --secs;
  }
  return GoTime{ToCivilTime(secs), static_cast<int>(ns)};
}

// Go's time.Time.Format for a UTC time: the common layout elements.
std::string FormatTime(int64_t unix_nanos, absl::string_view layout) {
  const GoTime g = ToGoTime(unix_nanos);
  const CivilTime& c = g.civil;
  const int hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
  const std::string month = kMonths[c.month - 1];
  const std::string weekday = kDays[c.wday];
  // The layout elements and their text, tried in this order (an element
  // before those that are its prefixes).
  const std::pair<absl::string_view, std::string> elements[] = {
      {"January", month},
      {"Jan", month.substr(0, 3)},
      {"Monday", weekday},
      {"Mon", weekday.substr(0, 3)},
      {"MST", "UTC"},
      {"2006", Pad(c.year, 4)},
      {"2", std::to_string(c.day)},
      {"01", Pad(c.month, 2)},
      {"02", Pad(c.day, 2)},
      {"06", Pad(c.year % 100, 2)},
      {"_2", Pad(c.day, 2, ' ')},
      {"002", Pad(c.yday, 3)},
      {"15", Pad(c.hour, 2)},
      {"03", Pad(hour12, 2)},
      {"04", Pad(c.minute, 2)},
      {"05", Pad(c.second, 2)},
      {"1", std::to_string(c.month)},
      {"3", std::to_string(hour12)},
      {"4", std::to_string(c.minute)},
      {"5", std::to_string(c.second)},
      {"PM", c.hour >= 12 ? "PM" : "AM"},
      {"pm", c.hour >= 12 ? "pm" : "am"},
      {"Z07:00", "Z"},
      {"Z0700", "Z"},
      {"Z07", "Z"},
      {"-07:00", "+00:00"},
      {"-0700", "+0000"},
      {"-07", "+00"},
  };
  std::string out;
  size_t k = 0;
  auto starts = [&](absl::string_view p) {
    return absl::StartsWith(layout.substr(k), p);
  };
  while (k < layout.size()) {
    const auto* element =
        std::find_if(std::begin(elements), std::end(elements),
                     [&](const auto& e) { return starts(e.first); });
    if (element != std::end(elements)) {
      out += element->second;
      k += element->first.size();
    } else if ((starts(".0") || starts(".9") || starts(",0") || starts(",9")) &&
               k + 1 < layout.size()) {
      char digit = layout[k + 1];
      size_t j = k + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      // Only a fractional second if not followed by another digit.
      if (j < layout.size() && layout[j] >= '0' && layout[j] <= '9') {
        out += layout[k];
        ++k;
        continue;
      }
      int n = static_cast<int>(j - k - 1);
      std::string frac = Pad(g.nanos, 9).substr(0, std::min(n, 9));
      if (digit == '9') {
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (!frac.empty()) out += layout[k] + frac;
      } else {
        out += layout[k] + frac;
      }
      k = j;
    } else {
      out += layout[k];
      ++k;
    }
  }
  return out;
}

// time.Time.String() for a UTC time.
std::string TimeString(int64_t unix_nanos) {
  return FormatTime(unix_nanos, "2006-01-02 15:04:05.999999999 -0700 MST");
}

// Go's time.Duration.String().
std::string DurationString(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  auto frac = [](uint64_t v, int prec, std::string& s) {
    // Fraction digits of v / 10^prec without trailing zeros.
    std::string digits;
    bool print = false;
    for (int k = 0; k < prec; ++k) {
      int digit = static_cast<int>(v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) s += "." + digits;
    return v;
  };
  std::string s;
  if (u < 1000000000) {
    int prec;
    std::string unit;
    if (u < 1000) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f;
    uint64_t whole = frac(u, prec, f);
    s = std::to_string(whole) + f + unit;
  } else {
    std::string f;
    uint64_t secs = frac(u, 9, f);
    s = std::to_string(secs % 60) + f + "s";
    uint64_t mins = secs / 60;
    if (mins > 0) {
      s = std::to_string(mins % 60) + "m" + s;
      uint64_t hours = mins / 60;
      if (hours > 0) s = std::to_string(hours) + "h" + s;
    }
  }
  return (neg ? "-" : "") + s;
}

namespace {

std::string FormatStrMap(const StrMap& m) {
  std::string s = "map[";
  for (size_t k = 0; k < m.size(); ++k) {
    if (k > 0) s += " ";
    s += m[k].first + ":" + m[k].second;
  }
  return s + "]";
}

}  // namespace

std::string FormatValue(const Value& v, int depth) {
  switch (v.kind) {
    case VK::kInvalid:
      return depth == 0 ? "<no value>" : "<nil>";
    case VK::kNil:
      return "<nil>";
    case VK::kBool:
      return v.b ? "true" : "false";
    case VK::kInt:
    case VK::kUint8:
      return std::to_string(v.i);
    case VK::kFloat:
      return FormatFloatGo(v.f);
    case VK::kString:
    case VK::kHtml:
      return v.s;
    case VK::kStrMap:
      return FormatStrMap(*v.strmap);
    case VK::kAnyMap: {
      std::string s = "map[";
      for (size_t k = 0; k < v.anymap->size(); ++k) {
        if (k > 0) s += " ";
        s += (*v.anymap)[k].first + ":" +
             FormatValue((*v.anymap)[k].second, depth + 1);
      }
      return s + "]";
    }
    case VK::kSample:
      if (!v.sample) return "<nil>";
      // An action prints the pointee ({...}); fmt prints "&{...}" for a
      // top-level operand and an address when nested (promeval prints
      // "&{...}" there too: addresses are not reproducible).
      return (depth == 0 ? "{" : "&{") + FormatStrMap(v.sample->labels) + " " +
             FormatFloatGo(v.sample->value) + "}";
    case VK::kSamples: {
      std::string s = "[";
      if (v.samples) {
        for (size_t k = 0; k < v.samples->size(); ++k) {
          if (k > 0) s += " ";
          Value e;
          e.kind = VK::kSample;
          e.sample = (*v.samples)[k];
          s += FormatValue(e, depth + 1);
        }
      }
      return s + "]";
    }
    case VK::kTime:
      return TimeString(v.i);
    case VK::kDuration:
      return DurationString(v.i);
    case VK::kData:
      return "{" + FormatStrMap(*v.data->labels) + " " +
             FormatStrMap(*v.data->external_labels) + " " +
             v.data->external_url + " " + FormatFloatGo(v.data->value) + "}";
  }
  return "";
}

std::string GoSprint(const std::vector<Value>& args, bool deref_pointers) {
  std::string s;
  for (size_t k = 0; k < args.size(); ++k) {
    bool is_string = args[k].kind == VK::kString || args[k].kind == VK::kHtml;
    if (k > 0 && !is_string &&
        !(args[k - 1].kind == VK::kString || args[k - 1].kind == VK::kHtml)) {
      s += " ";
    }
    s += FormatValue(args[k],
                     deref_pointers && args[k].kind == VK::kSample ? 0 : 1);
  }
  return s;
}

std::string GoSprintln(const std::vector<Value>& args) {
  std::string s;
  for (size_t k = 0; k < args.size(); ++k) {
    if (k > 0) s += " ";
    s += FormatValue(args[k], 1);
  }
  return s + "\n";
}

namespace {

struct FmtFlags {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1;
  int prec = -1;
};

void PadTo(std::string& out, absl::string_view s, const FmtFlags& fl,
           bool zero_ok) {
  int len = 0;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    DecodeUtf8(s.substr(k), w);
    k += std::max(w, 1);
    ++len;
  }
  int pad = fl.width > len ? fl.width - len : 0;
  if (fl.minus) {
    absl::StrAppend(&out, s);
    out.append(pad, ' ');
  } else if (fl.zero && zero_ok) {
    // Zero padding goes after a sign.
    size_t sign =
        (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    absl::StrAppend(&out, s.substr(0, sign));
    out.append(pad, '0');
    absl::StrAppend(&out, s.substr(sign));
  } else {
    out.append(pad, ' ');
    absl::StrAppend(&out, s);
  }
}

std::string FormatIntVerb(int64_t v, char verb, const FmtFlags& fl) {
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  int base = 10;
  const char* set = "0123456789abcdefx";
  switch (verb) {
    case 'b':
      base = 2;
      break;
    case 'o':
    case 'O':
      base = 8;
      break;
    case 'x':
      base = 16;
      break;
    case 'X':
      base = 16;
      set = "0123456789ABCDEFX";
      break;
    default:
      break;
  }
  if (u == 0) digits = "0";
  while (u > 0) {
    digits.insert(digits.begin(), set[u % base]);
    u /= base;
  }
  if (fl.prec >= 0) {
    if (fl.prec == 0 && v == 0) digits.clear();
    if (static_cast<int>(digits.size()) < fl.prec) {
      digits.insert(0, fl.prec - digits.size(), '0');
    }
  }
  if (fl.sharp) {
    if (base == 16) digits = std::string("0") + set[16] + digits;
    if (base == 8 && (digits.empty() || digits[0] != '0')) {
      digits = "0" + digits;
    }
    if (base == 2) digits = "0b" + digits;
  }
  if (verb == 'O') digits = "0o" + digits;
  if (neg) {
    digits = "-" + digits;
  } else if (fl.plus) {
    digits = "+" + digits;
  } else if (fl.space) {
    digits = " " + digits;
  }
  return digits;
}

// Go's %e %f %g with a precision (-1: shortest for %g/%v).
std::string FormatFloatVerb(double v, char verb, int prec, const FmtFlags& fl) {
  std::string s;
  if (std::isnan(v)) {
    s = "NaN";
  } else if (std::isinf(v)) {
    s = v > 0 ? "+Inf" : "-Inf";
  } else {
    char lower = static_cast<char>(std::tolower(verb));
    if (lower == 'g' && prec < 0) {
      s = FormatFloatGo(v);
      if (verb == 'G') {
        for (char& c : s) c = static_cast<char>(std::toupper(c));
      }
    } else {
      if (prec < 0) prec = 6;
      if (lower == 'g' && prec == 0) prec = 1;
      std::string spec = std::string("%") + (fl.sharp ? "#" : "") + ".*" +
                         (verb == 'F' ? 'f' : verb);
      char buf[512];
      int n =
          std::snprintf(buf, sizeof(buf), spec.c_str(), std::min(prec, 400), v);
      if (n < 0 || n >= static_cast<int>(sizeof(buf))) {
        // Huge %f: fall back to the shortest form.
        s = FormatFloatGo(v);
      } else {
        s.assign(buf, n);
      }
    }
    if (s[0] != '-' && s[0] != '+') {
      if (fl.plus) {
        s = "+" + s;
      } else if (fl.space) {
        s = " " + s;
      }
    }
    return s;
  }
  // Infinities and NaN: the '+' sign is kept only with the plus flag.
  if (s == "+Inf" && !fl.plus) s = fl.space ? " Inf" : "+Inf";
  if (s == "NaN" && (fl.plus || fl.space)) s = (fl.plus ? "+" : " ") + s;
  return s;
}

std::string BadVerb(char verb, const Value& v) {
  if (v.kind == VK::kInvalid || v.kind == VK::kNil) {
    return std::string("%!") + verb + "(<nil>)";
  }
  return std::string("%!") + verb + "(" + TypeName(v) + "=" +
         FormatValue(v, 1) + ")";
}

}  // namespace

// fmt.Sprintf for the verbs templates use.
std::string GoSprintf(absl::string_view format,
                      const std::vector<Value>& args) {
  std::string out;
  size_t argi = 0;
  size_t k = 0;
  while (k < format.size()) {
    char c = format[k];
    if (c != '%') {
      out += c;
      ++k;
      continue;
    }
    ++k;
    FmtFlags fl;
    for (; k < format.size(); ++k) {
      char f = format[k];
      if (f == '-') {
        fl.minus = true;
        fl.zero = false;
      } else if (f == '+') {
        fl.plus = true;
      } else if (f == '#') {
        fl.sharp = true;
      } else if (f == ' ') {
        fl.space = true;
      } else if (f == '0') {
        fl.zero = !fl.minus;
      } else {
        break;
      }
    }
    auto parse_num = [&](int& dst) {
      if (k < format.size() && format[k] == '*') {
        ++k;
        if (argi < args.size() && args[argi].kind == VK::kInt) {
          dst = static_cast<int>(
              std::clamp<int64_t>(args[argi].i, -1000000, 1000000));
          ++argi;
          return true;
        }
        ++argi;
        return false;
      }
      if (k < format.size() && format[k] >= '0' && format[k] <= '9') {
        int n = 0;
        while (k < format.size() && format[k] >= '0' && format[k] <= '9') {
          if (n > 1000000) {
            // Go's parsenum: a crazy long number ends the format (the
            // verb is then missing).
            k = format.size();
            n = 0;
            break;
          }
          n = n * 10 + (format[k] - '0');
          ++k;
        }
        dst = n;
      }
      return true;
    };
    bool bad_width = !parse_num(fl.width);
    if (fl.width < -1) {
      fl.minus = true;
      fl.width = -fl.width;
    }
    bool bad_prec = false;
    if (k < format.size() && format[k] == '.') {
      ++k;
      fl.prec = 0;
      bad_prec = !parse_num(fl.prec);
      if (fl.prec < 0) fl.prec = -1;
    }
    if (bad_width) out += "%!(BADWIDTH)";
    if (bad_prec) out += "%!(BADPREC)";
    if (k >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    int w = 0;
    char32_t verb32 = DecodeUtf8(format.substr(k), w);
    k += std::max(w, 1);
    if (verb32 == '%') {
      out += '%';
      continue;
    }
    char verb = verb32 < 0x80 ? static_cast<char>(verb32) : '?';
    if (argi >= args.size()) {
      std::string v;
      AppendUtf8(v, verb32);
      out += "%!" + v + "(MISSING)";
      continue;
    }
    const Value& a = args[argi++];
    std::string s;
    bool zero_ok = true;
    switch (verb) {
      case 'v':
      case 's':
      case 'q':
      case 'x':
      case 'X':
        if (a.kind == VK::kString || a.kind == VK::kHtml ||
            a.kind == VK::kTime || a.kind == VK::kDuration ||
            (verb == 'v' && a.kind != VK::kInt && a.kind != VK::kUint8 &&
             a.kind != VK::kFloat && a.kind != VK::kBool)) {
          std::string str = a.kind == VK::kTime       ? TimeString(a.i)
                            : a.kind == VK::kDuration ? DurationString(a.i)
                                                      : FormatValue(a, 1);
          if (verb == 'v' || verb == 's') {
            if (fl.prec >= 0) {
              size_t end = 0;
              for (int r = 0; r < fl.prec && end < str.size(); ++r) {
                int rw = 0;
                DecodeUtf8(absl::string_view(str).substr(end), rw);
                end += std::max(rw, 1);
              }
              str.resize(end);
            }
            s = str;
          } else if (verb == 'q') {
            s = fl.sharp && str.find('`') == std::string::npos ? "`" + str + "`"
                                                               : GoQuote(str);
          } else {
            const char* hex =
                verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
            size_t n = str.size();
            if (fl.prec >= 0) n = std::min(n, static_cast<size_t>(fl.prec));
            for (size_t b = 0; b < n; ++b) {
              if (fl.space && b > 0) s += ' ';
              if (fl.sharp && (b == 0 || fl.space)) {
                s += verb == 'x' ? "0x" : "0X";
              }
              unsigned char ch = static_cast<unsigned char>(str[b]);
              s += hex[ch >> 4];
              s += hex[ch & 15];
            }
          }
          zero_ok = verb != 'v' && verb != 's' ? false : true;
          break;
        }
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          if (verb == 'q') {
            s = GoQuoteRune(static_cast<char32_t>(a.i));
          } else {
            s = FormatIntVerb(a.i, verb == 'v' || verb == 's' ? 'd' : verb, fl);
            if (verb == 's') s = BadVerb(verb, a);
          }
          break;
        }
        if (a.kind == VK::kFloat) {
          if (verb == 'v') {
            s = FormatFloatVerb(a.f, 'g', fl.prec, fl);
          } else if (verb == 'x' || verb == 'X') {
            char buf[64];
            std::snprintf(buf, sizeof(buf), verb == 'x' ? "%a" : "%A", a.f);
            s = buf;
          } else {
            s = BadVerb(verb, a);
          }
          break;
        }
        if (a.kind == VK::kBool && verb == 'v') {
          s = a.b ? "true" : "false";
          break;
        }
        s = BadVerb(verb, a);
        break;
      case 'd':
      case 'b':
      case 'o':
      case 'O':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          s = FormatIntVerb(a.i, verb, fl);
          zero_ok = fl.prec < 0;
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'c':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          AppendUtf8(s, static_cast<char32_t>(a.i));
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'U':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          char buf[32];
          std::snprintf(buf, sizeof(buf), "U+%04llX",
                        static_cast<unsigned long long>(a.i));
          s = buf;
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        if (a.kind == VK::kFloat) {
          s = FormatFloatVerb(a.f, verb, fl.prec, fl);
          zero_ok = std::isfinite(a.f);
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 't':
        if (a.kind == VK::kBool) {
          s = a.b ? "true" : "false";
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'T':
        s = a.kind == VK::kInvalid ? "<nil>" : TypeName(a);
        break;
      default: {
        std::string vs;
        AppendUtf8(vs, verb32);
        if (a.kind == VK::kInvalid || a.kind == VK::kNil) {
          s = "%!" + vs + "(<nil>)";
        } else {
          s = "%!" + vs + "(" + TypeName(a) + "=" + FormatValue(a, 1) + ")";
        }
        break;
      }
    }
    if (absl::StartsWith(s, "%!")) {
      out += s;
    } else {
      PadTo(out, s, fl, zero_ok);
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t j = argi; j < args.size(); ++j) {
      if (j > argi) out += ", ";
      if (args[j].kind == VK::kInvalid || args[j].kind == VK::kNil) {
        out += "<nil>";
      } else {
        out += TypeName(args[j]) + "=" + FormatValue(args[j], 1);
      }
    }
    out += ")";
  }
  return out;
}

}  // namespace promeval::tmpl
