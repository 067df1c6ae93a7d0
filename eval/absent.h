// The marker of "no value at this step" in the evaluator's dense step
// arrays.
//
// Internal to promeval; header-only.
#ifndef PROMEVAL_EVAL_ABSENT_H_
#define PROMEVAL_EVAL_ABSENT_H_

#include <cstdint>
#include <cstring>

namespace promeval::eval {

// A signalling NaN payload that no input or computation produces; only
// compared by bits.
inline constexpr uint64_t kAbsentBits = 0x7ff4dead0000beefULL;

inline double Absent() {
  double v;
  std::memcpy(&v, &kAbsentBits, sizeof(v));
  return v;
}

inline bool IsAbsent(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(v));
  return bits == kAbsentBits;
}

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_ABSENT_H_
