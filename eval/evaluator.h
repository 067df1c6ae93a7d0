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

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/accounting.h"
#include "eval/labelsets.h"
#include "eval/query_context.h"
#include "eval/step_values.h"
#include "promeval/ast.h"

namespace promeval::eval {

// Every node replays on the evaluator's SampleAccounting what Prometheus's
// evaluation of it counts (eval/accounting.h): the helpers below are the
// shapes Prometheus's evaluator has.
class Evaluator {
 public:
  // Counts samples on `samples`, by default the context's. Its lanes are 1
  // or steps.count.
  Evaluator(QueryContext& ctx, Steps steps, SampleAccounting* samples = nullptr)
      : ctx_(ctx),
        steps_(steps),
        samples_(samples != nullptr ? samples : &ctx.samples) {}

  // With a sink, a range function may send its output series to it as it
  // makes them (returning none of them); they are counted as if held.
  absl::StatusOr<Value> Eval(const Expr& e, SeriesSink* sink = nullptr);

  const Steps& steps() const { return steps_; }
  QueryContext& ctx() { return ctx_; }
  SampleAccounting& samples() { return *samples_; }

  // The samples of `v` at each step (cached in v.counts): an instant
  // vector's series with a value there, one for a scalar, none for a
  // string.
  const StepCounts& Counts(Value& v) const;
  // The samples of `v` per lane of the accounting: with one lane their
  // total (without counting them step by step when the producer knew it).
  LaneCounts LaneTotals(Value& v) const;
  // Prometheus's rangeEval over operands evaluated since `mark`: at each
  // step their samples there (`gathered`, the sum of their Counts()) and
  // the output's; then only the output is held.
  absl::Status AccountRangeEval(const LaneCounts& mark,
                                absl::Span<const int64_t> gathered, Value& out);
  // A selector's samples, loaded and held (and counted as queried).
  absl::Status AccountSelected(Value& v);

  // Evaluates `e` and requires an instant vector (scalars are not
  // converted).
  absl::StatusOr<std::vector<StepSeries>> EvalVector(const Expr& e);
  // Evaluates a scalar expression to one value per step.
  absl::StatusOr<std::vector<double>> EvalScalar(const Expr& e);

  // The vector selector's values at every step. With `timestamps`, the
  // sample timestamps (seconds) instead of values (for timestamp()). Not
  // counted: the caller does (AccountSelected or as its function does).
  absl::StatusOr<Value> EvalVectorSelector(const VectorSelector& vs,
                                           bool timestamps);
  // A matrix selector or subquery as a function's range argument: not
  // counted but a subquery's inner evaluation, whose points stay counted
  // (RangeValue::held_samples) until the function releases them.
  absl::StatusOr<RangeValue> EvalRange(const Expr& e);

 private:
  absl::StatusOr<Value> EvalNode(const Expr& e, SeriesSink* sink);
  // A scalar literal (or a function Prometheus folds into one): a value per
  // step, counted as Prometheus's rangeEval of it.
  absl::StatusOr<Value> ScalarPerStep(double v);
  absl::StatusOr<Value> EvalStepInvariant(const Expr& e);
  absl::StatusOr<RangeValue> EvalMatrixSelector(const MatrixSelector& ms);
  // `as_value`: the subquery is the query's result (its inner samples count
  // as queried), not a function's argument.
  absl::StatusOr<RangeValue> EvalSubquery(const SubqueryExpr& sq,
                                          bool as_value);
  // Runs `fn` with an evaluator over `steps` (a subquery's inner steps, a
  // step-invariant subtree's single step) on this accounting when it has
  // one lane, or else on a one-lane child added to every lane afterwards,
  // its total counted `total_times` times.
  template <typename Fn>
  auto OnSteps(Steps steps, int64_t total_times, Fn fn)
      -> decltype(fn(std::declval<Evaluator&>()));
  absl::StatusOr<Value> EvalUnary(const UnaryExpr& u);
  absl::StatusOr<Value> EvalBinary(const BinaryExpr& b);
  // Applies `b` to `lhs` (its evaluated left operand) and `rhs`, its right
  // operand as already evaluated, or evaluated here if nullopt; counted from
  // `mark`, the count before the operands.
  absl::StatusOr<Value> CombineBinary(const BinaryExpr& b,
                                      const LaneCounts& mark, Value lhs,
                                      std::optional<Value> rhs = std::nullopt);
  // The operator applied to both operands' values.
  absl::StatusOr<Value> Combine(const BinaryExpr& b, Value lhs, Value rhs);
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
  // The aggregation's value; count_values counted from `mark`.
  absl::StatusOr<Value> Aggregate(const AggregateExpr& a,
                                  const LaneCounts& mark);
  absl::StatusOr<Value> EvalAggregateK(const AggregateExpr& a,
                                       const std::vector<double>& param,
                                       std::vector<StepSeries> in);
  absl::StatusOr<Value> EvalCountValues(const AggregateExpr& a,
                                        const std::string& label,
                                        std::vector<StepSeries> in);
  absl::StatusOr<Value> EvalCall(const Call& c, SeriesSink* sink);

  QueryContext& ctx_;
  Steps steps_;
  SampleAccounting* samples_;
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

// The warning of quantile(), quantile_over_time() and histogram_quantile()
// for each parameter value outside [0, 1] (NaN included).
void AnnotateInvalidQuantiles(QueryContext& ctx, absl::Span<const double> q,
                              PositionRange pos);

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_EVALUATOR_H_
