// Instant and range vector selectors.
//
// An instant selector takes, at each step, the newest sample in
// (ref - lookback, ref] with ref = step time - offset (or the @ time); a
// stale marker as the newest sample hides the series. The cursor over a
// series' samples only moves forward across steps.
#include <algorithm>
#include <bit>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eval/evaluator.h"
#include "eval/samples.h"
#include "promeval/status_macros.h"

namespace promeval::eval {

namespace {

// Whether `values` holds a stale marker (a store that does not know, such
// as a data directory, has every range scanned): each value's bits compared
// as two 32-bit halves, in blocks of 256 without an early exit inside a
// block, which the compiler vectorizes with SSE2 (64-bit compares would
// need SSE4.1).
bool AnyStaleNaN(absl::Span<const double> values) {
  using Word [[gnu::may_alias]] = uint32_t;
  const Word* w = reinterpret_cast<const Word*>(values.data());
  constexpr bool kLittle = std::endian::native == std::endian::little;
  constexpr uint32_t kLow = static_cast<uint32_t>(kStaleNaNBits);
  constexpr uint32_t kHigh = static_cast<uint32_t>(kStaleNaNBits >> 32);
  constexpr size_t kLo = kLittle ? 0 : 1, kHi = kLittle ? 1 : 0;
  for (size_t i = 0; i < values.size(); i += 256) {
    const size_t end = std::min(values.size(), i + 256);
    uint32_t any = 0;
    for (size_t j = i; j < end; ++j) {
      any |= static_cast<uint32_t>(w[2 * j + kLo] == kLow) &
             static_cast<uint32_t>(w[2 * j + kHi] == kHigh);
    }
    if (any != 0) return true;
  }
  return false;
}

// Writes, for `count` steps from reference time `ref` every `interval`,
// the value (or with kTimestamps the time in seconds) of the newest sample in
// (ref - lookback, ref], or kAbsent when there is none or it is a stale
// marker. `j` is the first sample after the first window's start; it only
// moves forward. Returns the number of steps with a value.
// What InstantValues writes for a step: the sample's value, its timestamp
// in seconds (timestamp()), or the value interpolated at the reference time
// between it and the next sample up to ref + lookback (the smoothed
// modifier; the sample's value when there is no next one).
enum class Pick { kValue, kTimestamp, kSmoothed };

template <Pick kPick>
int InstantValues(absl::Span<const int64_t> t, absl::Span<const double> v,
                  size_t j, int64_t ref, int64_t interval, int count,
                  int64_t lookback, double* out) {
  const size_t n = t.size();
  const int64_t* tp = t.data();
  const double* vp = v.data();
  int present = 0;
  for (int i = 0; i < count; ++i, ref += interval) {
    while (j < n && tp[j] <= ref) ++j;
    double x = Absent();
    if (j > 0) {
      const int64_t last_t = tp[j - 1];
      const double last_v = vp[j - 1];
      if (last_t > ref - lookback && !IsStaleNaN(last_v)) {
        x = kPick == Pick::kTimestamp ? static_cast<double>(last_t) / 1000.0
                                      : last_v;
        if (kPick == Pick::kSmoothed && last_t < ref && j < n &&
            tp[j] <= ref + lookback && !IsStaleNaN(vp[j])) {
          x += (vp[j] - x) * static_cast<double>(ref - last_t) /
               static_cast<double>(tp[j] - last_t);
        }
        ++present;
      }
    }
    out[i] = x;
  }
  return present;
}

// The hints of a selection of `vs` over [mint, maxt]; `range` that of its
// range selector, 0 for none.
SelectHints Hints(const QueryContext& ctx, const VectorSelector& vs,
                  int64_t mint, int64_t maxt, int64_t range) {
  SelectHints h;
  if (ctx.select_hints != nullptr) {
    auto it = ctx.select_hints->find(&vs);
    if (it != ctx.select_hints->end()) h = it->second;
  }
  h.start_ms = mint;
  h.end_ms = maxt;
  h.step_ms = ctx.query_step;
  h.range_ms = range;
  return h;
}

}  // namespace

absl::StatusOr<Value> Evaluator::EvalVectorSelector(const VectorSelector& vs,
                                                    bool timestamps) {
  PROMEVAL_ASSIGN_OR_RETURN(
      int64_t offset,
      OffsetOf(ctx_, vs.original_offset_ms, vs.offset_expr.get()));
  const int64_t lookback = ctx_.options->lookback_delta_ms;
  const bool fixed = vs.at.is_set();
  const int64_t fixed_ref = fixed ? AtTime(ctx_, vs.at) - offset : 0;
  const int64_t first_ref = fixed ? fixed_ref : steps_.start - offset;
  const int64_t last_ref =
      fixed ? fixed_ref : steps_.At(steps_.count - 1) - offset;
  // smoothed also reads the next sample after the reference time.
  const int64_t ahead = vs.smoothed ? lookback : 0;
  absl::StatusOr<std::vector<SeriesData>> selected =
      ctx_.querier->SelectWithHints(
          vs.matchers,
          Hints(ctx_, vs, first_ref - lookback + 1, last_ref + ahead, 0));
  if (!selected.ok()) return AsStorageError(selected.status());
  std::vector<SeriesData> data = *std::move(selected);

  // Each chunk of series on its own (in parallel), then joined in order.
  struct Chunk {
    std::vector<StepSeries> out;
    int64_t read = 0;
    // The series with a value at each step: those with one at every step,
    // and the others step by step.
    int64_t full = 0;
    StepCounts counts;
  };
  const size_t chunks = ctx_.Chunks(data.size());
  std::vector<Chunk> parts(chunks);
  const Steps& steps = steps_;
  ctx_.ParallelFor(data.size(), chunks, [&](size_t c, size_t from, size_t to) {
    Chunk& part = parts[c];
    part.counts.assign(fixed ? 1 : steps.count, 0);
    for (size_t k = from; k < to; ++k) {
      const SeriesData& s = data[k];
      const auto& t = s.timestamps;
      const auto& v = s.values;
      // The first sample after the first step's window start.
      size_t j = UpperBoundTime(t, first_ref - lookback);
      if (k + 1 < to) {
        PrefetchSamples(data[k + 1].timestamps, data[k + 1].values, j);
      }
      part.read += static_cast<int64_t>(UpperBoundTime(t, last_ref)) -
                   static_cast<int64_t>(j);
      StepSeries series;
      series.values.resize(steps.count);
      // With @ one window, repeated for every step.
      const int64_t ref = fixed ? fixed_ref : steps.start - offset;
      const int64_t interval = fixed ? 0 : steps.interval;
      const int count = fixed ? 1 : steps.count;
      double* values = series.values.data();
      int present =
          vs.smoothed  ? InstantValues<Pick::kSmoothed>(t, v, j, ref, interval,
                                                       count, lookback, values)
          : timestamps ? InstantValues<Pick::kTimestamp>(
                             t, v, j, ref, interval, count, lookback, values)
                       : InstantValues<Pick::kValue>(t, v, j, ref, interval,
                                                     count, lookback, values);
      if (present == count) {
        ++part.full;
      } else {
        for (int i = 0; i < count; ++i) part.counts[i] += !IsAbsent(values[i]);
      }
      if (fixed) {
        series.values.assign(steps.count, series.values[0]);
        present *= steps.count;
      }
      if (present == 0) continue;
      series.labels = *s.labels;
      part.out.push_back(std::move(series));
    }
  });
  Value out = Value::Vector(std::move(parts[0].out));
  out.counts.assign(steps.count, 0);
  for (size_t c = 0; c < chunks; ++c) {
    ctx_.samples_read += parts[c].read;
    // With @ every step has the one window's values.
    for (int i = 0; i < steps.count; ++i) {
      out.counts[i] += parts[c].full + parts[c].counts[fixed ? 0 : i];
    }
    if (c == 0) continue;
    for (StepSeries& s : parts[c].out) out.vector.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<RangeValue> Evaluator::EvalMatrixSelector(
    const MatrixSelector& ms) {
  const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
  PROMEVAL_ASSIGN_OR_RETURN(
      int64_t offset,
      OffsetOf(ctx_, vs.original_offset_ms, vs.offset_expr.get()));
  int64_t range = ms.range_ms;
  if (ms.range_expr != nullptr) {
    PROMEVAL_ASSIGN_OR_RETURN(range, EvalDurationMs(ctx_, *ms.range_expr));
  }
  RangeValue out;
  out.range_ms = range;
  out.offset_ms = offset;
  out.selector = &vs;
  if (vs.anchored || vs.smoothed) {
    // The functions of the modifiers also read the samples up to a lookback
    // delta before the window (anchored, smoothed) and after it (smoothed).
    out.extend_before_ms = ctx_.options->lookback_delta_ms;
    if (vs.smoothed) out.extend_after_ms = ctx_.options->lookback_delta_ms;
  }
  if (vs.at.is_set()) {
    out.fixed = true;
    out.fixed_ref = AtTime(ctx_, vs.at) - offset;
  }
  int64_t first_ref = out.fixed ? out.fixed_ref : steps_.start - offset;
  int64_t last_ref =
      out.fixed ? out.fixed_ref : steps_.At(steps_.count - 1) - offset;
  const int64_t from_t = first_ref - range - out.extend_before_ms;
  const int64_t to_t = last_ref + out.extend_after_ms;
  absl::StatusOr<std::vector<SeriesData>> selected =
      ctx_.querier->SelectWithHints(vs.matchers,
                                    Hints(ctx_, vs, from_t + 1, to_t, range));
  if (!selected.ok()) return AsStorageError(selected.status());
  std::vector<SeriesData> data = *std::move(selected);
  int64_t in_range = 0;
  for (const SeriesData& s : data) {
    const size_t from = UpperBoundTime(s.timestamps, from_t);
    const size_t to = UpperBoundTime(s.timestamps, to_t);
    if (from == to) continue;
    const size_t n = to - from;
    in_range += static_cast<int64_t>(n);
    RangeSeries r;
    r.labels = *s.labels;
    r.timestamps = s.timestamps.subspan(from, n);
    r.values = s.values.subspan(from, n);
    if (!s.no_stale_markers && AnyStaleNaN(r.values)) {
      // Range vectors never contain stale markers: copy the samples
      // without them.
      auto ts = std::make_shared<std::vector<int64_t>>();
      auto vs = std::make_shared<std::vector<double>>();
      for (size_t i = 0; i < n; ++i) {
        if (IsStaleNaN(r.values[i])) continue;
        ts->push_back(r.timestamps[i]);
        vs->push_back(r.values[i]);
      }
      in_range -= static_cast<int64_t>(n - ts->size());
      if (ts->empty()) continue;
      r.timestamps = *ts;
      r.values = *vs;
      r.own_timestamps = std::move(ts);
      r.own_values = std::move(vs);
    }
    out.series.push_back(std::move(r));
  }
  ctx_.samples_read += in_range;
  return out;
}

}  // namespace promeval::eval
