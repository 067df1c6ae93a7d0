// Aggregation operators (Prometheus's rangeEvalAgg, aggregation,
// aggregationK, aggregationCountValues).
//
// Each input series is assigned its group once; every step then folds the
// present values of a group into its accumulator.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/evaluator.h"
#include "eval/functions.h"
#include "eval/go_sort.h"
#include "eval/kahan.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {
namespace {

// The output labels of a series' group.
Labels GroupLabels(const Labels& labels, const AggregateExpr& a,
                   const std::string* extra_by_label) {
  LabelsBuilder b(labels);
  if (a.without) {
    b.Del(a.grouping).DropMetadata();
  } else {
    std::vector<std::string> keep = a.grouping;
    if (extra_by_label != nullptr) keep.push_back(*extra_by_label);
    b.Keep(keep);
  }
  return b.Build();
}

struct Groups {
  std::vector<Labels> labels;   // Per group.
  std::vector<bool> drop_name;  // Per group: OR over the members.
  std::vector<int> of_series;   // Group of each input series.
};

Groups Group(const std::vector<StepSeries>& in, const AggregateExpr& a) {
  Groups g;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash;
  g.of_series.reserve(in.size());
  for (const StepSeries& s : in) {
    Labels key = GroupLabels(s.labels, a, nullptr);
    auto& list = by_hash[key.Hash()];
    int id = -1;
    for (int cand : list) {
      if (g.labels[cand] == key) id = cand;
    }
    if (id < 0) {
      id = static_cast<int>(g.labels.size());
      list.push_back(id);
      g.labels.push_back(std::move(key));
      g.drop_name.push_back(false);
    }
    if (s.drop_name) g.drop_name[id] = true;
    g.of_series.push_back(id);
  }
  return g;
}

// Accumulates sum, avg, count, group, min, max, stddev and stdvar exactly
// as Prometheus does (Kahan-Neumaier sums, incremental mean on overflow,
// Welford variance).
struct Accumulator {
  bool seen = false;
  double value = 0;  // sum / min / max / mean
  double c = 0;      // Kahan compensation.
  double count = 0;
  double m2 = 0;  // Variance.
  bool incremental = false;
  double mean = 0;

  void Add(AggregateOp op, double f) {
    if (!seen) {
      seen = true;
      count = 1;
      value = f;
      c = 0;
      mean = f;
      m2 = (std::isnan(f) || std::isinf(f)) ? std::nan("") : 0;
      if (op == AggregateOp::kStddev || op == AggregateOp::kStdvar) {
        value = f;
      }
      return;
    }
    count += 1;
    switch (op) {
      case AggregateOp::kSum:
        KahanInc(f, value, c);
        break;
      case AggregateOp::kAvg:
        if (!incremental) {
          double sum = value, comp = c;
          KahanInc(f, sum, comp);
          if (!std::isinf(sum)) {
            value = sum;
            c = comp;
            break;
          }
          // The sum overflowed: continue with an incremental mean.
          incremental = true;
          mean = value / (count - 1);
          c /= (count - 1);
        }
        {
          double q = (count - 1) / count;
          double m = q * mean, comp = q * c;
          KahanInc(f / count, m, comp);
          mean = m;
          c = comp;
        }
        break;
      case AggregateOp::kMin:
        if (value > f || std::isnan(value)) value = f;
        break;
      case AggregateOp::kMax:
        if (value < f || std::isnan(value)) value = f;
        break;
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar: {
        double delta = f - value;
        value += delta / count;
        m2 += delta * (f - value);
        break;
      }
      default:
        break;
    }
  }

  double Result(AggregateOp op) const {
    switch (op) {
      case AggregateOp::kSum:
        return std::isinf(value) ? value : value + c;
      case AggregateOp::kAvg:
        if (incremental) return mean + c;
        return value / count + c / count;
      case AggregateOp::kCount:
        return count;
      case AggregateOp::kGroup:
        return 1;
      case AggregateOp::kStdvar:
        return m2 / count;
      case AggregateOp::kStddev:
        return std::sqrt(m2 / count);
      default:
        return value;
    }
  }
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

}  // namespace

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::nan("");
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end(), LessNaNFirst);
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

absl::StatusOr<Value> Evaluator::EvalAggregate(const AggregateExpr& a) {
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
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<StepSeries> in, EvalVector(*a.expr));

  switch (a.op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kLimitk:
    case AggregateOp::kLimitRatio:
      return EvalAggregateK(a, param, std::move(in));
    case AggregateOp::kCountValues:
      return EvalCountValues(a, label_param, std::move(in));
    default:
      break;
  }

  if (a.op == AggregateOp::kQuantile) {
    AnnotateInvalidQuantiles(ctx_, param, a.param->pos);
  }

  Groups g = Group(in, a);
  const int ngroups = static_cast<int>(g.labels.size());
  std::vector<StepSeries> out(ngroups);
  for (int gi = 0; gi < ngroups; ++gi) {
    out[gi].labels = g.labels[gi];
    out[gi].drop_name = g.drop_name[gi];
    out[gi].values.assign(steps, Absent());
  }
  // One accumulator per (group, step); the input is read series by series,
  // so each series' values and its group's cells are walked in order. Per
  // cell the series still arrive in input order, as in Prometheus.
  if (a.op == AggregateOp::kQuantile) {
    std::vector<std::vector<double>> values(static_cast<size_t>(ngroups) *
                                            steps);
    for (size_t k = 0; k < in.size(); ++k) {
      std::vector<double>* cells =
          &values[static_cast<size_t>(g.of_series[k]) * steps];
      const std::vector<double>& v = in[k].values;
      for (int i = 0; i < steps; ++i) {
        if (!IsAbsent(v[i])) cells[i].push_back(v[i]);
      }
    }
    for (int gi = 0; gi < ngroups; ++gi) {
      for (int i = 0; i < steps; ++i) {
        std::vector<double>& cell = values[static_cast<size_t>(gi) * steps + i];
        if (!cell.empty()) out[gi].values[i] = Quantile(param[i], cell);
      }
    }
  } else {
    std::vector<Accumulator> acc(static_cast<size_t>(ngroups) * steps);
    for (size_t k = 0; k < in.size(); ++k) {
      Accumulator* cells = &acc[static_cast<size_t>(g.of_series[k]) * steps];
      const std::vector<double>& v = in[k].values;
      for (int i = 0; i < steps; ++i) {
        if (!IsAbsent(v[i])) cells[i].Add(a.op, v[i]);
      }
    }
    for (int gi = 0; gi < ngroups; ++gi) {
      const Accumulator* cells = &acc[static_cast<size_t>(gi) * steps];
      for (int i = 0; i < steps; ++i) {
        if (cells[i].seen) out[gi].values[i] = cells[i].Result(a.op);
      }
    }
  }
  std::vector<StepSeries> present;
  for (StepSeries& s : out) {
    if (std::any_of(s.values.begin(), s.values.end(),
                    [](double v) { return !IsAbsent(v); })) {
      present.push_back(std::move(s));
    }
  }
  return Value::Vector(std::move(present));
}

absl::StatusOr<Value> Evaluator::EvalAggregateK(
    const AggregateExpr& a, const std::vector<double>& param,
    std::vector<StepSeries> in) {
  const int steps = steps_.count;
  Groups g = Group(in, a);
  const int ngroups = static_cast<int>(g.labels.size());
  std::vector<std::vector<int>> members(ngroups);
  for (size_t k = 0; k < in.size(); ++k) members[g.of_series[k]].push_back(k);

  // selected[k][i]: whether input series k is in the result at step i.
  std::vector<std::vector<char>> selected(in.size(),
                                          std::vector<char>(steps, 0));
  // The order of the single-step result (instant queries).
  std::vector<int> order;
  for (int i = 0; i < steps; ++i) {
    int64_t k = 0;
    double ratio = 0;
    if (a.op == AggregateOp::kLimitRatio) {
      ratio = param[i];
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
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(k, KParam(param[i]));
      if (k < 1) continue;
    }
    for (int gi = 0; gi < ngroups; ++gi) {
      std::vector<int> chosen;
      if (a.op == AggregateOp::kLimitk) {
        for (int m : members[gi]) {
          if (IsAbsent(in[m].values[i])) continue;
          if (static_cast<int64_t>(chosen.size()) >= k) break;
          chosen.push_back(m);
        }
      } else if (a.op == AggregateOp::kLimitRatio) {
        for (int m : members[gi]) {
          if (IsAbsent(in[m].values[i])) continue;
          double offset =
              static_cast<double>(in[m].labels.Hash()) /
              static_cast<double>(std::numeric_limits<uint64_t>::max());
          bool keep = (ratio >= 0 && offset < ratio) ||
                      (ratio < 0 && offset >= 1.0 + ratio);
          if (keep) chosen.push_back(m);
        }
      } else {
        bool top = a.op == AggregateOp::kTopk;
        auto value = [&](int m) { return in[m].values[i]; };
        // The heap's "smallest" element is replaced first; NaN counts as
        // the smallest for topk and the largest for bottomk.
        auto less = [&](int x, int y) {
          double vx = value(x), vy = value(y);
          if (std::isnan(vx)) return true;
          return top ? vx < vy : vx > vy;
        };
        Heap<decltype(less)> heap(less);
        for (int m : members[gi]) {
          double f = value(m);
          if (IsAbsent(f)) continue;
          auto& items = heap.items();
          if (static_cast<int64_t>(items.size()) < k) {
            heap.Push(m);
            continue;
          }
          double root = value(items[0]);
          bool replace =
              top ? (root < f || (std::isnan(root) && !std::isnan(f)))
                  : (root > f || (std::isnan(root) && !std::isnan(f)));
          if (replace) {
            items[0] = m;
            if (k > 1) heap.Fix0();
          }
        }
        chosen = heap.items();
        // Prometheus reverses the heap order with Go's (unstable) sort.Sort;
        // doing the same gives its order for ties.
        GoSort(
            static_cast<int>(chosen.size()),
            [&](int x, int y) { return less(chosen[y], chosen[x]); },
            [&](int x, int y) { std::swap(chosen[x], chosen[y]); });
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
