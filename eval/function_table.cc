// Maps each PromQL function name to its implementation. The key set equals
// the parser's signature table (parser/functions.cc); a test checks it.
#include <algorithm>

#include "eval/functions.h"
#include "eval/functions/families.h"

namespace promeval::eval {
namespace {

namespace f = functions;

// Sorted by name.
constexpr FunctionEntry kFunctions[] = {
    {"abs", f::Abs},
    {"absent", f::AbsentFunc},
    {"absent_over_time", f::AbsentOverTime},
    {"acos", f::Acos},
    {"acosh", f::Acosh},
    {"asin", f::Asin},
    {"asinh", f::Asinh},
    {"atan", f::Atan},
    {"atanh", f::Atanh},
    {"avg_over_time", f::AvgOverTime},
    {"ceil", f::Ceil},
    {"changes", f::Changes},
    {"clamp", f::Clamp},
    {"clamp_max", f::ClampMax},
    {"clamp_min", f::ClampMin},
    {"cos", f::Cos},
    {"cosh", f::Cosh},
    {"count_over_time", f::CountOverTime},
    {"day_of_month", f::DayOfMonth},
    {"day_of_week", f::DayOfWeek},
    {"day_of_year", f::DayOfYear},
    {"days_in_month", f::DaysInMonth},
    {"deg", f::Deg},
    {"delta", f::Delta},
    {"deriv", f::Deriv},
    {"double_exponential_smoothing", f::DoubleExponentialSmoothing},
    {"end", f::End},
    {"exp", f::Exp},
    {"first_over_time", f::FirstOverTime},
    {"floor", f::Floor},
    {"histogram_avg", f::NativeHistogramOnly},
    {"histogram_count", f::NativeHistogramOnly},
    {"histogram_fraction", f::HistogramFraction},
    {"histogram_quantile", f::HistogramQuantile},
    {"histogram_quantiles", f::HistogramQuantiles},
    {"histogram_stddev", f::NativeHistogramOnly},
    {"histogram_stdvar", f::NativeHistogramOnly},
    {"histogram_sum", f::NativeHistogramOnly},
    {"hour", f::Hour},
    {"idelta", f::Idelta},
    {"increase", f::Increase},
    {"info", f::Info},
    {"irate", f::Irate},
    {"label_join", f::LabelJoin},
    {"label_replace", f::LabelReplace},
    {"last_over_time", f::LastOverTime},
    {"ln", f::Ln},
    {"log10", f::Log10},
    {"log2", f::Log2},
    {"mad_over_time", f::MadOverTime},
    {"max_of", f::MaxOf},
    {"max_over_time", f::MaxOverTime},
    {"min_of", f::MinOf},
    {"min_over_time", f::MinOverTime},
    {"minute", f::Minute},
    {"month", f::Month},
    {"pi", f::Pi},
    {"predict_linear", f::PredictLinear},
    {"present_over_time", f::PresentOverTime},
    {"quantile_over_time", f::QuantileOverTime},
    {"rad", f::Rad},
    {"range", f::Range},
    {"rate", f::Rate},
    {"resets", f::Resets},
    {"round", f::Round},
    {"scalar", f::Scalar},
    {"sgn", f::Sgn},
    {"sin", f::Sin},
    {"sinh", f::Sinh},
    {"sort", f::Sort},
    {"sort_by_label", f::SortByLabel},
    {"sort_by_label_desc", f::SortByLabelDesc},
    {"sort_desc", f::SortDesc},
    {"sqrt", f::Sqrt},
    {"start", f::Start},
    {"start_timestamp", f::Unsupported},
    {"stddev_over_time", f::StddevOverTime},
    {"stdvar_over_time", f::StdvarOverTime},
    {"step", f::Step},
    {"sum_over_time", f::SumOverTime},
    {"tan", f::Tan},
    {"tanh", f::Tanh},
    {"time", f::Time},
    {"timestamp", f::Timestamp},
    {"ts_of_first_over_time", f::TsOfFirstOverTime},
    {"ts_of_last_over_time", f::TsOfLastOverTime},
    {"ts_of_max_over_time", f::TsOfMaxOverTime},
    {"ts_of_min_over_time", f::TsOfMinOverTime},
    {"vector", f::Vector},
    {"year", f::Year},
};

}  // namespace

absl::Span<const FunctionEntry> FunctionImplementations() { return kFunctions; }

const FunctionEntry* LookupImplementation(absl::string_view name) {
  auto it = std::lower_bound(
      std::begin(kFunctions), std::end(kFunctions), name,
      [](const FunctionEntry& e, absl::string_view n) { return e.name < n; });
  if (it == std::end(kFunctions) || it->name != name) return nullptr;
  return it;
}

}  // namespace promeval::eval
