// Label-set checks and merges over instant-vector series.
#include "eval/labelsets.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "eval/query_context.h"
#include "promeval/status_macros.h"

namespace promeval::eval {

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

}  // namespace promeval::eval
