// Go's value model for templates (type names, truth) and Go's builtin
// template functions (text/template/funcs.go: and, or, not, len, index,
// slice, print, printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge,
// call), with the methods of time.Time and time.Duration.
#include "template/builtins.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "promeval/text.h"
#include "template/format.h"

namespace promeval::tmpl {

using Env = rules::TemplateEnv;

std::string TypeName(const Value& v) {
  switch (v.kind) {
    case VK::kInvalid:
    case VK::kNil:
      return "<nil>";
    case VK::kBool:
      return "bool";
    case VK::kInt:
      return "int";
    case VK::kUint8:
      return "uint8";
    case VK::kFloat:
      return "float64";
    case VK::kString:
      return "string";
    case VK::kHtml:
      return "template.HTML";
    case VK::kStrMap:
      return "map[string]string";
    case VK::kAnyMap:
      return "map[string]interface {}";
    case VK::kSample:
      return "*template.sample";
    case VK::kSamples:
      return "template.queryResult";
    case VK::kTime:
      return "*time.Time";
    case VK::kDuration:
      return "*time.Duration";
    case VK::kData:
      return "struct { Labels map[string]string; ExternalLabels "
             "map[string]string; ExternalURL string; Value interface {} }";
  }
  return "";
}

bool Truth(const Value& v) {
  switch (v.kind) {
    case VK::kInvalid:
    case VK::kNil:
      return false;
    case VK::kBool:
      return v.b;
    case VK::kInt:
    case VK::kUint8:
      return v.i != 0;
    case VK::kFloat:
      return v.f != 0;
    case VK::kString:
    case VK::kHtml:
      return !v.s.empty();
    case VK::kStrMap:
      return !v.strmap->empty();
    case VK::kAnyMap:
      return !v.anymap->empty();
    case VK::kSample:
      return v.sample != nullptr;
    case VK::kSamples:
      return v.samples != nullptr && !v.samples->empty();
    case VK::kTime:
    case VK::kDuration:
    case VK::kData:
      return true;
  }
  return false;
}

Value SampleValue(std::shared_ptr<TSample> s) {
  Value v;
  v.kind = VK::kSample;
  v.sample = std::move(s);
  return v;
}

Value SamplesValue(std::shared_ptr<SampleList> s) {
  Value v;
  v.kind = VK::kSamples;
  v.samples = std::move(s);
  return v;
}

std::string QueryEscape(absl::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

enum class BasicKind { kInvalid, kBool, kInt, kUint, kFloat, kString };

BasicKind KindOf(const Value& v) {
  switch (v.kind) {
    case VK::kBool:
      return BasicKind::kBool;
    case VK::kInt:
      return BasicKind::kInt;
    case VK::kUint8:
      return BasicKind::kUint;
    case VK::kFloat:
      return BasicKind::kFloat;
    case VK::kString:
    case VK::kHtml:
      return BasicKind::kString;
    default:
      return BasicKind::kInvalid;
  }
}

constexpr const char* kBadComparisonType = "invalid type for comparison";
constexpr const char* kBadComparison = "incompatible types for comparison";

bool Eq(const Value& a, const std::vector<Value>& others) {
  BasicKind k1 = KindOf(a);
  for (const Value& b : others) {
    BasicKind k2 = KindOf(b);
    bool truth = false;
    if (k1 != k2) {
      if ((k1 == BasicKind::kInt && k2 == BasicKind::kUint) ||
          (k1 == BasicKind::kUint && k2 == BasicKind::kInt)) {
        truth = a.i == b.i;
      } else if (a.valid() && b.valid()) {
        throw FuncError{kBadComparison};
      }
    } else {
      switch (k1) {
        case BasicKind::kBool:
          truth = a.b == b.b;
          break;
        case BasicKind::kFloat:
          truth = a.f == b.f;
          break;
        case BasicKind::kInt:
        case BasicKind::kUint:
          truth = a.i == b.i;
          break;
        case BasicKind::kString:
          truth = a.s == b.s;
          break;
        case BasicKind::kInvalid:
          if (a.kind != b.kind) throw FuncError{kBadComparison};
          if (a.kind == VK::kSample) {
            truth = a.sample == b.sample;
          } else if (a.kind == VK::kNil || a.kind == VK::kInvalid) {
            truth = true;
          } else if (a.kind == VK::kTime || a.kind == VK::kDuration) {
            truth = false;  // Distinct pointers.
          } else {
            throw FuncError{"non-comparable type " + FormatValue(b, 1) + ": " +
                            TypeName(b)};
          }
          break;
      }
    }
    if (truth) return true;
  }
  return false;
}

bool Lt(const Value& a, const Value& b) {
  BasicKind k1 = KindOf(a);
  if (k1 == BasicKind::kInvalid) throw FuncError{kBadComparisonType};
  BasicKind k2 = KindOf(b);
  if (k2 == BasicKind::kInvalid) throw FuncError{kBadComparisonType};
  if (k1 != k2) {
    if ((k1 == BasicKind::kInt && k2 == BasicKind::kUint) ||
        (k1 == BasicKind::kUint && k2 == BasicKind::kInt)) {
      return a.i < b.i;
    }
    throw FuncError{kBadComparison};
  }
  switch (k1) {
    case BasicKind::kBool:
    case BasicKind::kInvalid:
      throw FuncError{kBadComparisonType};
    case BasicKind::kFloat:
      return a.f < b.f;
    case BasicKind::kInt:
    case BasicKind::kUint:
      return a.i < b.i;
    case BasicKind::kString:
      return a.s < b.s;
  }
  return false;
}

bool Le(const Value& a, const Value& b) {
  if (Lt(a, b)) return true;
  return Eq(a, {b});
}

// text/template's evalArgs: one string as is, otherwise fmt.Sprint of the

int64_t IndexArg(const Value& index, size_t cap) {
  int64_t x;
  switch (index.kind) {
    case VK::kInt:
    case VK::kUint8:
      x = index.i;
      break;
    case VK::kInvalid:
    case VK::kNil:
      throw FuncError{"cannot index slice/array with nil"};
    default:
      throw FuncError{"cannot index slice/array with type " + TypeName(index)};
  }
  if (x < 0 || static_cast<uint64_t>(x) > cap) {
    throw FuncError{absl::StrCat("index out of range: ", x)};
  }
  return x;
}

// The type of what a pointer points to (Go's indirect, as index and len
// name it in errors), or of a value that is not a pointer; a nil pointer
// fails with "FUNC of nil pointer".
std::string IndirectTypeName(const Value& v, absl::string_view func) {
  switch (v.kind) {
    case VK::kSample:
      if (!v.sample) throw FuncError{absl::StrCat(func, " of nil pointer")};
      return "template.sample";
    case VK::kTime:
      return "time.Time";
    case VK::kDuration:
      return "time.Duration";
    default:
      return TypeName(v);
  }
}

Value FnIndex(const Env&, std::vector<Value>& args) {
  Value item = args[0];
  if (!item.valid() || item.kind == VK::kNil) {
    throw FuncError{"index of untyped nil"};
  }
  for (size_t k = 1; k < args.size(); ++k) {
    const Value& index = args[k];
    switch (item.kind) {
      case VK::kString:
      case VK::kHtml: {
        int64_t x = IndexArg(index, item.s.size());
        if (static_cast<size_t>(x) == item.s.size()) {
          throw FuncError{"reflect: string index out of range"};
        }
        Value b;
        b.kind = VK::kUint8;
        b.i = static_cast<unsigned char>(item.s[x]);
        item = b;
        break;
      }
      case VK::kSamples: {
        size_t n = item.samples ? item.samples->size() : 0;
        int64_t x = IndexArg(index, n);
        if (static_cast<size_t>(x) == n) {
          throw FuncError{"reflect: slice index out of range"};
        }
        item = SampleValue((*item.samples)[x]);
        break;
      }
      case VK::kStrMap:
      case VK::kAnyMap: {
        if (!index.valid() || index.kind == VK::kNil) {
          throw FuncError{"value is nil; should be of type string"};
        }
        if (index.kind != VK::kString) {
          throw FuncError{"value has type " + TypeName(index) +
                          "; should be string"};
        }
        if (item.kind == VK::kStrMap) {
          std::string found;
          for (const auto& [key, val] : *item.strmap) {
            if (key == index.s) found = val;
          }
          item = Value::String(found);
        } else {
          Value found;
          found.kind = VK::kNil;
          for (const auto& [key, val] : *item.anymap) {
            if (key == index.s) found = val;
          }
          item = found;
        }
        break;
      }
      default:
        throw FuncError{"can't index item of type " +
                        IndirectTypeName(item, "index")};
    }
  }
  if (item.kind == VK::kNil) return Value();
  return item;
}

Value FnSlice(const Env&, std::vector<Value>& args) {
  const Value& item = args[0];
  if (!item.valid() || item.kind == VK::kNil) {
    throw FuncError{"slice of untyped nil"};
  }
  size_t nidx = args.size() - 1;
  if (nidx > 3) {
    throw FuncError{absl::StrCat("too many slice indexes: ", nidx)};
  }
  size_t len;
  if (item.kind == VK::kString || item.kind == VK::kHtml) {
    if (nidx == 3) throw FuncError{"cannot 3-index slice a string"};
    len = item.s.size();
  } else if (item.kind == VK::kSamples) {
    len = item.samples ? item.samples->size() : 0;
  } else {
    throw FuncError{"can't slice item of type " + TypeName(item)};
  }
  int64_t idx[3] = {0, static_cast<int64_t>(len), static_cast<int64_t>(len)};
  for (size_t k = 0; k < nidx; ++k) idx[k] = IndexArg(args[k + 1], len);
  if (idx[0] > idx[1]) {
    throw FuncError{
        absl::StrCat("invalid slice index: ", idx[0], " > ", idx[1])};
  }
  if (nidx == 3 && idx[1] > idx[2]) {
    throw FuncError{
        absl::StrCat("invalid slice index: ", idx[1], " > ", idx[2])};
  }
  if (item.kind == VK::kSamples) {
    auto list = std::make_shared<SampleList>();
    if (item.samples) {
      list->assign(item.samples->begin() + idx[0],
                   item.samples->begin() + idx[1]);
    }
    return SamplesValue(list);
  }
  return Value::String(item.s.substr(idx[0], idx[1] - idx[0]), item.kind);
}

Value FnLen(const Env&, std::vector<Value>& args) {
  const Value& v = args[0];
  switch (v.kind) {
    case VK::kString:
    case VK::kHtml:
      return Value::Int(static_cast<int64_t>(v.s.size()));
    case VK::kStrMap:
      return Value::Int(static_cast<int64_t>(v.strmap->size()));
    case VK::kAnyMap:
      return Value::Int(static_cast<int64_t>(v.anymap->size()));
    case VK::kSamples:
      return Value::Int(
          static_cast<int64_t>(v.samples ? v.samples->size() : 0));
    default:
      throw FuncError{"len of type " + IndirectTypeName(v, "len")};
  }
}

// text/template's JSEscapeString.
std::string JsEscape(absl::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t k = 0; k < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '<':
          out += "\\u003C";
          break;
        case '>':
          out += "\\u003E";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '=':
          out += "\\u003D";
          break;
        default:
          if (c < ' ') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++k;
      continue;
    }
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    w = std::max(w, 1);
    if (IsGoPrint(r) && !(r == kRuneError && w == 1)) {
      absl::StrAppend(&out, s.substr(k, w));
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(r));
      out += buf;
    }
    k += w;
  }
  return out;
}

// html, js and urlquery: an escaper over the printed arguments (Go's
// evalArgs).
template <std::string (*kEscape)(absl::string_view)>
Value EscapeArgs(const Env&, std::vector<Value>& args) {
  return Value::String(kEscape(GoSprint(args, /*deref_pointers=*/true)));
}

// Go's builtinFuncs.
const FuncMap& Builtins() {
  using V = std::vector<Value>;
  static const auto* kFuncs = new FuncMap{
      {"and", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"or", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"call", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"not",
       {{PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(!Truth(a[0])); }}},
      {"len", {{PT::kRV}, false, FnLen}},
      {"index", {{PT::kRV, PT::kRV}, true, FnIndex}},
      {"slice", {{PT::kRV, PT::kRV}, true, FnSlice}},
      {"print",
       {{PT::kAny},
        true,
        [](const Env&, V& a) { return Value::String(GoSprint(a)); }}},
      {"println",
       {{PT::kAny},
        true,
        [](const Env&, V& a) { return Value::String(GoSprintln(a)); }}},
      {"printf",
       {{PT::kString, PT::kAny},
        true,
        [](const Env&, V& a) {
          std::vector<Value> rest(a.begin() + 1, a.end());
          return Value::String(GoSprintf(a[0].s, rest));
        }}},
      {"html", {{PT::kAny}, true, EscapeArgs<HtmlEscape>}},
      {"js", {{PT::kAny}, true, EscapeArgs<JsEscape>}},
      {"urlquery", {{PT::kAny}, true, EscapeArgs<QueryEscape>}},
      {"eq",
       {{PT::kRV, PT::kRV},
        true,
        [](const Env&, V& a) {
          if (a.size() < 2) throw FuncError{"missing argument for comparison"};
          return Value::Bool(Eq(a[0], V(a.begin() + 1, a.end())));
        }}},
      {"ne",
       {{PT::kRV, PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(!Eq(a[0], {a[1]})); }}},
      {"lt",
       {{PT::kRV, PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(Lt(a[0], a[1])); }}},
      {"le",
       {{PT::kRV, PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(Le(a[0], a[1])); }}},
      {"gt",
       {{PT::kRV, PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(!Le(a[0], a[1])); }}},
      {"ge",
       {{PT::kRV, PT::kRV},
        false,
        [](const Env&, V& a) { return Value::Bool(!Lt(a[0], a[1])); }}},
      // Prometheus (template/template.go).
  };
  return *kFuncs;
}

}  // namespace

const FuncSpec* FindFunction(const FuncMap& funcs, absl::string_view name) {
  auto it = funcs.find(name);
  if (it != funcs.end()) return &it->second;
  it = Builtins().find(name);
  return it == Builtins().end() ? nullptr : &it->second;
}

// Methods of *time.Time and *time.Duration (the receiver is args[0]).
namespace {

// The methods of *time.Time and *time.Duration; the receiver (a time or a
// duration in nanoseconds) is args[0].

// Time.Unix, UnixMilli and UnixNano: the time in units of kUnit ns, rounded
// down.
template <int64_t kUnit>
Value UnixIn(const Env&, std::vector<Value>& a) {
  const int64_t ns = a[0].i;
  return Value::Int(ns / kUnit - (ns % kUnit < 0 ? 1 : 0));
}

// Time.Year, YearDay, Day, Hour, Minute and Second.
template <auto kField>
Value CivilField(const Env&, std::vector<Value>& a) {
  return Value::Int(ToGoTime(a[0].i).civil.*kField);
}

// Duration.Seconds, Minutes and Hours: the duration in units of kUnit ns.
template <int64_t kUnit>
Value DurationIn(const Env&, std::vector<Value>& a) {
  const int64_t d = a[0].i;
  return Value::Float(static_cast<double>(d / kUnit) +
                      static_cast<double>(d % kUnit) /
                          static_cast<double>(kUnit));
}

// Duration.Milliseconds, Microseconds and Nanoseconds: whole units of kUnit
// ns.
template <int64_t kUnit>
Value DurationCount(const Env&, std::vector<Value>& a) {
  return Value::Int(a[0].i / kUnit);
}

}  // namespace

const FuncSpec* FindMethod(VK kind, absl::string_view name) {
  using V = std::vector<Value>;
  static const auto* kTimeMethods = new FuncMap{
      {"Unix", {{}, false, UnixIn<1000000000>}},
      {"UnixMilli", {{}, false, UnixIn<1000000>}},
      {"UnixNano", {{}, false, UnixIn<1>}},
      {"Year", {{}, false, CivilField<&CivilTime::year>}},
      {"YearDay", {{}, false, CivilField<&CivilTime::yday>}},
      {"Day", {{}, false, CivilField<&CivilTime::day>}},
      {"Hour", {{}, false, CivilField<&CivilTime::hour>}},
      {"Minute", {{}, false, CivilField<&CivilTime::minute>}},
      {"Second", {{}, false, CivilField<&CivilTime::second>}},
      {"Nanosecond",
       {{},
        false,
        [](const Env&, V& a) { return Value::Int(ToGoTime(a[0].i).nanos); }}},
      {"Month",
       {{},
        false,
        [](const Env&, V& a) {
          return Value::String(kMonths[ToGoTime(a[0].i).civil.month - 1]);
        }}},
      {"Weekday",
       {{},
        false,
        [](const Env&, V& a) {
          return Value::String(kDays[ToGoTime(a[0].i).civil.wday]);
        }}},
      {"Format",
       {{PT::kString},
        false,
        [](const Env&, V& a) {
          return Value::String(FormatTime(a[0].i, a[1].s));
        }}},
      {"String",
       {{},
        false,
        [](const Env&, V& a) { return Value::String(TimeString(a[0].i)); }}},
      {"UTC", {{}, false, [](const Env&, V& a) { return a[0]; }}},
  };
  static const auto* kDurationMethods = new FuncMap{
      {"Seconds", {{}, false, DurationIn<1000000000>}},
      {"Minutes", {{}, false, DurationIn<60 * int64_t{1000000000}>}},
      {"Hours", {{}, false, DurationIn<3600 * int64_t{1000000000}>}},
      {"Milliseconds", {{}, false, DurationCount<1000000>}},
      {"Microseconds", {{}, false, DurationCount<1000>}},
      {"Nanoseconds", {{}, false, DurationCount<1>}},
      {"String",
       {{},
        false,
        [](const Env&, V& a) {
          return Value::String(DurationString(a[0].i));
        }}},
  };
  const FuncMap* table = nullptr;
  if (kind == VK::kTime) table = kTimeMethods;
  if (kind == VK::kDuration) table = kDurationMethods;
  if (table == nullptr) return nullptr;
  auto it = table->find(name);
  return it == table->end() ? nullptr : &it->second;
}

}  // namespace promeval::tmpl
