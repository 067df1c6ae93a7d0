// Label-set checks and merges over instant-vector series: Prometheus's
// "vector cannot contain metrics with the same labelset" rules and the
// removal of metric names.
//
// Internal to promeval; thread-safe functions (UniqueLabelsets is used by
// one thread).
#ifndef PROMEVAL_EVAL_LABELSETS_H_
#define PROMEVAL_EVAL_LABELSETS_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "eval/step_values.h"
#include "promeval/labels.h"

namespace promeval::eval {

struct QueryContext;

// Merges series with equal label sets (and the same drop_name mark) into
// one, as Prometheus collects a range evaluation's points by label set; two
// of them with a value at the same step fail with "vector cannot contain
// metrics with the same labelset".
absl::Status MergeSameLabelsets(std::vector<StepSeries>& series);

// Fails with "vector cannot contain metrics with the same labelset" if two
// series have equal label sets (Prometheus's check of a whole matrix).
absl::Status RequireUniqueLabelsets(const std::vector<StepSeries>& series);

// The same check over series that come one at a time.
class UniqueLabelsets {
 public:
  // Fails with SameLabelsetError() if an earlier series has its labels.
  absl::Status Add(const StepSeries& s);

 private:
  absl::flat_hash_map<uint64_t, Labels> first_;  // By label hash.
  // Later label sets whose hash an earlier, different one has (rare).
  std::vector<std::pair<uint64_t, Labels>> collisions_;
};

// Drops the metric name of every series (then merges equal label sets), or
// with delayed name removal marks it to be dropped at the end.
absl::Status DropMetricNames(const QueryContext& ctx,
                             std::vector<StepSeries>& series);

absl::Status SameLabelsetError();

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_LABELSETS_H_
