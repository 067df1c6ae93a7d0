// Aggregation operators (Prometheus's rangeEvalAgg, aggregation,
// aggregationK, aggregationCountValues).
//
// Each input series is assigned its group once; every step then folds the
// present values of a group into its accumulator.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/go_sort.h"
#include "eval/evaluator.h"
#include "eval/functions.h"
#include "eval/kahan.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {
namespace {

// The output labels of a series' group.
Labels GroupLabels(const Labels& labels, const AggregateExpr& a,
                   const std::string* extra_by_label) {
  if (a.without) {
    return LabelsBuilder(labels).Del(a.grouping).DropMetadata().Build();
  }
  if (extra_by_label == nullptr) return labels.Keep(a.grouping);
  std::vector<std::string> keep = a.grouping;
  keep.push_back(*extra_by_label);
  return labels.Keep(keep);
}

// Assigns series to groups in order of first appearance.
class Grouper {
 public:
  explicit Grouper(const AggregateExpr& a) : a_(a) {}

  // The group of a series (a new one if its group labels are new).
  int Of(const StepSeries& s) {
    Labels key = GroupLabels(s.labels, a_, nullptr);
    auto& list = by_hash_[key.Hash()];
    int id = -1;
    for (int cand : list) {
      if (labels_[cand] == key) id = cand;
    }
    if (id < 0) {
      id = static_cast<int>(labels_.size());
      list.push_back(id);
      labels_.push_back(std::move(key));
      drop_name_.push_back(false);
    }
    if (s.drop_name) drop_name_[id] = true;
    return id;
  }

  int size() const { return static_cast<int>(labels_.size()); }
  const Labels& labels(int g) const { return labels_[g]; }
  // OR over the members.
  bool drop_name(int g) const { return drop_name_[g]; }

 private:
  const AggregateExpr& a_;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash_;
  std::vector<Labels> labels_;
  std::vector<bool> drop_name_;
};

struct Groups {
  std::vector<Labels> labels;   // Per group.
  std::vector<bool> drop_name;  // Per group: OR over the members.
  std::vector<int> of_series;   // Group of each input series.
};

Groups Group(const std::vector<StepSeries>& in, const AggregateExpr& a) {
  Grouper grouper(a);
  Groups g;
  g.of_series.reserve(in.size());
  for (const StepSeries& s : in) g.of_series.push_back(grouper.Of(s));
  for (int i = 0; i < grouper.size(); ++i) {
    g.labels.push_back(grouper.labels(i));
    g.drop_name.push_back(grouper.drop_name(i));
  }
  return g;
}

// Calls fn(std::integral_constant<AggregateOp, op>()) for the accumulating
// aggregation `op` (count and group as count), so that fn's loop is compiled
// for that operation alone.
template <typename Fn>
void WithAccumulatingOp(AggregateOp op, Fn fn) {
  using Op = AggregateOp;
  switch (op) {
    case Op::kSum:
      return fn(std::integral_constant<Op, Op::kSum>());
    case Op::kAvg:
      return fn(std::integral_constant<Op, Op::kAvg>());
    case Op::kMin:
      return fn(std::integral_constant<Op, Op::kMin>());
    case Op::kMax:
      return fn(std::integral_constant<Op, Op::kMax>());
    case Op::kStddev:
      return fn(std::integral_constant<Op, Op::kStddev>());
    case Op::kStdvar:
      return fn(std::integral_constant<Op, Op::kStdvar>());
    default:
      return fn(std::integral_constant<Op, Op::kCount>());
  }
}

// Accumulates sum, avg, count, group, min, max, stddev and stdvar exactly
// as Prometheus does (Kahan-Neumaier sums, incremental mean on overflow,
// Welford variance). 32 bytes: there is one per (group, step).
struct Accumulator {
  // sum / min / max; avg: the sum, or the mean once kept incrementally;
  // stddev / stdvar: the mean.
  double value = 0;
  double c = 0;      // Kahan compensation.
  double count = 0;  // The values added; 0: none yet.
  // avg: 1 once the sum overflowed and the mean is kept incrementally;
  // stddev / stdvar: the sum of squared deviations.
  double aux = 0;

  bool seen() const { return count > 0; }

  // Adds `f` for the aggregation `kOp` (see WithAccumulatingOp).
  template <AggregateOp kOp>
  void Add(double f) {
    if (count == 0) {
      count = 1;
      value = f;
      if ((kOp == AggregateOp::kStddev || kOp == AggregateOp::kStdvar) &&
          (std::isnan(f) || std::isinf(f))) {
        aux = std::nan("");
      }
      return;
    }
    count += 1;
    if constexpr (kOp == AggregateOp::kSum) {
      KahanInc(f, value, c);
    } else if constexpr (kOp == AggregateOp::kAvg) {
      if (aux == 0) {
        double sum = value, comp = c;
        KahanInc(f, sum, comp);
        if (!std::isinf(sum)) {
          value = sum;
          c = comp;
          return;
        }
        // The sum overflowed: continue with an incremental mean.
        aux = 1;
        value /= (count - 1);
        c /= (count - 1);
      }
      double q = (count - 1) / count;
      double m = q * value, comp = q * c;
      KahanInc(f / count, m, comp);
      value = m;
      c = comp;
    } else if constexpr (kOp == AggregateOp::kMin) {
      if (value > f || std::isnan(value)) value = f;
    } else if constexpr (kOp == AggregateOp::kMax) {
      if (value < f || std::isnan(value)) value = f;
    } else if constexpr (kOp == AggregateOp::kStddev ||
                         kOp == AggregateOp::kStdvar) {
      double delta = f - value;
      value += delta / count;
      aux += delta * (f - value);
    }
  }

  double Result(AggregateOp op) const {
    switch (op) {
      case AggregateOp::kSum:
        return std::isinf(value) ? value : value + c;
      case AggregateOp::kAvg:
        if (aux != 0) return value + c;
        return value / count + c / count;
      case AggregateOp::kCount:
        return count;
      case AggregateOp::kGroup:
        return 1;
      case AggregateOp::kStdvar:
        return aux / count;
      case AggregateOp::kStddev:
        return std::sqrt(aux / count);
      default:
        return value;
    }
  }
};

// sum, avg, count, group, min, max, stddev and stdvar over series fed one at
// a time, in input order: one accumulator per (group, step), each series'
// values added to its group's cells as it comes, as in Prometheus. A range
// function streams its output series into it (SeriesSink), so they are
// never all held at once. A group keeps its first member's values as they
// are until a second member comes (often none does: `sum by` every label),
// then its accumulators are allocated at their final size.
class Aggregation : public SeriesSink {
 public:
  Aggregation(const AggregateExpr& a, int steps)
      : a_(a), steps_(steps), grouper_(a) {}

  void Accept(StepSeries s) override {
    const size_t g = grouper_.Of(s);
    if (g == groups_.size()) {
      groups_.push_back(GroupCells{std::move(s.values), nullptr});
      return;
    }
    GroupCells& group = groups_[g];
    if (group.cells == nullptr) {
      group.cells = std::make_unique<Accumulator[]>(steps_);
      Add(group.cells.get(), group.first);
      std::vector<double>().swap(group.first);
    }
    Add(group.cells.get(), s.values);
  }

  // The groups with a value at some step, in order of first appearance.
  std::vector<StepSeries> Result() && {
    std::vector<StepSeries> out;
    for (size_t g = 0; g < groups_.size(); ++g) {
      GroupCells& group = groups_[g];
      StepSeries o;
      bool any = false;
      if (group.cells == nullptr) {
        o.values = std::move(group.first);
        for (double& f : o.values) {
          if (IsAbsent(f)) continue;
          Accumulator one;
          WithAccumulatingOp(a_.op,
                             [&](auto op) { one.Add<decltype(op)::value>(f); });
          f = one.Result(a_.op);
          any = true;
        }
      } else {
        o.values.assign(steps_, Absent());
        for (int i = 0; i < steps_; ++i) {
          if (!group.cells[i].seen()) continue;
          o.values[i] = group.cells[i].Result(a_.op);
          any = true;
        }
      }
      if (!any) continue;
      o.labels = grouper_.labels(g);
      o.drop_name = grouper_.drop_name(g);
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  struct GroupCells {
    std::vector<double> first;             // Until there is a second member.
    std::unique_ptr<Accumulator[]> cells;  // From then on.
  };

  void Add(Accumulator* cells, const std::vector<double>& values) const {
    WithAccumulatingOp(a_.op, [&](auto op) {
      for (int i = 0; i < steps_; ++i) {
        if (!IsAbsent(values[i])) cells[i].Add<decltype(op)::value>(values[i]);
      }
    });
  }

  const AggregateExpr& a_;
  const int steps_;
  Grouper grouper_;
  std::vector<GroupCells> groups_;
};

// Prometheus's vectorByValueHeap order: NaN first, then ascending.
bool LessNaNFirst(double a, double b) {
  if (std::isnan(a)) return !std::isnan(b);
  if (std::isnan(b)) return false;
  return a < b;
}

// Go's container/heap over indices with a Less function.
template <typename Less>
class Heap {
 public:
  explicit Heap(Less less) : less_(less) {}
  std::vector<int>& items() { return items_; }
  void Push(int x) {
    items_.push_back(x);
    Up(static_cast<int>(items_.size()) - 1);
  }
  void Fix0() {
    if (!Down(0)) Up(0);
  }

 private:
  void Up(int j) {
    while (true) {
      int i = (j - 1) / 2;
      if (i == j || !less_(items_[j], items_[i])) break;
      std::swap(items_[i], items_[j]);
      j = i;
    }
  }
  bool Down(int i0) {
    int n = static_cast<int>(items_.size());
    int i = i0;
    while (true) {
      int j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      int j = j1;
      if (int j2 = j1 + 1; j2 < n && less_(items_[j2], items_[j1])) j = j2;
      if (!less_(items_[j], items_[i])) break;
      std::swap(items_[i], items_[j]);
      i = j;
    }
    return i > i0;
  }
  Less less_;
  std::vector<int> items_;
};

// The k of topk/bottomk/limitk at a step, as Prometheus converts it.
absl::StatusOr<int64_t> KParam(double f) {
  if (std::isnan(f)) {
    return absl::FailedPreconditionError("Parameter value is NaN");
  }
  if (f >= 9223372036854775807.0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Scalar value ", FormatFloatGo(f), " overflows int64"));
  }
  if (f <= -9223372036854775808.0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Scalar value ", FormatFloatGo(f), " underflows int64"));
  }
  return static_cast<int64_t>(f);
}

// One step's topk (top) or bottomk heap: Prometheus's order, in which the
// root is replaced first; NaN counts as the smallest for topk and the
// largest for bottomk.
struct KLess {
  const std::vector<StepSeries>* in;
  int step;
  bool top;
  bool operator()(int x, int y) const {
    double vx = (*in)[x].values[step], vy = (*in)[y].values[step];
    if (std::isnan(vx)) return true;
    return top ? vx < vy : vx > vy;
  }
};

// topk/bottomk of one group: marks the chosen series of each step in
// `selected` and, for a single step, appends them to `order` in
// Prometheus's result order. The group's series are visited one at a time
// over all steps (each step's heap sees them in input order, as
// Prometheus's does), so each series' values are read sequentially.
void SelectTopK(bool top, const std::vector<int>& members,
                const std::vector<int64_t>& ks,
                const std::vector<StepSeries>& in,
                std::vector<std::vector<char>>& selected,
                std::vector<int>& order) {
  const int steps = static_cast<int>(ks.size());
  std::vector<Heap<KLess>> heaps;
  heaps.reserve(steps);
  for (int i = 0; i < steps; ++i) heaps.emplace_back(KLess{&in, i, top});
  // Per step, once its heap holds k series: the root's value, which most
  // values only need to be compared with.
  std::vector<char> full(steps, 0);
  std::vector<double> root(steps, 0);
  for (int m : members) {
    const double* v = in[m].values.data();
    for (int i = 0; i < steps; ++i) {
      const double f = v[i];
      if (IsAbsent(f)) continue;
      if (full[i]) {
        const double r = root[i];
        const bool replace = top ? (r < f || (std::isnan(r) && !std::isnan(f)))
                                 : (r > f || (std::isnan(r) && !std::isnan(f)));
        if (!replace) continue;
        std::vector<int>& items = heaps[i].items();
        items[0] = m;
        if (ks[i] > 1) heaps[i].Fix0();
        root[i] = in[items[0]].values[i];
        continue;
      }
      if (ks[i] < 1) continue;
      std::vector<int>& items = heaps[i].items();
      heaps[i].Push(m);
      if (static_cast<int64_t>(items.size()) == ks[i]) {
        full[i] = 1;
        root[i] = in[items[0]].values[i];
      }
    }
  }
  for (int i = 0; i < steps; ++i) {
    std::vector<int>& chosen = heaps[i].items();
    for (int m : chosen) selected[m][i] = 1;
    if (steps != 1) continue;
    // Prometheus reverses the heap order with Go's (unstable) sort.Sort;
    // doing the same gives its order for ties.
    const KLess less{&in, i, top};
    GoSort(
        static_cast<int>(chosen.size()),
        [&](int x, int y) { return less(chosen[y], chosen[x]); },
        [&](int x, int y) { std::swap(chosen[x], chosen[y]); });
    order.insert(order.end(), chosen.begin(), chosen.end());
  }
}

}  // namespace

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q) || q < 0 || q > 1) {
    return QuantileOfSorted(q, values);
  }
  std::sort(values.begin(), values.end(), LessNaNFirst);
  return QuantileOfSorted(q, values);
}

double QuantileOfSorted(double q, absl::Span<const double> values) {
  if (values.empty() || std::isnan(q)) return std::nan("");
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

absl::StatusOr<Value> Evaluator::EvalAggregate(const AggregateExpr& a) {
  // Prometheus holds the parameter and the input while it aggregates, then
  // only the result; count_values runs on rangeEval instead.
  const LaneCounts mark = samples_->current();
  PROMEVAL_ASSIGN_OR_RETURN(Value out, Aggregate(a, mark));
  if (a.op != AggregateOp::kCountValues) {
    samples_->Reset(mark, LaneTotals(out));
  }
  return out;
}

absl::StatusOr<Value> Evaluator::Aggregate(const AggregateExpr& a,
                                           const LaneCounts& mark) {
  const int steps = steps_.count;
  std::vector<double> param;
  std::string label_param;
  if (a.param != nullptr) {
    if (a.op == AggregateOp::kCountValues) {
      PROMEVAL_ASSIGN_OR_RETURN(Value p, Eval(*a.param));
      label_param = p.string;
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(param, EvalScalar(*a.param));
    }
  }

  switch (a.op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kLimitk:
    case AggregateOp::kLimitRatio: {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<StepSeries> in,
                                EvalVector(*a.expr));
      return EvalAggregateK(a, param, std::move(in));
    }
    case AggregateOp::kCountValues: {
      PROMEVAL_ASSIGN_OR_RETURN(Value in, Eval(*a.expr));
      const StepCounts gathered = Counts(in);
      PROMEVAL_ASSIGN_OR_RETURN(
          Value out, EvalCountValues(a, label_param, std::move(in.vector)));
      PROMEVAL_RETURN_IF_ERROR(AccountRangeEval(mark, gathered, out));
      return out;
    }
    case AggregateOp::kQuantile:
      break;
    default: {
      // A range function with one output series per input series streams
      // its series into the aggregation.
      Aggregation agg(a, steps);
      const auto* call = As<Call>(a.expr.get());
      const FunctionEntry* fn =
          call != nullptr ? LookupImplementation(call->func->name) : nullptr;
      const bool streams = fn != nullptr &&
                           fn->shape == FunctionShape::kRangeOverTime &&
                           !fn->traits.merges_series;
      PROMEVAL_ASSIGN_OR_RETURN(Value v,
                                Eval(*a.expr, streams ? &agg : nullptr));
      if (v.kind != Value::Kind::kVector) {
        return absl::InternalError("expected an instant vector");
      }
      for (StepSeries& s : v.vector) agg.Accept(std::move(s));
      return Value::Vector(std::move(agg).Result());
    }
  }

  PROMEVAL_ASSIGN_OR_RETURN(std::vector<StepSeries> in, EvalVector(*a.expr));
  AnnotateInvalidQuantiles(ctx_, param, a.param->pos);
  Groups g = Group(in, a);
  const int ngroups = static_cast<int>(g.labels.size());
  // The values of each (group, step) cell, in input order.
  std::vector<std::vector<double>> values(static_cast<size_t>(ngroups) * steps);
  for (size_t k = 0; k < in.size(); ++k) {
    std::vector<double>* cells =
        &values[static_cast<size_t>(g.of_series[k]) * steps];
    const std::vector<double>& v = in[k].values;
    for (int i = 0; i < steps; ++i) {
      if (!IsAbsent(v[i])) cells[i].push_back(v[i]);
    }
  }
  std::vector<StepSeries> out;
  for (int gi = 0; gi < ngroups; ++gi) {
    StepSeries o;
    o.values.assign(steps, Absent());
    bool any = false;
    for (int i = 0; i < steps; ++i) {
      std::vector<double>& cell = values[static_cast<size_t>(gi) * steps + i];
      if (cell.empty()) continue;
      o.values[i] = Quantile(param[i], cell);
      any = true;
    }
    if (!any) continue;
    o.labels = g.labels[gi];
    o.drop_name = g.drop_name[gi];
    out.push_back(std::move(o));
  }
  return Value::Vector(std::move(out));
}

absl::StatusOr<Value> Evaluator::EvalAggregateK(
    const AggregateExpr& a, const std::vector<double>& param,
    std::vector<StepSeries> in) {
  const int steps = steps_.count;
  Groups g = Group(in, a);
  const int ngroups = static_cast<int>(g.labels.size());
  std::vector<std::vector<int>> members(ngroups);
  for (size_t k = 0; k < in.size(); ++k) members[g.of_series[k]].push_back(k);

  // The parameter at each step, checked (and warned about) in step order.
  std::vector<int64_t> ks(steps, 0);
  std::vector<double> ratios(steps, 0);
  for (int i = 0; i < steps; ++i) {
    if (a.op == AggregateOp::kLimitRatio) {
      double ratio = param[i];
      if (std::isnan(ratio))
        return absl::FailedPreconditionError("Ratio value is NaN");
      if (ratio < -1 || ratio > 1) {
        ctx_.Annotate(
            Annotation::Kind::kWarning,
            absl::StrCat("ratio value should be between -1 and 1, got ",
                         FormatFloatGo(ratio), ", capping to ",
                         ratio < 0 ? "-1" : "1"),
            a.param->pos);
        ratio = std::clamp(ratio, -1.0, 1.0);
      }
      ratios[i] = ratio;
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(ks[i], KParam(param[i]));
    }
  }

  // selected[k][i]: whether input series k is in the result at step i.
  std::vector<std::vector<char>> selected(in.size(),
                                          std::vector<char>(steps, 0));
  // The order of the single-step result (instant queries).
  std::vector<int> order;
  for (int gi = 0; gi < ngroups; ++gi) {
    if (a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk) {
      SelectTopK(a.op == AggregateOp::kTopk, members[gi], ks, in, selected,
                 order);
      continue;
    }
    for (int i = 0; i < steps; ++i) {
      std::vector<int> chosen;
      if (a.op == AggregateOp::kLimitk) {
        if (ks[i] < 1) continue;
        for (int m : members[gi]) {
          if (IsAbsent(in[m].values[i])) continue;
          if (static_cast<int64_t>(chosen.size()) >= ks[i]) break;
          chosen.push_back(m);
        }
      } else {
        const double ratio = ratios[i];
        for (int m : members[gi]) {
          if (IsAbsent(in[m].values[i])) continue;
          double offset =
              static_cast<double>(in[m].labels.Hash()) /
              static_cast<double>(std::numeric_limits<uint64_t>::max());
          bool keep = (ratio >= 0 && offset < ratio) ||
                      (ratio < 0 && offset >= 1.0 + ratio);
          if (keep) chosen.push_back(m);
        }
      }
      for (int m : chosen) {
        selected[m][i] = 1;
        if (steps == 1) order.push_back(m);
      }
    }
  }
  std::vector<StepSeries> out;
  auto emit = [&](int m) {
    StepSeries s;
    s.labels = in[m].labels;
    s.drop_name = in[m].drop_name;
    s.values.assign(steps, Absent());
    for (int i = 0; i < steps; ++i) {
      if (selected[m][i]) s.values[i] = in[m].values[i];
    }
    out.push_back(std::move(s));
  };
  if (steps == 1) {
    for (int m : order) emit(m);
  } else {
    for (size_t m = 0; m < in.size(); ++m) {
      if (std::find(selected[m].begin(), selected[m].end(), 1) !=
          selected[m].end()) {
        emit(static_cast<int>(m));
      }
    }
  }
  return Value::Vector(std::move(out));
}

absl::StatusOr<Value> Evaluator::EvalCountValues(const AggregateExpr& a,
                                                 const std::string& label,
                                                 std::vector<StepSeries> in) {
  if (!IsValidLabelName(label)) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid label name ", GoQuote(label)));
  }
  const int steps = steps_.count;
  std::vector<StepSeries> out;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash;
  for (const StepSeries& s : in) {
    for (int i = 0; i < steps; ++i) {
      double f = s.values[i];
      if (IsAbsent(f)) continue;
      Labels with_value =
          LabelsBuilder(s.labels).Set(label, FormatFloat(f)).Build();
      Labels key = GroupLabels(with_value, a, &label);
      auto& list = by_hash[key.Hash()];
      int id = -1;
      for (int cand : list) {
        if (out[cand].labels == key) id = cand;
      }
      if (id < 0) {
        id = static_cast<int>(out.size());
        list.push_back(id);
        StepSeries o;
        o.labels = std::move(key);
        o.values.assign(steps, Absent());
        out.push_back(std::move(o));
      }
      double& v = out[id].values[i];
      v = IsAbsent(v) ? 1 : v + 1;
    }
  }
  return Value::Vector(std::move(out));
}

}  // namespace promeval::eval
