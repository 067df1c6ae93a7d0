// Reading a series' samples: searching its sorted timestamps, prefetching.
#ifndef PROMEVAL_EVAL_SAMPLES_H_
#define PROMEVAL_EVAL_SAMPLES_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace promeval::eval {

// A view of contiguous samples, converting to and from absl::Span. Unlike
// absl::Span its operator[] does not check the bounds: Debian builds Abseil
// hardened, which checks every Span index, and the window functions index
// these views in their innermost loops.
template <typename T>
class SampleView {
 public:
  SampleView() = default;
  SampleView(const T* data, size_t size) : data_(data), size_(size) {}
  SampleView(absl::Span<const T> s)  // NOLINT: implicit, as a Span.
      : data_(s.data()), size_(s.size()) {}
  operator absl::Span<const T>() const {  // NOLINT
    return absl::Span<const T>(data_, size_);
  }

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  // REQUIRES: i < size() (or !empty()).
  const T& operator[](size_t i) const { return data_[i]; }
  const T& front() const { return data_[0]; }
  const T& back() const { return data_[size_ - 1]; }
  // REQUIRES: pos <= size().
  SampleView subspan(size_t pos) const {
    return SampleView(data_ + pos, size_ - pos);
  }

 private:
  const T* data_ = nullptr;
  size_t size_ = 0;
};

// std::upper_bound(t, x): the index of the first timestamp after `x`.
// Scraped samples are nearly evenly spaced, so the search starts where `x`
// would be if they were exactly so and widens from there: a few adjacent
// cache lines instead of a binary search's log2(n) scattered ones, which
// dominate a selector over series that are not in cache.
inline size_t UpperBoundTime(absl::Span<const int64_t> t, int64_t x) {
  const size_t n = t.size();
  if (n == 0 || x < t[0]) return 0;
  if (x >= t[n - 1]) return n;
  // Now t[0] <= x < t[n - 1]: find lo < hi with t[lo] <= x < t[hi].
  const double span = static_cast<double>(t[n - 1]) - static_cast<double>(t[0]);
  const double frac =
      (static_cast<double>(x) - static_cast<double>(t[0])) / span;
  size_t guess = static_cast<size_t>(std::clamp(frac, 0.0, 1.0) *
                                     static_cast<double>(n - 1));
  guess = std::min(guess, n - 2);
  size_t lo = guess, hi = guess + 1;
  if (t[lo] <= x) {
    for (size_t step = 1; t[hi] <= x; step *= 2) {
      lo = hi;
      hi = std::min(n - 1, guess + 2 * step);
    }
  } else {
    for (size_t step = 1; t[lo] > x; step *= 2) {
      hi = lo;
      lo = guess >= 2 * step ? guess - 2 * step : 0;
    }
  }
  return std::upper_bound(t.begin() + lo + 1, t.begin() + hi, x) - t.begin();
}

// Starts loading the samples from index `from` on (up to 128 of them) into
// the cache. Loops over many series call it for the next series while they
// read the current one: series are usually scraped alike, so the next one's
// samples of interest start near the same index, and waiting for them to
// arrive from memory is most of a selector's time.
inline void PrefetchSamples(absl::Span<const int64_t> t,
                            absl::Span<const double> v, size_t from) {
  constexpr size_t kPerLine = 64 / sizeof(int64_t);
  const size_t end = std::min(from + 128, t.size());
  for (size_t i = from; i < end; i += kPerLine) {
    __builtin_prefetch(&t[i]);
    __builtin_prefetch(&v[i]);
  }
}

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_SAMPLES_H_
