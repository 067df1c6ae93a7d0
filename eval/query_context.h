// What the evaluators of one query share: the engine's options and limits,
// the querier, the query's times, its annotations, its accounting, its
// deadline and cancellation, and the loops it may run in parallel.
//
// Internal to promeval. A QueryContext is used by one thread; work on other
// threads gets a Child() that is merged back (MergeChild).
#ifndef PROMEVAL_EVAL_QUERY_CONTEXT_H_
#define PROMEVAL_EVAL_QUERY_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eval/accounting.h"
#include "eval/thread_pool.h"
#include "promeval/ast.h"
#include "promeval/engine.h"
#include "promeval/storage.h"
#include "promeval/value.h"

namespace promeval::eval {

// What histogram_quantile had to correct to make classic bucket counts
// monotonic, accumulated over the samples it corrected.
struct MonotonicityFix {
  double min_bucket = 0;  // The smallest and largest raised upper bound.
  double max_bucket = 0;
  double max_diff = 0;  // The largest amount a count was raised by.
  int64_t min_ts = 0;   // The first and last step time affected (ms).
  int64_t max_ts = 0;
  int64_t samples = 0;  // The number of corrected histograms.

  void Merge(const MonotonicityFix& o);
};

struct QueryContext {
  // `lanes` of the sample accounting: 1, or the query's steps when each
  // step is counted as an instant query (QueryControl).
  QueryContext(const EngineOptions& options, int lanes);

  const EngineOptions* options;
  Querier* querier = nullptr;
  absl::string_view query;  // For annotation positions.
  int64_t query_start = 0;  // For @ start() / @ end(), start(), end()...
  int64_t query_end = 0;
  int64_t query_step = 0;
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancelled = nullptr;
  // The subtrees Prometheus wraps in a StepInvariantExpr (evaluated once
  // and replicated over the steps).
  const absl::flat_hash_set<const Expr*>* step_invariant = nullptr;
  // Each vector selector's hints but its times (func, by, grouping).
  const absl::flat_hash_map<const Expr*, SelectHints>* select_hints = nullptr;
  std::vector<Annotation> annotations;
  // The merged monotonicity infos: the annotation index each one renders to.
  struct MergedFix {
    size_t index;
    std::string message;
    MonotonicityFix fix;
  };
  std::vector<MergedFix> monotonicity_fixes;
  int64_t samples_read = 0;  // Samples read from storage (QueryStats).
  SampleAccounting samples;
  ByteAccounting bytes;
  ThreadPool* pool = nullptr;  // Null: no parallelism.

  void Annotate(Annotation::Kind kind, std::string message, PositionRange pos);
  // The info of histogram_quantile(s) about forced monotonicity: one
  // annotation per message and position whose statistics cover every
  // correction, as Prometheus merges them.
  void AnnotateForcedMonotonicity(std::string message, PositionRange pos,
                                  const MonotonicityFix& fix);
  // Before evaluating over `count` steps: every series of a vector holds a
  // slot per step, so more steps than max_samples (unless each step is
  // counted on its own) or than fit the byte limit fail with the limit's
  // error before anything is allocated.
  absl::Status CheckSteps(int64_t count, bool per_step = false) const;
  absl::Status CheckCancelled() const;

  // The statistics of the query so far.
  QueryStats Stats() const;

  // A context for evaluating a subtree on another thread: the same query,
  // limits and pool, its own annotations, statistics and accounting (which
  // start empty; its sample accounting has `lanes`).
  QueryContext Child(int lanes) const;
  // Adds what `child` recorded as if its subtree had been evaluated in this
  // context after everything so far: its annotations in order, statistics
  // and bytes. (Its sample accounting is merged by the caller, into the
  // accounting the subtree belongs to.)
  absl::Status MergeChild(const QueryContext& child);

  // How many chunks a loop over `n` independent series is split into for
  // ParallelFor: one unless the engine has workers and each chunk gets at
  // least EngineOptions::parallel_min_series.
  size_t Chunks(size_t n) const;
  // Runs fn(chunk, begin, end) for the `chunks` parts of [0, n), in
  // parallel when there are several. `fn` must not touch the context.
  void ParallelFor(size_t n, size_t chunks,
                   absl::FunctionRef<void(size_t, size_t, size_t)> fn) const;
};

// Errors carry the position of the innermost expression that failed as a
// payload (read by ErrorPosition()).
inline constexpr absl::string_view kErrorPositionUrl =
    "promeval.dev/error-position";
absl::Status WithErrorPosition(absl::Status status, PositionRange pos);
// Errors of the Queryable and its Querier carry this payload (read by
// IsStorageError()).
inline constexpr absl::string_view kStorageErrorUrl =
    "promeval.dev/storage-error";
absl::Status AsStorageError(absl::Status status);

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_QUERY_CONTEXT_H_
