#include "eval/functions/folds.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "eval/evaluator.h"
#include "eval/kahan.h"

namespace promeval::eval {

// Mean with Kahan summation, switching to an incremental mean on overflow.
double AverageOf(SampleView<double> v) {
  const size_t n = v.size();
  double sum = v[0], c = 0;
  size_t i = 1;
  for (; i < n; ++i) {
    double new_sum = sum, new_c = c;
    KahanInc(v[i], new_sum, new_c);
    if (std::isinf(new_sum)) break;
    sum = new_sum;
    c = new_c;
  }
  if (i == n) {
    const double count = static_cast<double>(n);
    return sum / count + c / count;
  }
  // The sum overflowed at v[i]: an incremental mean from there.
  double mean = sum / static_cast<double>(i);
  c /= static_cast<double>(i);
  for (; i < n; ++i) {
    const double count = static_cast<double>(i + 1);
    double q = (count - 1) / count;
    double m = q * mean, cc = q * c;
    KahanInc(v[i] / count, m, cc);
    mean = m;
    c = cc;
  }
  return mean + c;
}

double SumOf(SampleView<double> v) {
  double sum = 0, comp = 0;
  for (double x : v) KahanInc(x, sum, comp);
  return std::isinf(sum) ? sum : sum + comp;
}

namespace {

// Four windows at a time. The folds below evaluate four consecutive windows
// of a series in the lanes of a vector: each lane does the operations of the
// one-window code (their Scalar) in the same order, so it gives the same bits,
// while the four chains of dependent additions overlap.

// Everything that takes or returns a vector is always inlined into the
// AVX2 or baseline function it is used in: a call between the two would
// pass the vectors in different ways.
using Lanes = double __attribute__((vector_size(32)));
using LaneMask = int64_t __attribute__((vector_size(32)));

[[gnu::always_inline]] inline Lanes LaneAbs(Lanes x) {
  return std::bit_cast<Lanes>(std::bit_cast<LaneMask>(x) &
                              std::numeric_limits<int64_t>::max());
}

[[gnu::always_inline]] inline LaneMask LaneIsInf(Lanes x) {
  return LaneAbs(x) == std::numeric_limits<double>::infinity();
}

[[gnu::always_inline]] inline bool AllLanes(LaneMask m) {
  return (m[0] & m[1] & m[2] & m[3]) != 0;
}

// Folds every window [lo[i], hi[i]) of the series' values `v` with `Fold`:
//   State Init(Lanes first);  the state after each lane's first sample;
//   void Step(State&, Lanes x);  adds each lane's next sample;
//   bool Finish(const State&, Lanes count, Lanes& result);  false gives the
//     four windows to Scalar instead;
//   double Scalar(SampleView<double> window);  one non-empty window.
// Four windows go into lanes when they have the same length and each starts
// one sample after the previous one (a series sampled once per step), so
// that lane k's j-th sample is v[lo + k + j] and one unaligned load reads
// the j-th sample of all four; other windows are folded one by one. Empty
// windows have no value. Returns the number of values written.
template <typename Fold>
[[gnu::always_inline]] inline int64_t FoldWindows(const double* v,
                                                  const size_t* lo,
                                                  const size_t* hi, int count,
                                                  double* out) {
  int64_t present = 0;
  int i = 0;
  while (i < count) {
    const size_t n = hi[i] - lo[i];
    if (i + 4 <= count && n > 0 && lo[i + 1] == lo[i] + 1 &&
        lo[i + 2] == lo[i] + 2 && lo[i + 3] == lo[i] + 3 &&
        hi[i + 3] - lo[i + 3] == n && hi[i + 2] - lo[i + 2] == n &&
        hi[i + 1] - lo[i + 1] == n) {
      const double* base = v + lo[i];
      Lanes x;
      std::memcpy(&x, base, sizeof(x));
      typename Fold::State state = Fold::Init(x);
      for (size_t j = 1; j < n; ++j) {
        std::memcpy(&x, base + j, sizeof(x));
        Fold::Step(state, x);
      }
      Lanes result;
      if (Fold::Finish(state, Lanes{} + static_cast<double>(n), result)) {
        std::memcpy(out + i, &result, sizeof(result));
        present += 4;
        i += 4;
        continue;
      }
      for (int k = 0; k < 4; ++k, ++i) {
        out[i] = Fold::Scalar(SampleView<double>(v + lo[i], n));
      }
      present += 4;
      continue;
    }
    if (n == 0) {
      out[i] = Absent();
    } else {
      out[i] = Fold::Scalar(SampleView<double>(v + lo[i], n));
      ++present;
    }
    ++i;
  }
  return present;
}

// avg_over_time: AverageOf's Kahan sum; a window whose sum overflows goes to
// AverageOf, which switches to the incremental mean. An infinite sum stays
// infinite or becomes NaN, so a finite sum at the end never overflowed (a
// NaN sum, from NaN samples or from overflows, goes to AverageOf too).
struct AverageFold {
  struct State {
    Lanes sum, c;
  };
  [[gnu::always_inline]] static State Init(Lanes first) {
    return State{first, Lanes{}};
  }
  [[gnu::always_inline]] static void Step(State& s, Lanes x) {
    const Lanes t = s.sum + x;
    s.c = LaneAbs(s.sum) >= LaneAbs(x) ? s.c + ((s.sum - t) + x)
                                       : s.c + ((x - t) + s.sum);
    s.sum = t;
  }
  [[gnu::always_inline]] static bool Finish(const State& s, Lanes count,
                                            Lanes& result) {
    // |NaN| < Inf is false too.
    if (!AllLanes(LaneAbs(s.sum) < std::numeric_limits<double>::infinity())) {
      return false;
    }
    result = s.sum / count + s.c / count;
    return true;
  }
  static double Scalar(SampleView<double> v) { return AverageOf(v); }
};

// sum_over_time: KahanInc from zero over every sample, the sum itself if it
// is infinite.
struct SumFold {
  struct State {
    Lanes sum, c;
  };
  [[gnu::always_inline]] static State Init(Lanes first) {
    State s{Lanes{}, Lanes{}};
    Step(s, first);
    return s;
  }
  [[gnu::always_inline]] static void Step(State& s, Lanes x) {
    const Lanes t = s.sum + x;
    const Lanes corr =
        LaneAbs(s.sum) >= LaneAbs(x) ? (s.sum - t) + x : (x - t) + s.sum;
    s.c = LaneIsInf(t) ? Lanes{} : s.c + corr;
    s.sum = t;
  }
  [[gnu::always_inline]] static bool Finish(const State& s, Lanes,
                                            Lanes& result) {
    result = LaneIsInf(s.sum) ? s.sum : s.sum + s.c;
    return true;
  }
  static double Scalar(SampleView<double> v) { return SumOf(v); }
};

// Each fold compiled twice: for AVX2, and for the baseline x86-64 the build
// targets. The choice is made once, at the first call (not with ifunc
// resolvers, which run before the sanitizers' runtimes are initialized).
template <typename Fold>
[[gnu::target("avx2")]] int64_t FoldWindowsAvx2(const double* v,
                                                const size_t* lo,
                                                const size_t* hi, int count,
                                                double* out) {
  return FoldWindows<Fold>(v, lo, hi, count, out);
}

template <typename Fold>
int64_t FoldWindowsBaseline(const double* v, const size_t* lo, const size_t* hi,
                            int count, double* out) {
  return FoldWindows<Fold>(v, lo, hi, count, out);
}

template <typename Fold>
AllWindowsFn ChooseFold() {
  return __builtin_cpu_supports("avx2") ? FoldWindowsAvx2<Fold>
                                        : FoldWindowsBaseline<Fold>;
}

}  // namespace

int64_t AverageWindows(const double* v, const size_t* lo, const size_t* hi,
                       int count, double* out) {
  static const AllWindowsFn fold = ChooseFold<AverageFold>();
  return fold(v, lo, hi, count, out);
}

int64_t SumWindows(const double* v, const size_t* lo, const size_t* hi,
                   int count, double* out) {
  static const AllWindowsFn fold = ChooseFold<SumFold>();
  return fold(v, lo, hi, count, out);
}

}  // namespace promeval::eval
