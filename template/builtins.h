// Go's value model as alert templates see it (the reflect.Values of the
// types a template can hold), and the functions every template has: Go's
// builtins (text/template/funcs.go: and, or, not, len, index, slice, print,
// printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge, call) and
// the methods of time.Time and time.Duration.
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_BUILTINS_H_
#define PROMEVAL_TEMPLATE_BUILTINS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "template/template.h"

namespace promeval::tmpl {

// ---------------------------------------------------------------------------
// Values: the Go types an alert template can hold.

// Prometheus's template.sample: one sample of a query result.
struct TSample {
  std::vector<std::pair<std::string, std::string>> labels;  // Sorted.
  double value = 0;
};
using SampleList = std::vector<std::shared_ptr<TSample>>;
using StrMap = std::vector<std::pair<std::string, std::string>>;  // Sorted.

struct Value;
using AnyMap = std::vector<std::pair<std::string, Value>>;  // Sorted.

enum class VK {
  kInvalid,  // No value (reflect.Value{}): prints "<no value>".
  kNil,      // A nil interface{} argument: prints "<nil>".
  kBool,
  kInt,    // int (and the int64 results of methods).
  kUint8,  // A byte from indexing a string.
  kFloat,  // float64.
  kString,
  kHtml,      // html/template.HTML (safeHtml).
  kStrMap,    // map[string]string (labels).
  kAnyMap,    // map[string]interface {} (args).
  kSample,    // *template.sample.
  kSamples,   // template.queryResult.
  kTime,      // *time.Time.
  kDuration,  // *time.Duration.
  kData,      // The alert template data struct.
};

// The data of an alert template (Prometheus's struct with Labels,
// ExternalLabels, ExternalURL and Value).
struct DataStruct {
  std::shared_ptr<const StrMap> labels;
  std::shared_ptr<const StrMap> external_labels;
  std::string external_url;
  double value = 0;
};

// A value of one of those types; the fields its kind uses are set.
struct Value {
  VK kind = VK::kInvalid;
  bool b = false;
  int64_t i = 0;  // kInt, kUint8, kTime and kDuration (nanoseconds).
  double f = 0;
  std::string s;
  std::shared_ptr<const StrMap> strmap;
  std::shared_ptr<const AnyMap> anymap;
  std::shared_ptr<TSample> sample;
  std::shared_ptr<SampleList> samples;
  std::shared_ptr<const DataStruct> data;

  static Value Bool(bool v) {
    Value x;
    x.kind = VK::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = VK::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.kind = VK::kFloat;
    x.f = v;
    return x;
  }
  static Value String(std::string v, VK kind = VK::kString) {
    Value x;
    x.kind = kind;
    x.s = std::move(v);
    return x;
  }
  static Value Nil() {
    Value x;
    x.kind = VK::kNil;
    return x;
  }
  bool valid() const { return kind != VK::kInvalid; }
};

// Go's type name of a value (reflect.Type.String()), as errors print it.
std::string TypeName(const Value& v);

// Go's truth of a value (text/template's isTrue): false for the zero value
// of its type (and for no value), true otherwise.
bool Truth(const Value& v);

// A *template.sample (null: nil) and a template.queryResult.
Value SampleValue(std::shared_ptr<TSample> s);
Value SamplesValue(std::shared_ptr<SampleList> s);

// ---------------------------------------------------------------------------
// Functions.

// Parameter types of the functions (Go types, for conversions and errors):
// string, interface {}, reflect.Value, *template.sample,
// template.queryResult.
enum class PT { kString, kAny, kRV, kSample, kSamples };

// An error returned by a function: "error calling NAME: MESSAGE".
struct FuncError {
  std::string message;
};

// A function's implementation: the environment of the expansion (what
// Prometheus's functions capture) and the arguments, converted to the
// parameter types (a method's receiver first). Fails by throwing FuncError.
using FuncImpl = Value (*)(const rules::TemplateEnv& env,
                           std::vector<Value>& args);

// A function's signature and implementation.
struct FuncSpec {
  std::vector<PT> params;  // With variadic, the last is the element type.
  bool variadic = false;
  FuncImpl impl = nullptr;  // Null: and, or, call (the executor's own).
};

// A function map by name (Go's template.FuncMap).
using FuncMap = std::map<std::string, FuncSpec, std::less<>>;

// The function `name` in `funcs` or else among Go's builtin functions (Go's
// findFunction); null if neither has it.
const FuncSpec* FindFunction(const FuncMap& funcs, absl::string_view name);

// The method `name` of a value of kind `kind` (*time.Time and
// *time.Duration have methods); null if it has none of that name.
const FuncSpec* FindMethod(VK kind, absl::string_view name);

// Go's url.QueryEscape.
std::string QueryEscape(absl::string_view s);

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_BUILTINS_H_
