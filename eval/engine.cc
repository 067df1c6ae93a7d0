// Engine: query set-up, step-invariance analysis, result assembly.
#include "promeval/engine.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/types/optional.h"
#include "eval/evaluator.h"
#include "eval/functions.h"
#include "eval/thread_pool.h"
#include "promeval/status_macros.h"

namespace promeval {
namespace {

using eval::IsAbsent;
using eval::QueryContext;

// The points of a series with a value at every step, as a random-access
// range: a vector constructed from it is filled in one pass, without first
// being zeroed or growing.
class DensePoints {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = FPoint;
  using difference_type = std::ptrdiff_t;
  using pointer = const FPoint*;
  using reference = FPoint;

  DensePoints(const eval::Steps& steps, const double* values, int i)
      : start_(steps.start),
        interval_(steps.interval),
        values_(values),
        i_(i) {}
  FPoint operator*() const {
    return FPoint{start_ + i_ * interval_, values_[i_]};
  }
  DensePoints& operator++() {
    ++i_;
    return *this;
  }
  DensePoints& operator--() {
    --i_;
    return *this;
  }
  DensePoints& operator+=(difference_type n) {
    i_ += n;
    return *this;
  }
  difference_type operator-(const DensePoints& o) const { return i_ - o.i_; }
  bool operator==(const DensePoints& o) const { return i_ == o.i_; }

 private:
  int64_t start_, interval_;
  const double* values_;
  int64_t i_;
};
using eval::StepSeries;
using eval::Value;

// Prometheus's preprocessExprHelper: whether `e` is step invariant, and
// whether it is to be evaluated once as a whole if its parent is not (a
// "StepInvariantExpr"). Records in `out` the subtrees evaluated once that a
// variant parent uses.
struct Invariance {
  bool invariant = false;
  bool wrap = false;
};

// The time ranges of a query's selections, planned before evaluating it as
// Prometheus's populateSeries does (getTimeRangesForSelector): the query's
// range, or an @ time, less the lookback or a range selector's range, the
// offsets and the enclosing subqueries' ranges and offsets. Ranges cover
// what the evaluator then selects (subquery steps only narrow them). A
// selection under a duration expression (offset, range or step) is not
// planned.
struct SubqueryPath {
  int64_t offset = 0;  // The enclosing subqueries' offsets, summed.
  int64_t range = 0;   // And their ranges.
  std::optional<int64_t> at;
  bool unplanned = false;  // Under a duration expression.
};

// Into `out`, for the query `ctx` evaluates (its range, step, lookback and
// the hints CollectSelectHints gathered).
void PlanSelects(const Expr& e, const SubqueryPath& path, int64_t range,
                 const eval::QueryContext& ctx,
                 std::vector<PlannedSelect>& out) {
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      if (path.unplanned || vs.offset_expr != nullptr) return;
      const int64_t lookback = ctx.options->lookback_delta_ms;
      int64_t start = ctx.query_start, end = ctx.query_end;
      if (path.at) start = end = *path.at;
      if (vs.at.is_set()) start = end = eval::AtTime(ctx, vs.at);
      start -= range > 0 ? range : lookback;
      if (vs.anchored || vs.smoothed) start -= lookback;
      if (vs.smoothed) end += lookback;
      start -= vs.original_offset_ms + path.range + path.offset;
      end -= vs.original_offset_ms + path.offset;
      PlannedSelect p{vs.matchers, {}};
      auto it = ctx.select_hints->find(&vs);
      if (it != ctx.select_hints->end()) p.hints = it->second;
      p.hints.start_ms = start;
      p.hints.end_ms = end;
      p.hints.step_ms = ctx.query_step;
      p.hints.range_ms = range;
      out.push_back(std::move(p));
      return;
    }
    case NodeKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      SubqueryPath p = path;
      p.unplanned |= ms.range_expr != nullptr;
      PlanSelects(*ms.vector_selector, p, ms.range_ms, ctx, out);
      return;
    }
    case NodeKind::kSubqueryExpr: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      SubqueryPath p = path;
      p.unplanned |= sq.range_expr != nullptr || sq.step_expr != nullptr ||
                     sq.offset_expr != nullptr;
      p.offset += sq.original_offset_ms;
      p.range += sq.range_ms;
      if (sq.at.is_set()) {
        // An @ on a subquery resets what enclosing ones contributed.
        p.offset = sq.original_offset_ms;
        p.range = sq.range_ms;
        p.at = eval::AtTime(ctx, sq.at);
      }
      PlanSelects(*sq.expr, p, 0, ctx, out);
      return;
    }
    case NodeKind::kParenExpr:
      PlanSelects(*static_cast<const ParenExpr&>(e).expr, path, 0, ctx, out);
      return;
    case NodeKind::kUnaryExpr:
      PlanSelects(*static_cast<const UnaryExpr&>(e).expr, path, 0, ctx, out);
      return;
    case NodeKind::kCall:
      for (const ExprPtr& arg : static_cast<const Call&>(e).args) {
        PlanSelects(*arg, path, 0, ctx, out);
      }
      return;
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param != nullptr) PlanSelects(*a.param, path, 0, ctx, out);
      PlanSelects(*a.expr, path, 0, ctx, out);
      return;
    }
    case NodeKind::kBinaryExpr: {
      const Expr* leftmost = nullptr;
      std::vector<const BinaryExpr*> spine = LeftSpine(e, &leftmost);
      PlanSelects(*leftmost, path, 0, ctx, out);
      for (const BinaryExpr* b : spine) {
        PlanSelects(*b->rhs, path, 0, ctx, out);
      }
      return;
    }
    default:
      return;
  }
}

// What Prometheus's engine passes as a selection's hints besides its time
// range (populateSeries: extractFuncFromPath, extractGroupsFromPath): the
// nearest function or aggregation above each vector selector, not looking
// past a binary operator, and the aggregation's grouping when the selector
// is its direct argument. Into `out`, by selector.
void CollectSelectHints(const Expr& e, absl::string_view func,
                        const AggregateExpr* parent,
                        absl::flat_hash_map<const Expr*, SelectHints>& out) {
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      SelectHints& h = out[&e];
      h.func = std::string(func);
      if (parent != nullptr) {
        h.by = !parent->without;
        h.grouping = parent->grouping;
      }
      return;
    }
    case NodeKind::kMatrixSelector:
      CollectSelectHints(*static_cast<const MatrixSelector&>(e).vector_selector,
                         func, nullptr, out);
      return;
    case NodeKind::kSubqueryExpr:
      CollectSelectHints(*static_cast<const SubqueryExpr&>(e).expr, func,
                         nullptr, out);
      return;
    case NodeKind::kParenExpr:
      CollectSelectHints(*static_cast<const ParenExpr&>(e).expr, func, nullptr,
                         out);
      return;
    case NodeKind::kUnaryExpr:
      CollectSelectHints(*static_cast<const UnaryExpr&>(e).expr, func, nullptr,
                         out);
      return;
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      for (const ExprPtr& arg : c.args) {
        CollectSelectHints(*arg, c.func->name, nullptr, out);
      }
      return;
    }
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      const absl::string_view op = AggregateOpString(a.op);
      if (a.param != nullptr) CollectSelectHints(*a.param, op, &a, out);
      CollectSelectHints(*a.expr, op, &a, out);
      return;
    }
    case NodeKind::kBinaryExpr: {
      // Along the left spine iteratively: operator chains may be long.
      const Expr* leftmost = nullptr;
      std::vector<const BinaryExpr*> spine = LeftSpine(e, &leftmost);
      CollectSelectHints(*leftmost, "", nullptr, out);
      for (const BinaryExpr* b : spine) {
        CollectSelectHints(*b->rhs, "", nullptr, out);
      }
      return;
    }
    default:
      return;
  }
}

Invariance MarkStepInvariant(const Expr& e,
                             absl::flat_hash_set<const Expr*>& out) {
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      const bool at = static_cast<const VectorSelector&>(e).at.is_set();
      return {at, at};
    }
    case NodeKind::kAggregateExpr:
      // Prometheus looks at the aggregated expression only, not at the
      // parameter.
      return MarkStepInvariant(*static_cast<const AggregateExpr&>(e).expr, out);
    case NodeKind::kBinaryExpr: {
      // Along the left spine iteratively: operator chains may be long.
      const Expr* left_node = nullptr;
      std::vector<const BinaryExpr*> spine = LeftSpine(e, &left_node);
      Invariance left = MarkStepInvariant(*left_node, out);
      for (const BinaryExpr* b : spine) {
        Invariance right = MarkStepInvariant(*b->rhs, out);
        if (left.invariant && right.invariant) {
          left = {true, true};
        } else {
          if (left.wrap) out.insert(left_node);
          if (right.wrap) out.insert(b->rhs.get());
          left = {false, false};
        }
        left_node = b;
      }
      return left;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      const eval::FunctionEntry* fn = eval::LookupImplementation(c.func->name);
      bool invariant = !c.func->at_modifier_unsafe;
      // Invariant anyway if every argument is an invariant selector.
      bool over_selectors =
          fn != nullptr && fn->traits.invariant_over_invariant_selectors;
      std::vector<Invariance> args;
      for (const ExprPtr& arg : c.args) {
        args.push_back(MarkStepInvariant(*arg, out));
        invariant = invariant && args.back().invariant;
        const Expr* a = arg.get();
        while (const auto* p = As<ParenExpr>(a)) a = p->expr.get();
        over_selectors = over_selectors && args.back().invariant &&
                         a->kind() == NodeKind::kVectorSelector;
      }
      if (invariant || over_selectors) return {true, true};
      for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].wrap) out.insert(c.args[i].get());
      }
      return {false, false};
    }
    case NodeKind::kMatrixSelector:
      // A function reads its range argument itself: never wrapped alone.
      return {MarkStepInvariant(
                  *static_cast<const MatrixSelector&>(e).vector_selector, out)
                  .invariant,
              false};
    case NodeKind::kSubqueryExpr: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      if (MarkStepInvariant(*sq.expr, out).invariant) out.insert(sq.expr.get());
      return {sq.at.is_set(), false};
    }
    case NodeKind::kParenExpr:
      return MarkStepInvariant(*static_cast<const ParenExpr&>(e).expr, out);
    case NodeKind::kUnaryExpr:
      return MarkStepInvariant(*static_cast<const UnaryExpr&>(e).expr, out);
    case NodeKind::kStringLiteral:
    case NodeKind::kNumberLiteral:
    case NodeKind::kDurationExpr:
      return {true, false};
  }
  return {};
}

// Drops the names marked by delayed name removal, then merges series that
// became equal (an error if they overlap).
absl::Status FinishNames(std::vector<StepSeries>& series) {
  for (StepSeries& s : series) {
    if (s.drop_name) {
      s.labels = s.labels.WithoutMetricName();
      s.drop_name = false;
    }
  }
  return eval::MergeSameLabelsets(series);
}

// Sorts a matrix by labels; the series are often sorted already (selector
// output keeps the storage's order).
void SortByLabels(Matrix& m) {
  auto less = [](const Series& a, const Series& b) {
    return CompareLabels(a.labels, b.labels) < 0;
  };
  if (!std::is_sorted(m.begin(), m.end(), less))
    std::sort(m.begin(), m.end(), less);
}

}  // namespace

absl::Status EnableEngineFeature(absl::string_view flag,
                                 EngineOptions& options) {
  if (flag == "promql-delayed-name-removal") {
    options.delayed_name_removal = true;
    return absl::OkStatus();
  }
  if (EnableParserFeature(flag, options.parser)) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("unknown feature flag ", flag));
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  if (options.lookback_delta_ms <= 0) {
    return absl::InvalidArgumentError("lookback delta must be positive");
  }
  if (options.default_subquery_step_ms <= 0) {
    return absl::InvalidArgumentError("default subquery step must be positive");
  }
  if (options.workers < 0) {
    return absl::InvalidArgumentError("workers must not be negative");
  }
  if (options.parallel_min_series < 1) {
    return absl::InvalidArgumentError("parallel_min_series must be positive");
  }
  return std::unique_ptr<Engine>(new Engine(std::move(options)));
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {
  if (options_.workers == 0) {
    options_.workers =
        std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  if (options_.workers > 1) {
    pool_ = std::make_unique<eval::ThreadPool>(options_.workers - 1);
  }
}

Engine::~Engine() = default;

absl::StatusOr<QueryResult> Engine::InstantQuery(
    Queryable& storage, absl::string_view query, int64_t t,
    const QueryControl& control) const {
  PROMEVAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query, options_.parser));
  return Evaluate(storage, *expr, query, t, t, 0, /*instant=*/true, control);
}

absl::StatusOr<QueryResult> Engine::RangeQuery(
    Queryable& storage, absl::string_view query, int64_t start, int64_t end,
    int64_t step, const QueryControl& control) const {
  PROMEVAL_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query, options_.parser));
  return Evaluate(storage, *expr, query, start, end, step, /*instant=*/false,
                  control);
}

bool IsStorageError(const absl::Status& status) {
  return status.GetPayload(eval::kStorageErrorUrl).has_value();
}

std::optional<PositionRange> ErrorPosition(const absl::Status& status) {
  absl::optional<absl::Cord> payload =
      status.GetPayload(eval::kErrorPositionUrl);
  if (!payload.has_value()) return std::nullopt;
  std::pair<std::string, std::string> parts =
      absl::StrSplit(std::string(*payload), ':');
  PositionRange pos;
  if (!absl::SimpleAtoi(parts.first, &pos.start) ||
      !absl::SimpleAtoi(parts.second, &pos.end)) {
    return std::nullopt;
  }
  return pos;
}

absl::StatusOr<QueryResult> Engine::Evaluate(
    Queryable& storage, const Expr& expr, absl::string_view query,
    int64_t start, int64_t end, int64_t step, bool instant,
    const QueryControl& control) const {
  ValueType type = expr.type();
  if (!instant) {
    if (type != ValueType::kScalar && type != ValueType::kVector) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid expression type \"", DocumentedType(type),
                       "\" for range query, must be Scalar or instant Vector"));
    }
    if (step <= 0) {
      return absl::InvalidArgumentError(
          "zero or negative query resolution step widths are not accepted. "
          "Try a positive integer");
    }
    if (end < start) {
      return absl::InvalidArgumentError(
          "end timestamp must not be before start time");
    }
  }
  const int64_t step_count = instant ? 1 : eval::Steps::Count(start, end, step);
  // With a sample limit per step, every step is a lane of its own.
  const bool per_step = !instant && control.sample_limit_per_step;
  if (!instant) {
    QueryContext probe(options_, 1);
    PROMEVAL_RETURN_IF_ERROR(probe.CheckSteps(step_count, per_step));
  }
  QueryContext ctx(options_, per_step ? static_cast<int>(step_count) : 1);
  ctx.pool = pool_.get();
  ctx.query = query;
  ctx.query_start = start;
  ctx.query_end = end;
  ctx.query_step = instant ? 0 : step;
  ctx.cancelled = control.cancelled;
  if (options_.timeout > absl::ZeroDuration()) {
    ctx.deadline = absl::Now() + options_.timeout;
  }
  absl::flat_hash_set<const Expr*> step_invariant;
  if (MarkStepInvariant(expr, step_invariant).wrap) {
    step_invariant.insert(&expr);
  }
  ctx.step_invariant = &step_invariant;
  absl::flat_hash_map<const Expr*, SelectHints> select_hints;
  CollectSelectHints(expr, "", nullptr, select_hints);
  ctx.select_hints = &select_hints;
  absl::StatusOr<std::unique_ptr<Querier>> querier =
      storage.NewQuerier(start, end);
  if (!querier.ok()) return eval::AsStorageError(querier.status());
  ctx.querier = querier->get();
  {
    std::vector<PlannedSelect> planned;
    PlanSelects(expr, SubqueryPath(), 0, ctx, planned);
    if (!planned.empty()) {
      absl::Status prefetched = ctx.querier->Prefetch(planned);
      if (!prefetched.ok()) return eval::AsStorageError(prefetched);
    }
  }

  eval::Steps steps = instant ? eval::Steps{start, start, 1, 1}
                              : eval::Steps::Range(start, end, step);
  eval::Evaluator ev(ctx, steps);
  PROMEVAL_ASSIGN_OR_RETURN(Value value, ev.Eval(expr));

  QueryResult result;
  switch (value.kind) {
    case Value::Kind::kString:
      result.type = ValueType::kString;
      result.string = std::move(value.string);
      result.timestamp = start;
      break;
    case Value::Kind::kScalar:
      if (instant) {
        result.type = ValueType::kScalar;
        result.scalar = value.scalar[0];
        result.timestamp = start;
      } else {
        result.type = ValueType::kMatrix;
        Series s;
        for (int i = 0; i < steps.count; ++i) {
          s.points.push_back(FPoint{steps.At(i), value.scalar[i]});
        }
        result.matrix.push_back(std::move(s));
      }
      break;
    case Value::Kind::kVector: {
      PROMEVAL_RETURN_IF_ERROR(FinishNames(value.vector));
      if (instant) {
        result.type = ValueType::kVector;
        for (StepSeries& s : value.vector) {
          if (IsAbsent(s.values[0])) continue;
          result.vector.push_back(
              Sample{std::move(s.labels), start, s.values[0]});
        }
      } else {
        result.type = ValueType::kMatrix;
        result.matrix.reserve(value.vector.size());
        for (StepSeries& s : value.vector) {
          Series out;
          out.labels = std::move(s.labels);
          const double* v = s.values.data();
          if (std::none_of(v, v + steps.count, IsAbsent)) {
            out.points.assign(DensePoints(steps, v, 0),
                              DensePoints(steps, v, steps.count));
          } else {
            out.points.reserve(steps.count);
            for (int i = 0; i < steps.count; ++i) {
              if (!IsAbsent(v[i]))
                out.points.push_back(FPoint{steps.At(i), v[i]});
            }
          }
          if (!out.points.empty()) result.matrix.push_back(std::move(out));
        }
        SortByLabels(result.matrix);
      }
      break;
    }
    case Value::Kind::kMatrix: {
      // A range vector at the top of an instant query: the window's samples
      // with their own timestamps.
      result.type = ValueType::kMatrix;
      const eval::RangeValue& range = value.matrix;
      int64_t ref = range.RefTime(start);
      std::vector<StepSeries> names;
      for (const eval::RangeSeries& s : range.series) {
        Series out;
        out.labels = s.labels;
        if (s.drop_name) out.labels = out.labels.WithoutMetricName();
        for (size_t i = 0; i < s.timestamps.size(); ++i) {
          int64_t t = s.timestamps[i];
          if (t > ref - range.range_ms && t <= ref &&
              !IsStaleNaN(s.values[i])) {
            out.points.push_back(FPoint{t, s.values[i]});
          }
        }
        if (!out.points.empty()) result.matrix.push_back(std::move(out));
      }
      SortByLabels(result.matrix);
      break;
    }
  }
  result.annotations = std::move(ctx.annotations);
  result.stats = ctx.Stats();
  return result;
}

}  // namespace promeval
