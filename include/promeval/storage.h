// The storage the engine reads series from, and the in-memory store.
//
// A host service plugs its own store into the engine by implementing
// Queryable; rules write their results through an Appendable, which may be
// the same store (a Storage is both) or another one. The engine asks a
// Querier for the series matching a selector and reads their samples as
// spans of timestamps and values; it never copies them.
//
// Thread-safety: MemStorage is safe for concurrent use. A Querier holds a read
// lock on the store until it is destroyed, so appends wait for running
// queries; an Appender buffers its samples and applies them atomically on
// Commit(). Implementations of these interfaces must be usable from the
// thread that created the Querier, and a Querier from other threads too if
// its ConcurrentSelect() says so (MemStorage's does).
#ifndef PROMEVAL_STORAGE_H_
#define PROMEVAL_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "promeval/labels.h"

namespace promeval {

// One series as the engine reads it. The samples are sorted by timestamp,
// stale markers included (value StaleNaN()); they may extend beyond the
// requested time range.
struct SeriesData {
  const Labels* labels;
  absl::Span<const int64_t> timestamps;
  absl::Span<const double> values;
  // True if the store knows the series holds no stale marker (the engine
  // then need not look for them).
  bool no_stale_markers = false;
};

// What the engine knows about a selection (Prometheus's
// storage.SelectHints), for a store that can use it: remote read sends it
// along (a remote engine may answer from precomputed data, or push work
// down).
struct SelectHints {
  int64_t start_ms = 0;  // The selection's time range (mint and maxt).
  int64_t end_ms = 0;
  int64_t step_ms = 0;   // The query's step; 0 for an instant query.
  int64_t range_ms = 0;  // A range selector's range; 0 for an instant one.
  // The function or aggregation the selector is nearest an argument of
  // ("rate", "sum"; "" when a binary operator comes first, or none).
  std::string func;
  // The aggregation's grouping labels, and whether they are `by` (or
  // `without`), when `func` is an aggregation.
  bool by = false;
  std::vector<std::string> grouping;
};

// A selection the engine is about to make: its matchers and hints, whose
// time range covers the selection's (it may be wider).
struct PlannedSelect {
  absl::Span<const Matcher> matchers;
  SelectHints hints;
};

class Querier {
 public:
  virtual ~Querier() = default;
  // Every series matching all `matchers` (a label value "" means the label
  // is absent) that may have samples in [mint, maxt], sorted by labels
  // (CompareLabels), as Prometheus's TSDB returns them. The spans stay valid
  // until the Querier is destroyed.
  virtual absl::StatusOr<std::vector<SeriesData>> Select(
      absl::Span<const Matcher> matchers, int64_t mint, int64_t maxt) = 0;
  // Select with what the engine knows about the selection (the engine calls
  // this one); [hints.start_ms, hints.end_ms] is the time range. A store
  // with no use for hints need not override it: Select is called.
  virtual absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
      absl::Span<const Matcher> matchers, const SelectHints& hints) {
    return Select(matchers, hints.start_ms, hints.end_ms);
  }
  // The selections of a query, announced once before its first Select (the
  // engine plans them as Prometheus's populateSeries does; a selection it
  // cannot plan, under a duration expression, is left out). A store that
  // can fetch several at once (remote read: several queries in one
  // request) may, and answer the Selects within their ranges from what it
  // fetched. An error fails the query as a Select's would. By default
  // nothing is done.
  virtual absl::Status Prefetch(absl::Span<const PlannedSelect> selects) {
    (void)selects;
    return absl::OkStatus();
  }
  // Whether Select may also be called from other threads, several at once.
  // The engine then evaluates independent subtrees of a query (the two
  // operands of a binary operator) in parallel when it has workers.
  virtual bool ConcurrentSelect() const { return false; }
};

class Queryable {
 public:
  virtual ~Queryable() = default;
  virtual absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                              int64_t maxt) = 0;
};

// Several Queryables read as one (Prometheus's fanout storage with its
// merge of series): the series of all sources merged by labels, sorted; the
// samples of a series several sources hold merged in time order, one per
// timestamp (the earlier source's where two have the same timestamp). The
// sources must outlive it. Select may run on several threads at once if
// every source's querier allows it.
class FanoutQueryable : public Queryable {
 public:
  explicit FanoutQueryable(std::vector<Queryable*> sources)
      : sources_(std::move(sources)) {}
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;

 private:
  std::vector<Queryable*> sources_;
};

// The same over queriers (owned by the returned one).
std::unique_ptr<Querier> NewFanoutQuerier(
    std::vector<std::unique_ptr<Querier>> sources);

class Appender {
 public:
  virtual ~Appender() = default;
  // Buffers a sample; nothing is visible before Commit().
  virtual void Append(const Labels& labels, int64_t t, double v) = 0;
  // Buffers samples of one series, as Append() of each in order would.
  // REQUIRES: timestamps.size() == values.size().
  virtual void AppendSamples(const Labels& labels,
                             absl::Span<const int64_t> timestamps,
                             absl::Span<const double> values);
  // Applies every buffered sample, or none: a sample older than the newest
  // one of its series, or at the same time with another value, fails the
  // whole commit (kInvalidArgument naming the series and time).
  virtual absl::Status Commit() = 0;
};

// Where samples are written (Prometheus's storage.Appendable): rules write
// their results through one.
class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

// A store that is read and written.
class Storage : public Queryable, public Appendable {};

// The embedded default store: columnar series (a timestamp array and a value
// array each), label sets hashed once, an inverted index from label name and
// value to series for the matchers.
class MemStorage : public Storage {
 public:
  MemStorage();
  ~MemStorage() override;
  MemStorage(const MemStorage&) = delete;
  MemStorage& operator=(const MemStorage&) = delete;

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;
  std::unique_ptr<Appender> NewAppender() override;

  int64_t NumSeries() const;
  int64_t NumSamples() const;

  // Removes every series.
  void Clear();

 private:
  class Impl;
  class MemQuerier;
  class MemAppender;
  std::unique_ptr<Impl> impl_;
};

}  // namespace promeval

#endif  // PROMEVAL_STORAGE_H_
