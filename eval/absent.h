// The marker of "no value at this step" in the evaluator's dense step
// arrays.
//
// Internal to promeval; header-only.
#ifndef PROMEVAL_EVAL_ABSENT_H_
#define PROMEVAL_EVAL_ABSENT_H_

#include <bit>
#include <cstdint>

namespace promeval::eval {

// A signalling NaN payload that no input or computation produces; only
// compared by bits.
inline constexpr uint64_t kAbsentBits = 0x7ff4dead0000beefULL;

inline double Absent() { return std::bit_cast<double>(kAbsentBits); }

inline bool IsAbsent(double v) {
  return std::bit_cast<uint64_t>(v) == kAbsentBits;
}

}  // namespace promeval::eval

#endif  // PROMEVAL_EVAL_ABSENT_H_
