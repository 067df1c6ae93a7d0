// The evaluator's dispatch, literals, unary minus, step invariance,
// subqueries and function calls, and the accounting shapes the operator
// files share.
#include "eval/evaluator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "eval/functions.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {

void AnnotateInvalidQuantiles(QueryContext& ctx, absl::Span<const double> q,
                              PositionRange pos) {
  for (double v : q) {
    if (std::isnan(v) || v < 0 || v > 1) {
      ctx.Annotate(
          Annotation::Kind::kWarning,
          absl::StrCat("quantile value should be between 0 and 1, got ",
                       FormatFloatGo(v)),
          pos);
    }
  }
}

int64_t AtTime(const QueryContext& ctx, const AtModifier& at) {
  switch (at.kind) {
    case AtModifier::Kind::kStart:
      return ctx.query_start;
    case AtModifier::Kind::kEnd:
      return ctx.query_end;
    default:
      return at.timestamp_ms;
  }
}

namespace {

absl::StatusOr<double> DurationSeconds(const QueryContext& ctx, const Expr& e) {
  if (const auto* n = As<NumberLiteral>(&e)) return n->value;
  const auto* d = As<DurationExpr>(&e);
  if (d == nullptr) {
    return absl::InvalidArgumentError("expected a duration expression");
  }
  switch (d->op) {
    case DurationOp::kStep:
      return static_cast<double>(ctx.query_step) / 1000.0;
    case DurationOp::kRange:
      return static_cast<double>(ctx.query_end - ctx.query_start) / 1000.0;
    default:
      break;
  }
  double lhs = 0;
  if (d->lhs != nullptr) {
    PROMEVAL_ASSIGN_OR_RETURN(lhs, DurationSeconds(ctx, *d->lhs));
  }
  PROMEVAL_ASSIGN_OR_RETURN(double rhs, DurationSeconds(ctx, *d->rhs));
  switch (d->op) {
    case DurationOp::kAdd:
      return lhs + rhs;
    case DurationOp::kSub:
      return lhs - rhs;
    case DurationOp::kMul:
      return lhs * rhs;
    case DurationOp::kDiv:
      if (rhs == 0) return absl::InvalidArgumentError("division by zero");
      return lhs / rhs;
    case DurationOp::kMod:
      if (rhs == 0) return absl::InvalidArgumentError("modulo by zero");
      return std::fmod(lhs, rhs);
    case DurationOp::kPow:
      return std::pow(lhs, rhs);
    case DurationOp::kMinOf:
      return std::min(lhs, rhs);
    case DurationOp::kMaxOf:
      return std::max(lhs, rhs);
    default:
      return absl::InvalidArgumentError("invalid duration expression");
  }
}

}  // namespace

absl::StatusOr<int64_t> EvalDurationMs(const QueryContext& ctx, const Expr& e) {
  PROMEVAL_ASSIGN_OR_RETURN(double seconds, DurationSeconds(ctx, e));
  if (std::isnan(seconds) || seconds > 9223372036.854775807 ||
      seconds < -9223372036.854775807) {
    return absl::InvalidArgumentError("duration out of range");
  }
  return GoFloatToInt64(std::round(seconds * 1e9)) / 1000000;
}

absl::StatusOr<int64_t> OffsetOf(const QueryContext& ctx, int64_t original_ms,
                                 const Expr* offset_expr) {
  if (offset_expr == nullptr) return original_ms;
  return EvalDurationMs(ctx, *offset_expr);
}

// The bytes a value holds, as allocated: per-step slots, points, and a
// fixed cost per series.
int64_t ValueBytes(const Value& v) {
  constexpr int64_t kSeriesBytes = 96;
  int64_t n = 0;
  switch (v.kind) {
    case Value::Kind::kVector:
      for (const StepSeries& s : v.vector) {
        n += kSeriesBytes + static_cast<int64_t>(s.values.capacity() * 8);
      }
      break;
    case Value::Kind::kMatrix:
      for (const RangeSeries& s : v.matrix.series) {
        n += kSeriesBytes + static_cast<int64_t>(s.timestamps.size() * 16);
      }
      break;
    case Value::Kind::kScalar:
      n = static_cast<int64_t>(v.scalar.capacity() * 8);
      break;
    case Value::Kind::kString:
      n = static_cast<int64_t>(v.string.size());
      break;
  }
  return n;
}

const StepCounts& Evaluator::Counts(Value& v) const {
  if (!v.counts.empty() || steps_.count == 0) return v.counts;
  v.counts.assign(steps_.count, 0);
  switch (v.kind) {
    case Value::Kind::kScalar:
      std::fill(v.counts.begin(), v.counts.end(), 1);
      break;
    case Value::Kind::kVector:
      for (const StepSeries& s : v.vector) {
        const double* x = s.values.data();
        for (int i = 0; i < steps_.count; ++i) v.counts[i] += !IsAbsent(x[i]);
      }
      break;
    case Value::Kind::kMatrix:
    case Value::Kind::kString:
      break;
  }
  return v.counts;
}

LaneCounts Evaluator::LaneTotals(Value& v) const {
  if (samples_->lanes() == 1 && v.counts.empty() && v.total >= 0) {
    return LaneCounts{v.total};
  }
  return samples_->Sum(Counts(v));
}

absl::Status Evaluator::AccountRangeEval(const LaneCounts& mark,
                                         absl::Span<const int64_t> gathered,
                                         Value& out) {
  return samples_->RangeEval(mark, gathered, Counts(out));
}

absl::Status Evaluator::AccountSelected(Value& v) {
  const LaneCounts held = LaneTotals(v);
  int64_t total = 0;
  for (int64_t n : held) total += n;
  samples_->AddTotal(total);
  return samples_->Add(held);
}

template <typename Fn>
auto Evaluator::OnSteps(Steps steps, int64_t total_times, Fn fn)
    -> decltype(fn(std::declval<Evaluator&>())) {
  if (samples_->lanes() == 1) {
    Evaluator ev(ctx_, steps, samples_);
    return fn(ev);
  }
  SampleAccounting child = samples_->Child(1);
  Evaluator ev(ctx_, steps, &child);
  auto result = fn(ev);
  if (!result.ok()) return result;
  PROMEVAL_RETURN_IF_ERROR(samples_->MergeIntoEveryLane(child, total_times));
  return result;
}

absl::StatusOr<Value> Evaluator::Eval(const Expr& e, SeriesSink* sink) {
  PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
  const int64_t held_bytes = ctx_.bytes.current();
  absl::StatusOr<Value> v =
      steps_.count > 1 && ctx_.step_invariant->contains(&e)
          ? EvalStepInvariant(e)
          : EvalNode(e, sink);
  if (!v.ok()) return WithErrorPosition(v.status(), e.pos);
  // A node that ran past the deadline fails the query before its parent
  // goes on.
  PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
  // The operands' values are gone; this node's value is held.
  ctx_.bytes.ReleaseTo(held_bytes);
  absl::Status held = ctx_.bytes.Reserve(ValueBytes(*v));
  if (!held.ok()) return WithErrorPosition(std::move(held), e.pos);
  return v;
}

absl::StatusOr<std::vector<StepSeries>> Evaluator::EvalVector(const Expr& e) {
  PROMEVAL_ASSIGN_OR_RETURN(Value v, Eval(e));
  if (v.kind != Value::Kind::kVector) {
    return absl::InternalError("expected an instant vector");
  }
  return std::move(v.vector);
}

absl::StatusOr<std::vector<double>> Evaluator::EvalScalar(const Expr& e) {
  PROMEVAL_ASSIGN_OR_RETURN(Value v, Eval(e));
  if (v.kind != Value::Kind::kScalar) {
    return absl::InternalError("expected a scalar");
  }
  return std::move(v.scalar);
}

absl::StatusOr<Value> Evaluator::ScalarPerStep(double x) {
  const LaneCounts mark = samples_->current();
  Value v = Value::Scalar(std::vector<double>(steps_.count, x));
  const StepCounts none(steps_.count, 0);
  PROMEVAL_RETURN_IF_ERROR(AccountRangeEval(mark, none, v));
  return v;
}

absl::StatusOr<Value> Evaluator::EvalNode(const Expr& e, SeriesSink* sink) {
  switch (e.kind()) {
    case NodeKind::kNumberLiteral:
      return ScalarPerStep(static_cast<const NumberLiteral&>(e).value);
    case NodeKind::kStringLiteral: {
      Value v;
      v.kind = Value::Kind::kString;
      v.string = static_cast<const StringLiteral&>(e).value;
      return v;
    }
    case NodeKind::kParenExpr:
      return Eval(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kDurationExpr: {
      PROMEVAL_ASSIGN_OR_RETURN(int64_t ms, EvalDurationMs(ctx_, e));
      return ScalarPerStep(static_cast<double>(ms) / 1000.0);
    }
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      PROMEVAL_ASSIGN_OR_RETURN(Value v, EvalVectorSelector(vs, false));
      // Prometheus interpolates a smoothed selector's values without
      // counting them.
      if (!vs.smoothed) PROMEVAL_RETURN_IF_ERROR(AccountSelected(v));
      return v;
    }
    case NodeKind::kMatrixSelector: {
      // A range vector as the result of an instant query: its samples are
      // loaded and held.
      Value v;
      v.kind = Value::Kind::kMatrix;
      PROMEVAL_ASSIGN_OR_RETURN(
          v.matrix, EvalMatrixSelector(static_cast<const MatrixSelector&>(e)));
      int64_t held = 0;
      for (const RangeSeries& s : v.matrix.series) {
        held += static_cast<int64_t>(s.timestamps.size());
      }
      samples_->AddTotal(held);
      PROMEVAL_RETURN_IF_ERROR(samples_->AddAll(held));
      return v;
    }
    case NodeKind::kSubqueryExpr: {
      Value v;
      v.kind = Value::Kind::kMatrix;
      PROMEVAL_ASSIGN_OR_RETURN(
          v.matrix, EvalSubquery(static_cast<const SubqueryExpr&>(e),
                                 /*as_value=*/true));
      return v;
    }
    case NodeKind::kUnaryExpr:
      return EvalUnary(static_cast<const UnaryExpr&>(e));
    case NodeKind::kBinaryExpr:
      return EvalBinary(static_cast<const BinaryExpr&>(e));
    case NodeKind::kAggregateExpr:
      return EvalAggregate(static_cast<const AggregateExpr&>(e));
    case NodeKind::kCall:
      return EvalCall(static_cast<const Call&>(e), sink);
  }
  return absl::InternalError("unknown node");
}

absl::StatusOr<Value> Evaluator::EvalStepInvariant(const Expr& e) {
  // Evaluated once at the first step; every step gets that value.
  const int64_t total_before = samples_->total();
  PROMEVAL_ASSIGN_OR_RETURN(
      Value v, OnSteps(Steps{steps_.start, steps_.start, steps_.interval, 1},
                       steps_.count, [&](Evaluator& once) {
                         return once.EvalNode(e, nullptr);
                       }));
  const bool per_lane = samples_->lanes() > 1;
  int64_t copied = 0;  // The samples added by the copies.
  switch (v.kind) {
    case Value::Kind::kScalar:
      v.scalar.assign(steps_.count, v.scalar[0]);
      copied = steps_.count - 1;
      break;
    case Value::Kind::kVector:
      for (StepSeries& s : v.vector) {
        s.values.assign(steps_.count, s.values[0]);
        if (!IsAbsent(s.values[0])) copied += steps_.count - 1;
      }
      break;
    case Value::Kind::kMatrix:
    case Value::Kind::kString:
      break;
  }
  v.counts.clear();
  v.total = -1;
  if (per_lane) return v;  // Each lane is an instant query: no copies.
  // Prometheus counts what the single step queried once for every step,
  // and each copied sample as it adds it.
  samples_->AddTotal((samples_->total() - total_before) * (steps_.count - 1));
  PROMEVAL_RETURN_IF_ERROR(samples_->AddAll(copied));
  return v;
}

absl::StatusOr<RangeValue> Evaluator::EvalRange(const Expr& e) {
  const Expr* inner = &e;
  while (const auto* p = As<ParenExpr>(inner)) inner = p->expr.get();
  if (const auto* ms = As<MatrixSelector>(inner))
    return EvalMatrixSelector(*ms);
  if (const auto* sq = As<SubqueryExpr>(inner)) {
    return EvalSubquery(*sq, /*as_value=*/false);
  }
  return absl::InternalError("expected a range vector");
}

absl::StatusOr<Value> Evaluator::EvalUnary(const UnaryExpr& u) {
  // Prometheus counts the operand's samples and nothing more.
  PROMEVAL_ASSIGN_OR_RETURN(Value v, Eval(*u.expr));
  if (u.op == UnaryOp::kAdd) return v;
  if (v.kind == Value::Kind::kScalar) {
    for (double& x : v.scalar) x = -x;
    return v;
  }
  for (StepSeries& s : v.vector) {
    for (double& x : s.values) {
      if (!IsAbsent(x)) x = -x;
    }
  }
  if (ctx_.options->delayed_name_removal) {
    for (StepSeries& s : v.vector) s.drop_name = true;
    return v;
  }
  // Prometheus checks the whole result for label sets that became equal.
  for (StepSeries& s : v.vector) s.labels = s.labels.WithoutMetricName();
  PROMEVAL_RETURN_IF_ERROR(RequireUniqueLabelsets(v.vector));
  return v;
}

absl::StatusOr<RangeValue> Evaluator::EvalSubquery(const SubqueryExpr& sq,
                                                   bool as_value) {
  PROMEVAL_ASSIGN_OR_RETURN(
      int64_t offset,
      OffsetOf(ctx_, sq.original_offset_ms, sq.offset_expr.get()));
  int64_t range = sq.range_ms;
  if (sq.range_expr != nullptr) {
    PROMEVAL_ASSIGN_OR_RETURN(range, EvalDurationMs(ctx_, *sq.range_expr));
  }
  int64_t step = sq.step_ms;
  if (sq.step_expr != nullptr) {
    PROMEVAL_ASSIGN_OR_RETURN(step, EvalDurationMs(ctx_, *sq.step_expr));
  }
  if (step <= 0) step = ctx_.options->default_subquery_step_ms;

  RangeValue out;
  out.range_ms = range;
  out.offset_ms = offset;
  int64_t first_ref, last_ref;
  if (sq.at.is_set()) {
    out.fixed = true;
    out.fixed_ref = AtTime(ctx_, sq.at) - offset;
    first_ref = last_ref = out.fixed_ref;
  } else {
    first_ref = steps_.start - offset;
    last_ref = steps_.At(steps_.count - 1) - offset;
  }
  // Inner steps: multiples of the step (from the epoch) strictly after the
  // first window's start, up to the last window's end.
  int64_t lower = first_ref - range;
  int64_t inner_start = lower - (((lower % step) + step) % step) + step;
  if (inner_start > last_ref) return out;
  PROMEVAL_RETURN_IF_ERROR(
      ctx_.CheckSteps(Steps::Count(inner_start, last_ref, step)));
  Steps inner_steps = Steps::Range(inner_start, last_ref, step);
  // The inner evaluation counts on this query's samples; what it queried
  // counts as queried only when the subquery is the result (a function
  // counts the windows it reads instead).
  const int64_t total_before = samples_->total();
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<StepSeries> series,
      OnSteps(inner_steps, as_value ? 1 : 0,
              [&](Evaluator& inner) { return inner.EvalVector(*sq.expr); }));
  if (!as_value && samples_->lanes() == 1) {
    samples_->AddTotal(total_before - samples_->total());
  }
  // The points of all series go into one pair of buffers that the series
  // share.
  size_t total = 0;
  for (const StepSeries& s : series) {
    for (double x : s.values) total += IsAbsent(x) ? 0 : 1;
  }
  out.held_samples = static_cast<int64_t>(total);
  auto ts = std::make_shared<std::vector<int64_t>>();
  auto vs = std::make_shared<std::vector<double>>();
  ts->reserve(total);
  vs->reserve(total);
  for (StepSeries& s : series) {
    const size_t first = ts->size();
    for (int i = 0; i < inner_steps.count; ++i) {
      if (IsAbsent(s.values[i])) continue;
      ts->push_back(inner_steps.At(i));
      vs->push_back(s.values[i]);
    }
    if (ts->size() == first) continue;
    RangeSeries r;
    r.labels = std::move(s.labels);
    r.drop_name = s.drop_name;
    r.timestamps = absl::MakeConstSpan(ts->data() + first, ts->size() - first);
    r.values = absl::MakeConstSpan(vs->data() + first, vs->size() - first);
    r.own_timestamps = ts;
    r.own_values = vs;
    out.series.push_back(std::move(r));
  }
  return out;
}

namespace {

// The anchored and smoothed modifiers only work with the functions that
// handle them; Prometheus rejects the others when it evaluates the call.
absl::Status CheckExtendedRangeUse(const Call& c, const FunctionEntry& fn) {
  for (const ExprPtr& arg : c.args) {
    const Expr* e = arg.get();
    while (const auto* p = As<ParenExpr>(e)) e = p->expr.get();
    const auto* ms = As<MatrixSelector>(e);
    if (ms == nullptr) continue;
    const auto& vs = static_cast<const VectorSelector&>(*ms->vector_selector);
    if (vs.anchored && !fn.traits.anchored) {
      return absl::InvalidArgumentError(absl::StrCat(
          "anchored modifier can only be used with: ",
          FunctionNamesWith([](const FunctionTraits& t) { return t.anchored; }),
          " - not with ", c.func->name));
    }
    if (vs.smoothed && !fn.traits.smoothed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "smoothed modifier can only be used with: ",
          FunctionNamesWith([](const FunctionTraits& t) { return t.smoothed; }),
          " - not with ", c.func->name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Value> Evaluator::EvalCall(const Call& c, SeriesSink* sink) {
  const FunctionEntry* fn = LookupImplementation(c.func->name);
  if (fn == nullptr) {
    // The function table has an entry for every function the parser knows
    // (FunctionTableParityTest), so a parsed call always finds one.
    return absl::InternalError(absl::StrCat(
        "function ", c.func->name, " is parsed but has no implementation"));
  }
  PROMEVAL_RETURN_IF_ERROR(CheckExtendedRangeUse(c, *fn));
  const LaneCounts mark = samples_->current();
  std::vector<Value> args(c.args.size());
  // A range argument first, as Prometheus evaluates a subquery argument
  // before the others. Prometheus reads it one series at a time: what the
  // function holds is one window of one series (MapWindows counts that),
  // not the whole selection.
  int range_arg = -1;
  for (size_t i = 0; i < c.args.size(); ++i) {
    const Expr* arg = c.args[i].get();
    while (const auto* p = As<ParenExpr>(arg)) arg = p->expr.get();
    if (As<MatrixSelector>(arg) == nullptr &&
        As<SubqueryExpr>(arg) == nullptr) {
      continue;
    }
    PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
    args[i].kind = Value::Kind::kMatrix;
    absl::StatusOr<RangeValue> range = EvalRange(*arg);
    if (!range.ok()) return WithErrorPosition(range.status(), arg->pos);
    args[i].matrix = *std::move(range);
    range_arg = static_cast<int>(i);
    break;
  }
  StepCounts gathered(steps_.count, 0);
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (static_cast<int>(i) == range_arg) continue;
    if (static_cast<int>(i) == fn->traits.raw_arg) {
      // Read by the function itself (timestamp() only when it is a vector
      // selector).
      const Expr* arg = c.args[i].get();
      while (const auto* p = As<ParenExpr>(arg)) arg = p->expr.get();
      if (!fn->traits.raw_only_selector || As<VectorSelector>(arg) != nullptr) {
        continue;
      }
    }
    PROMEVAL_ASSIGN_OR_RETURN(args[i], Eval(*c.args[i]));
    const StepCounts& counts = Counts(args[i]);
    for (size_t k = 0; k < counts.size(); ++k) gathered[k] += counts[k];
  }
  FunctionCall call{*this, c, args};
  call.sink = sink;
  PROMEVAL_ASSIGN_OR_RETURN(Value v, fn->impl(call));
  if (range_arg >= 0) {
    // The function read its range argument series by series; a subquery's
    // points are released when it returns.
    if (call.loop.has_value()) {
      PROMEVAL_RETURN_IF_ERROR(samples_->Reach(call.loop->peak()));
      PROMEVAL_RETURN_IF_ERROR(samples_->Add(call.loop->kept()));
      samples_->AddTotal(call.windows_read);
    }
    samples_->SubAll(args[range_arg].matrix.held_samples);
    return v;
  }
  if (call.accounted || fn->traits.passes_argument_through) return v;
  PROMEVAL_RETURN_IF_ERROR(AccountRangeEval(mark, gathered, v));
  return v;
}

}  // namespace promeval::eval
