// Histogram functions over classic histograms (series with an `le` label),
// as Prometheus's funcHistogramQuantile and BucketQuantile. Native
// histograms are not supported: the functions that only read native
// histograms see none and return nothing, as Prometheus does for float
// input.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "eval/almost.h"
#include "eval/functions.h"
#include "eval/functions/families.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {
namespace {

struct Bucket {
  double upper;
  double count;
};

// What ensuring monotonic counts changed in one histogram.
struct BucketFix {
  bool forced = false;
  double min_bucket = std::numeric_limits<double>::infinity();
  double max_bucket = -std::numeric_limits<double>::infinity();
  double max_diff = 0;
};

void SortBuckets(std::vector<Bucket>& buckets) {
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
}

// Sums buckets with equal bounds (sorted input).
void Coalesce(std::vector<Bucket>& buckets) {
  size_t i = 0;
  Bucket last = buckets[0];
  for (size_t k = 1; k < buckets.size(); ++k) {
    if (buckets[k].upper == last.upper) {
      last.count += buckets[k].count;
    } else {
      buckets[i++] = last;
      last = buckets[k];
    }
  }
  buckets[i] = last;
  buckets.resize(i + 1);
}

// Absorbs differences within the relative tolerance 1e-12 and raises counts
// that decrease to the last accepted count.
BucketFix EnsureMonotonic(std::vector<Bucket>& buckets) {
  BucketFix fix;
  double prev = buckets[0].count;
  for (size_t i = 1; i < buckets.size(); ++i) {
    double cur = buckets[i].count;
    if (cur == prev) continue;
    if (AlmostEqual(prev, cur, 1e-12)) {
      buckets[i].count = prev;
      continue;
    }
    if (cur < prev) {
      buckets[i].count = prev;
      fix.forced = true;
      fix.min_bucket = std::min(fix.min_bucket, buckets[i].upper);
      fix.max_bucket = std::max(fix.max_bucket, buckets[i].upper);
      fix.max_diff = std::max(fix.max_diff, prev - cur);
      continue;
    }
    prev = cur;
  }
  return fix;
}

// Prometheus's BucketQuantile: linear interpolation in the bucket holding
// the rank, with 0 as the lower bound of a positive first bucket.
double BucketQuantile(double q, std::vector<Bucket>& buckets, BucketFix& fix) {
  fix = BucketFix();
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  SortBuckets(buckets);
  if (!std::isinf(buckets.back().upper) || buckets.back().upper < 0) {
    return std::nan("");
  }
  Coalesce(buckets);
  BucketFix found = EnsureMonotonic(buckets);
  if (buckets.size() < 2) return std::nan("");
  double observations = buckets.back().count;
  if (observations == 0) return std::nan("");
  fix = found;
  double rank = q * observations;
  // The first bucket (excluding +Inf) whose count reaches the rank.
  size_t b = buckets.size() - 1;
  for (size_t i = 0; i + 1 < buckets.size(); ++i) {
    if (buckets[i].count >= rank) {
      b = i;
      break;
    }
  }
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper;
  if (b == 0 && buckets[0].upper <= 0) return buckets[0].upper;
  double start = 0, end = buckets[b].upper, count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

// Prometheus's BucketFraction: the share of observations in (lower, upper],
// interpolating linearly inside buckets; the first bucket starts at 0 if its
// bound is positive, else at -Inf (and then counts whole).
double BucketFraction(double lower, double upper,
                      std::vector<Bucket>& buckets) {
  SortBuckets(buckets);
  if (!std::isinf(buckets.back().upper) || buckets.back().upper < 0) {
    return std::nan("");
  }
  Coalesce(buckets);
  const double count = buckets.back().count;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) {
    return std::nan("");
  }
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  double lower_bound =
      buckets[0].upper <= 0 ? -std::numeric_limits<double>::infinity() : 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (i > 0) lower_bound = buckets[i - 1].upper;
    const double upper_bound = buckets[i].upper;
    const double cumulative = buckets[i].count;
    auto interpolate = [&](double v) {
      if (std::isinf(lower_bound) && lower_bound < 0) return cumulative;
      return rank + (cumulative - rank) * (v - lower_bound) /
                        (upper_bound - lower_bound);
    };
    if (!lower_set && lower_bound >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lower_bound >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lower_bound < lower && upper_bound > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && lower_bound < upper && upper_bound > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = cumulative;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

// The classic histograms of an instant vector: its series grouped by all
// labels but `le` (the name included).
struct BucketGroup {
  Labels labels;  // Without `le`.
  bool drop_name = false;
  std::vector<int> members;
  std::vector<double> bounds;
};

// Groups `in`; series without a parsable `le` are skipped with Prometheus's
// warning at `pos`.
std::vector<BucketGroup> GroupBuckets(QueryContext& ctx,
                                      const std::vector<StepSeries>& in,
                                      PositionRange pos) {
  std::vector<BucketGroup> groups;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash;
  for (size_t k = 0; k < in.size(); ++k) {
    const Labels& labels = in[k].labels;
    absl::string_view le = labels.Get("le");
    absl::StatusOr<double> upper = ParseNumber(le);
    if (le.empty() || !upper.ok()) {
      ctx.Annotate(
          Annotation::Kind::kWarning,
          absl::StrCat(
              "bucket label \"le\" is missing or has a malformed value of ",
              GoQuote(le), " for metric name ",
              GoQuote(labels.Get(kMetricName))),
          pos);
      continue;
    }
    Labels key = LabelsBuilder(labels).Del("le").Build();
    auto& list = by_hash[key.Hash()];
    int id = -1;
    for (int cand : list) {
      if (groups[cand].labels == key) id = cand;
    }
    if (id < 0) {
      id = static_cast<int>(groups.size());
      list.push_back(id);
      groups.push_back(BucketGroup{std::move(key), false, {}, {}});
    }
    groups[id].members.push_back(static_cast<int>(k));
    groups[id].bounds.push_back(*upper);
    if (in[k].drop_name) groups[id].drop_name = true;
  }
  return groups;
}

// The buckets of `g` with a value at step `i`.
void BucketsAt(const BucketGroup& g, const std::vector<StepSeries>& in, int i,
               std::vector<Bucket>& out) {
  out.clear();
  for (size_t m = 0; m < g.members.size(); ++m) {
    double v = in[g.members[m]].values[i];
    if (!IsAbsent(v)) out.push_back(Bucket{g.bounds[m], v});
  }
}

// Applies `f(group, step, buckets)` to the buckets of each group at each
// step that has any; groups without a value are dropped, the metric name is
// dropped from the others.
template <typename F>
absl::StatusOr<Value> MapGroups(FunctionCall& c,
                                std::vector<BucketGroup>& groups,
                                const std::vector<StepSeries>& in, F f) {
  std::vector<StepSeries> out;
  std::vector<Bucket> buckets;
  for (BucketGroup& g : groups) {
    StepSeries s;
    s.values.assign(c.steps().count, Absent());
    bool any = false;
    for (int i = 0; i < c.steps().count; ++i) {
      BucketsAt(g, in, i, buckets);
      if (buckets.empty()) continue;
      s.values[i] = f(g, i, buckets);
      any = true;
    }
    if (!any) continue;
    s.labels = std::move(g.labels);
    s.drop_name = g.drop_name;
    out.push_back(std::move(s));
  }
  PROMEVAL_RETURN_IF_ERROR(DropMetricNames(c.ctx(), out));
  return Value::Vector(std::move(out));
}

// Collects the monotonicity corrections of one function call, one entry per
// annotation message, for QueryContext::AnnotateForcedMonotonicity.
class FixCollector {
 public:
  FixCollector(FunctionCall& c, PositionRange pos) : c_(c), pos_(pos) {}

  void Add(const BucketGroup& g, int step, const BucketFix& fix) {
    if (!fix.forced) return;
    // Prometheus names the metric only when it is still known.
    std::string message =
        "input to histogram_quantile needed to be fixed for monotonicity "
        "(see https://prometheus.io/docs/prometheus/latest/querying/"
        "functions/#histogram_quantile)";
    absl::string_view name = g.labels.Get(kMetricName);
    if (c_.ctx().options->delayed_name_removal && !name.empty()) {
      absl::StrAppend(&message, " for metric name ", GoQuote(name));
    }
    int64_t ts = c_.steps().At(step);
    MonotonicityFix f{fix.min_bucket, fix.max_bucket, fix.max_diff, ts, ts, 1};
    for (auto& [m, acc] : fixes_) {
      if (m == message) {
        acc.Merge(f);
        return;
      }
    }
    fixes_.emplace_back(std::move(message), f);
  }

  ~FixCollector() {
    for (auto& [message, fix] : fixes_) {
      c_.ctx().AnnotateForcedMonotonicity(std::move(message), pos_, fix);
    }
  }

 private:
  FunctionCall& c_;
  PositionRange pos_;
  std::vector<std::pair<std::string, MonotonicityFix>> fixes_;
};

// Prometheus's labels.FormatOpenMetricsFloat: Go's shortest form with ".0"
// added to integers.
std::string FormatOpenMetricsFloat(double v) {
  std::string s = FormatFloatGo(v);
  if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) {
    s += ".0";
  }
  return s;
}

}  // namespace

namespace functions {

absl::StatusOr<Value> HistogramQuantile(FunctionCall& c) {
  const std::vector<double>& q = c.scalar(0);
  AnnotateInvalidQuantiles(c.ctx(), q, c.call.args[0]->pos);
  const std::vector<StepSeries>& in = c.vector(1);
  std::vector<BucketGroup> groups =
      GroupBuckets(c.ctx(), in, c.call.args[1]->pos);
  FixCollector fixes(c, c.call.args[1]->pos);
  return MapGroups(c, groups, in,
                   [&](const BucketGroup& g, int i, std::vector<Bucket>& b) {
                     BucketFix fix;
                     double v = BucketQuantile(q[i], b, fix);
                     fixes.Add(g, i, fix);
                     return v;
                   });
}

absl::StatusOr<Value> HistogramQuantiles(FunctionCall& c) {
  const std::vector<StepSeries>& in = c.vector(0);
  const std::string& label = c.string(1);
  const size_t num_q = c.args.size() - 2;
  for (size_t k = 0; k < num_q; ++k) {
    AnnotateInvalidQuantiles(c.ctx(), c.scalar(k + 2), c.call.args[k + 2]->pos);
  }
  std::vector<BucketGroup> groups =
      GroupBuckets(c.ctx(), in, c.call.args[0]->pos);
  const bool delayed = c.ctx().options->delayed_name_removal;
  for (BucketGroup& g : groups) {
    if (!delayed) g.labels = g.labels.WithoutMetricName();
  }
  // One output series per group, quantile parameter and label value (a
  // parameter that varies over the steps gives several).
  std::vector<StepSeries> out;
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<Bucket> buckets;
  FixCollector fixes(c, c.call.args[0]->pos);
  for (size_t k = 0; k < num_q; ++k) {
    const std::vector<double>& q = c.scalar(k + 2);
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const BucketGroup& g = groups[gi];
      for (int i = 0; i < c.steps().count; ++i) {
        BucketsAt(g, in, i, buckets);
        if (buckets.empty()) continue;
        BucketFix fix;
        double v = BucketQuantile(q[i], buckets, fix);
        fixes.Add(g, i, fix);
        std::string q_label = FormatOpenMetricsFloat(q[i]);
        auto [it, inserted] = index.try_emplace(
            absl::StrCat(k, "/", gi, "/", q_label), out.size());
        if (inserted) {
          StepSeries s;
          s.labels = LabelsBuilder(g.labels).Set(label, q_label).Build();
          s.drop_name = delayed;
          s.values.assign(c.steps().count, Absent());
          out.push_back(std::move(s));
        }
        out[it->second].values[i] = v;
      }
    }
  }
  PROMEVAL_RETURN_IF_ERROR(MergeSameLabelsets(out));
  return Value::Vector(std::move(out));
}

absl::StatusOr<Value> HistogramFraction(FunctionCall& c) {
  const std::vector<double>& lower = c.scalar(0);
  const std::vector<double>& upper = c.scalar(1);
  const std::vector<StepSeries>& in = c.vector(2);
  std::vector<BucketGroup> groups =
      GroupBuckets(c.ctx(), in, c.call.args[2]->pos);
  return MapGroups(c, groups, in,
                   [&](const BucketGroup&, int i, std::vector<Bucket>& b) {
                     return BucketFraction(lower[i], upper[i], b);
                   });
}

absl::StatusOr<Value> NativeHistogramOnly(FunctionCall&) {
  // Only native histogram samples have a count, sum, ...: float input gives
  // no result.
  return Value::Vector({});
}

absl::StatusOr<Value> Unsupported(FunctionCall& c) {
  return absl::UnimplementedError(
      absl::StrCat(LineColumn(c.ctx().query, c.call.pos.start), ": function ",
                   GoQuote(c.call.func->name), " is not supported"));
}

}  // namespace functions
}  // namespace promeval::eval
