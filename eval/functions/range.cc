// Functions over range vectors: rate, increase, delta, irate, idelta,
// deriv, predict_linear, changes, resets, the *_over_time family,
// double_exponential_smoothing (Prometheus's extrapolatedRate,
// instantValue, linearRegression, aggrOverTime, ...). Each slides a window
// over a series' samples; no allocation per step except where values must
// be sorted (quantiles).
#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eval/functions.h"
#include "eval/functions/families.h"
#include "eval/functions/folds.h"
#include "eval/kahan.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::eval {
namespace {

using Opt = std::optional<double>;

// The info annotation of rate() and increase() on a metric that does not
// look like a counter, for each input series that produced output.
void NonCounterInfo(FunctionCall& c,
                    const std::vector<const RangeSeries*>& produced) {
  for (const RangeSeries* s : produced) {
    absl::string_view name = s->labels.Get(kMetricName);
    if (name.empty() || absl::EndsWith(name, "_total") ||
        absl::EndsWith(name, "_sum") || absl::EndsWith(name, "_count") ||
        absl::EndsWith(name, "_bucket")) {
      continue;
    }
    c.ctx().Annotate(
        Annotation::Kind::kInfo,
        absl::StrCat("metric might not be a counter, name does not end in "
                     "_total/_sum/_count/_bucket: ",
                     GoQuote(name)),
        c.call.args[0]->pos);
  }
}

// A duration in ms as seconds, bit for bit as float64(ms) / 1000. Whole
// seconds (the usual case) take an integer division, which is exact, instead
// of a floating-point one.
inline double MsToSeconds(int64_t ms) {
  return ms % 1000 == 0 ? static_cast<double>(ms / 1000)
                        : static_cast<double>(ms) / 1000;
}

// Go's time.Duration.Seconds() of a duration in ms.
double GoDurationSeconds(int64_t ms) {
  return static_cast<double>(ms / 1000) +
         static_cast<double>((ms % 1000) * 1000000) / 1e9;
}

// Whether some value is below its predecessor (a counter reset). A
// branch-free scan the compiler vectorizes: resets are rare.
bool HasDecrease(SampleView<double> v) {
  bool any = false;
  for (size_t i = 1; i < v.size(); ++i) any |= v[i] < v[i - 1];
  return any;
}

// Prometheus's extrapolatedRate for float samples. The extrapolation factor
// depends only on where the samples sit in the window, which repeats from
// window to window for regularly scraped series, so it is computed once per
// window shape and reused: the same operations give the same bits.
class ExtrapolatedRate {
 public:
  ExtrapolatedRate(int64_t range_ms, bool counter, bool rate)
      : range_seconds_(GoDurationSeconds(range_ms)),
        counter_(counter),
        rate_(rate) {}

  // A counter without a reset in all its samples has none in any window.
  void BeginSeries(SampleView<double> v) {
    may_reset_ = counter_ && HasDecrease(v);
  }

  Opt operator()(const Window& w) {
    const size_t n = w.v.size();
    if (n < 2) return std::nullopt;
    const SampleView<double> v = w.v;
    const SampleView<int64_t> t = w.t;
    double result = v[n - 1] - v[0];
    if (may_reset_ && HasDecrease(w.v)) {
      double prev = v[0];
      for (size_t i = 1; i < n; ++i) {
        if (v[i] < prev) result += prev;
        prev = v[i];
      }
    }
    // The window's length is fixed, so these two give the sampled span.
    const int64_t to_start_ms = t[0] - w.range_start;
    const int64_t to_end_ms = w.range_end - t[n - 1];
    if (!cached_ || to_start_ms != to_start_ms_ || to_end_ms != to_end_ms_ ||
        n != n_) {
      Shape(to_start_ms, to_end_ms, t[n - 1] - t[0], n);
    }
    // sampled * (first / result) < duration_to_start needs, with a margin
    // far larger than any rounding error, first <= result * zero_ratio_:
    // when that fails, the division cannot change the outcome.
    if (counter_ && result > 0 && v[0] >= 0 && v[0] <= result * zero_ratio_) {
      // Extrapolating to the start would take the counter below zero.
      double duration_to_zero = sampled_ * (v[0] / result);
      if (duration_to_zero < duration_to_start_) {
        return result * Factor(duration_to_zero);
      }
    }
    return result * factor_;
  }

 private:
  void Shape(int64_t to_start_ms, int64_t to_end_ms, int64_t sampled_ms,
             size_t n) {
    cached_ = true;
    to_start_ms_ = to_start_ms;
    to_end_ms_ = to_end_ms;
    n_ = n;
    sampled_ = MsToSeconds(sampled_ms);
    double average = sampled_ / static_cast<double>(n - 1);
    double threshold = average * 1.1;
    duration_to_start_ = MsToSeconds(to_start_ms);
    if (duration_to_start_ >= threshold) duration_to_start_ = average / 2;
    duration_to_end_ = MsToSeconds(to_end_ms);
    if (duration_to_end_ >= threshold) duration_to_end_ = average / 2;
    factor_ = Factor(duration_to_start_);
    zero_ratio_ = duration_to_start_ / sampled_ * (1 + 1e-6);
  }

  double Factor(double duration_to_start) const {
    double factor =
        (sampled_ + duration_to_start + duration_to_end_) / sampled_;
    if (rate_) factor /= range_seconds_;
    return factor;
  }

  const double range_seconds_;
  const bool counter_, rate_;
  bool may_reset_ = true;
  bool cached_ = false;
  int64_t to_start_ms_ = 0, to_end_ms_ = 0;
  size_t n_ = 0;
  double sampled_ = 0, duration_to_start_ = 0, duration_to_end_ = 0,
         factor_ = 0, zero_ratio_ = 0;
};

// Prometheus's extendedRate: rate/increase/delta over an anchored or
// smoothed range. The left boundary value is the last sample at or before
// the window start (anchored; smoothed interpolates it at the start), the
// right one the last sample in the window (smoothed interpolates it at the
// end from the next sample). Counter resets between them are corrected; no
// extrapolation.
Opt ExtendedRate(const Window& w, int64_t range_ms, bool smoothed, bool counter,
                 bool rate) {
  SampleView<int64_t> t = w.ext_t;
  SampleView<double> v = w.ext_v;
  if (t.empty()) return std::nullopt;
  const int64_t start = w.range_start, end = w.range_end;
  size_t last = t.size() - 1;
  // The last sample at or before the start, else the first one (searching
  // all but the last sample, as Prometheus).
  size_t first =
      std::upper_bound(t.begin(), t.begin() + last, start) - t.begin();
  if (first > 0) --first;
  if (smoothed) {
    last = std::lower_bound(t.begin(), t.begin() + last, end) - t.begin();
  }
  if (t[last] <= start) return std::nullopt;
  if (smoothed && t[first] > end) return std::nullopt;
  auto interpolate = [&](size_t a, size_t b, int64_t at) {
    double y1 = v[a], y2 = v[b];
    if (counter && y2 < y1) y1 = 0;
    return y1 + (y2 - y1) * static_cast<double>(at - t[a]) /
                    static_cast<double>(t[b] - t[a]);
  };
  const double left = smoothed && t[first] < start
                          ? interpolate(first, first + 1, start)
                          : v[first];
  const double right = smoothed && last > 0 && t[last] > end
                           ? interpolate(last - 1, last, end)
                           : v[last];
  double result = right - left;
  if (counter) {
    // The samples strictly inside the window; the boundary values already
    // account for resets at the boundaries.
    size_t from = t[first] <= start ? first + 1 : first;
    size_t to = t[last] >= end ? last : last + 1;  // Exclusive.
    double prev = left, correction = 0;
    for (size_t i = from; i < to; ++i) {
      if (v[i] < prev) correction += prev;
      prev = v[i];
    }
    if (right < prev) correction += prev;
    result += correction;
  }
  if (rate) result /= GoDurationSeconds(range_ms);
  return result;
}

// The samples changes() and resets() read with anchored: from the last
// sample at or before the window start (within the lookback delta) to the
// end; nothing when no sample is inside the window.
SampleView<double> AnchoredSamples(const Window& w) {
  size_t after =
      std::upper_bound(w.ext_t.begin(), w.ext_t.end(), w.range_start) -
      w.ext_t.begin();
  if (after >= w.ext_t.size()) return {};
  size_t anchor = after > 0 ? after - 1 : 0;
  return w.ext_v.subspan(anchor);
}

bool IsExtended(const RangeValue& range) {
  return range.selector != nullptr &&
         (range.selector->anchored || range.selector->smoothed);
}

absl::StatusOr<Value> RateLike(FunctionCall& c, bool counter, bool rate,
                               bool annotate) {
  const RangeValue& range = c.range(0);
  if (IsExtended(range)) {
    const bool smoothed = range.selector->smoothed;
    return MapWindowsValue(
        c, range, false, Parallel::kYes, [&](const Window& w) {
          return ExtendedRate(w, range.range_ms, smoothed, counter, rate);
        });
  }
  std::vector<const RangeSeries*> produced;
  PROMEVAL_ASSIGN_OR_RETURN(
      Value out,
      MapWindowsValue(c, range, false, Parallel::kYes,
                      ExtrapolatedRate(range.range_ms, counter, rate),
                      annotate ? &produced : nullptr));
  if (annotate) NonCounterInfo(c, produced);
  return out;
}

Opt InstantValue(const Window& w, bool rate) {
  size_t n = w.v.size();
  if (n < 2) return std::nullopt;
  double last = w.v[n - 1], previous = w.v[n - 2];
  int64_t interval = w.t[n - 1] - w.t[n - 2];
  if (interval == 0) return std::nullopt;
  double result = (rate && last < previous) ? last : last - previous;
  if (rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

// Least squares with Kahan-compensated sums; x in seconds from intercept_t.
std::pair<double, double> LinearRegression(const Window& w,
                                           int64_t intercept_t) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0,
         sum_x2 = 0, c_x2 = 0;
  double init_y = w.v[0];
  bool const_y = true;
  for (size_t i = 0; i < w.v.size(); ++i) {
    if (const_y && i > 0 && w.v[i] != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(w.t[i] - intercept_t) / 1e3;
    KahanInc(x, sum_x, c_x);
    KahanInc(w.v[i], sum_y, c_y);
    KahanInc(x * w.v[i], sum_xy, c_xy);
    KahanInc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {std::nan(""), std::nan("")};
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

double VarianceOf(SampleView<double> v) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (double f : v) {
    count++;
    double delta = f - (mean + c_mean);
    KahanInc(delta / count, mean, c_mean);
    KahanInc(delta * (f - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

// compareOverTime: the value (or its timestamp in seconds) kept by `take`.
template <typename Take>
double CompareOverTime(const Window& w, Take take, bool timestamp) {
  double best = w.v[0];
  int64_t best_t = w.t[0];
  for (size_t i = 0; i < w.v.size(); ++i) {
    if (take(w.v[i], best)) {
      best = w.v[i];
      best_t = w.t[i];
    }
  }
  return timestamp ? static_cast<double>(best_t) / 1000 : best;
}

// A window function of the fold: window by window (anchored / smoothed
// ranges, which MapWindows does not give to AllWindows) or all at once.
template <double (*kOne)(SampleView<double>), AllWindowsFn kAll>
struct FoldOverTime {
  Opt operator()(const Window& w) const {
    if (w.v.empty()) return std::nullopt;
    return kOne(w.v);
  }
  int64_t AllWindows(SampleView<double> v, const size_t* lo, const size_t* hi,
                     int count, double* out) const {
    return kAll(v.data(), lo, hi, count, out);
  }
};

template <typename F>
absl::StatusOr<Value> OverTime(FunctionCall& c, bool keep_name,
                               Parallel parallel, F f) {
  return MapWindowsValue(c, c.range(0), keep_name, parallel,
                         [&](const Window& w) -> Opt {
                           if (w.v.empty()) return std::nullopt;
                           return f(w);
                         });
}

}  // namespace

namespace functions {

absl::StatusOr<Value> Rate(FunctionCall& c) {
  return RateLike(c, true, true, true);
}
absl::StatusOr<Value> Increase(FunctionCall& c) {
  return RateLike(c, true, false, true);
}
absl::StatusOr<Value> Delta(FunctionCall& c) {
  return RateLike(c, false, false, false);
}

absl::StatusOr<Value> Irate(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes,
                  [](const Window& w) { return InstantValue(w, true); });
}

absl::StatusOr<Value> Idelta(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes,
                  [](const Window& w) { return InstantValue(w, false); });
}

absl::StatusOr<Value> Deriv(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    if (w.v.size() < 2) return std::nullopt;
    return LinearRegression(w, w.t[0]).first;
  });
}

absl::StatusOr<Value> PredictLinear(FunctionCall& c) {
  const std::vector<double>& duration = c.scalar(1);
  return OverTime(c, false, Parallel::kYes, [&](const Window& w) -> Opt {
    if (w.v.size() < 2) return std::nullopt;
    auto [slope, intercept] = LinearRegression(w, w.step_time);
    return slope * duration[w.step] + intercept;
  });
}

absl::StatusOr<Value> Changes(FunctionCall& c) {
  const bool anchored = IsExtended(c.range(0));
  return OverTime(c, false, Parallel::kYes, [anchored](const Window& w) -> Opt {
    SampleView<double> v = anchored ? AnchoredSamples(w) : w.v;
    if (v.empty()) return std::nullopt;
    double changes = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      double prev = v[i - 1], cur = v[i];
      if (!(cur == prev || (std::isnan(cur) && std::isnan(prev)))) changes++;
    }
    return changes;
  });
}

absl::StatusOr<Value> Resets(FunctionCall& c) {
  const bool anchored = IsExtended(c.range(0));
  return OverTime(c, false, Parallel::kYes, [anchored](const Window& w) -> Opt {
    SampleView<double> v = anchored ? AnchoredSamples(w) : w.v;
    if (v.empty()) return std::nullopt;
    double resets = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] < v[i - 1]) resets++;
    }
    return resets;
  });
}

absl::StatusOr<Value> AvgOverTime(FunctionCall& c) {
  return MapWindowsValue(c, c.range(0), false, Parallel::kYes,
                         FoldOverTime<AverageOf, AverageWindows>());
}

absl::StatusOr<Value> SumOverTime(FunctionCall& c) {
  return MapWindowsValue(c, c.range(0), false, Parallel::kYes,
                         FoldOverTime<SumOf, SumWindows>());
}

absl::StatusOr<Value> CountOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return static_cast<double>(w.v.size());
  });
}

// max_over_time / min_over_time as Prometheus computes them (a NaN is
// replaced by any later value, ties keep the first value, so -0 and +0 come
// out as written; NaN only if all values are NaN), in O(1) amortized per
// step: a monotonic queue over the sliding window of each series holds the
// candidates, never NaNs.
template <bool kMax>
class SlidingExtreme {
 public:
  int64_t AllWindows(SampleView<double> v, const size_t* lo, const size_t* hi,
                     int count, double* out) {
    // Each sample enters the queue once, so it never holds more than all of
    // them.
    queue_.resize(v.size());
    size_t* queue = queue_.data();
    size_t head = 0, tail = 0;  // The live part of the queue.
    size_t next = 0;            // The next sample to enter it.
    int64_t present = 0;
    for (int i = 0; i < count; ++i) {
      const size_t begin = lo[i], end = hi[i];
      if (begin == end) {
        out[i] = Absent();
        continue;
      }
      next = std::max(next, begin);
      for (; next < end; ++next) {
        const double x = v[next];
        if (std::isnan(x)) continue;
        while (tail > head &&
               (kMax ? x > v[queue[tail - 1]] : x < v[queue[tail - 1]])) {
          --tail;
        }
        queue[tail++] = next;
      }
      while (head < tail && queue[head] < begin) ++head;
      out[i] = head == tail ? std::nan("") : v[queue[head]];
      ++present;
    }
    return present;
  }

 private:
  std::vector<size_t> queue_;  // Sample indices; reused across series.
};

absl::StatusOr<Value> MinOverTime(FunctionCall& c) {
  return MapWindowsValue(c, c.range(0), false, Parallel::kYes,
                         SlidingExtreme<false>());
}

absl::StatusOr<Value> MaxOverTime(FunctionCall& c) {
  return MapWindowsValue(c, c.range(0), false, Parallel::kYes,
                         SlidingExtreme<true>());
}

absl::StatusOr<Value> TsOfMinOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return CompareOverTime(
        w,
        [](double cur, double best) { return cur <= best || std::isnan(best); },
        true);
  });
}

absl::StatusOr<Value> TsOfMaxOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return CompareOverTime(
        w,
        [](double cur, double best) { return cur >= best || std::isnan(best); },
        true);
  });
}

absl::StatusOr<Value> LastOverTime(FunctionCall& c) {
  return OverTime(c, true, Parallel::kYes,
                  [](const Window& w) -> Opt { return w.v.back(); });
}

absl::StatusOr<Value> FirstOverTime(FunctionCall& c) {
  return OverTime(c, true, Parallel::kYes,
                  [](const Window& w) -> Opt { return w.v.front(); });
}

absl::StatusOr<Value> TsOfLastOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return static_cast<double>(w.t.back()) / 1000;
  });
}

absl::StatusOr<Value> TsOfFirstOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return static_cast<double>(w.t.front()) / 1000;
  });
}

absl::StatusOr<Value> PresentOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes,
                  [](const Window&) -> Opt { return 1.0; });
}

absl::StatusOr<Value> StddevOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes, [](const Window& w) -> Opt {
    return std::sqrt(VarianceOf(w.v));
  });
}

absl::StatusOr<Value> StdvarOverTime(FunctionCall& c) {
  return OverTime(c, false, Parallel::kYes,
                  [](const Window& w) -> Opt { return VarianceOf(w.v); });
}

// quantile_over_time's windows of a series in sorted order, kept sorted as
// the window slides: the samples that leave it are removed and those that
// enter it inserted, instead of sorting every window. Only for series
// without NaN or zero samples (Quantile's order of NaNs and signed zeros is
// its sort's; other equal values are the same bits, so any ascending order
// is Quantile's order).
class SortedWindow {
 public:
  static bool CanSlide(SampleView<double> v) {
    return std::none_of(v.begin(), v.end(),
                        [](double x) { return std::isnan(x) || x == 0; });
  }

  // The window's samples in ascending order. REQUIRES: CanSlide() of the
  // window's series.
  absl::Span<const double> Slide(const Window& w) {
    const double* base = w.v.data() - w.begin;
    const size_t begin = w.begin, end = w.begin + w.v.size();
    if (base != base_ || begin < begin_ || end < end_) {
      base_ = base;
      begin_ = begin;
      end_ = end;
      sorted_.assign(w.v.begin(), w.v.end());
      std::sort(sorted_.begin(), sorted_.end());
      return sorted_;
    }
    for (; begin_ < begin; ++begin_) {
      if (begin_ >= end_) continue;  // Never entered.
      sorted_.erase(
          std::lower_bound(sorted_.begin(), sorted_.end(), base[begin_]));
    }
    for (end_ = std::max(end_, begin); end_ < end; ++end_) {
      const double x = base[end_];
      sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), x), x);
    }
    return sorted_;
  }

 private:
  const double* base_ = nullptr;  // The series of sorted_.
  size_t begin_ = 0, end_ = 0;    // Its samples in sorted_.
  std::vector<double> sorted_;
};

absl::StatusOr<Value> QuantileOverTime(FunctionCall& c) {
  const std::vector<double>& q = c.scalar(0);
  struct Fn {
    FunctionCall& c;
    const std::vector<double>& q;
    bool slide = false;
    SortedWindow sorted;
    std::vector<double> buffer;

    void BeginSeries(SampleView<double> v) {
      slide = SortedWindow::CanSlide(v);
    }
    Opt operator()(const Window& w) {
      if (w.v.empty()) return std::nullopt;
      const double p = q[w.step];
      // Prometheus warns only about steps that have samples.
      if (!(p >= 0 && p <= 1)) {
        AnnotateInvalidQuantiles(c.ctx(), {p}, c.call.args[0]->pos);
      }
      if (slide) return QuantileOfSorted(p, sorted.Slide(w));
      buffer.assign(w.v.begin(), w.v.end());
      return Quantile(p, buffer);
    }
  };
  return MapWindowsValue(c, c.range(1), false, Parallel::kNo,
                         Fn{c, q, false, {}, {}});
}

absl::StatusOr<Value> MadOverTime(FunctionCall& c) {
  std::vector<double> buffer;
  return OverTime(c, false, Parallel::kNo, [&](const Window& w) -> Opt {
    // A NaN makes the median, and so the deviation, undefined.
    if (std::any_of(w.v.begin(), w.v.end(),
                    [](double v) { return std::isnan(v); })) {
      return std::nan("");
    }
    buffer.assign(w.v.begin(), w.v.end());
    double median = Quantile(0.5, buffer);
    buffer.clear();
    for (double v : w.v) buffer.push_back(std::fabs(v - median));
    return Quantile(0.5, buffer);
  });
}

absl::StatusOr<Value> DoubleExponentialSmoothing(FunctionCall& c) {
  const std::vector<double>& sf_values = c.scalar(1);
  const std::vector<double>& tf_values = c.scalar(2);
  for (size_t i = 0; i < sf_values.size(); ++i) {
    double sf = sf_values[i], tf = tf_values[i];
    if (sf <= 0 || sf >= 1) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf));
    }
    if (tf <= 0 || tf >= 1) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "invalid trend factor. Expected: 0 < tf < 1, got: %f", tf));
    }
  }
  return OverTime(c, false, Parallel::kYes, [&](const Window& w) -> Opt {
    size_t n = w.v.size();
    if (n < 2) return std::nullopt;
    double sf = sf_values[w.step], tf = tf_values[w.step];
    double s0 = 0, s1 = w.v[0], b = w.v[1] - w.v[0];
    for (size_t k = 1; k < n; ++k) {
      double x = sf * w.v[k];
      if (k > 1) b = tf * (s1 - s0) + (1 - tf) * b;
      double y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  });
}

}  // namespace functions
}  // namespace promeval::eval
