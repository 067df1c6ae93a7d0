// What a query holds in memory: Prometheus's sample accounting, exactly,
// and the bytes of promeval's own values.
//
// Samples. Prometheus's evaluator (promql/engine.go, 3.14) keeps one
// counter per query, currentSamples: a selector adds each sample it loads,
// an operator holds its operands while it runs and keeps only its output
// when it returns, a range function holds one series' window at a time,
// ... The query fails with "query processing would load too many samples
// into memory" as soon as the counter exceeds --query.max-samples, and
// stats=all reports its peak (peakSamples) and the samples the query
// touched (totalQueryableSamples). promeval evaluates whole step ranges at
// once, in a different order and on several threads, but every node replays
// on this class exactly the changes Prometheus's evaluation of that node
// makes to the counter, computed from the values it produced (samples per
// step, window sizes): so the limit fails the queries Prometheus fails and
// the peak is Prometheus's peak. README.md ("Limits") lists the rules.
//
// Lanes. A range query is one lane over all its steps. For rules evaluated
// over many times at once (QueryControl::sample_limit_per_step) every step
// is a lane of its own: each step counts what an instant query at that
// time would, and the limit applies to each lane. Evaluations inside such a
// query that do not map onto the lanes (a subquery's inner steps, a
// step-invariant subtree) run on a one-lane child whose counts are then
// added to every lane: for a subquery that is more than any single step's
// instant query holds (an upper bound; callers split the range when it
// fails), for a step-invariant subtree it is exact.
//
// Bytes. The byte limit (EngineOptions::max_bytes) has no Prometheus
// counterpart: it bounds what promeval's own values take (a slot per step
// of every series, the points of range values), held while a node's value
// is alive.
//
// Internal to promeval. Not thread-safe: one per evaluation thread; work on
// other threads gets a child and is merged back (MergeChild).
#ifndef PROMEVAL_EVAL_ACCOUNTING_H_
#define PROMEVAL_EVAL_ACCOUNTING_H_

#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/types/span.h"

namespace promeval::eval {

// An amount per lane.
using LaneCounts = absl::InlinedVector<int64_t, 1>;

// The samples a value holds at each step of its evaluation (an instant
// vector: its series with a value at the step; a scalar: one).
using StepCounts = std::vector<int64_t>;

// The error Prometheus returns past --query.max-samples.
absl::Status TooManySamplesError();

class SampleAccounting {
 public:
  // `lanes` is 1 or the number of steps of the evaluation it serves.
  SampleAccounting(int64_t max_samples, int lanes);

  int lanes() const { return static_cast<int>(current_.size()); }
  int64_t max_samples() const { return max_samples_; }

  // Prometheus's currentSamples, per lane.
  const LaneCounts& current() const { return current_; }
  // The most currentSamples reached, over all lanes (peakSamples).
  int64_t peak() const;
  // totalQueryableSamples.
  int64_t total() const { return total_; }

  // The counts per step folded into lanes: each lane's steps summed.
  LaneCounts Sum(absl::Span<const int64_t> per_step) const;

  // currentSamples += n (per lane, or the same in every lane): the peak
  // follows, and past the limit TooManySamplesError.
  absl::Status Add(const LaneCounts& n);
  absl::Status AddAll(int64_t n);
  // currentSamples -= n in every lane (memory released, no check).
  void SubAll(int64_t n);
  // currentSamples = mark + n: what a node keeps after releasing what it
  // held since `mark` (Prometheus resets the counter this way without a
  // limit check; the peak follows).
  void Reset(const LaneCounts& mark, const LaneCounts& n);
  // The node reaches currentSamples + extra (per lane) without keeping it:
  // the peak follows, and past the limit TooManySamplesError.
  absl::Status Reach(const LaneCounts& extra);

  // Prometheus's rangeEval, which most operators and functions run on:
  // the operands (evaluated since `mark`, and still counted) are held while
  // at each step it gathers their samples at that step (`gathered`, counted
  // again) and makes that step's output (`out`), keeping the output of the
  // steps before; then it keeps only its whole output.
  // REQUIRES: gathered.size() == out.size() == the evaluation's steps.
  absl::Status RangeEval(const LaneCounts& mark,
                         absl::Span<const int64_t> gathered,
                         absl::Span<const int64_t> out);

  void AddTotal(int64_t n) { total_ += n; }

  // A child for work that starts from zero: evaluated on another thread
  // (the same lanes), or on steps that do not map onto these lanes (one
  // lane). Its limit is checked against its own count alone.
  SampleAccounting Child(int lanes) const;
  // Adds what a child with the same lanes counted, as if its work had been
  // done here now: its peak on top of the current count, and what it
  // keeps. Past the limit TooManySamplesError (the counts are added all the
  // same).
  absl::Status MergeChild(const SampleAccounting& child);
  // Whether MergeChild(child) stays within the limit.
  bool Fits(const SampleAccounting& child) const;
  // The same for a one-lane child, added to every lane; its total counted
  // `total_times` times.
  absl::Status MergeIntoEveryLane(const SampleAccounting& child,
                                  int64_t total_times);

 private:
  absl::Status Check();

  int64_t max_samples_;
  LaneCounts current_;
  LaneCounts peak_;  // Per lane.
  int64_t total_ = 0;
};

// What a range function holds as Prometheus evaluates it: series by series
// (in the order of the range argument), the samples in the current step's
// window of the current series, and the output of the series done so far.
// Built per chunk of series (possibly on several threads) and appended in
// order.
class SeriesLoopAccount {
 public:
  // `lanes` and `steps` as the evaluation's.
  SeriesLoopAccount(int lanes, int steps);

  // One series: `widest` the most samples in a step's window, `last` the
  // samples in the last step's window (where the window is left when the
  // output is added), `out` the steps with output. Only for one lane.
  void AddSeries(int64_t widest, int64_t last, int64_t out);
  // One series with a lane per step: `windows` the samples in each step's
  // window, `values` the output per step (absent: none).
  void AddSeriesPerStep(absl::Span<const int64_t> windows,
                        absl::Span<const double> values);
  // The series of `next`, after those here.
  void Append(const SeriesLoopAccount& next);

  // Per lane: the most held on top of what was counted before the loop,
  // and the output kept after it.
  const LaneCounts& peak() const { return peak_; }
  const LaneCounts& kept() const { return kept_; }

 private:
  LaneCounts peak_;
  LaneCounts kept_;
};

// The bytes of promeval's values alive at once, for EngineOptions::max_bytes.
class ByteAccounting {
 public:
  explicit ByteAccounting(int64_t max_bytes) : max_bytes_(max_bytes) {}

  int64_t current() const { return current_; }
  int64_t peak() const { return peak_; }
  int64_t max_bytes() const { return max_bytes_; }

  // Reserves `n` more bytes; past the limit kResourceExhausted (the bytes
  // stay reserved).
  absl::Status Reserve(int64_t n);
  // Releases everything reserved since `mark` (a current() value).
  void ReleaseTo(int64_t mark) { current_ = mark; }
  // Whether `n` more bytes on top of the current ones would fit.
  bool Fits(int64_t n) const {
    return max_bytes_ <= 0 || current_ + n <= max_bytes_;
  }
  // Adds a child's counts (started from zero) as if reserved here now.
  absl::Status MergeChild(const ByteAccounting& child);

 private:
  int64_t max_bytes_;
  int64_t current_ = 0;
  int64_t peak_ = 0;
};

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_ACCOUNTING_H_
