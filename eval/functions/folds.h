// The *_over_time functions that fold each window's samples one by one as
// Prometheus does (avg and sum over time): for one window, and for
// all of a series' windows at once, four windows at a time in the lanes of a
// vector, with the same results bit for bit.
//
// Internal to promeval; no state, safe to call from any thread.
#ifndef PROMEVAL_EVAL_FUNCTIONS_FOLDS_H_
#define PROMEVAL_EVAL_FUNCTIONS_FOLDS_H_

#include <cstddef>
#include <cstdint>

#include "eval/samples.h"

namespace promeval::eval {

// One window's value. REQUIRES: !v.empty().
// avg_over_time: a Kahan-compensated mean, switching to an incremental mean
// if the sum overflows.
double AverageOf(SampleView<double> v);
// sum_over_time: a Kahan-compensated sum.
double SumOf(SampleView<double> v);

// Every window of a series: the samples [lo[i], hi[i]) of its values `v` at
// each of `count` steps. Writes out[i], Absent() for an empty window, and
// returns how many windows had a value.
using AllWindowsFn = int64_t (*)(const double* v, const size_t* lo,
                                 const size_t* hi, int count, double* out);
int64_t AverageWindows(const double* v, const size_t* lo, const size_t* hi,
                       int count, double* out);
int64_t SumWindows(const double* v, const size_t* lo, const size_t* hi,
                   int count, double* out);

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_FUNCTIONS_FOLDS_H_
