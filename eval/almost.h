// Prometheus's util/almost.Equal: float equality with a relative tolerance,
// used by histogram_quantile (to ignore tiny non-monotonic deltas) and by the
// test-script runner (to compare results).
//
// Internal to promeval.
#ifndef PROMEVAL_EVAL_ALMOST_H_
#define PROMEVAL_EVAL_ALMOST_H_

#include <algorithm>
#include <cmath>
#include <limits>

#include "promeval/value.h"

namespace promeval::eval {

// Stale markers equal only each other; other NaNs are equal; otherwise the
// difference relative to the sum of the magnitudes is below epsilon (near
// zero: the difference is below epsilon times the smallest normal float).
inline bool AlmostEqual(double a, double b, double epsilon) {
  if (IsStaleNaN(a) || IsStaleNaN(b)) return IsStaleNaN(a) && IsStaleNaN(b);
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || std::fabs(a) + std::fabs(b) < kMinNormal) {
    return diff < epsilon * kMinNormal;
  }
  return diff / std::min(std::fabs(a) + std::fabs(b),
                         std::numeric_limits<double>::max()) <
         epsilon;
}

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_ALMOST_H_
