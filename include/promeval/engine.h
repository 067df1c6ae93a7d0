// The PromQL engine: instant and range queries over a Queryable.
//
// An instant query is a range query with one step. Results, errors and
// annotations follow Prometheus 3.x (promql/engine.go). Errors:
// kInvalidArgument for parse and type errors (Prometheus's text),
// kFailedPrecondition for evaluation errors that depend on the data ("vector
// cannot contain metrics with the same labelset"), kResourceExhausted when the
// sample limit is hit, kDeadlineExceeded on timeout, kCancelled when cancelled.
//
// Thread-safety: an Engine is immutable after Create(); any number of queries
// may run on it concurrently.
#ifndef PROMEVAL_ENGINE_H_
#define PROMEVAL_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "promeval/ast.h"
#include "promeval/parser.h"
#include "promeval/storage.h"
#include "promeval/value.h"

namespace promeval {

struct EngineOptions {
  // How far back an instant selector looks for a sample.
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // The most samples a query may hold in memory at once (Prometheus's
  // --query.max-samples).
  int64_t max_samples = 50000000;
  // The most bytes of intermediate and final values a query may hold at
  // once, estimated as the engine allocates (per-step slots, points, a fixed
  // cost per series); past it the query fails with kResourceExhausted. Zero:
  // no limit.
  int64_t max_bytes = 0;
  // A query running longer fails with kDeadlineExceeded. Zero: no limit.
  absl::Duration timeout = absl::Minutes(2);
  // Keep __name__ until the end of the evaluation (the
  // promql-delayed-name-removal feature; on in Prometheus's test scripts,
  // off by default in the server and in promtool).
  bool delayed_name_removal = false;
  // The step of subqueries written without one (`x[5m:]`).
  int64_t default_subquery_step_ms = 60 * 1000;
  // Experimental syntax and functions.
  ParseOptions parser;
  // Threads that evaluate a query's independent series in parallel (the
  // engine's own workers plus the querying thread). Zero: one per core;
  // one: everything on the querying thread. Results are the same for any
  // number.
  int workers = 0;
  // The fewest series a parallel task gets: smaller loops run on the
  // querying thread alone.
  int parallel_min_series = 64;
};

// Applies a Prometheus feature flag to the options (parser features and
// promql-delayed-name-removal). kNotFound for flags that are not engine
// features.
absl::Status EnableEngineFeature(absl::string_view flag,
                                 EngineOptions& options);

// Per-query controls.
struct QueryControl {
  // Set to true (from any thread) to cancel the query.
  const std::atomic<bool>* cancelled = nullptr;
  // For a range query: apply max_samples to each step on its own, as if
  // the step were an instant query, instead of to all steps' samples
  // together (rules evaluated over many times at once). A subquery still
  // counts its whole inner range, so a step never counts less than its
  // instant query would.
  bool sample_limit_per_step = false;
};

// The byte range in the query of the subexpression whose evaluation failed,
// for errors returned by Engine queries during evaluation (not for parse
// errors, whose messages carry the position, nor for timeouts and
// cancellation).
std::optional<PositionRange> ErrorPosition(const absl::Status& status);

// Whether a query failed reading its data (an error of the Queryable or its
// Querier: a corrupt file, an unreachable store), not in evaluating it. The
// status keeps the storage's code and message.
bool IsStorageError(const absl::Status& status);

namespace eval {
class ThreadPool;
}

class Engine {
 public:
  ~Engine();

  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);

  const EngineOptions& options() const { return options_; }

  // Evaluates `query` at time `t` (ms).
  absl::StatusOr<QueryResult> InstantQuery(
      Queryable& storage, absl::string_view query, int64_t t,
      const QueryControl& control = {}) const;

  // Evaluates `query` at start, start+step, ... <= end (ms). The result is a
  // matrix sorted by labels.
  absl::StatusOr<QueryResult> RangeQuery(
      Queryable& storage, absl::string_view query, int64_t start, int64_t end,
      int64_t step, const QueryControl& control = {}) const;

  // The same for an already parsed expression; `query` is its text, used for
  // annotation positions.
  absl::StatusOr<QueryResult> Evaluate(Queryable& storage, const Expr& expr,
                                       absl::string_view query, int64_t start,
                                       int64_t end, int64_t step, bool instant,
                                       const QueryControl& control = {}) const;

 private:
  explicit Engine(EngineOptions options);
  EngineOptions options_;
  std::unique_ptr<eval::ThreadPool> pool_;  // Null with one worker.
};

}  // namespace promeval

#endif  // PROMEVAL_ENGINE_H_
