// Kahan-Neumaier compensated summation, as Prometheus's
// util/kahansum.Inc. The compensation only works without FMA contraction
// (the build uses -ffp-contract=off).
#ifndef PROMEVAL_EVAL_KAHAN_H_
#define PROMEVAL_EVAL_KAHAN_H_

#include <cmath>

namespace promeval::eval {

// Adds `inc` to the running `sum` with compensation `c`.
inline void KahanInc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::isinf(t)) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_KAHAN_H_
