// Prometheus's template functions (template/template.go's funcMap), with
// the Go library functions they are built on: regexp's ReplaceAllString,
// net.SplitHostPort and ParseIP, strings.ToUpper / ToLower, cases.Title,
// strconv.ParseFloat.
#include "template/prometheus_functions.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/go_regexp.h"
#include "base/utf8.h"
#include "promeval/labels.h"
#include "promeval/text.h"
#include "promeval/value.h"
#include "re2/re2.h"
#include "template/format.h"
#include "template/lexer.h"

namespace promeval::tmpl {
namespace {

using Env = rules::TemplateEnv;

constexpr char kNilDeref[] =
    "runtime error: invalid memory address or nil pointer dereference";

// Compiles a Go regexp (unanchored); on failure returns Go's error text.
std::unique_ptr<RE2> CompileGoRegexp(absl::string_view pattern,
                                     std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(
      re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    error = absl::StrCat(
        "error parsing regexp: ", GoRegexpErrorCode(re->error_code()), ": `",
        re->error_arg(), "`");
    return nullptr;
  }
  return re;
}

// Go's Regexp.ReplaceAllString: `$1`, `${1}`, `$name`, `${name}`, `$$`.
std::string ReplaceAllGo(const RE2& re, absl::string_view src,
                         absl::string_view repl) {
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> m(ngroups);
  const auto& names = re.NamedCapturingGroups();
  std::string out;
  size_t pos = 0;
  size_t last_match_end = std::string::npos;
  re2::StringPiece text(src.data(), src.size());
  while (pos <= src.size()) {
    if (!re.Match(text, pos, src.size(), RE2::UNANCHORED, m.data(), ngroups)) {
      break;
    }
    size_t start = m[0].data() - src.data();
    size_t end = start + m[0].size();
    // Go skips an empty match right after the previous match.
    if (m[0].empty() && start == last_match_end) {
      if (start >= src.size()) break;
      int w = 0;
      DecodeUtf8(src.substr(start), w);
      absl::StrAppend(&out, src.substr(pos, start + w - pos));
      pos = start + std::max(w, 1);
      continue;
    }
    absl::StrAppend(&out, src.substr(pos, start - pos));
    // Expand the template.
    for (size_t k = 0; k < repl.size();) {
      if (repl[k] != '$' || k + 1 >= repl.size()) {
        out += repl[k++];
        continue;
      }
      if (repl[k + 1] == '$') {
        out += '$';
        k += 2;
        continue;
      }
      std::string name;
      size_t next;
      if (repl[k + 1] == '{') {
        size_t close = repl.find('}', k + 2);
        name = close == absl::string_view::npos
                   ? ""
                   : std::string(repl.substr(k + 2, close - k - 2));
        bool ok = !name.empty();
        for (char ch : name) {
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) {
            ok = false;
          }
        }
        if (!ok) {
          out += repl[k++];
          continue;
        }
        next = close + 1;
      } else {
        size_t j = k + 1;
        while (j < repl.size() &&
               (std::isalnum(static_cast<unsigned char>(repl[j])) ||
                repl[j] == '_')) {
          ++j;
        }
        name = std::string(repl.substr(k + 1, j - k - 1));
        if (name.empty()) {
          out += repl[k++];
          continue;
        }
        next = j;
      }
      int idx = -1;
      bool numeric = std::all_of(name.begin(), name.end(), [](char ch) {
        return ch >= '0' && ch <= '9';
      });
      if (numeric) {
        idx = name.size() > 8 ? -1 : std::stoi(name);
      } else {
        auto it = names.find(name);
        if (it != names.end()) idx = it->second;
      }
      if (idx >= 0 && idx < ngroups && m[idx].data() != nullptr) {
        out.append(m[idx].data(), m[idx].size());
      }
      k = next;
    }
    last_match_end = end;
    if (end == start) {
      if (start >= src.size()) {
        pos = src.size() + 1;
        break;
      }
      int w = 0;
      DecodeUtf8(src.substr(start), w);
      absl::StrAppend(&out, src.substr(start, std::max(w, 1)));
      pos = start + std::max(w, 1);
    } else {
      pos = end;
    }
  }
  if (pos < src.size()) absl::StrAppend(&out, src.substr(pos));
  return out;
}

// net.SplitHostPort.
bool SplitHostPort(absl::string_view hp, std::string& host, std::string& port) {
  size_t i = hp.rfind(':');
  if (i == absl::string_view::npos) return false;
  size_t j = 0, k = 0;
  if (!hp.empty() && hp[0] == '[') {
    size_t end = hp.find(']');
    if (end == absl::string_view::npos) return false;
    if (end + 1 == hp.size()) return false;
    if (end + 1 != i) return false;
    host = std::string(hp.substr(1, end - 1));
    j = 1;
    k = end + 1;
  } else {
    host = std::string(hp.substr(0, i));
    if (host.find(':') != std::string::npos) return false;
  }
  if (hp.substr(j).find('[') != absl::string_view::npos) return false;
  if (hp.substr(k).find(']') != absl::string_view::npos) return false;
  port = std::string(hp.substr(i + 1));
  return true;
}

// net.ParseIP succeeds.
bool IsIP(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

char32_t SimpleUpper(char32_t r) {
  if (r >= 'a' && r <= 'z') return r - 32;
  if (r < 0x80) return r;
  if ((r >= 0xE0 && r <= 0xFE && r != 0xF7)) return r - 32;
  if (r == 0xFF) return 0x178;
  if (r >= 0x100 && r <= 0x17F && r != 0x131 && r != 0x138 && r != 0x149) {
    bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
    if (odd_upper ? (r % 2 == 0) : (r % 2 == 1)) return r - 1;
    return r;
  }
  if (r >= 0x3B1 && r <= 0x3C9 && r != 0x3C2) return r - 32;
  if (r == 0x3C2) return 0x3A3;
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  return r;
}

char32_t SimpleLower(char32_t r) {
  if (r >= 'A' && r <= 'Z') return r + 32;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r == 0x178) return 0xFF;
  if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x138 && r != 0x149) {
    bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
    if (odd_upper ? (r % 2 == 1) : (r % 2 == 0)) return r + 1;
    return r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  return r;
}

template <typename F>
std::string MapRunes(absl::string_view s, F f) {
  std::string out;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    if (r == kRuneError && w <= 1) {
      out += "\xEF\xBF\xBD";  // Go maps invalid bytes to U+FFFD.
      k += std::max(w, 1);
      continue;
    }
    AppendUtf8(out, f(r));
    k += w;
  }
  return out;
}

// cases.Title(language.AmericanEnglish, cases.NoLower): the first letter of
// each word upper-cased, the rest kept. Words are runs of letters, digits,
// marks and the in-word punctuation ' . : _ (an approximation of Unicode
// word breaking).
std::string TitleCase(absl::string_view s) {
  std::string out;
  bool in_word = false;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    w = std::max(w, 1);
    bool letter = IsLetterRune(r);
    bool word_char = letter || (r >= '0' && r <= '9') || r == '\'' ||
                     r == '.' || r == ':' || r == '_' || r == 0x2019;
    if (letter && !in_word) {
      AppendUtf8(out, SimpleUpper(r));
    } else {
      absl::StrAppend(&out, s.substr(k, w));
    }
    in_word = word_char;
    k += w;
  }
  return out;
}

// strings.ToUpper and strings.ToLower.
std::string ToUpper(absl::string_view s) { return MapRunes(s, SimpleUpper); }
std::string ToLower(absl::string_view s) { return MapRunes(s, SimpleLower); }

// graphLink (kTab 0) and tableLink (kTab 1): the expression browser's link
// for an expression.
template <int kTab>
std::string GraphLink(absl::string_view expr) {
  return absl::StrCat("/graph?g0.expr=", QueryEscape(expr), "&g0.tab=", kTab);
}

// A function of a string that returns a string.
template <std::string (*kFunc)(absl::string_view)>
Value StringFunc(const Env&, std::vector<Value>& args) {
  return Value::String(kFunc(args[0].s));
}

// The humanize functions' unit prefixes: divides `v` by `base` while it is
// at least `base` in magnitude, at most once per prefix; returns the prefix
// of the last division ("" for none).
template <size_t N>
std::string ScaleDown(double& v, const char* const (&prefixes)[N],
                      double base) {
  std::string prefix;
  for (const char* p : prefixes) {
    if (std::abs(v) < base) break;
    prefix = p;
    v /= base;
  }
  return prefix;
}

// Multiplies `v` by 1000 while it is less than 1 in magnitude, at most once
// per SI prefix (m, u, n, ...); returns the prefix of the last step.
std::string ScaleUp(double& v) {
  static constexpr const char* kSmall[] = {"m", "u", "n", "p",
                                           "f", "a", "z", "y"};
  std::string prefix;
  for (const char* p : kSmall) {
    if (std::abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return prefix;
}

// The %.4g humanize formats.
std::string Fmt4g(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// strconv.ParseFloat with Go's error text.
bool ParseFloatGo(const std::string& s, double& out, std::string& error) {
  absl::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (absl::EqualsIgnoreCase(body, "inf") ||
      absl::EqualsIgnoreCase(body, "infinity")) {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (absl::EqualsIgnoreCase(body, "nan") && s.size() == 3) {
    out = std::nan("");
    return true;
  }
  // Underscores are allowed only with a base prefix; strip them then.
  std::string clean(s);
  bool hex = absl::StartsWithIgnoreCase(body, "0x");
  if (hex) {
    clean.erase(std::remove(clean.begin(), clean.end(), '_'), clean.end());
  }
  bool ok = !body.empty() && !absl::EqualsIgnoreCase(body, "nan");
  for (char c : hex ? absl::string_view(clean) : body) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == '+' ||
          c == '-' || c == 'e' || c == 'E')) {
      ok = false;
    }
    if (!hex && std::isxdigit(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != 'e' && c != 'E') {
      ok = false;
    }
  }
  if (hex && clean.find_first_of("pP") == std::string::npos) ok = false;
  if (ok) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(clean.c_str(), &end);
    if (end == clean.c_str() + clean.size()) {
      if (errno == ERANGE && std::isinf(v)) {
        error = "strconv.ParseFloat: parsing " + GoQuote(s) +
                ": value out of range";
        return false;
      }
      out = v;
      return true;
    }
  }
  error = "strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax";
  return false;
}

double ConvertToFloat(const Value& v) {
  switch (v.kind) {
    case VK::kFloat:
      return v.f;
    case VK::kInt:
      return static_cast<double>(v.i);
    case VK::kString: {
      double f;
      std::string err;
      if (!ParseFloatGo(v.s, f, err)) throw FuncError{err};
      return f;
    }
    default:
      throw FuncError{"can't convert " + TypeName(v) + " to float"};
  }
}

// Seconds as int64 nanoseconds, failing as Prometheus's floatToTime and
// toDuration do when they overflow (`what`: "timestamp" or "duration").
int64_t SecondsToNanos(double v, absl::string_view what) {
  const double ns = v * 1e9;
  if (ns > 9223372036854775807.0 || ns < -9223372036854775808.0) {
    throw FuncError{absl::StrCat(FormatFloatGo(v),
                                 " cannot be represented as a nanoseconds ",
                                 what, " since it overflows int64")};
  }
  return static_cast<int64_t>(ns);
}

// toTime and toDuration: seconds as a *time.Time (`kind` kTime) or a
// *time.Duration (kDuration).
Value SecondsAs(VK kind, const Value& seconds) {
  double v = ConvertToFloat(seconds);
  if (std::isnan(v) || std::isinf(v)) {
    throw FuncError{"value is NaN or Inf"};
  }
  Value t;
  t.kind = kind;
  t.i = SecondsToNanos(v, kind == VK::kTime ? "timestamp" : "duration");
  return t;
}

const TSample& Deref(const Value& v) {
  if (!v.sample) throw FuncError{kNilDeref};
  return *v.sample;
}

std::string LabelOf(const TSample& s, absl::string_view name) {
  for (const auto& [k, v] : s.labels) {
    if (k == name) return v;
  }
  return "";
}

// strconv.CanBackquote.
bool CanBackquote(absl::string_view s) {
  if (!IsValidUtf8(s)) return false;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    if (r == '`' || r == 0xFEFF) return false;
    if (r < ' ' && r != '\t') return false;
    if (r == 0x7F) return false;
    k += std::max(w, 1);
  }
  return true;
}

Value FnQuery(const Env& env, std::vector<Value>& args) {
  if (!env.query) throw FuncError{kNilDeref};
  absl::StatusOr<Vector> result = env.query(args[0].s);
  if (!result.ok()) throw FuncError{std::string(result.status().message())};
  auto list = std::make_shared<SampleList>();
  for (const Sample& s : *result) {
    auto ts = std::make_shared<TSample>();
    for (const Label& l : s.labels) ts->labels.push_back({l.name, l.value});
    ts->value = s.v;
    list->push_back(std::move(ts));
  }
  return SamplesValue(list);
}

}  // namespace

const FuncMap& PrometheusFunctions() {
  using V = std::vector<Value>;
  static const auto* kFuncs = new FuncMap{
      {"query", {{PT::kString}, false, FnQuery}},
      {"first",
       {{PT::kSamples},
        false,
        [](const Env&, V& a) {
          if (!a[0].samples || a[0].samples->empty()) {
            throw FuncError{"first() called on vector with no elements"};
          }
          return SampleValue((*a[0].samples)[0]);
        }}},
      {"label",
       {{PT::kString, PT::kSample},
        false,
        [](const Env&, V& a) {
          return Value::String(LabelOf(Deref(a[1]), a[0].s));
        }}},
      {"value",
       {{PT::kSample},
        false,
        [](const Env&, V& a) { return Value::Float(Deref(a[0]).value); }}},
      {"strvalue",
       {{PT::kSample},
        false,
        [](const Env&, V& a) {
          return Value::String(LabelOf(Deref(a[0]), "__value__"));
        }}},
      {"args",
       {{PT::kAny},
        true,
        [](const Env&, V& a) {
          auto m = std::make_shared<AnyMap>();
          for (size_t k = 0; k < a.size(); ++k) {
            m->push_back({absl::StrCat("arg", k), a[k]});
          }
          std::sort(m->begin(), m->end(), [](const auto& x, const auto& y) {
            return x.first < y.first;
          });
          Value v;
          v.kind = VK::kAnyMap;
          v.anymap = m;
          return v;
        }}},
      {"reReplaceAll",
       {{PT::kString, PT::kString, PT::kString},
        false,
        [](const Env&, V& a) {
          std::string err;
          auto re = CompileGoRegexp(a[0].s, err);
          if (!re) {
            std::string q =
                CanBackquote(a[0].s) ? "`" + a[0].s + "`" : GoQuote(a[0].s);
            throw FuncError{"regexp: Compile(" + q + "): " + err};
          }
          return Value::String(ReplaceAllGo(*re, a[2].s, a[1].s));
        }}},
      {"safeHtml",
       {{PT::kString},
        false,
        [](const Env&, V& a) { return Value::String(a[0].s, VK::kHtml); }}},
      {"match",
       {{PT::kString, PT::kString},
        false,
        [](const Env&, V& a) {
          std::string err;
          auto re = CompileGoRegexp(a[0].s, err);
          if (!re) throw FuncError{err};
          return Value::Bool(RE2::PartialMatch(
              re2::StringPiece(a[1].s.data(), a[1].s.size()), *re));
        }}},
      {"title", {{PT::kString}, false, StringFunc<TitleCase>}},
      {"toUpper", {{PT::kString}, false, StringFunc<ToUpper>}},
      {"toLower", {{PT::kString}, false, StringFunc<ToLower>}},
      {"graphLink", {{PT::kString}, false, StringFunc<GraphLink<0>>}},
      {"tableLink", {{PT::kString}, false, StringFunc<GraphLink<1>>}},
      {"sortByLabel",
       {{PT::kString, PT::kSamples},
        false,
        [](const Env&, V& a) {
          if (a[1].samples) {
            const std::string& by = a[0].s;
            std::stable_sort(a[1].samples->begin(), a[1].samples->end(),
                             [&](const auto& x, const auto& y) {
                               return LabelOf(*x, by) < LabelOf(*y, by);
                             });
          }
          return a[1];
        }}},
      {"stripPort",
       {{PT::kString},
        false,
        [](const Env&, V& a) {
          std::string host, port;
          if (!SplitHostPort(a[0].s, host, port)) return a[0];
          return Value::String(host);
        }}},
      {"stripDomain",
       {{PT::kString},
        false,
        [](const Env&, V& a) {
          std::string host, port;
          if (!SplitHostPort(a[0].s, host, port)) {
            host = a[0].s;
            port.clear();
          }
          if (IsIP(host)) return a[0];
          host = host.substr(0, host.find('.'));
          if (!port.empty()) {
            if (host.find(':') != std::string::npos) {
              return Value::String("[" + host + "]:" + port);
            }
            return Value::String(host + ":" + port);
          }
          return Value::String(host);
        }}},
      {"humanize",
       {{PT::kAny},
        false,
        [](const Env&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (v == 0 || std::isnan(v) || std::isinf(v)) {
            return Value::String(Fmt4g(v));
          }
          static constexpr const char* kBig[] = {"k", "M", "G", "T",
                                                 "P", "E", "Z", "Y"};
          std::string prefix =
              std::abs(v) >= 1 ? ScaleDown(v, kBig, 1000) : ScaleUp(v);
          return Value::String(Fmt4g(v) + prefix);
        }}},
      {"humanize1024",
       {{PT::kAny},
        false,
        [](const Env&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::abs(v) <= 1 || std::isnan(v) || std::isinf(v)) {
            return Value::String(Fmt4g(v));
          }
          static constexpr const char* kBig[] = {"ki", "Mi", "Gi", "Ti",
                                                 "Pi", "Ei", "Zi", "Yi"};
          std::string prefix = ScaleDown(v, kBig, 1024);
          return Value::String(Fmt4g(v) + prefix);
        }}},
      {"humanizeDuration",
       {{PT::kAny},
        false,
        [](const Env&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) return Value::String(Fmt4g(v));
          if (v == 0) return Value::String(Fmt4g(v) + "s");
          if (std::abs(v) >= 1) {
            std::string sign;
            if (v < 0) {
              sign = "-";
              v = -v;
            }
            // Go's int64(v) saturates differently on overflow; clamp.
            int64_t d = v >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(v);
            int64_t seconds = d % 60;
            int64_t minutes = (d / 60) % 60;
            int64_t hours = (d / 60 / 60) % 24;
            int64_t days = d / 60 / 60 / 24;
            if (days != 0) {
              return Value::String(absl::StrCat(sign, days, "d ", hours, "h ",
                                                minutes, "m ", seconds, "s"));
            }
            if (hours != 0) {
              return Value::String(
                  absl::StrCat(sign, hours, "h ", minutes, "m ", seconds, "s"));
            }
            if (minutes != 0) {
              return Value::String(
                  absl::StrCat(sign, minutes, "m ", seconds, "s"));
            }
            return Value::String(sign + Fmt4g(v) + "s");
          }
          std::string prefix = ScaleUp(v);
          return Value::String(Fmt4g(v) + prefix + "s");
        }}},
      {"humanizePercentage",
       {{PT::kAny},
        false,
        [](const Env&, V& a) {
          return Value::String(Fmt4g(ConvertToFloat(a[0]) * 100) + "%");
        }}},
      {"humanizeTimestamp",
       {{PT::kAny},
        false,
        [](const Env&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) return Value::String(Fmt4g(v));
          const int64_t ts = SecondsToNanos(v, "timestamp");
          return Value::String(TimeString(ts));
        }}},
      {"toTime",
       {{PT::kAny},
        false,
        [](const Env&, V& a) { return SecondsAs(VK::kTime, a[0]); }}},
      {"toDuration",
       {{PT::kAny},
        false,
        [](const Env&, V& a) { return SecondsAs(VK::kDuration, a[0]); }}},
      {"now",
       {{},
        false,
        [](const Env& env, V&) {
          return Value::Float(static_cast<double>(env.eval_time_ms) / 1000.0);
        }}},
      {"pathPrefix",
       {{},
        false,
        [](const Env& env, V&) {
          const std::string& u = env.external_url;
          if (u.empty()) throw FuncError{kNilDeref};
          size_t start = 0;
          size_t scheme = u.find("://");
          if (scheme != std::string::npos) {
            start = u.find('/', scheme + 3);
            if (start == std::string::npos) return Value::String("");
          }
          size_t end = u.find_first_of("?#", start);
          return Value::String(u.substr(start, end == std::string::npos
                                                   ? std::string::npos
                                                   : end - start));
        }}},
      {"externalURL",
       {{},
        false,
        [](const Env& env, V&) {
          if (env.external_url.empty()) throw FuncError{kNilDeref};
          return Value::String(env.external_url);
        }}},
      {"parseDuration",
       {{PT::kString},
        false,
        [](const Env&, V& a) {
          absl::StatusOr<int64_t> ms = ParseDuration(a[0].s);
          if (!ms.ok()) throw FuncError{std::string(ms.status().message())};
          // float64(time.Duration) / float64(time.Second).
          return Value::Float(static_cast<double>(*ms * 1000000) / 1e9);
        }}},
      {"urlQueryEscape", {{PT::kString}, false, StringFunc<QueryEscape>}},
  };
  return *kFuncs;
}

}  // namespace promeval::tmpl
