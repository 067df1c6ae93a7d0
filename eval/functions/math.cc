// Functions of each value of an instant vector, scalar functions, and the
// date functions (Prometheus's simpleFloatFunc family, funcClamp, funcRound,
// dateWrapper, funcTime, funcVector, funcScalar, funcTimestamp).
#include <cmath>
#include <cstdint>
#include <limits>

#include "eval/functions.h"
#include "eval/functions/families.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {
namespace {

constexpr double kPi = 3.14159265358979323846;

absl::StatusOr<Value> Elementwise(FunctionCall& call, double (*f)(double)) {
  return MapValues(
      call, std::move(call.vector(0)),
      [f](double x, int) -> std::optional<double> { return f(x); });
}

double Sgn(double x) {
  if (x < 0) return -1;
  if (x > 0) return 1;
  return x;
}
double Deg(double x) { return x * 180 / kPi; }
double Rad(double x) { return x * kPi / 180; }
double Abs(double x) { return std::fabs(x); }
double Ceil(double x) { return std::ceil(x); }
double Floor(double x) { return std::floor(x); }
double Exp(double x) { return std::exp(x); }
double Sqrt(double x) { return std::sqrt(x); }
double Ln(double x) { return std::log(x); }
double Log2(double x) { return std::log2(x); }
double Log10(double x) { return std::log10(x); }
double Sin(double x) { return std::sin(x); }
double Cos(double x) { return std::cos(x); }
double Tan(double x) { return std::tan(x); }
double Asin(double x) { return std::asin(x); }
double Acos(double x) { return std::acos(x); }
double Atan(double x) { return std::atan(x); }
double Sinh(double x) { return std::sinh(x); }
double Cosh(double x) { return std::cosh(x); }
double Tanh(double x) { return std::tanh(x); }
double Asinh(double x) { return std::asinh(x); }
double Acosh(double x) { return std::acosh(x); }
double Atanh(double x) { return std::atanh(x); }

// Go's int64(f) conversion on amd64: out-of-range and NaN give MinInt64.
int64_t GoInt64(double f) {
  if (std::isnan(f) || f >= 9223372036854775808.0 ||
      f < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

absl::StatusOr<Value> Date(FunctionCall& call, double (*f)(const CivilTime&)) {
  if (call.args.empty()) {
    // vector(time()): one series without labels.
    StepSeries s;
    s.values.resize(call.steps().count);
    for (int i = 0; i < call.steps().count; ++i) {
      // Go: time.Unix(ts/1000, 0), truncating towards zero.
      s.values[i] = f(ToCivilTime(call.steps().At(i) / 1000));
    }
    return Value::Vector({std::move(s)});
  }
  return MapValues(call, std::move(call.vector(0)),
                   [f](double x, int) -> std::optional<double> {
                     return f(ToCivilTime(GoInt64(x)));
                   });
}

}  // namespace

double GoMax(double x, double y) {
  if (std::isinf(x) && x > 0) return x;
  if (std::isinf(y) && y > 0) return y;
  if (std::isnan(x) || std::isnan(y)) return std::nan("");
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

double GoMin(double x, double y) {
  if (std::isinf(x) && x < 0) return x;
  if (std::isinf(y) && y < 0) return y;
  if (std::isnan(x) || std::isnan(y)) return std::nan("");
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

namespace functions {

absl::StatusOr<Value> Abs(FunctionCall& c) {
  return Elementwise(c, &eval::Abs);
}
absl::StatusOr<Value> Ceil(FunctionCall& c) {
  return Elementwise(c, &eval::Ceil);
}
absl::StatusOr<Value> Floor(FunctionCall& c) {
  return Elementwise(c, &eval::Floor);
}
absl::StatusOr<Value> Exp(FunctionCall& c) {
  return Elementwise(c, &eval::Exp);
}
absl::StatusOr<Value> Sqrt(FunctionCall& c) {
  return Elementwise(c, &eval::Sqrt);
}
absl::StatusOr<Value> Ln(FunctionCall& c) { return Elementwise(c, &eval::Ln); }
absl::StatusOr<Value> Log2(FunctionCall& c) {
  return Elementwise(c, &eval::Log2);
}
absl::StatusOr<Value> Log10(FunctionCall& c) {
  return Elementwise(c, &eval::Log10);
}
absl::StatusOr<Value> Sgn(FunctionCall& c) {
  return Elementwise(c, &eval::Sgn);
}
absl::StatusOr<Value> Deg(FunctionCall& c) {
  return Elementwise(c, &eval::Deg);
}
absl::StatusOr<Value> Rad(FunctionCall& c) {
  return Elementwise(c, &eval::Rad);
}
absl::StatusOr<Value> Sin(FunctionCall& c) {
  return Elementwise(c, &eval::Sin);
}
absl::StatusOr<Value> Cos(FunctionCall& c) {
  return Elementwise(c, &eval::Cos);
}
absl::StatusOr<Value> Tan(FunctionCall& c) {
  return Elementwise(c, &eval::Tan);
}
absl::StatusOr<Value> Asin(FunctionCall& c) {
  return Elementwise(c, &eval::Asin);
}
absl::StatusOr<Value> Acos(FunctionCall& c) {
  return Elementwise(c, &eval::Acos);
}
absl::StatusOr<Value> Atan(FunctionCall& c) {
  return Elementwise(c, &eval::Atan);
}
absl::StatusOr<Value> Sinh(FunctionCall& c) {
  return Elementwise(c, &eval::Sinh);
}
absl::StatusOr<Value> Cosh(FunctionCall& c) {
  return Elementwise(c, &eval::Cosh);
}
absl::StatusOr<Value> Tanh(FunctionCall& c) {
  return Elementwise(c, &eval::Tanh);
}
absl::StatusOr<Value> Asinh(FunctionCall& c) {
  return Elementwise(c, &eval::Asinh);
}
absl::StatusOr<Value> Acosh(FunctionCall& c) {
  return Elementwise(c, &eval::Acosh);
}
absl::StatusOr<Value> Atanh(FunctionCall& c) {
  return Elementwise(c, &eval::Atanh);
}

absl::StatusOr<Value> Round(FunctionCall& c) {
  std::vector<double> to_nearest;
  if (c.args.size() > 1) to_nearest = c.scalar(1);
  return MapValues(c, std::move(c.vector(0)),
                   [&](double x, int i) -> std::optional<double> {
                     double nearest = to_nearest.empty() ? 1 : to_nearest[i];
                     // Prometheus: floor(x * (1/to) + 0.5) / (1/to).
                     double inverse = 1.0 / nearest;
                     return std::floor(x * inverse + 0.5) / inverse;
                   });
}

absl::StatusOr<Value> Clamp(FunctionCall& c) {
  const std::vector<double>& lo = c.scalar(1);
  const std::vector<double>& hi = c.scalar(2);
  return MapValues(c, std::move(c.vector(0)),
                   [&](double x, int i) -> std::optional<double> {
                     if (hi[i] < lo[i]) return std::nullopt;
                     return GoMax(lo[i], GoMin(hi[i], x));
                   });
}

absl::StatusOr<Value> ClampMin(FunctionCall& c) {
  const std::vector<double>& lo = c.scalar(1);
  return MapValues(c, std::move(c.vector(0)),
                   [&](double x, int i) -> std::optional<double> {
                     return GoMax(lo[i], x);
                   });
}

absl::StatusOr<Value> ClampMax(FunctionCall& c) {
  const std::vector<double>& hi = c.scalar(1);
  return MapValues(c, std::move(c.vector(0)),
                   [&](double x, int i) -> std::optional<double> {
                     return GoMin(hi[i], x);
                   });
}

absl::StatusOr<Value> Minute(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.minute); });
}
absl::StatusOr<Value> Hour(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.hour); });
}
absl::StatusOr<Value> DayOfWeek(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.wday); });
}
absl::StatusOr<Value> DayOfMonth(FunctionCall& c) {
  return Date(c, [](const CivilTime& t) { return static_cast<double>(t.day); });
}
absl::StatusOr<Value> DayOfYear(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.yday); });
}
absl::StatusOr<Value> DaysInMonth(FunctionCall& c) {
  return Date(c, [](const CivilTime& t) {
    return static_cast<double>(eval::DaysInMonth(t.year, t.month));
  });
}
absl::StatusOr<Value> Month(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.month); });
}
absl::StatusOr<Value> Year(FunctionCall& c) {
  return Date(c,
              [](const CivilTime& t) { return static_cast<double>(t.year); });
}

absl::StatusOr<Value> Time(FunctionCall& c) {
  std::vector<double> out(c.steps().count);
  for (int i = 0; i < c.steps().count; ++i) {
    out[i] = static_cast<double>(c.steps().At(i)) / 1000.0;
  }
  return Value::Scalar(std::move(out));
}

absl::StatusOr<Value> Pi(FunctionCall& c) {
  return Value::Scalar(std::vector<double>(c.steps().count, kPi));
}

absl::StatusOr<Value> Vector(FunctionCall& c) {
  StepSeries s;
  s.values = c.scalar(0);
  return Value::Vector({std::move(s)});
}

absl::StatusOr<Value> Scalar(FunctionCall& c) {
  const std::vector<StepSeries>& in = c.vector(0);
  std::vector<double> out(c.steps().count, std::nan(""));
  for (int i = 0; i < c.steps().count; ++i) {
    int present = 0;
    double value = 0;
    for (const StepSeries& s : in) {
      if (!IsAbsent(s.values[i])) {
        ++present;
        value = s.values[i];
      }
    }
    if (present == 1) out[i] = value;
  }
  return Value::Scalar(std::move(out));
}

absl::StatusOr<Value> Timestamp(FunctionCall& c) {
  // For a vector selector: the timestamps of the samples; otherwise the
  // evaluation times.
  const Expr* arg = c.call.args[0].get();
  while (const auto* p = As<ParenExpr>(arg)) arg = p->expr.get();
  std::vector<StepSeries> in;
  if (const auto* vs = As<VectorSelector>(arg)) {
    // Prometheus's rangeEval with the samples found at each step counted
    // as they are read.
    const LaneCounts mark = c.ev.samples().current();
    PROMEVAL_ASSIGN_OR_RETURN(Value found, c.ev.EvalVectorSelector(*vs, true));
    const StepCounts read = c.ev.Counts(found);
    for (int64_t n : read) c.ev.samples().AddTotal(n);
    PROMEVAL_RETURN_IF_ERROR(DropMetricNames(c.ctx(), found.vector));
    PROMEVAL_RETURN_IF_ERROR(c.ev.AccountRangeEval(mark, read, found));
    c.accounted = true;
    return found;
  }
  in = std::move(c.vector(0));
  const Steps& steps = c.steps();
  return MapValues(c, std::move(in),
                   [&](double, int i) -> std::optional<double> {
                     return static_cast<double>(steps.At(i)) / 1000.0;
                   });
}

absl::StatusOr<Value> Start(FunctionCall& c) {
  return Value::Scalar(std::vector<double>(
      c.steps().count, static_cast<double>(c.ctx().query_start) / 1000.0));
}

absl::StatusOr<Value> End(FunctionCall& c) {
  return Value::Scalar(std::vector<double>(
      c.steps().count, static_cast<double>(c.ctx().query_end) / 1000.0));
}

absl::StatusOr<Value> Step(FunctionCall& c) {
  return Value::Scalar(std::vector<double>(
      c.steps().count, static_cast<double>(c.ctx().query_step) / 1000.0));
}

absl::StatusOr<Value> Range(FunctionCall& c) {
  return Value::Scalar(std::vector<double>(
      c.steps().count,
      static_cast<double>(c.ctx().query_end - c.ctx().query_start) / 1000.0));
}

absl::StatusOr<Value> MinOf(FunctionCall& c) {
  std::vector<double> out = c.scalar(0);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = GoMin(out[i], c.scalar(1)[i]);
  return Value::Scalar(std::move(out));
}

absl::StatusOr<Value> MaxOf(FunctionCall& c) {
  std::vector<double> out = c.scalar(0);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = GoMax(out[i], c.scalar(1)[i]);
  return Value::Scalar(std::move(out));
}

}  // namespace functions
}  // namespace promeval::eval
