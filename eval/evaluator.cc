// The evaluator's dispatch, literals, unary minus, step invariance,
// subqueries, and the helpers shared by the operator files.
#include "eval/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "eval/functions.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {

void QueryContext::Annotate(Annotation::Kind kind, std::string message,
                            PositionRange pos) {
  Annotation a{kind, std::move(message), pos};
  for (const Annotation& existing : annotations) {
    if (existing.kind == a.kind && existing.message == a.message &&
        existing.pos == a.pos) {
      return;
    }
  }
  annotations.push_back(std::move(a));
}

void MonotonicityFix::Merge(const MonotonicityFix& o) {
  min_bucket = std::min(min_bucket, o.min_bucket);
  max_bucket = std::max(max_bucket, o.max_bucket);
  max_diff = std::max(max_diff, o.max_diff);
  min_ts = std::min(min_ts, o.min_ts);
  max_ts = std::max(max_ts, o.max_ts);
  samples += o.samples;
}

namespace {

// Go's time.Unix(sec, 0).UTC().Format(time.RFC3339).
std::string Rfc3339Seconds(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(ms / 1000),
                          absl::UTCTimeZone());
}

}  // namespace

void QueryContext::AnnotateForcedMonotonicity(std::string message,
                                              PositionRange pos,
                                              const MonotonicityFix& fix) {
  MergedFix* merged = nullptr;
  for (MergedFix& m : monotonicity_fixes) {
    if (m.message == message && annotations[m.index].pos == pos) merged = &m;
  }
  if (merged == nullptr) {
    annotations.push_back(Annotation{Annotation::Kind::kInfo, "", pos});
    monotonicity_fixes.push_back(
        MergedFix{annotations.size() - 1, std::move(message), fix});
    merged = &monotonicity_fixes.back();
  } else {
    merged->fix.Merge(fix);
  }
  const MonotonicityFix& f = merged->fix;
  char diff[32];
  std::snprintf(diff, sizeof(diff), "%.2g", f.max_diff);
  annotations[merged->index].message = absl::StrCat(
      merged->message, ", from buckets ", FormatFloatGo(f.min_bucket), " to ",
      FormatFloatGo(f.max_bucket), ", with a max diff of ", diff, ", over ",
      f.samples, " samples from ", Rfc3339Seconds(f.min_ts), " to ",
      Rfc3339Seconds(f.max_ts));
}

QueryContext QueryContext::Child() const {
  QueryContext child;
  child.options = options;
  child.querier = querier;
  child.query = query;
  child.query_start = query_start;
  child.query_end = query_end;
  child.query_step = query_step;
  child.deadline = deadline;
  child.cancelled = cancelled;
  child.step_invariant = step_invariant;
  child.pool = pool;
  return child;
}

void QueryContext::MergeChild(const QueryContext& child) {
  // The merged monotonicity infos by their annotation's index in the child.
  absl::flat_hash_map<size_t, const MergedFix*> fixes;
  for (const MergedFix& m : child.monotonicity_fixes) fixes[m.index] = &m;
  for (size_t i = 0; i < child.annotations.size(); ++i) {
    const Annotation& a = child.annotations[i];
    auto fix = fixes.find(i);
    if (fix != fixes.end()) {
      AnnotateForcedMonotonicity(fix->second->message, a.pos, fix->second->fix);
    } else {
      Annotate(a.kind, a.message, a.pos);
    }
  }
  stats.samples_read += child.stats.samples_read;
  stats.peak_samples = std::max(stats.peak_samples, child.stats.peak_samples);
  // The child counted its bytes from zero; here they come on top of what
  // is held now.
  stats.peak_bytes =
      std::max(stats.peak_bytes, current_bytes + child.stats.peak_bytes);
  current_samples += child.current_samples;
  current_bytes += child.current_bytes;
}

size_t QueryContext::Chunks(size_t n) const {
  if (pool == nullptr) return 1;
  const size_t most = static_cast<size_t>(pool->threads()) + 1;
  return std::max<size_t>(
      1, std::min(most, n / static_cast<size_t>(options->parallel_min_series)));
}

void QueryContext::ParallelFor(
    size_t n, size_t chunks,
    absl::FunctionRef<void(size_t, size_t, size_t)> fn) const {
  if (chunks <= 1) {
    fn(0, 0, n);
    return;
  }
  pool->ParallelFor(n, chunks, fn);
}

absl::Status QueryContext::AddSamples(int64_t n) {
  current_samples += n;
  stats.peak_samples = std::max(stats.peak_samples, n);
  if (n > options->max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query "
        "execution");
  }
  return absl::OkStatus();
}

absl::Status WithErrorPosition(absl::Status status, PositionRange pos) {
  if (absl::IsCancelled(status) || absl::IsDeadlineExceeded(status) ||
      status.GetPayload(kErrorPositionUrl).has_value()) {
    return status;
  }
  status.SetPayload(kErrorPositionUrl,
                    absl::Cord(absl::StrCat(pos.start, ":", pos.end)));
  return status;
}

absl::Status QueryContext::AddBytes(int64_t n) {
  current_bytes += n;
  stats.peak_bytes = std::max(stats.peak_bytes, current_bytes);
  if (options->max_bytes > 0 && current_bytes > options->max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "query processing would use more than ", options->max_bytes,
        " bytes of memory in query execution (the query byte limit)"));
  }
  return absl::OkStatus();
}

absl::Status QueryContext::CheckSteps(int64_t count, bool per_step) {
  if ((!per_step && count > options->max_samples) || count > INT32_MAX) {
    return AddSamples(count);  // Fails with the sample limit's error.
  }
  if (options->max_bytes > 0) {
    PROMEVAL_RETURN_IF_ERROR(AddBytes(count * sizeof(double)));
    current_bytes -= count * sizeof(double);
  }
  return absl::OkStatus();
}

absl::Status QueryContext::CheckCancelled() const {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return absl::CancelledError("query was canceled in query execution");
  }
  if (deadline != absl::InfiniteFuture() && absl::Now() > deadline) {
    return absl::DeadlineExceededError("query timed out in query execution");
  }
  return absl::OkStatus();
}

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

absl::Status SameLabelsetError() {
  return absl::FailedPreconditionError(
      "vector cannot contain metrics with the same labelset");
}

namespace {

// Whether no two series have the same label hash, so that no two have the
// same labels: the common case, decided without a hash table.
bool AllHashesDistinct(const std::vector<StepSeries>& series) {
  std::vector<uint64_t> hashes;
  hashes.reserve(series.size());
  for (const StepSeries& s : series) hashes.push_back(s.labels.Hash());
  std::sort(hashes.begin(), hashes.end());
  return std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end();
}

}  // namespace

absl::Status MergeSameLabelsets(std::vector<StepSeries>& series) {
  if (series.size() < 2 || AllHashesDistinct(series)) return absl::OkStatus();
  absl::flat_hash_map<uint64_t, std::vector<size_t>> by_hash;
  std::vector<StepSeries> out;
  out.reserve(series.size());
  for (StepSeries& s : series) {
    auto& candidates = by_hash[s.labels.Hash()];
    StepSeries* target = nullptr;
    for (size_t idx : candidates) {
      if (out[idx].labels == s.labels && out[idx].drop_name == s.drop_name) {
        target = &out[idx];
      }
    }
    if (target == nullptr) {
      candidates.push_back(out.size());
      out.push_back(std::move(s));
      continue;
    }
    for (size_t i = 0; i < s.values.size(); ++i) {
      if (IsAbsent(s.values[i])) continue;
      if (!IsAbsent(target->values[i])) return SameLabelsetError();
      target->values[i] = s.values[i];
    }
  }
  series = std::move(out);
  return absl::OkStatus();
}

absl::Status UniqueLabelsets::Add(const StepSeries& s) {
  const uint64_t hash = s.labels.Hash();
  auto [it, inserted] = first_.try_emplace(hash, s.labels);
  if (inserted) return absl::OkStatus();
  if (it->second == s.labels) return SameLabelsetError();
  for (const auto& [h, labels] : collisions_) {
    if (h == hash && labels == s.labels) return SameLabelsetError();
  }
  collisions_.emplace_back(hash, s.labels);
  return absl::OkStatus();
}

absl::Status RequireUniqueLabelsets(const std::vector<StepSeries>& series) {
  if (series.size() < 2 || AllHashesDistinct(series)) return absl::OkStatus();
  UniqueLabelsets unique;
  for (const StepSeries& s : series) {
    PROMEVAL_RETURN_IF_ERROR(unique.Add(s));
  }
  return absl::OkStatus();
}

absl::Status DropMetricNames(const QueryContext& ctx,
                             std::vector<StepSeries>& series) {
  if (ctx.options->delayed_name_removal) {
    for (StepSeries& s : series) s.drop_name = true;
    return absl::OkStatus();
  }
  for (StepSeries& s : series) s.labels = s.labels.WithoutMetricName();
  return MergeSameLabelsets(series);
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

int64_t CountPresent(const StepSeries& s) {
  int64_t n = 0;
  for (double x : s.values) n += IsAbsent(x) ? 0 : 1;
  return n;
}

int64_t Evaluator::HeldSamples(const Value& v) const {
  if (v.kind != Value::Kind::kVector && v.kind != Value::Kind::kMatrix) {
    return 0;  // Scalars and strings are not counted, as in Prometheus.
  }
  if (!per_step_) {
    int64_t n = 0;
    for (const StepSeries& s : v.vector) n += CountPresent(s);
    for (const RangeSeries& s : v.matrix.series) {
      n += static_cast<int64_t>(s.timestamps.size());
    }
    return n;
  }
  std::vector<int64_t> at(steps_.count, 0);
  for (const StepSeries& s : v.vector) {
    for (int i = 0; i < steps_.count; ++i)
      at[i] += IsAbsent(s.values[i]) ? 0 : 1;
  }
  // A step's instant query holds each series' samples of its window (with
  // the anchored / smoothed extensions).
  const RangeValue& r = v.matrix;
  for (const RangeSeries& s : r.series) {
    const absl::Span<const int64_t> t = s.timestamps;
    size_t lo = 0, hi = 0;
    for (int i = 0; i < steps_.count; ++i) {
      const int64_t ref = r.RefTime(steps_.At(i));
      while (lo < t.size() && t[lo] <= ref - r.range_ms - r.extend_before_ms) {
        ++lo;
      }
      hi = std::max(hi, lo);
      while (hi < t.size() && t[hi] <= ref + r.extend_after_ms) ++hi;
      at[i] += static_cast<int64_t>(hi - lo);
    }
  }
  return *std::max_element(at.begin(), at.end());
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

int64_t MaxWindowSamples(const RangeValue& range, const Steps& steps) {
  int64_t most = 0;
  for (const RangeSeries& s : range.series) {
    const auto& t = s.timestamps;
    size_t lo = 0, hi = 0;
    for (int i = 0; i < (range.fixed ? 1 : steps.count); ++i) {
      const int64_t ref = range.RefTime(steps.At(i));
      while (lo < t.size() && t[lo] <= ref - range.range_ms) ++lo;
      if (hi < lo) hi = lo;
      while (hi < t.size() && t[hi] <= ref) ++hi;
      most = std::max(most, static_cast<int64_t>(hi - lo));
    }
  }
  return most;
}

absl::StatusOr<Value> Evaluator::Eval(const Expr& e, SeriesSink* sink) {
  PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
  const int64_t held = ctx_.current_samples;
  const int64_t held_bytes = ctx_.current_bytes;
  absl::StatusOr<Value> v =
      steps_.count > 1 && ctx_.step_invariant->contains(&e)
          ? EvalStepInvariant(e)
          : EvalNode(e, sink);
  if (!v.ok()) return WithErrorPosition(v.status(), e.pos);
  // A node that ran past the deadline fails the query before its parent
  // goes on.
  PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
  // The operands' values are consumed; this node's value is held.
  ctx_.current_samples = held;
  ctx_.current_bytes = held_bytes;
  absl::Status held_ok =
      ctx_.AddSamples(v->samples >= 0 ? v->samples : HeldSamples(*v));
  if (held_ok.ok()) held_ok = ctx_.AddBytes(ValueBytes(*v));
  if (!held_ok.ok()) return WithErrorPosition(std::move(held_ok), e.pos);
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

absl::StatusOr<Value> Evaluator::EvalNode(const Expr& e, SeriesSink* sink) {
  switch (e.kind()) {
    case NodeKind::kNumberLiteral:
      return Value::Scalar(std::vector<double>(
          steps_.count, static_cast<const NumberLiteral&>(e).value));
    case NodeKind::kStringLiteral: {
      Value v;
      v.kind = Value::Kind::kString;
      v.string = static_cast<const StringLiteral&>(e).value;
      return v;
    }
    case NodeKind::kParenExpr:
      return Eval(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kStepInvariantExpr:
      return Eval(*static_cast<const StepInvariantExpr&>(e).expr);
    case NodeKind::kDurationExpr: {
      PROMEVAL_ASSIGN_OR_RETURN(int64_t ms, EvalDurationMs(ctx_, e));
      return Value::Scalar(
          std::vector<double>(steps_.count, static_cast<double>(ms) / 1000.0));
    }
    case NodeKind::kVectorSelector: {
      int64_t samples = 0;
      PROMEVAL_ASSIGN_OR_RETURN(
          std::vector<StepSeries> v,
          EvalVectorSelector(static_cast<const VectorSelector&>(e), false,
                             &samples));
      Value out = Value::Vector(std::move(v));
      if (!per_step_) out.samples = samples;
      return out;
    }
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubqueryExpr: {
      Value v;
      v.kind = Value::Kind::kMatrix;
      PROMEVAL_ASSIGN_OR_RETURN(v.matrix, EvalRange(e));
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
  // Evaluate once at the first step, then give every step that value.
  Evaluator once(ctx_, Steps{steps_.start, steps_.start, steps_.interval, 1});
  PROMEVAL_ASSIGN_OR_RETURN(Value v, once.EvalNode(e, nullptr));
  switch (v.kind) {
    case Value::Kind::kScalar:
      v.scalar.assign(steps_.count, v.scalar[0]);
      break;
    case Value::Kind::kVector:
      for (StepSeries& s : v.vector) s.values.assign(steps_.count, s.values[0]);
      // Every step holds the first one's samples, as Prometheus counts them.
      if (v.samples >= 0 && !per_step_) v.samples *= steps_.count;
      break;
    case Value::Kind::kMatrix:
    case Value::Kind::kString:
      break;
  }
  return v;
}

absl::StatusOr<RangeValue> Evaluator::EvalRange(const Expr& e) {
  const Expr* inner = &e;
  while (const auto* p = As<ParenExpr>(inner)) inner = p->expr.get();
  if (const auto* ms = As<MatrixSelector>(inner))
    return EvalMatrixSelector(*ms);
  if (const auto* sq = As<SubqueryExpr>(inner)) return EvalSubquery(*sq);
  return absl::InternalError("expected a range vector");
}

absl::StatusOr<Value> Evaluator::EvalUnary(const UnaryExpr& u) {
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

absl::StatusOr<RangeValue> Evaluator::EvalSubquery(const SubqueryExpr& sq) {
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
  Evaluator inner(ctx_, inner_steps);
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<StepSeries> series,
                            inner.EvalVector(*sq.expr));
  // The points of all series go into one pair of buffers that the series
  // share.
  size_t total = 0;
  for (const StepSeries& s : series) {
    for (double x : s.values) total += IsAbsent(x) ? 0 : 1;
  }
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
absl::Status CheckExtendedRangeUse(const Call& c) {
  for (const ExprPtr& arg : c.args) {
    const Expr* e = arg.get();
    while (const auto* p = As<ParenExpr>(e)) e = p->expr.get();
    const auto* ms = As<MatrixSelector>(e);
    if (ms == nullptr) continue;
    const auto& vs = static_cast<const VectorSelector&>(*ms->vector_selector);
    const absl::string_view name = c.func->name;
    if (vs.anchored && name != "changes" && name != "delta" &&
        name != "increase" && name != "rate" && name != "resets") {
      return absl::InvalidArgumentError(absl::StrCat(
          "anchored modifier can only be used with: changes, delta, "
          "increase, rate, resets - not with ",
          name));
    }
    if (vs.smoothed && name != "delta" && name != "increase" &&
        name != "rate") {
      return absl::InvalidArgumentError(absl::StrCat(
          "smoothed modifier can only be used with: delta, increase, rate - "
          "not with ",
          name));
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
  PROMEVAL_RETURN_IF_ERROR(CheckExtendedRangeUse(c));
  std::vector<Value> args;
  args.reserve(c.args.size());
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i == 0 && c.func->name == "timestamp") {
      // timestamp() evaluates a vector selector argument itself, to read the
      // samples' timestamps.
      const Expr* arg = c.args[0].get();
      while (As<ParenExpr>(arg) != nullptr)
        arg = As<ParenExpr>(arg)->expr.get();
      if (As<VectorSelector>(arg) != nullptr) {
        args.emplace_back();
        continue;
      }
    }
    if (i == 1 && c.func->name == "info") {
      // info()'s second argument selects info series; info() reads them.
      args.emplace_back();
      continue;
    }
    const Expr* arg = c.args[i].get();
    while (const auto* p = As<ParenExpr>(arg)) arg = p->expr.get();
    if (As<MatrixSelector>(arg) != nullptr) {
      // Prometheus reads a function's range argument one series at a time:
      // what it holds is one window of one series, not the whole selection.
      // MapWindows finds the largest window as it goes and accounts for it
      // (FunctionCall::windows); a function that does not is accounted
      // for below.
      PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
      Value v;
      v.kind = Value::Kind::kMatrix;
      PROMEVAL_ASSIGN_OR_RETURN(v.matrix, EvalRange(*arg));
      args.push_back(std::move(v));
      continue;
    }
    PROMEVAL_ASSIGN_OR_RETURN(Value v, Eval(*c.args[i]));
    args.push_back(std::move(v));
  }
  FunctionCall call{*this, c, args};
  call.sink = sink;
  absl::StatusOr<Value> v = fn->impl(call);
  if (!v.ok()) return v;
  if (!call.windows_accounted) {
    for (const Value& arg : args) {
      if (arg.kind != Value::Kind::kMatrix) continue;
      PROMEVAL_RETURN_IF_ERROR(
          ctx_.AddSamples(MaxWindowSamples(arg.matrix, steps_)));
    }
  }
  if (call.streamed >= 0) v->samples = call.streamed;
  return v;
}

}  // namespace promeval::eval
