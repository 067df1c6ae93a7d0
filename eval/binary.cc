// Binary operators: scalar/scalar, vector/scalar, vector/vector with
// one-to-one, many-to-one and one-to-many matching, set operators, and the
// experimental fill modifiers (Prometheus's VectorBinop, VectorscalarBinop,
// VectorAnd/Or/Unless).
//
// Match signatures and output label sets are computed once per series (or
// per matched pair); each step is then a loop over the present series.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "eval/evaluator.h"
#include "eval/thread_pool.h"
#include "promeval/status_macros.h"

namespace promeval::eval {
namespace {

// Applies an arithmetic or comparison operator. For comparisons `out` is the
// left value and the result says whether the pair is kept.
bool Apply(BinaryOp op, double l, double r, double& out) {
  switch (op) {
    case BinaryOp::kAdd:
      out = l + r;
      return true;
    case BinaryOp::kSub:
      out = l - r;
      return true;
    case BinaryOp::kMul:
      out = l * r;
      return true;
    case BinaryOp::kDiv:
      out = l / r;
      return true;
    case BinaryOp::kMod:
      out = std::fmod(l, r);
      return true;
    case BinaryOp::kPow:
      out = std::pow(l, r);
      return true;
    case BinaryOp::kAtan2:
      out = std::atan2(l, r);
      return true;
    case BinaryOp::kEqlc:
      out = l;
      return l == r;
    case BinaryOp::kNeq:
      out = l;
      return l != r;
    case BinaryOp::kGtr:
      out = l;
      return l > r;
    case BinaryOp::kLss:
      out = l;
      return l < r;
    case BinaryOp::kGte:
      out = l;
      return l >= r;
    case BinaryOp::kLte:
      out = l;
      return l <= r;
    default:
      out = l;
      return false;
  }
}

// Apply for a pair of vector elements: with `bool`, a comparison gives 0 or
// 1 and the pair is always kept.
bool ApplyPair(const BinaryExpr& b, double l, double r, double& out) {
  bool keep = Apply(b.op, l, r, out);
  if (!b.return_bool) return keep;
  out = keep ? 1.0 : 0.0;
  return true;
}

// Operators whose result is a new quantity: they drop the metric name.
bool ChangesMetricSchema(BinaryOp op) {
  return !IsComparisonOp(op) && !IsSetOp(op);
}

// The matching signature of a label set: the `on` labels, or all labels
// but the `ignoring` ones and __name__.
std::string Signature(const Labels& labels, const VectorMatching& m) {
  std::string sig;
  for (const Label& l : labels) {
    bool listed = std::find(m.matching_labels.begin(), m.matching_labels.end(),
                            l.name) != m.matching_labels.end();
    bool include = m.on ? listed : (!listed && l.name != kMetricName);
    if (!include) continue;
    absl::StrAppend(&sig, l.name, "\xff", l.value, "\xff");
  }
  return sig;
}

// Prometheus's Labels.MatchLabels: the labels a match group is made of.
Labels MatchLabels(const Labels& labels, const VectorMatching& m) {
  if (m.on) return labels.Keep(m.matching_labels);
  return LabelsBuilder(labels).Del(m.matching_labels).DropMetadata().Build();
}

// Prometheus's resultMetric.
Labels ResultMetric(const Labels& lhs, const Labels& rhs, BinaryOp op,
                    const VectorMatching& m) {
  LabelsBuilder b(lhs);
  if (ChangesMetricSchema(op)) b.DropMetadata();
  if (m.card == VectorMatchCardinality::kOneToOne) {
    if (m.on) {
      b.Keep(m.matching_labels);
    } else {
      b.Del(m.matching_labels);
    }
  }
  for (const std::string& name : m.include) b.Set(name, rhs.Get(name));
  return b.Build();
}

// Assigns each label set a small integer signature id.
class SignatureTable {
 public:
  int Id(const std::string& sig) {
    auto [it, inserted] = ids_.try_emplace(sig, static_cast<int>(ids_.size()));
    return it->second;
  }
  int size() const { return static_cast<int>(ids_.size()); }

 private:
  absl::flat_hash_map<std::string, int> ids_;
};

// Output series of an operator, deduplicated by label set.
class Outputs {
 public:
  Outputs(int steps) : steps_(steps) {}

  int Index(Labels labels, bool drop_name) {
    auto& list = by_hash_[labels.Hash()];
    for (int idx : list) {
      if (series_[idx].labels == labels &&
          series_[idx].drop_name == drop_name) {
        return idx;
      }
    }
    list.push_back(static_cast<int>(series_.size()));
    StepSeries s;
    s.labels = std::move(labels);
    s.drop_name = drop_name;
    s.values.assign(steps_, Absent());
    series_.push_back(std::move(s));
    return list.back();
  }

  // Writes a value; two writes at the same step are the duplicate label set
  // error.
  absl::Status Set(int idx, int step, double v) {
    double& slot = series_[idx].values[step];
    if (!IsAbsent(slot)) return SameLabelsetError();
    slot = v;
    return absl::OkStatus();
  }

  int size() const { return static_cast<int>(series_.size()); }

  std::vector<StepSeries> Take() {
    std::vector<StepSeries> out;
    for (StepSeries& s : series_) {
      bool any = std::any_of(s.values.begin(), s.values.end(),
                             [](double v) { return !IsAbsent(v); });
      if (any) out.push_back(std::move(s));
    }
    return out;
  }

 private:
  int steps_;
  std::vector<StepSeries> series_;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash_;
};

// The output series of a matched pair: ResultMetric's labels, without the
// metric name for a bool comparison (dropped at the end of the query under
// delayed name removal).
int PairOutput(Outputs& outputs, const Labels& lhs, const Labels& rhs,
               const BinaryExpr& b, bool delayed) {
  Labels metric = ResultMetric(lhs, rhs, b.op, *b.matching);
  bool drop_name = false;
  if (b.return_bool) {
    if (delayed) {
      drop_name = true;
    } else {
      metric = metric.WithoutMetricName();
    }
  }
  return outputs.Index(std::move(metric), drop_name);
}

absl::StatusOr<Value> ScalarScalar(const BinaryExpr& b, std::vector<double> l,
                                   const std::vector<double>& r) {
  for (size_t i = 0; i < l.size(); ++i) {
    double out;
    bool keep = Apply(b.op, l[i], r[i], out);
    l[i] = IsComparisonOp(b.op) ? (keep ? 1.0 : 0.0) : out;
  }
  return Value::Scalar(std::move(l));
}

absl::StatusOr<Value> VectorScalar(const QueryContext& ctx, const BinaryExpr& b,
                                   std::vector<StepSeries> vec,
                                   const std::vector<double>& scalar,
                                   bool scalar_on_left) {
  bool comparison = IsComparisonOp(b.op);
  std::vector<StepSeries> out;
  for (StepSeries& s : vec) {
    bool any = false;
    for (size_t i = 0; i < s.values.size(); ++i) {
      double x = s.values[i];
      if (IsAbsent(x)) continue;
      double l = x, r = scalar[i];
      if (scalar_on_left) std::swap(l, r);
      double result;
      bool keep = Apply(b.op, l, r, result);
      // A comparison keeps the vector element's value, on either side.
      if (comparison) result = x;
      if (b.return_bool) {
        result = keep ? 1.0 : 0.0;
        keep = true;
      }
      s.values[i] = keep ? result : Absent();
      any = any || keep;
    }
    if (any) out.push_back(std::move(s));
  }
  if (ChangesMetricSchema(b.op) || b.return_bool) {
    PROMEVAL_RETURN_IF_ERROR(DropMetricNames(ctx, out));
  }
  return Value::Vector(std::move(out));
}

// and, or, unless: by match signature, at each step. (A per-signature,
// per-step presence table costs a byte per signature and step, an eighth of
// one operand's values.)
std::vector<StepSeries> SetOperation(const BinaryExpr& b, int steps,
                                     std::vector<StepSeries> lhs,
                                     std::vector<StepSeries> rhs) {
  const VectorMatching& m = *b.matching;
  SignatureTable sigs;
  std::vector<int> lsig(lhs.size()), rsig(rhs.size());
  for (size_t i = 0; i < lhs.size(); ++i)
    lsig[i] = sigs.Id(Signature(lhs[i].labels, m));
  for (size_t i = 0; i < rhs.size(); ++i)
    rsig[i] = sigs.Id(Signature(rhs[i].labels, m));
  // Per signature and step, whether a series of it has a value there:
  // gathered series by series, then applied series by series (sequential
  // reads and writes).
  auto presence = [&](const std::vector<StepSeries>& side,
                      const std::vector<int>& sig) {
    std::vector<char> has(static_cast<size_t>(sigs.size()) * steps, 0);
    for (size_t k = 0; k < side.size(); ++k) {
      char* row = has.data() + static_cast<size_t>(sig[k]) * steps;
      const double* v = side[k].values.data();
      for (int i = 0; i < steps; ++i) row[i] |= !IsAbsent(v[i]);
    }
    return has;
  };
  // Drops the values of `side` at the steps where its signature is present
  // in `has` (drop_where_present) or absent (otherwise).
  auto mask = [&](std::vector<StepSeries>& side, const std::vector<int>& sig,
                  const std::vector<char>& has, bool drop_where_present) {
    for (size_t k = 0; k < side.size(); ++k) {
      const char* row = has.data() + static_cast<size_t>(sig[k]) * steps;
      double* v = side[k].values.data();
      for (int i = 0; i < steps; ++i) {
        if ((row[i] != 0) == drop_where_present) v[i] = Absent();
      }
    }
  };
  std::vector<StepSeries> out;
  if (b.op == BinaryOp::kOr) {
    // The right side only where the left side has nothing of its signature.
    mask(rhs, rsig, presence(lhs, lsig), true);
    for (StepSeries& s : lhs) out.push_back(std::move(s));
    for (StepSeries& s : rhs) out.push_back(std::move(s));
  } else {
    // and: the left side where the right has its signature; unless: where
    // it has not.
    mask(lhs, lsig, presence(rhs, rsig), b.op == BinaryOp::kUnless);
    out = std::move(lhs);
  }
  std::vector<StepSeries> present;
  for (StepSeries& s : out) {
    if (std::any_of(s.values.begin(), s.values.end(),
                    [](double v) { return !IsAbsent(v); })) {
      present.push_back(std::move(s));
    }
  }
  return present;
}

// Vector matching series by series instead of step by step, when nothing
// can go wrong at any step: at most one "one"-side series per signature
// (and, one-to-one, one "many"-side series), and a distinct output label
// set for every pair that ever matches. Then each pair's values are
// computed in one pass over its two series (sequential reads, instead of
// every series' value at each step in turn). Outputs are made in the
// step-by-step order: by the first step at which the pair's sides both have
// a value (a comparison may still drop it), then in "many"-side order.
// Returns nullopt when the conditions do not hold (or fill modifiers are
// used); VectorVector then matches step by step, with its errors.
std::optional<std::vector<StepSeries>> MatchBySeries(
    const BinaryExpr& b, int steps, bool delayed,
    const std::vector<StepSeries>& lhs, const std::vector<StepSeries>& rhs,
    const std::vector<int>& lsig, const std::vector<int>& rsig, int nsig) {
  const VectorMatching& m = *b.matching;
  if (m.fill_lhs.has_value() || m.fill_rhs.has_value()) return std::nullopt;
  const bool one_to_many = m.card == VectorMatchCardinality::kOneToMany;
  std::vector<int> rhs_of(nsig, -1);
  for (size_t k = 0; k < rhs.size(); ++k) {
    if (rhs_of[rsig[k]] >= 0) return std::nullopt;
    rhs_of[rsig[k]] = static_cast<int>(k);
  }
  if (m.card == VectorMatchCardinality::kOneToOne) {
    std::vector<bool> seen(nsig);
    for (int sig : lsig) {
      if (seen[sig]) return std::nullopt;
      seen[sig] = true;
    }
  }
  struct Pair {
    int first;  // The first step with both values.
    int l, r;
  };
  std::vector<Pair> pairs;
  for (size_t k = 0; k < lhs.size(); ++k) {
    const int r = rhs_of[lsig[k]];
    if (r < 0) continue;
    const double* lv = lhs[k].values.data();
    const double* rv = rhs[r].values.data();
    for (int i = 0; i < steps; ++i) {
      if (!IsAbsent(lv[i]) && !IsAbsent(rv[i])) {
        pairs.push_back(Pair{i, static_cast<int>(k), r});
        break;
      }
    }
  }
  std::stable_sort(
      pairs.begin(), pairs.end(),
      [](const Pair& x, const Pair& y) { return x.first < y.first; });
  Outputs outputs(steps);
  std::vector<int> out_idx;
  out_idx.reserve(pairs.size());
  for (const Pair& p : pairs) {
    const int before = outputs.size();
    out_idx.push_back(
        PairOutput(outputs, lhs[p.l].labels, rhs[p.r].labels, b, delayed));
    if (out_idx.back() != before) return std::nullopt;  // Shared output.
  }
  for (size_t n = 0; n < pairs.size(); ++n) {
    const Pair& p = pairs[n];
    const double* lv = lhs[p.l].values.data();
    const double* rv = rhs[p.r].values.data();
    for (int i = p.first; i < steps; ++i) {
      if (IsAbsent(lv[i]) || IsAbsent(rv[i])) continue;
      double l = lv[i], r = rv[i], result;
      if (one_to_many) std::swap(l, r);
      if (!ApplyPair(b, l, r, result)) continue;
      // Each output has one pair, and so one value per step.
      outputs.Set(out_idx[n], i, result).IgnoreError();
    }
  }
  return outputs.Take();
}

absl::StatusOr<std::vector<StepSeries>> VectorVector(
    const QueryContext& ctx, const BinaryExpr& b, int steps,
    std::vector<StepSeries> left, std::vector<StepSeries> right) {
  const VectorMatching& m = *b.matching;
  const bool one_to_many = m.card == VectorMatchCardinality::kOneToMany;
  const bool one_to_one = m.card == VectorMatchCardinality::kOneToOne;
  // The "many" side is lhs, the "one" side rhs; group_right swaps them.
  std::vector<StepSeries>& lhs = one_to_many ? right : left;
  std::vector<StepSeries>& rhs = one_to_many ? left : right;
  const bool delayed = ctx.options->delayed_name_removal;

  SignatureTable sigs;
  std::vector<int> lsig(lhs.size()), rsig(rhs.size());
  for (size_t i = 0; i < lhs.size(); ++i)
    lsig[i] = sigs.Id(Signature(lhs[i].labels, m));
  for (size_t i = 0; i < rhs.size(); ++i)
    rsig[i] = sigs.Id(Signature(rhs[i].labels, m));
  const int nsig = sigs.size();
  std::optional<std::vector<StepSeries>> by_series =
      MatchBySeries(b, steps, delayed, lhs, rhs, lsig, rsig, nsig);
  if (by_series.has_value()) return *std::move(by_series);

  Outputs outputs(steps);
  absl::flat_hash_map<uint64_t, int> pair_output;
  auto output_for = [&](size_t li, int64_t ri) {
    uint64_t key = (static_cast<uint64_t>(li) << 32) |
                   static_cast<uint32_t>(ri < 0 ? 0xffffffffu : ri);
    auto it = pair_output.find(key);
    if (it != pair_output.end()) return it->second;
    static const Labels* const kEmpty = new Labels();
    int idx = PairOutput(outputs, lhs[li].labels,
                         ri < 0 ? *kEmpty : rhs[ri].labels, b, delayed);
    pair_output.emplace(key, idx);
    return idx;
  };
  absl::flat_hash_map<size_t, int> fill_lhs_output;  // rhs index -> output.

  std::vector<int> rhs_at(nsig, -1), rhs_step(nsig, -1);
  std::vector<int> matched_step(nsig, -1);
  // Per output: the step and signature of its last write, for the
  // grouping-labels error.
  std::vector<int> out_step, out_sig;

  const bool fill = m.fill_lhs.has_value() || m.fill_rhs.has_value();
  for (int i = 0; i < steps; ++i) {
    // Nothing can match when a side is empty at this step (and the
    // duplicate check below does not apply), unless a fill creates results.
    bool lhs_any = std::any_of(
        lhs.begin(), lhs.end(),
        [i](const StepSeries& s) { return !IsAbsent(s.values[i]); });
    bool rhs_any = std::any_of(
        rhs.begin(), rhs.end(),
        [i](const StepSeries& s) { return !IsAbsent(s.values[i]); });
    if ((!lhs_any || !rhs_any) && !fill) continue;
    // The "one" side: at most one series per signature.
    for (size_t k = 0; k < rhs.size(); ++k) {
      if (IsAbsent(rhs[k].values[i])) continue;
      int sig = rsig[k];
      if (rhs_step[sig] == i) {
        const Labels& a = rhs[k].labels;
        const Labels& other = rhs[rhs_at[sig]].labels;
        std::string x = a.ToString(), y = other.ToString();
        if (y < x) std::swap(x, y);
        return absl::FailedPreconditionError(absl::StrCat(
            "found duplicate series for the match group ",
            MatchLabels(a, m).ToString(), " on the ",
            one_to_many ? "left" : "right", " hand-side of the operation: [", x,
            ", ", y,
            "];many-to-many matching not allowed: matching labels must be "
            "unique on one side"));
      }
      rhs_step[sig] = i;
      rhs_at[sig] = static_cast<int>(k);
    }
    for (size_t k = 0; k < lhs.size(); ++k) {
      double lv = lhs[k].values[i];
      if (IsAbsent(lv)) continue;
      int sig = lsig[k];
      double l = lv, r;
      int out_idx;
      if (rhs_step[sig] == i) {
        int rk = rhs_at[sig];
        r = rhs[rk].values[i];
        if (one_to_one) {
          if (matched_step[sig] == i) {
            return absl::FailedPreconditionError(
                "multiple matches for labels: many-to-one matching must be "
                "explicit (group_left/group_right)");
          }
        }
        matched_step[sig] = i;
        out_idx = output_for(k, rk);
        if (!one_to_one) {
          if (static_cast<size_t>(out_idx) >= out_step.size()) {
            out_step.resize(out_idx + 1, -1);
            out_sig.resize(out_idx + 1, -1);
          }
          if (out_step[out_idx] == i && out_sig[out_idx] == sig) {
            return absl::FailedPreconditionError(
                "multiple matches for labels: grouping labels must ensure "
                "unique matches");
          }
          out_step[out_idx] = i;
          out_sig[out_idx] = sig;
        }
      } else if (m.fill_rhs) {
        r = *m.fill_rhs;
        out_idx = output_for(k, -1);
      } else {
        continue;
      }
      if (one_to_many) std::swap(l, r);
      double result;
      if (!ApplyPair(b, l, r, result)) continue;
      PROMEVAL_RETURN_IF_ERROR(outputs.Set(out_idx, i, result));
    }
    if (m.fill_lhs) {
      // "One" side series that no "many" side series matched.
      for (size_t k = 0; k < rhs.size(); ++k) {
        double rv = rhs[k].values[i];
        if (IsAbsent(rv) || matched_step[rsig[k]] == i) continue;
        double l = *m.fill_lhs, r = rv;
        if (one_to_many) std::swap(l, r);
        double result;
        if (!ApplyPair(b, l, r, result)) continue;
        auto it = fill_lhs_output.find(k);
        if (it == fill_lhs_output.end()) {
          it = fill_lhs_output
                   .emplace(k,
                            outputs.Index(MatchLabels(rhs[k].labels, m), false))
                   .first;
        }
        PROMEVAL_RETURN_IF_ERROR(outputs.Set(it->second, i, result));
      }
    }
  }
  return outputs.Take();
}

}  // namespace

absl::StatusOr<Value> Evaluator::EvalBinary(const BinaryExpr& b) {
  // A chain of left-nested operators (`a + b + c ...`) may be of any length,
  // so it is evaluated bottom-up in a loop rather than by recursion. An inner
  // node that is evaluated once for all steps (step invariant) starts the
  // loop, through Eval.
  const Expr* leftmost = nullptr;
  std::vector<const BinaryExpr*> spine = LeftSpine(b, &leftmost);
  const Expr* start = leftmost;
  size_t first = 0;
  for (size_t k = spine.size() - 1; k-- > 0;) {
    if (steps_.count > 1 && ctx_.step_invariant->contains(spine[k])) {
      start = spine[k];
      first = k + 1;
      break;
    }
  }
  // Every operator of the chain starts counting where the outermost one
  // does (nothing is counted before its left operand's evaluation).
  const LaneCounts mark = samples_->current();
  // The first operator's right operand may be evaluated alongside `start`.
  std::optional<Value> rhs;
  PROMEVAL_ASSIGN_OR_RETURN(Value acc,
                            EvalOperands(*start, *spine[first]->rhs, rhs));
  for (size_t k = first; k + 1 < spine.size(); ++k) {
    PROMEVAL_RETURN_IF_ERROR(ctx_.CheckCancelled());
    absl::StatusOr<Value> combined =
        CombineBinary(*spine[k], mark, std::move(acc), std::move(rhs));
    if (!combined.ok()) {
      return WithErrorPosition(combined.status(), spine[k]->pos);
    }
    acc = *std::move(combined);
    rhs.reset();
  }
  return CombineBinary(b, mark, std::move(acc), std::move(rhs));
}

namespace {

// Whether evaluating `e` reads series from the store (worth a thread).
bool ReadsSeries(const Expr& e) {
  bool reads = false;
  Inspect(e, [&](const Expr& node) {
    reads = reads || node.kind() == NodeKind::kVectorSelector;
  });
  return reads;
}

}  // namespace

absl::StatusOr<Value> Evaluator::EvalOperands(const Expr& lhs, const Expr& rhs,
                                              std::optional<Value>& rhs_value) {
  const bool invariant =
      steps_.count > 1 && (ctx_.step_invariant->contains(&lhs) ||
                           ctx_.step_invariant->contains(&rhs));
  if (ctx_.pool == nullptr || invariant || !ctx_.querier->ConcurrentSelect() ||
      !ReadsSeries(lhs) || !ReadsSeries(rhs)) {
    return Eval(lhs);
  }
  QueryContext child = ctx_.Child(samples_->lanes());
  absl::StatusOr<Value> forked = absl::UnknownError("not evaluated");
  std::shared_ptr<ThreadPool::Task> task = ctx_.pool->Fork([&] {
    Evaluator ev(child, steps_);
    forked = ev.Eval(rhs);
  });
  absl::StatusOr<Value> left = Eval(lhs);
  ctx_.pool->Join(task);  // Before `child` and `forked` go.
  if (!left.ok()) return left;
  // The right operand counted from zero: on top of what the left one
  // holds it must still fit, or the serial evaluation gives the error (at
  // the place it occurs).
  if (forked.ok() && samples_->Fits(child.samples) &&
      ctx_.bytes.Fits(child.bytes.peak())) {
    PROMEVAL_RETURN_IF_ERROR(ctx_.MergeChild(child));
    PROMEVAL_RETURN_IF_ERROR(samples_->MergeChild(child.samples));
    rhs_value = *std::move(forked);
  }
  return left;
}

absl::StatusOr<Value> Evaluator::CombineBinary(const BinaryExpr& b,
                                               const LaneCounts& mark,
                                               Value lhs,
                                               std::optional<Value> evaluated) {
  if (!evaluated.has_value()) {
    PROMEVAL_ASSIGN_OR_RETURN(evaluated, Eval(*b.rhs));
  }
  Value rhs = *std::move(evaluated);
  // Prometheus's rangeEval gathers both operands' samples at each step.
  StepCounts gathered = Counts(lhs);
  const StepCounts& right = Counts(rhs);
  for (size_t k = 0; k < gathered.size(); ++k) gathered[k] += right[k];
  absl::StatusOr<Value> out = Combine(b, std::move(lhs), std::move(rhs));
  if (!out.ok()) return out;
  PROMEVAL_RETURN_IF_ERROR(AccountRangeEval(mark, gathered, *out));
  return out;
}

absl::StatusOr<Value> Evaluator::Combine(const BinaryExpr& b, Value lhs,
                                         Value rhs) {
  using K = Value::Kind;
  if (lhs.kind == K::kScalar && rhs.kind == K::kScalar) {
    return ScalarScalar(b, std::move(lhs.scalar), rhs.scalar);
  }
  if (lhs.kind == K::kVector && rhs.kind == K::kScalar) {
    return VectorScalar(ctx_, b, std::move(lhs.vector), rhs.scalar, false);
  }
  if (lhs.kind == K::kScalar && rhs.kind == K::kVector) {
    return VectorScalar(ctx_, b, std::move(rhs.vector), lhs.scalar, true);
  }
  if (IsSetOp(b.op)) {
    return Value::Vector(SetOperation(b, steps_.count, std::move(lhs.vector),
                                      std::move(rhs.vector)));
  }
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<StepSeries> out,
      VectorVector(ctx_, b, steps_.count, std::move(lhs.vector),
                   std::move(rhs.vector)));
  return Value::Vector(std::move(out));
}

}  // namespace promeval::eval
