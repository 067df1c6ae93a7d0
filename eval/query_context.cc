// The query context: annotations, limits, statistics, child contexts for
// other threads and the parallel loops.
#include "eval/query_context.h"

#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {

QueryContext::QueryContext(const EngineOptions& options, int lanes)
    : options(&options),
      samples(options.max_samples, lanes),
      bytes(options.max_bytes) {}

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

QueryContext QueryContext::Child(int lanes) const {
  QueryContext child(*options, lanes);
  child.querier = querier;
  child.query = query;
  child.query_start = query_start;
  child.query_end = query_end;
  child.query_step = query_step;
  child.deadline = deadline;
  child.cancelled = cancelled;
  child.step_invariant = step_invariant;
  child.select_hints = select_hints;
  child.pool = pool;
  return child;
}

absl::Status QueryContext::MergeChild(const QueryContext& child) {
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
  samples_read += child.samples_read;
  return bytes.MergeChild(child.bytes);
}

QueryStats QueryContext::Stats() const {
  QueryStats stats;
  stats.samples_read = samples_read;
  stats.peak_samples = samples.peak();
  stats.total_queryable_samples = samples.total();
  stats.peak_bytes = bytes.peak();
  return stats;
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

absl::Status WithErrorPosition(absl::Status status, PositionRange pos) {
  if (absl::IsCancelled(status) || absl::IsDeadlineExceeded(status) ||
      status.GetPayload(kErrorPositionUrl).has_value()) {
    return status;
  }
  status.SetPayload(kErrorPositionUrl,
                    absl::Cord(absl::StrCat(pos.start, ":", pos.end)));
  return status;
}

absl::Status AsStorageError(absl::Status status) {
  if (!status.ok()) status.SetPayload(kStorageErrorUrl, absl::Cord());
  return status;
}

absl::Status QueryContext::CheckSteps(int64_t count, bool per_step) const {
  if ((!per_step && count > options->max_samples) || count > INT32_MAX) {
    return TooManySamplesError();
  }
  if (!bytes.Fits(count * static_cast<int64_t>(sizeof(double)))) {
    ByteAccounting probe(options->max_bytes);
    return probe.Reserve(bytes.current() + count * sizeof(double));
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

}  // namespace promeval::eval
