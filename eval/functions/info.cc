// info(v, selector): adds the data labels of info series (target_info by
// default) to the series of v that share their identifying labels (instance
// and job), as Prometheus's metric-join enrichment.
//
// The info series are read at the time the first selector of v reads its
// data (its @ and offset, and those of the subqueries around it), so
// `info(m offset 1h)` enriches with the info labels of an hour ago. Per step,
// among info series of one metric with the same identifying labels the one
// with the newest sample wins.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval/functions.h"
#include "eval/functions/families.h"
#include "promeval/status_macros.h"
#include "re2/re2.h"

namespace promeval::eval {
namespace {

constexpr absl::string_view kTargetInfo = "target_info";
constexpr absl::string_view kIdentifyingLabels[] = {"instance", "job"};

// When the info series are read relative to the step time: a fixed time
// (@) or the step time minus an offset.
struct InfoReadTime {
  bool fixed = false;
  int64_t at_ms = 0;
  int64_t offset_ms = 0;
};

// Walks to the first vector selector of `e` (in Prometheus's child order),
// applying the @ and offset of each subquery and of the selector on the way.
absl::StatusOr<bool> FindReadTime(const QueryContext& ctx, const Expr& e,
                                  InfoReadTime& t) {
  auto apply = [&](const AtModifier& at, int64_t offset_ms,
                   const Expr* offset_expr) -> absl::Status {
    PROMEVAL_ASSIGN_OR_RETURN(int64_t offset,
                              OffsetOf(ctx, offset_ms, offset_expr));
    if (at.is_set()) {
      t.fixed = true;
      t.at_ms = AtTime(ctx, at);
      t.offset_ms = 0;
    }
    t.offset_ms += offset;
    return absl::OkStatus();
  };
  switch (e.kind()) {
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      PROMEVAL_RETURN_IF_ERROR(
          apply(vs.at, vs.original_offset_ms, vs.offset_expr.get()));
      return true;
    }
    case NodeKind::kMatrixSelector:
      return FindReadTime(
          ctx, *static_cast<const MatrixSelector&>(e).vector_selector, t);
    case NodeKind::kSubqueryExpr: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      InfoReadTime saved = t;
      PROMEVAL_RETURN_IF_ERROR(
          apply(sq.at, sq.original_offset_ms, sq.offset_expr.get()));
      PROMEVAL_ASSIGN_OR_RETURN(bool found, FindReadTime(ctx, *sq.expr, t));
      if (!found) t = saved;
      return found;
    }
    case NodeKind::kParenExpr:
      return FindReadTime(ctx, *static_cast<const ParenExpr&>(e).expr, t);
    case NodeKind::kUnaryExpr:
      return FindReadTime(ctx, *static_cast<const UnaryExpr&>(e).expr, t);
    case NodeKind::kBinaryExpr: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      PROMEVAL_ASSIGN_OR_RETURN(bool found, FindReadTime(ctx, *b.lhs, t));
      if (found) return true;
      return FindReadTime(ctx, *b.rhs, t);
    }
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      PROMEVAL_ASSIGN_OR_RETURN(bool found, FindReadTime(ctx, *a.expr, t));
      if (found || a.param == nullptr) return found;
      return FindReadTime(ctx, *a.param, t);
    }
    case NodeKind::kCall:
      for (const ExprPtr& arg : static_cast<const Call&>(e).args) {
        PROMEVAL_ASSIGN_OR_RETURN(bool found, FindReadTime(ctx, *arg, t));
        if (found) return true;
      }
      return false;
    default:
      return false;
  }
}

// The identity of an info series for joining: its metric name and the
// identifying labels it has.
std::string Signature(absl::string_view info_name, const Labels& labels) {
  std::string sig(info_name);
  for (absl::string_view name : kIdentifyingLabels) {
    absl::string_view v = labels.Get(name);
    if (v.empty()) continue;
    absl::StrAppend(&sig, "\xff", name, "\xff", v);
  }
  return sig;
}

bool MatchesAll(const std::vector<Matcher>& matchers, absl::string_view v) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(v)) return false;
  }
  return true;
}

}  // namespace

namespace functions {

absl::StatusOr<Value> Info(FunctionCall& c) {
  std::vector<StepSeries>& base = c.vector(0);
  const Steps& steps = c.steps();

  // The info series selector: the matchers of the second argument, split
  // into metric name matchers and data label matchers.
  std::vector<Matcher> name_matchers;
  std::vector<Matcher> data_matchers;
  if (c.call.args.size() > 1) {
    const auto* sel = As<VectorSelector>(c.call.args[1].get());
    if (sel == nullptr) {
      return absl::InvalidArgumentError(
          "info(): the second argument must be a label selector");
    }
    for (const Matcher& m : sel->matchers) {
      (m.name() == kMetricName ? name_matchers : data_matchers).push_back(m);
    }
  }
  bool positive_name = false;
  for (const Matcher& m : name_matchers) {
    if (m.type() == MatchType::kEqual || m.type() == MatchType::kRegexp) {
      positive_name = true;
    }
  }
  // Input series whose name matches every name matcher are info series
  // themselves; with a selector but no name matcher there are none.
  const bool ignore_any = c.call.args.size() == 1 || !name_matchers.empty();
  if (name_matchers.empty()) {
    PROMEVAL_ASSIGN_OR_RETURN(
        Matcher m, Matcher::Create(MatchType::kEqual, std::string(kMetricName),
                                   std::string(kTargetInfo)));
    name_matchers.push_back(std::move(m));
  } else if (!positive_name) {
    // Only negative name matchers would select every other metric: limit
    // them to info metrics.
    PROMEVAL_ASSIGN_OR_RETURN(
        Matcher m, Matcher::Create(MatchType::kRegexp, std::string(kMetricName),
                                   ".+_info"));
    name_matchers.push_back(std::move(m));
  }
  bool data_matchers_match_empty = MatchesAll(data_matchers, "");

  // Info series among the input are passed through unchanged.
  std::vector<bool> ignored(base.size());
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> id_values;
  for (size_t i = 0; i < base.size(); ++i) {
    ignored[i] = ignore_any &&
                 MatchesAll(name_matchers, base[i].labels.Get(kMetricName));
    if (ignored[i]) continue;
    for (absl::string_view name : kIdentifyingLabels) {
      absl::string_view v = base[i].labels.Get(name);
      if (!v.empty()) id_values[name].insert(std::string(v));
    }
  }

  // Select the info series that can join: one regex matcher per identifying
  // label over the values the input has.
  Value info_value = Value::Vector({});
  if (!id_values.empty()) {
    VectorSelector sel(c.call.pos);
    for (absl::string_view name : kIdentifyingLabels) {
      auto it = id_values.find(name);
      if (it == id_values.end()) continue;
      std::vector<std::string> quoted;
      for (const std::string& v : it->second) {
        quoted.push_back(RE2::QuoteMeta(v));
      }
      std::sort(quoted.begin(), quoted.end());
      PROMEVAL_ASSIGN_OR_RETURN(
          Matcher m, Matcher::Create(MatchType::kRegexp, std::string(name),
                                     absl::StrJoin(quoted, "|")));
      sel.matchers.push_back(std::move(m));
    }
    for (const Matcher& m : name_matchers) sel.matchers.push_back(m);
    for (const Matcher& m : data_matchers) sel.matchers.push_back(m);
    InfoReadTime t;
    PROMEVAL_RETURN_IF_ERROR(
        FindReadTime(c.ctx(), *c.call.args[0], t).status());
    if (t.fixed) {
      sel.at.kind = AtModifier::Kind::kTimestamp;
      sel.at.timestamp_ms = t.at_ms - t.offset_ms;
    } else {
      sel.original_offset_ms = t.offset_ms;
    }
    // The values are the timestamps of the samples, to pick the newest.
    PROMEVAL_ASSIGN_OR_RETURN(
        info_value, c.ev.EvalVectorSelector(sel, /*timestamps=*/true));
  }
  // Prometheus loads the info series (and keeps them counted), then joins
  // on rangeEval, gathering the input and the info series at each step.
  PROMEVAL_RETURN_IF_ERROR(c.ev.AccountSelected(info_value));
  const std::vector<StepSeries>& info = info_value.vector;
  const LaneCounts mark = c.ev.samples().current();
  StepCounts gathered = c.ev.Counts(c.args[0]);
  const StepCounts& info_counts = c.ev.Counts(info_value);
  for (size_t k = 0; k < gathered.size(); ++k) gathered[k] += info_counts[k];

  // The signatures of the info series, and of each input series per info
  // metric name.
  std::vector<std::string> info_names;
  std::vector<std::string> info_sigs;
  for (const StepSeries& s : info) {
    absl::string_view name = s.labels.Get(kMetricName);
    if (std::find(info_names.begin(), info_names.end(), name) ==
        info_names.end()) {
      info_names.emplace_back(name);
    }
    info_sigs.push_back(Signature(name, s.labels));
  }
  std::vector<std::vector<std::string>> base_sigs(base.size());
  for (size_t i = 0; i < base.size(); ++i) {
    if (ignored[i]) continue;
    for (const std::string& name : info_names) {
      base_sigs[i].push_back(Signature(name, base[i].labels));
    }
  }

  std::vector<StepSeries> out;
  absl::flat_hash_map<uint64_t, std::vector<size_t>> out_index;
  auto emit = [&](const Labels& labels, bool drop_name, int step,
                  double v) -> absl::Status {
    std::vector<size_t>& list = out_index[labels.Hash()];
    size_t id = out.size();
    for (size_t cand : list) {
      if (out[cand].labels == labels) id = cand;
    }
    if (id == out.size()) {
      list.push_back(id);
      StepSeries s;
      s.labels = labels;
      s.drop_name = drop_name;
      s.values.assign(steps.count, Absent());
      out.push_back(std::move(s));
    }
    double& slot = out[id].values[step];
    if (!IsAbsent(slot)) return SameLabelsetError();
    slot = v;
    return absl::OkStatus();
  };

  absl::flat_hash_map<absl::string_view, size_t> by_sig;
  for (int step = 0; step < steps.count; ++step) {
    PROMEVAL_RETURN_IF_ERROR(c.ctx().CheckCancelled());
    by_sig.clear();
    for (size_t k = 0; k < info.size(); ++k) {
      double ts = info[k].values[step];
      if (IsAbsent(ts)) continue;
      auto [it, inserted] = by_sig.try_emplace(info_sigs[k], k);
      if (inserted) continue;
      double existing = info[it->second].values[step];
      if (existing < ts) {
        it->second = k;
      } else if (existing == ts) {
        return absl::InvalidArgumentError(absl::StrCat(
            "found duplicate series for info metric: existing ",
            info[it->second].labels.ToString(), " @ ",
            static_cast<int64_t>(existing * 1000), ", new ",
            info[k].labels.ToString(), " @ ", static_cast<int64_t>(ts * 1000)));
      }
    }
    for (size_t i = 0; i < base.size(); ++i) {
      const StepSeries& b = base[i];
      double v = b.values[step];
      if (IsAbsent(v)) continue;
      if (ignored[i]) {
        PROMEVAL_RETURN_IF_ERROR(emit(b.labels, b.drop_name, step, v));
        continue;
      }
      std::vector<Label> data;
      bool matched = false;
      for (const std::string& sig : base_sigs[i]) {
        auto it = by_sig.find(sig);
        if (it == by_sig.end()) continue;
        for (const Label& l : info[it->second].labels) {
          if (l.name == kMetricName) continue;
          if (!data_matchers.empty() &&
              std::none_of(
                  data_matchers.begin(), data_matchers.end(),
                  [&](const Matcher& m) { return m.name() == l.name; })) {
            continue;
          }
          auto prev =
              std::find_if(data.begin(), data.end(),
                           [&](const Label& d) { return d.name == l.name; });
          if (prev != data.end()) {
            if (prev->value != l.value) {
              return absl::InvalidArgumentError(
                  absl::StrCat("conflicting label: ", l.name));
            }
            continue;
          }
          if (b.labels.Has(l.name)) continue;
          data.push_back(l);
        }
        matched = true;
      }
      if (!matched && !data_matchers_match_empty) continue;
      LabelsBuilder lb(b.labels);
      for (const Label& l : data) lb.Set(l.name, l.value);
      PROMEVAL_RETURN_IF_ERROR(emit(lb.Build(), b.drop_name, step, v));
    }
  }
  Value result = Value::Vector(std::move(out));
  PROMEVAL_RETURN_IF_ERROR(c.ev.AccountRangeEval(mark, gathered, result));
  c.accounted = true;
  return result;
}

}  // namespace functions
}  // namespace promeval::eval
