// The values the evaluator computes: instant vectors as dense arrays over
// the steps, range vectors as spans of each series' samples, scalars and
// strings.
//
// Internal to promeval.
#ifndef PROMEVAL_EVAL_STEP_VALUES_H_
#define PROMEVAL_EVAL_STEP_VALUES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "eval/absent.h"
#include "promeval/ast.h"
#include "promeval/labels.h"

namespace promeval::eval {

// The evaluation times: start, start + interval, ... <= end.
struct Steps {
  int64_t start = 0;
  int64_t end = 0;
  int64_t interval = 1;
  int count = 1;

  // The number of steps from start to end (end >= start, interval > 0),
  // without overflow.
  static int64_t Count(int64_t start, int64_t end, int64_t interval) {
    return static_cast<int64_t>((static_cast<__int128>(end) - start) /
                                interval) +
           1;
  }
  // Call QueryContext::CheckSteps(Count(...)) first.
  static Steps Range(int64_t start, int64_t end, int64_t interval) {
    return Steps{start, end, interval,
                 static_cast<int>(Count(start, end, interval))};
  }
  int64_t At(int i) const { return start + i * interval; }
};

// An instant-vector series over the steps.
struct StepSeries {
  Labels labels;
  // Delayed name removal: the name is dropped at the end of the evaluation.
  bool drop_name = false;
  std::vector<double> values;  // One per step; kAbsent where missing.
};

// Receives a value's series one at a time, in order, instead of them being
// collected: an aggregation over a range function takes the function's
// output this way (Evaluator::Eval with a sink), so that the output is never
// held whole.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  virtual void Accept(StepSeries series) = 0;
};

// A range-vector series: samples sorted by time (stale markers removed).
struct RangeSeries {
  Labels labels;
  bool drop_name = false;
  absl::Span<const int64_t> timestamps;
  absl::Span<const double> values;
  // Owned samples, for subqueries (the spans point into them).
  std::shared_ptr<const std::vector<int64_t>> own_timestamps;
  std::shared_ptr<const std::vector<double>> own_values;
};

// A range vector as a function argument: the window at step time ts is
// (ref - range, ref] with ref = ts - offset, or a fixed ref with @.
struct RangeValue {
  std::vector<RangeSeries> series;
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  bool fixed = false;  // @: the window does not move with the steps.
  int64_t fixed_ref = 0;
  // The selector, for annotations and absent_over_time's labels.
  const VectorSelector* selector = nullptr;
  // anchored / smoothed: the series also hold the samples up to this much
  // before each window (and after it, for smoothed), which the functions of
  // the modifiers read besides the window.
  int64_t extend_before_ms = 0;
  int64_t extend_after_ms = 0;
  // A subquery's points, which Prometheus holds (counts) until the function
  // it is the argument of returns.
  int64_t held_samples = 0;
  // Window end for step i.
  int64_t RefTime(int64_t ts) const {
    return fixed ? fixed_ref : ts - offset_ms;
  }
};

struct Value {
  enum class Kind { kScalar, kVector, kMatrix, kString };
  Kind kind = Kind::kVector;
  std::vector<double> scalar;  // kScalar: one per step.
  std::vector<StepSeries> vector;
  RangeValue matrix;
  std::string string;
  // The samples at each step (SampleAccounting), once counted
  // (Evaluator::Counts), and their sum if the producer knew it (-1: not
  // known), which spares a pass over the values where a sum is enough.
  std::vector<int64_t> counts;
  int64_t total = -1;

  static Value Scalar(std::vector<double> v) {
    Value out;
    out.kind = Kind::kScalar;
    out.scalar = std::move(v);
    return out;
  }
  static Value Vector(std::vector<StepSeries> v) {
    Value out;
    out.kind = Kind::kVector;
    out.vector = std::move(v);
    return out;
  }
};

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_STEP_VALUES_H_
