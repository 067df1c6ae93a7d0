// The signature table of PromQL's functions (Prometheus's parser.Functions).
// eval/function_table.cc holds the implementations under the same names; a
// test checks that the two key sets are equal.
#include <algorithm>

#include "promeval/parser.h"

namespace promeval {
namespace {

constexpr ValueType kV = ValueType::kVector;
constexpr ValueType kM = ValueType::kMatrix;
constexpr ValueType kS = ValueType::kScalar;
constexpr ValueType kStr = ValueType::kString;

FunctionSignature Fn(absl::string_view name, std::vector<ValueType> args,
                     ValueType ret = kV, int variadic = 0,
                     bool experimental = false) {
  return FunctionSignature{name, std::move(args), variadic, ret, experimental};
}

// Experimental (--enable-feature=promql-experimental-functions).
FunctionSignature Exp(absl::string_view name, std::vector<ValueType> args,
                      ValueType ret = kV, int variadic = 0) {
  return Fn(name, std::move(args), ret, variadic, /*experimental=*/true);
}

// FunctionSignature::at_modifier_unsafe.
FunctionSignature AtUnsafe(FunctionSignature f) {
  f.at_modifier_unsafe = true;
  return f;
}

const std::vector<FunctionSignature>& Table() {
  // Sorted by name; grouped by shape in eval/function_table.cc.
  static const auto* table = new std::vector<FunctionSignature>{
      Fn("abs", {kV}),
      Fn("absent", {kV}),
      Fn("absent_over_time", {kM}),
      Fn("acos", {kV}),
      Fn("acosh", {kV}),
      Fn("asin", {kV}),
      Fn("asinh", {kV}),
      Fn("atan", {kV}),
      Fn("atanh", {kV}),
      Fn("avg_over_time", {kM}),
      Fn("ceil", {kV}),
      Fn("changes", {kM}),
      Fn("clamp", {kV, kS, kS}),
      Fn("clamp_max", {kV, kS}),
      Fn("clamp_min", {kV, kS}),
      Fn("cos", {kV}),
      Fn("cosh", {kV}),
      Fn("count_over_time", {kM}),
      AtUnsafe(Fn("day_of_month", {kV}, kV, 1)),
      AtUnsafe(Fn("day_of_week", {kV}, kV, 1)),
      AtUnsafe(Fn("day_of_year", {kV}, kV, 1)),
      AtUnsafe(Fn("days_in_month", {kV}, kV, 1)),
      Fn("deg", {kV}),
      Fn("delta", {kM}),
      Fn("deriv", {kM}),
      Exp("double_exponential_smoothing", {kM, kS, kS}),
      AtUnsafe(Exp("end", {}, kS)),
      Fn("exp", {kV}),
      Exp("first_over_time", {kM}),
      Fn("floor", {kV}),
      Fn("histogram_avg", {kV}),
      Fn("histogram_count", {kV}),
      Fn("histogram_fraction", {kS, kS, kV}),
      Fn("histogram_quantile", {kS, kV}),
      Exp("histogram_quantiles", {kV, kStr, kS, kS}, kV, 9),
      Fn("histogram_stddev", {kV}),
      Fn("histogram_stdvar", {kV}),
      Fn("histogram_sum", {kV}),
      AtUnsafe(Fn("hour", {kV}, kV, 1)),
      Fn("idelta", {kM}),
      Fn("increase", {kM}),
      [] {
        FunctionSignature info = Exp("info", {kV, kV}, kV, 1);
        info.reads_unselected_series = true;
        return info;
      }(),
      Fn("irate", {kM}),
      Fn("label_join", {kV, kStr, kStr, kStr}, kV, -1),
      Fn("label_replace", {kV, kStr, kStr, kStr, kStr}),
      Fn("last_over_time", {kM}),
      Fn("ln", {kV}),
      Fn("log10", {kV}),
      Fn("log2", {kV}),
      Exp("mad_over_time", {kM}),
      Exp("max_of", {kS, kS}, kS),
      Fn("max_over_time", {kM}),
      Exp("min_of", {kS, kS}, kS),
      Fn("min_over_time", {kM}),
      AtUnsafe(Fn("minute", {kV}, kV, 1)),
      AtUnsafe(Fn("month", {kV}, kV, 1)),
      Fn("pi", {}, kS),
      AtUnsafe(Fn("predict_linear", {kM, kS})),
      Fn("present_over_time", {kM}),
      Fn("quantile_over_time", {kS, kM}),
      Fn("rad", {kV}),
      AtUnsafe(Exp("range", {}, kS)),
      Fn("rate", {kM}),
      Fn("resets", {kM}),
      Fn("round", {kV, kS}, kV, 1),
      Fn("scalar", {kV}, kS),
      Fn("sgn", {kV}),
      Fn("sin", {kV}),
      Fn("sinh", {kV}),
      Fn("sort", {kV}),
      Exp("sort_by_label", {kV, kStr}, kV, -1),
      Exp("sort_by_label_desc", {kV, kStr}, kV, -1),
      Fn("sort_desc", {kV}),
      Fn("sqrt", {kV}),
      AtUnsafe(Exp("start", {}, kS)),
      Exp("start_timestamp", {kV}),
      Fn("stddev_over_time", {kM}),
      Fn("stdvar_over_time", {kM}),
      AtUnsafe(Exp("step", {}, kS)),
      Fn("sum_over_time", {kM}),
      Fn("tan", {kV}),
      Fn("tanh", {kV}),
      AtUnsafe(Fn("time", {}, kS)),
      AtUnsafe(Fn("timestamp", {kV})),
      Exp("ts_of_first_over_time", {kM}),
      Exp("ts_of_last_over_time", {kM}),
      Exp("ts_of_max_over_time", {kM}),
      Exp("ts_of_min_over_time", {kM}),
      Fn("vector", {kS}),
      AtUnsafe(Fn("year", {kV}, kV, 1)),
  };
  return *table;
}

}  // namespace

absl::Span<const FunctionSignature> AllFunctions() { return Table(); }

const FunctionSignature* LookupFunction(absl::string_view name) {
  const auto& table = Table();
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const FunctionSignature& f,
                                absl::string_view n) { return f.name < n; });
  if (it == table.end() || it->name != name) return nullptr;
  return &*it;
}

}  // namespace promeval
