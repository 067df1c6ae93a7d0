// The evaluator: computes an expression for all steps of a query at once.
//
// Every node is evaluated over the whole step range, not step by step:
// instant-vector values are dense arrays (one value per step, kAbsent where
// the series has no point), so label work (grouping, matching signatures,
// output label sets) happens once per series and each step is a loop over
// arrays. Range vectors keep the samples of each series as spans, and range
// functions slide a window over them.
//
// Internal to promeval. An Evaluator is used by one thread.
#ifndef PROMEVAL_EVAL_EVALUATOR_H_
#define PROMEVAL_EVAL_EVALUATOR_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eval/thread_pool.h"
#include "promeval/ast.h"
#include "promeval/engine.h"
#include "promeval/storage.h"
#include "promeval/value.h"

namespace promeval::eval {

// Marks "no value at this step" in a dense step array. A signalling NaN
// payload that no input or computation produces; only compared by bits.
inline constexpr uint64_t kAbsentBits = 0x7ff4dead0000beefULL;

inline double Absent() {
  double v;
  std::memcpy(&v, &kAbsentBits, sizeof(v));
  return v;
}

inline bool IsAbsent(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(v));
  return bits == kAbsentBits;
}

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

// A range-vector series: samples sorted by time (stale markers included).
// Receives a value's series one at a time, in order, instead of them being
// collected: an aggregation over a range function takes the function's
// output this way (Evaluator::Eval with a sink), so that the output is never
// held whole.
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  virtual void Accept(StepSeries series) = 0;
};

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
  // The points held (for the sample limit; the most at one step if the
  // evaluator counts per step), when the producer counted them; -1: Eval
  // counts.
  int64_t samples = -1;

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

// What histogram_quantile had to correct to make classic bucket counts
// monotonic, accumulated over the samples it corrected.
struct MonotonicityFix {
  double min_bucket = 0;  // The smallest and largest raised upper bound.
  double max_bucket = 0;
  double max_diff = 0;  // The largest amount a count was raised by.
  int64_t min_ts = 0;   // The first and last step time affected (ms).
  int64_t max_ts = 0;
  int64_t samples = 0;  // The number of corrected histograms.

  void Merge(const MonotonicityFix& o);
};

// What is shared by all evaluators of one query.
struct QueryContext {
  const EngineOptions* options = nullptr;
  Querier* querier = nullptr;
  absl::string_view query;  // For annotation positions.
  int64_t query_start = 0;  // For @ start() / @ end(), start(), end()...
  int64_t query_end = 0;
  int64_t query_step = 0;
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancelled = nullptr;
  // Maximal step-invariant subtrees: evaluated once and replicated.
  const absl::flat_hash_set<const Expr*>* step_invariant = nullptr;
  std::vector<Annotation> annotations;
  // The merged monotonicity infos: the annotation index each one renders to.
  struct MergedFix {
    size_t index;
    std::string message;
    MonotonicityFix fix;
  };
  std::vector<MergedFix> monotonicity_fixes;
  QueryStats stats;
  ThreadPool* pool = nullptr;  // Null: no parallelism.
  int64_t current_samples = 0;
  int64_t current_bytes = 0;  // Estimated bytes of the values held.

  void Annotate(Annotation::Kind kind, std::string message, PositionRange pos);
  // The info of histogram_quantile(s) about forced monotonicity: one
  // annotation per message and position whose statistics cover every
  // correction, as Prometheus merges them.
  void AnnotateForcedMonotonicity(std::string message, PositionRange pos,
                                  const MonotonicityFix& fix);
  // Accounts `n` more samples held in memory (Evaluator::Eval counts each
  // node's value while it is held); fails past max_samples.
  absl::Status AddSamples(int64_t n);
  // Accounts `n` more bytes held; fails past max_bytes.
  absl::Status AddBytes(int64_t n);
  // Before evaluating over `count` steps: every series of a vector holds a
  // slot per step, so more steps than max_samples (unless the limit is per
  // step) or than fit the byte limit fail with the limit's error before
  // anything is allocated.
  absl::Status CheckSteps(int64_t count, bool per_step = false);
  absl::Status CheckCancelled() const;

  // A context for evaluating a subtree on another thread: the same query,
  // limits and pool, its own annotations, statistics and accounting (which
  // start empty).
  QueryContext Child() const;
  // Adds what `child` recorded as if its subtree had been evaluated in this
  // context after everything so far: its annotations in order, statistics,
  // and the samples and bytes its value holds.
  void MergeChild(const QueryContext& child);

  // How many chunks a loop over `n` independent series is split into for
  // ParallelFor: one unless the engine has workers and each chunk gets at
  // least EngineOptions::parallel_min_series.
  size_t Chunks(size_t n) const;
  // Runs fn(chunk, begin, end) for the `chunks` parts of [0, n), in
  // parallel when there are several. `fn` must not touch the context.
  void ParallelFor(size_t n, size_t chunks,
                   absl::FunctionRef<void(size_t, size_t, size_t)> fn) const;
};

// Errors carry the position of the innermost expression that failed as a
// payload (read by ErrorPosition()).
inline constexpr absl::string_view kErrorPositionUrl =
    "promeval.dev/error-position";
absl::Status WithErrorPosition(absl::Status status, PositionRange pos);

class Evaluator {
 public:
  // With `per_step`, the sample limit applies to each step's samples on
  // their own (QueryControl::sample_limit_per_step): producers that count
  // their samples count the most at any one step.
  Evaluator(QueryContext& ctx, Steps steps, bool per_step = false)
      : ctx_(ctx), steps_(steps), per_step_(per_step) {}

  // With a sink, a range function may send its output series to it as it
  // makes them (returning none of them); the value's sample count still
  // counts them, as if they were held.
  absl::StatusOr<Value> Eval(const Expr& e, SeriesSink* sink = nullptr);

  const Steps& steps() const { return steps_; }
  bool per_step() const { return per_step_; }
  // The samples `v` holds for the sample limit: all of them, or with
  // per_step() the most at one step.
  int64_t HeldSamples(const Value& v) const;
  QueryContext& ctx() { return ctx_; }

  // Evaluates `e` and requires an instant vector (scalars are not
  // converted).
  absl::StatusOr<std::vector<StepSeries>> EvalVector(const Expr& e);
  // Evaluates a scalar expression to one value per step.
  absl::StatusOr<std::vector<double>> EvalScalar(const Expr& e);

  // The vector selector's values at every step. With `timestamps`, the
  // sample timestamps (seconds) instead of values (for timestamp()).
  absl::StatusOr<std::vector<StepSeries>> EvalVectorSelector(
      const VectorSelector& vs, bool timestamps, int64_t* samples = nullptr);
  // A matrix selector or subquery as a range value.
  absl::StatusOr<RangeValue> EvalRange(const Expr& e);

 private:
  absl::StatusOr<Value> EvalNode(const Expr& e, SeriesSink* sink);
  absl::StatusOr<Value> EvalStepInvariant(const Expr& e);
  absl::StatusOr<RangeValue> EvalMatrixSelector(const MatrixSelector& ms);
  absl::StatusOr<RangeValue> EvalSubquery(const SubqueryExpr& sq);
  absl::StatusOr<Value> EvalUnary(const UnaryExpr& u);
  absl::StatusOr<Value> EvalBinary(const BinaryExpr& b);
  // Applies `b` to `lhs` (its evaluated left operand) and `rhs`, its right
  // operand as already evaluated, or evaluated here if nullopt.
  absl::StatusOr<Value> CombineBinary(const BinaryExpr& b, Value lhs,
                                      std::optional<Value> rhs = std::nullopt);
  // Evaluates `lhs` here and `rhs` on a worker at the same time, when both
  // read series and the engine's pool and the store allow it; `rhs_value`
  // then gets the right operand's value (its annotations and statistics
  // merged into this context as if it had been evaluated after `lhs`).
  // Otherwise, and if the right operand failed or went past the byte limit
  // on top of the left one, `rhs_value` stays empty and the caller
  // evaluates it as usual, which gives the serial run's error.
  absl::StatusOr<Value> EvalOperands(const Expr& lhs, const Expr& rhs,
                                     std::optional<Value>& rhs_value);
  absl::StatusOr<Value> EvalAggregate(const AggregateExpr& a);
  absl::StatusOr<Value> EvalAggregateK(const AggregateExpr& a,
                                       const std::vector<double>& param,
                                       std::vector<StepSeries> in);
  absl::StatusOr<Value> EvalCountValues(const AggregateExpr& a,
                                        const std::string& label,
                                        std::vector<StepSeries> in);
  absl::StatusOr<Value> EvalCall(const Call& c, SeriesSink* sink);

  QueryContext& ctx_;
  Steps steps_;
  bool per_step_;
};

// The offset in ms of a selector or subquery, evaluating a duration
// expression offset against the query.
absl::StatusOr<int64_t> OffsetOf(const QueryContext& ctx, int64_t original_ms,
                                 const Expr* offset_expr);

// Evaluates a duration expression (seconds) with step() and range() of the
// query; the result in ms.
absl::StatusOr<int64_t> EvalDurationMs(const QueryContext& ctx, const Expr& e);

// The reference time of an @ modifier.
int64_t AtTime(const QueryContext& ctx, const AtModifier& at);

// Merges series with equal label sets (and the same drop_name mark) into
// one, as Prometheus collects a range evaluation's points by label set; two
// of them with a value at the same step fail with "vector cannot contain
// metrics with the same labelset".
absl::Status MergeSameLabelsets(std::vector<StepSeries>& series);

// Fails with "vector cannot contain metrics with the same labelset" if two
// series have equal label sets (Prometheus's check of a whole matrix).
absl::Status RequireUniqueLabelsets(const std::vector<StepSeries>& series);

// The same check over series that come one at a time.
class UniqueLabelsets {
 public:
  // Fails with SameLabelsetError() if an earlier series has its labels.
  absl::Status Add(const StepSeries& s);

 private:
  absl::flat_hash_map<uint64_t, Labels> first_;  // By label hash.
  // Later label sets whose hash an earlier, different one has (rare).
  std::vector<std::pair<uint64_t, Labels>> collisions_;
};

// Drops the metric name of every series (then merges equal label sets), or
// with delayed name removal marks it to be dropped at the end.
absl::Status DropMetricNames(const QueryContext& ctx,
                             std::vector<StepSeries>& series);

absl::Status SameLabelsetError();

// The steps of a series with a value.
int64_t CountPresent(const StepSeries& s);

// The most samples one series of `range` has in one step's window.
int64_t MaxWindowSamples(const RangeValue& range, const Steps& steps);

// The warning of quantile(), quantile_over_time() and histogram_quantile()
// for each parameter value outside [0, 1] (NaN included).
void AnnotateInvalidQuantiles(QueryContext& ctx, absl::Span<const double> q,
                              PositionRange pos);

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_EVALUATOR_H_
