// Maps each PromQL function name to its implementation, grouped by shape.
// The key set equals the parser's signature table (parser/functions.cc) and
// each shape agrees with the signature (tests/function_table_test.cc).
#include <algorithm>
#include <vector>

#include "absl/strings/str_join.h"
#include "eval/functions.h"
#include "eval/functions/families.h"

namespace promeval::eval {
namespace {

namespace f = functions;
using S = FunctionShape;

constexpr FunctionEntry kFunctions[] = {
    // Elementwise: a function of each value of an instant vector (scalar
    // parameters per step); the metric name is dropped.
    {"abs", f::Abs, S::kElementwise},
    {"acos", f::Acos, S::kElementwise},
    {"acosh", f::Acosh, S::kElementwise},
    {"asin", f::Asin, S::kElementwise},
    {"asinh", f::Asinh, S::kElementwise},
    {"atan", f::Atan, S::kElementwise},
    {"atanh", f::Atanh, S::kElementwise},
    {"ceil", f::Ceil, S::kElementwise},
    {"clamp", f::Clamp, S::kElementwise},
    {"clamp_max", f::ClampMax, S::kElementwise},
    {"clamp_min", f::ClampMin, S::kElementwise},
    {"cos", f::Cos, S::kElementwise},
    {"cosh", f::Cosh, S::kElementwise},
    {"day_of_month", f::DayOfMonth, S::kElementwise},
    {"day_of_week", f::DayOfWeek, S::kElementwise},
    {"day_of_year", f::DayOfYear, S::kElementwise},
    {"days_in_month", f::DaysInMonth, S::kElementwise},
    {"deg", f::Deg, S::kElementwise},
    {"exp", f::Exp, S::kElementwise},
    {"floor", f::Floor, S::kElementwise},
    {"hour", f::Hour, S::kElementwise},
    {"ln", f::Ln, S::kElementwise},
    {"log10", f::Log10, S::kElementwise},
    {"log2", f::Log2, S::kElementwise},
    {"minute", f::Minute, S::kElementwise},
    {"month", f::Month, S::kElementwise},
    {"rad", f::Rad, S::kElementwise},
    {"round", f::Round, S::kElementwise},
    {"sgn", f::Sgn, S::kElementwise},
    {"sin", f::Sin, S::kElementwise},
    {"sinh", f::Sinh, S::kElementwise},
    {"sqrt", f::Sqrt, S::kElementwise},
    {"tan", f::Tan, S::kElementwise},
    {"tanh", f::Tanh, S::kElementwise},
    {"year", f::Year, S::kElementwise},
    // Range over time: a function of each series' samples in the window at
    // each step, slid over the samples without per-step allocation.
    {"absent_over_time",
     f::AbsentOverTime,
     S::kRangeOverTime,
     {.merges_series = true}},
    {"avg_over_time", f::AvgOverTime, S::kRangeOverTime},
    {"changes", f::Changes, S::kRangeOverTime, {.anchored = true}},
    {"count_over_time", f::CountOverTime, S::kRangeOverTime},
    {"delta",
     f::Delta,
     S::kRangeOverTime,
     {.anchored = true, .smoothed = true}},
    {"deriv", f::Deriv, S::kRangeOverTime},
    {"double_exponential_smoothing", f::DoubleExponentialSmoothing,
     S::kRangeOverTime},
    {"first_over_time", f::FirstOverTime, S::kRangeOverTime},
    {"idelta", f::Idelta, S::kRangeOverTime},
    {"increase",
     f::Increase,
     S::kRangeOverTime,
     {.anchored = true, .smoothed = true}},
    {"irate", f::Irate, S::kRangeOverTime},
    {"last_over_time", f::LastOverTime, S::kRangeOverTime},
    {"mad_over_time", f::MadOverTime, S::kRangeOverTime},
    {"max_over_time", f::MaxOverTime, S::kRangeOverTime},
    {"min_over_time", f::MinOverTime, S::kRangeOverTime},
    {"predict_linear", f::PredictLinear, S::kRangeOverTime},
    {"present_over_time", f::PresentOverTime, S::kRangeOverTime},
    {"quantile_over_time", f::QuantileOverTime, S::kRangeOverTime},
    {"rate", f::Rate, S::kRangeOverTime, {.anchored = true, .smoothed = true}},
    {"resets", f::Resets, S::kRangeOverTime, {.anchored = true}},
    {"stddev_over_time", f::StddevOverTime, S::kRangeOverTime},
    {"stdvar_over_time", f::StdvarOverTime, S::kRangeOverTime},
    {"sum_over_time", f::SumOverTime, S::kRangeOverTime},
    {"ts_of_first_over_time", f::TsOfFirstOverTime, S::kRangeOverTime},
    {"ts_of_last_over_time", f::TsOfLastOverTime, S::kRangeOverTime},
    {"ts_of_max_over_time", f::TsOfMaxOverTime, S::kRangeOverTime},
    {"ts_of_min_over_time", f::TsOfMinOverTime, S::kRangeOverTime},
    // No argument: a scalar per step.
    {"end", f::End, S::kNoArg},
    {"pi", f::Pi, S::kNoArg},
    {"range", f::Range, S::kNoArg},
    {"start", f::Start, S::kNoArg},
    {"step", f::Step, S::kNoArg},
    {"time", f::Time, S::kNoArg},
    // Special: label manipulation, ordering, histograms, info, conversions
    // between scalars and vectors.
    {"absent", f::AbsentFunc, S::kSpecial},
    {"histogram_avg", f::NativeHistogramOnly, S::kSpecial},
    {"histogram_count", f::NativeHistogramOnly, S::kSpecial},
    {"histogram_fraction", f::HistogramFraction, S::kSpecial},
    {"histogram_quantile", f::HistogramQuantile, S::kSpecial},
    {"histogram_quantiles", f::HistogramQuantiles, S::kSpecial},
    {"histogram_stddev", f::NativeHistogramOnly, S::kSpecial},
    {"histogram_stdvar", f::NativeHistogramOnly, S::kSpecial},
    {"histogram_sum", f::NativeHistogramOnly, S::kSpecial},
    {"info", f::Info, S::kSpecial, {.raw_arg = 1}},
    {"label_join",
     f::LabelJoin,
     S::kSpecial,
     {.passes_argument_through = true}},
    {"label_replace",
     f::LabelReplace,
     S::kSpecial,
     {.passes_argument_through = true}},
    {"max_of", f::MaxOf, S::kSpecial},
    {"min_of", f::MinOf, S::kSpecial},
    {"scalar", f::Scalar, S::kSpecial},
    {"sort", f::Sort, S::kSpecial},
    {"sort_by_label", f::SortByLabel, S::kSpecial},
    {"sort_by_label_desc", f::SortByLabelDesc, S::kSpecial},
    {"sort_desc", f::SortDesc, S::kSpecial},
    {"start_timestamp", f::Unsupported, S::kSpecial},
    {"timestamp",
     f::Timestamp,
     S::kSpecial,
     {.raw_arg = 0,
      .raw_only_selector = true,
      .invariant_over_invariant_selectors = true}},
    {"vector", f::Vector, S::kSpecial},
};

// kFunctions sorted by name, for lookup.
const std::vector<const FunctionEntry*>& ByName() {
  static const auto* by_name = [] {
    auto* v = new std::vector<const FunctionEntry*>();
    for (const FunctionEntry& e : kFunctions) v->push_back(&e);
    std::sort(v->begin(), v->end(),
              [](const FunctionEntry* a, const FunctionEntry* b) {
                return a->name < b->name;
              });
    return v;
  }();
  return *by_name;
}

}  // namespace

absl::Span<const FunctionEntry> FunctionImplementations() { return kFunctions; }

std::string FunctionNamesWith(bool (*pred)(const FunctionTraits&)) {
  std::vector<absl::string_view> names;
  for (const FunctionEntry* e : ByName()) {
    if (pred(e->traits)) names.push_back(e->name);
  }
  return absl::StrJoin(names, ", ");
}

const FunctionEntry* LookupImplementation(absl::string_view name) {
  const std::vector<const FunctionEntry*>& by_name = ByName();
  auto it = std::lower_bound(
      by_name.begin(), by_name.end(), name,
      [](const FunctionEntry* e, absl::string_view n) { return e->name < n; });
  if (it == by_name.end() || (*it)->name != name) return nullptr;
  return *it;
}

}  // namespace promeval::eval
