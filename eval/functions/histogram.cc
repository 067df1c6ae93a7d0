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

// Sorts by upper bound and sums buckets with equal bounds.
void SortAndCoalesce(std::vector<Bucket>& buckets) {
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
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

// Raises decreasing counts and ignores tiny differences; returns whether a
// decrease had to be fixed.
bool EnsureMonotonic(std::vector<Bucket>& buckets) {
  bool forced = false;
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
      forced = true;
      continue;
    }
    prev = cur;
  }
  return forced;
}

double BucketQuantile(double q, std::vector<Bucket>& buckets, bool& forced) {
  forced = false;
  if (std::isnan(q)) return std::nan("");
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(buckets.begin(), buckets.end(),
            [](const Bucket& a, const Bucket& b) { return a.upper < b.upper; });
  if (!std::isinf(buckets.back().upper) || buckets.back().upper < 0) {
    return std::nan("");
  }
  SortAndCoalesce(buckets);
  forced = EnsureMonotonic(buckets);
  if (buckets.size() < 2) return std::nan("");
  double observations = buckets.back().count;
  if (observations == 0) return std::nan("");
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

}  // namespace

namespace functions {

absl::StatusOr<Value> HistogramQuantile(FunctionCall& c) {
  const std::vector<double>& q = c.scalar(0);
  AnnotateInvalidQuantiles(c.ctx(), q, c.call.args[0]->pos);
  const std::vector<StepSeries>& in = c.vector(1);
  // Group the buckets by all labels but `le` (the name included).
  struct Group {
    Labels labels;  // Without `le`.
    bool drop_name = false;
    std::vector<int> members;
    std::vector<double> bounds;
  };
  std::vector<Group> groups;
  absl::flat_hash_map<uint64_t, std::vector<int>> by_hash;
  for (size_t k = 0; k < in.size(); ++k) {
    const Labels& labels = in[k].labels;
    absl::string_view le = labels.Get("le");
    absl::StatusOr<double> upper = ParseNumber(le);
    if (le.empty() || !upper.ok()) {
      c.ctx().Annotate(
          Annotation::Kind::kWarning,
          absl::StrCat(
              "bucket label \"le\" is missing or has a malformed value of ",
              GoQuote(le), " for metric name ",
              GoQuote(labels.Get(kMetricName))),
          c.call.args[1]->pos);
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
      groups.push_back(Group{std::move(key), false, {}, {}});
    }
    groups[id].members.push_back(static_cast<int>(k));
    groups[id].bounds.push_back(*upper);
    if (in[k].drop_name) groups[id].drop_name = true;
  }
  std::vector<StepSeries> out;
  std::vector<Bucket> buckets;
  for (Group& g : groups) {
    StepSeries s;
    s.values.assign(c.steps().count, Absent());
    bool any = false;
    for (int i = 0; i < c.steps().count; ++i) {
      buckets.clear();
      for (size_t m = 0; m < g.members.size(); ++m) {
        double v = in[g.members[m]].values[i];
        if (!IsAbsent(v)) buckets.push_back(Bucket{g.bounds[m], v});
      }
      if (buckets.empty()) continue;
      bool forced = false;
      s.values[i] = BucketQuantile(q[i], buckets, forced);
      any = true;
      if (forced) {
        c.ctx().Annotate(
            Annotation::Kind::kInfo,
            absl::StrCat(
                "input to histogram_quantile needed to be fixed for "
                "monotonicity (see "
                "https://prometheus.io/docs/prometheus/latest/querying/"
                "functions/#histogram_quantile) for metric name ",
                GoQuote(g.labels.Get(kMetricName))),
            c.call.args[1]->pos);
      }
    }
    if (!any) continue;
    s.labels = std::move(g.labels);
    s.drop_name = g.drop_name;
    out.push_back(std::move(s));
  }
  PROMEVAL_RETURN_IF_ERROR(DropMetricNames(c.ctx(), out));
  return Value::Vector(std::move(out));
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
