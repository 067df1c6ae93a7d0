// Query results: vectors, matrices, scalars, strings, and the annotations
// (warnings and infos) returned next to them.
//
// Types follow Prometheus's promql/value.go. Timestamps are milliseconds
// since the Unix epoch. Plain value types: copyable, not synchronized.
#ifndef PROMEVAL_VALUE_H_
#define PROMEVAL_VALUE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "promeval/ast.h"
#include "promeval/labels.h"

namespace promeval {

// Prometheus's stale marker: a NaN with this exact bit pattern
// (model/value.StaleNaN). Arithmetic would turn it into an ordinary NaN, so
// it is only ever copied and compared by bits.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() {
  double v;
  std::memcpy(&v, &kStaleNaNBits, sizeof(v));
  return v;
}

// Go's int64(f) on amd64, where Prometheus runs: f truncated, or
// math.MinInt64 when f is NaN or outside int64's range (C++'s conversion
// would be undefined there).
inline int64_t GoFloatToInt64(double f) {
  if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) {
    return INT64_MIN;
  }
  return static_cast<int64_t>(f);
}

inline bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(v));
  return bits == kStaleNaNBits;
}

struct FPoint {
  int64_t t;
  double v;
};

// An element of an instant vector.
struct Sample {
  Labels labels;
  int64_t t = 0;
  double v = 0;
};
using Vector = std::vector<Sample>;

struct Series {
  Labels labels;
  std::vector<FPoint> points;
};
using Matrix = std::vector<Series>;

// A warning or info returned with a result (Prometheus's annotations).
struct Annotation {
  enum class Kind { kWarning, kInfo };
  Kind kind = Kind::kWarning;
  std::string message;  // Without the "PromQL warning: " prefix.
  PositionRange pos;
  // "PromQL warning: <message> (<line>:<col>)" for the query text.
  std::string ToString(absl::string_view query) const;
  friend bool operator==(const Annotation&, const Annotation&) = default;
};

// Counters of a query's work. peak_samples and total_queryable_samples are
// Prometheus's stats=all peakSamples and totalQueryableSamples for the same
// query over the same data.
struct QueryStats {
  int64_t samples_read = 0;  // Samples read from storage (promeval's own).
  // The most samples held at once, as Prometheus counts them against
  // --query.max-samples (with a sample limit per step: the most any step
  // held).
  int64_t peak_samples = 0;
  // The samples the evaluation touched (Prometheus's totalQueryableSamples).
  int64_t total_queryable_samples = 0;
  int64_t peak_bytes = 0;  // Most bytes of values held at once (estimate).
};

struct QueryResult {
  ValueType type = ValueType::kNone;  // kVector, kMatrix, kScalar, kString.
  Vector vector;
  Matrix matrix;
  double scalar = 0;
  std::string string;
  int64_t timestamp = 0;  // Evaluation time of a scalar or string.
  std::vector<Annotation> annotations;  // Deduplicated, in order of emission.
  QueryStats stats;
};

// Prometheus's float formatting in results (FormatFloat of text.h).
std::string FormatSampleValue(double v);

}  // namespace promeval

#endif  // PROMEVAL_VALUE_H_
