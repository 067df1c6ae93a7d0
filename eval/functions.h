// The implementation side of PromQL's functions.
//
// eval/function_table.cc maps every name of parser/functions.cc to an
// implementation (a parity test checks the key sets are equal). An
// implementation receives its arguments evaluated over all steps and returns
// the result over all steps. Helpers here cover the common shapes: a
// function applied to each value of an instant vector, and a function of the
// samples in each step's window of a range vector.
#ifndef PROMEVAL_EVAL_FUNCTIONS_H_
#define PROMEVAL_EVAL_FUNCTIONS_H_

#include <algorithm>
#include <concepts>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/evaluator.h"
#include "eval/samples.h"
#include "promeval/status_macros.h"

namespace promeval::eval {

struct FunctionCall {
  Evaluator& ev;
  const Call& call;
  std::vector<Value>& args;
  // Set by an aggregation over a range function whose result is what
  // MapWindows makes: MapWindows then sends the series there.
  SeriesSink* sink = nullptr;
  // What Prometheus holds while it runs the function over the range
  // argument series by series, and the samples of the windows it read
  // (totalQueryableSamples): set by MapWindows, counted by the caller.
  std::optional<SeriesLoopAccount> loop = std::nullopt;
  int64_t windows_read = 0;
  // The function counted its samples itself (Evaluator::samples()).
  bool accounted = false;

  const Steps& steps() const { return ev.steps(); }
  QueryContext& ctx() const { return ev.ctx(); }
  // The argument as evaluated.
  std::vector<StepSeries>& vector(size_t i) const { return args[i].vector; }
  const std::vector<double>& scalar(size_t i) const { return args[i].scalar; }
  const RangeValue& range(size_t i) const { return args[i].matrix; }
  const std::string& string(size_t i) const { return args[i].string; }
};

using FunctionImpl = absl::StatusOr<Value> (*)(FunctionCall& call);

// How a function computes its result, which decides the helper it is
// written with (MapValues, MapWindows, ...).
enum class FunctionShape { kElementwise, kRangeOverTime, kNoArg, kSpecial };

// How the evaluator treats a function's call beyond calling it (Prometheus
// decides these by name in its engine). The signature (parser.h) holds the
// properties the rules and the test runner read too.
struct FunctionTraits {
  // Its range argument may carry the anchored / smoothed modifier.
  bool anchored = false;
  bool smoothed = false;
  // The argument the implementation reads itself instead of the evaluator
  // evaluating it (-1: none): info's label selector; timestamp's argument
  // when it is a vector selector (raw_only_selector), whose samples'
  // timestamps it reads.
  int raw_arg = -1;
  bool raw_only_selector = false;
  // A call whose arguments are all step-invariant vector selectors is step
  // invariant although the function is not @-safe (timestamp).
  bool invariant_over_invariant_selectors = false;
  // Prometheus passes the argument through with new labels, without
  // rangeEval: nothing more is counted (label_replace, label_join).
  bool passes_argument_through = false;
  // A range function whose output is not one series per input series, so
  // it cannot stream its series into an aggregation (absent_over_time).
  bool merges_series = false;
};

struct FunctionEntry {
  absl::string_view name;
  FunctionImpl impl;
  FunctionShape shape;
  FunctionTraits traits = {};
};

// Grouped by shape; the same names as AllFunctions().
absl::Span<const FunctionEntry> FunctionImplementations();
const FunctionEntry* LookupImplementation(absl::string_view name);
// The names of the functions whose traits satisfy `pred`, sorted, joined
// with ", " (for error messages).
std::string FunctionNamesWith(bool (*pred)(const FunctionTraits&));

// The samples of one series' window at a step: (ref - range, ref].
struct Window {
  SampleView<int64_t> t;
  SampleView<double> v;
  int64_t range_start;  // Exclusive.
  int64_t range_end;    // Inclusive (the reference time).
  int64_t step_time;    // The evaluation time of the step.
  int step;             // The index of the step.
  size_t begin;         // The index of t[0] among the series' samples.
  // With anchored / smoothed (RangeValue::extend_*): the samples of the
  // window widened by the extensions; otherwise empty.
  SampleView<int64_t> ext_t;
  SampleView<double> ext_v;
};

// Whether a window function may run on several threads at once, each
// thread with its own copy of it: it keeps no state but per series and
// changes nothing outside itself (no shared buffers, no annotations).
enum class Parallel { kNo, kYes };

// A window function that can also compute all of a series' windows in one
// call, which lets it work on several windows at once: given the series'
// values and each step's window as the samples [lo[i], hi[i]), AllWindows
// writes out[i] (Absent() where there is no value) for the `count` steps and
// returns how many values it wrote. Its results must equal the function's
// window by window.
template <typename F>
concept AllWindowsFunction = requires(F& f, SampleView<double> v,
                                      const size_t* lo, const size_t* hi,
                                      int count, double* out) {
  { f.AllWindows(v, lo, hi, count, out) } -> std::same_as<int64_t>;
};

// Applies `f` to each series' window at each step. `f` returns the value or
// nullopt for no output; if it has BeginSeries(values), that is called with
// all samples the series' windows hold before its first window; if it is an
// AllWindowsFunction, its AllWindows computes the windows of ranges without
// anchored / smoothed extensions. An `f` that is only an AllWindowsFunction
// (no per-window call) is for functions that do not take those modifiers
// (the parser rejects them). Series without
// any output are dropped (`produced`, if given, receives the input series that
// had output). The metric name is dropped unless `keep_name`. With
// Parallel::kYes, chunks of series run on the engine's workers
// (QueryContext::ParallelFor); the result is the same.
template <typename F>
absl::StatusOr<std::vector<StepSeries>> MapWindows(
    FunctionCall& call, const RangeValue& range, bool keep_name,
    Parallel parallel, F f,
    std::vector<const RangeSeries*>* produced = nullptr) {
  const Steps& steps = call.steps();
  QueryContext& ctx = call.ctx();
  const bool delayed = ctx.options->delayed_name_removal;
  const size_t total = range.series.size();
  // With a sink, the series go in blocks handed over in order, so that only
  // one block's output exists at a time.
  const size_t most_chunks = parallel == Parallel::kYes ? ctx.Chunks(total) : 1;
  const size_t block =
      call.sink == nullptr
          ? total
          : most_chunks * static_cast<size_t>(ctx.options->parallel_min_series);
  // Prometheus holds, series after series, the samples of one window and
  // the output so far (SeriesLoopAccount); with a lane per step, each
  // step's windows and output are counted on their own.
  const int lanes = call.ev.samples().lanes();
  const bool per_lane = lanes > 1;
  struct Chunk {
    std::vector<StepSeries> out;
    std::vector<const RangeSeries*> produced;
    std::optional<SeriesLoopAccount> account;
    int64_t windows_read = 0;  // The samples of every window.
  };
  SeriesLoopAccount account(lanes, steps.count);
  std::vector<StepSeries> out;
  UniqueLabelsets unique;  // Of a streamed output without metric names.
  for (size_t first = 0; first < total; first += block) {
    const size_t n = std::min(block, total - first);
    const size_t chunks = parallel == Parallel::kYes ? ctx.Chunks(n) : 1;
    std::vector<Chunk> parts(chunks);
    ctx.ParallelFor(n, chunks, [&](size_t c, size_t from, size_t to) {
      F fn = f;
      Chunk& part = parts[c];
      part.account.emplace(lanes, steps.count);
      // With a range that is a whole number of steps, each window's start
      // is the end of an earlier one.
      const int lag = !range.fixed && range.range_ms > 0 &&
                              range.range_ms % steps.interval == 0 &&
                              range.range_ms / steps.interval < steps.count
                          ? static_cast<int>(range.range_ms / steps.interval)
                          : 0;
      constexpr bool kPerWindow = std::invocable<F&, const Window&>;
      const bool all_windows =
          !kPerWindow || (AllWindowsFunction<F> && range.extend_before_ms == 0);
      const bool extended = range.extend_before_ms != 0;
      // Each step's window [starts[i], ends[i]), and with the anchored /
      // smoothed extensions [ext_starts[i], ext_ends[i]): the windows
      // AllWindows computes, and those Prometheus holds (counted after each
      // series, off the loop that calls the window function).
      std::vector<size_t> ends(steps.count), starts(steps.count);
      std::vector<size_t> ext_ends(extended ? steps.count : 0);
      std::vector<size_t> ext_starts(extended ? steps.count : 0);
      // Each step's window size, with a lane per step.
      std::vector<int64_t> window_sizes(per_lane ? steps.count : 0);
      for (size_t k = first + from; k < first + to; ++k) {
        const RangeSeries& s = range.series[k];
        if (k + 1 < first + to) {
          PrefetchSamples(range.series[k + 1].timestamps,
                          range.series[k + 1].values, 0);
        }
        StepSeries o;
        o.values.assign(steps.count, Absent());
        double* values = o.values.data();
        // Kept in registers: the loop writes only `values`, the window
        // bounds and the window function's state.
        int64_t samples = 0;
        size_t read = 0;  // The samples of every window, as held.
        size_t lo = 0, hi = 0, ext_lo = 0, ext_hi = 0;
        const int64_t* t = s.timestamps.data();
        const double* v = s.values.data();
        const size_t n = s.timestamps.size();
        if constexpr (requires { fn.BeginSeries(s.values); }) {
          fn.BeginSeries(s.values);
        }
        int64_t ts = steps.start;
        int64_t ref = range.RefTime(ts);
        const int64_t ref_step = range.fixed ? 0 : steps.interval;
        for (int i = 0; i < steps.count;
             ++i, ts += steps.interval, ref += ref_step) {
          const int64_t start = ref - range.range_ms;
          // A window starts where the one `lag` steps earlier ended.
          if (lag > 0 && i >= lag) {
            lo = ends[i - lag];
          } else {
            while (lo < n && t[lo] <= start) ++lo;
          }
          if (hi < lo) hi = lo;
          while (hi < n && t[hi] <= ref) ++hi;
          ends[i] = hi;
          starts[i] = lo;
          if (all_windows) continue;
          Window w{SampleView<int64_t>(t + lo, hi - lo),
                   SampleView<double>(v + lo, hi - lo),
                   start,
                   ref,
                   ts,
                   i,
                   lo,
                   {},
                   {}};
          if (!extended) read += hi - lo;
          if (extended) {
            while (ext_lo < n && t[ext_lo] <= start - range.extend_before_ms) {
              ++ext_lo;
            }
            if (ext_hi < ext_lo) ext_hi = ext_lo;
            while (ext_hi < n && t[ext_hi] <= ref + range.extend_after_ms) {
              ++ext_hi;
            }
            w.ext_t = SampleView<int64_t>(t + ext_lo, ext_hi - ext_lo);
            w.ext_v = SampleView<double>(v + ext_lo, ext_hi - ext_lo);
            ext_starts[i] = ext_lo;
            ext_ends[i] = ext_hi;
            read += ext_hi - ext_lo;
          }
          if constexpr (kPerWindow) {
            std::optional<double> r = fn(w);
            if (r.has_value()) {
              values[i] = *r;
              ++samples;
            }
          }
        }
        if constexpr (AllWindowsFunction<F>) {
          if (all_windows) {
            samples = fn.AllWindows(SampleView<double>(v, n), starts.data(),
                                    ends.data(), steps.count, values);
          }
        }
        // The most samples in a step's window (as Prometheus reads them:
        // with the extensions), the samples in the last one, and in all.
        const size_t* held_lo = extended ? ext_starts.data() : starts.data();
        const size_t* held_hi = extended ? ext_ends.data() : ends.data();
        if (all_windows) {
          for (int i = 0; i < steps.count; ++i) read += ends[i] - starts[i];
        }
        const size_t last = held_hi[steps.count - 1] - held_lo[steps.count - 1];
        // The series is held at most max(widest, last + output): no window
        // holds more than the series' samples, so the widest one matters
        // only when there are more of those.
        size_t widest = last;
        if (n > last + static_cast<size_t>(samples)) {
          for (int i = 0; i < steps.count; ++i) {
            widest = std::max(widest, held_hi[i] - held_lo[i]);
          }
        }
        if (per_lane) {
          for (int i = 0; i < steps.count; ++i) {
            window_sizes[i] = static_cast<int64_t>(held_hi[i] - held_lo[i]);
          }
        }
        part.windows_read += static_cast<int64_t>(read);
        if (per_lane) {
          part.account->AddSeriesPerStep(window_sizes, o.values);
        } else {
          part.account->AddSeries(static_cast<int64_t>(widest),
                                  static_cast<int64_t>(last), samples);
        }
        if (samples == 0) continue;
        part.produced.push_back(&s);
        o.labels = s.labels;
        o.drop_name = s.drop_name;
        if (!keep_name) {
          if (delayed) {
            o.drop_name = true;
          } else {
            o.labels = o.labels.WithoutMetricName();
          }
        }
        part.out.push_back(std::move(o));
      }
    });
    for (Chunk& part : parts) {
      if (part.account.has_value()) account.Append(*part.account);
      call.windows_read += part.windows_read;
      if (produced != nullptr) {
        produced->insert(produced->end(), part.produced.begin(),
                         part.produced.end());
      }
      for (StepSeries& o : part.out) {
        if (call.sink == nullptr) {
          out.push_back(std::move(o));
          continue;
        }
        // Prometheus checks the whole result of a range function.
        if (!keep_name && !delayed) PROMEVAL_RETURN_IF_ERROR(unique.Add(o));
        call.sink->Accept(std::move(o));
      }
    }
  }
  if (call.loop.has_value()) {
    call.loop->Append(account);
  } else {
    call.loop = std::move(account);
  }
  if (!keep_name && !delayed && call.sink == nullptr) {
    // Prometheus checks the whole result of a range function.
    PROMEVAL_RETURN_IF_ERROR(RequireUniqueLabelsets(out));
  }
  return out;
}

// MapWindows' result as the function's value.
template <typename F>
absl::StatusOr<Value> MapWindowsValue(
    FunctionCall& call, const RangeValue& range, bool keep_name,
    Parallel parallel, F f,
    std::vector<const RangeSeries*>* produced = nullptr) {
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<StepSeries> out,
      MapWindows(call, range, keep_name, parallel, std::move(f), produced));
  Value v = Value::Vector(std::move(out));
  if (call.sink == nullptr && call.loop.has_value() &&
      call.loop->kept().size() == 1) {
    v.total = call.loop->kept()[0];  // The outputs, counted as they came.
  }
  return v;
}

// Applies `f` to every present value of an instant vector; nullopt removes
// the value. Drops the metric name (Prometheus's simpleFloatFunc).
template <typename F>
absl::StatusOr<Value> MapValues(FunctionCall& call, std::vector<StepSeries> in,
                                F f) {
  std::vector<StepSeries> out;
  for (StepSeries& s : in) {
    bool any = false;
    for (int i = 0; i < static_cast<int>(s.values.size()); ++i) {
      double& x = s.values[i];
      if (IsAbsent(x)) continue;
      std::optional<double> r = f(x, i);
      x = r.has_value() ? *r : Absent();
      any = any || r.has_value();
    }
    if (any) out.push_back(std::move(s));
  }
  PROMEVAL_RETURN_IF_ERROR(DropMetricNames(call.ctx(), out));
  return Value::Vector(std::move(out));
}

// Go's math.Max and math.Min (NaN wins, signed zeros ordered).
double GoMax(double x, double y);
double GoMin(double x, double y);

// Prometheus's quantile over values (sorts them).
double Quantile(double q, std::vector<double>& values);
// The same over values already in Quantile's order (ascending, NaN first).
double QuantileOfSorted(double q, absl::Span<const double> values);

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_FUNCTIONS_H_
