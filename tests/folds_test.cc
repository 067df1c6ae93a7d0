// AverageWindows and SumWindows, which fold four windows at a time, give
// bit for bit what AverageOf and SumOf give window by window: over sliding
// windows of equal length one sample apart (the four-lane path), windows of
// other shapes (one by one), empty windows, and values that overflow the sum,
// are NaN or infinite, or are signed zeros.
#include "eval/functions/folds.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "eval/evaluator.h"
#include "gtest/gtest.h"

namespace promeval::eval {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// Some values of a kind: ordinary counters, huge values whose sums
// overflow, or a mix with NaN, infinities and signed zeros.
double Value(std::mt19937_64& rng, int kind, int i) {
  switch (kind) {
    case 0:
      return 100.0 * i + static_cast<double>(rng() % 7);
    case 1:
      return (rng() % 2 ? 1 : -1) * std::numeric_limits<double>::max() *
             (0.3 + static_cast<double>(rng() % 8) / 10);
    default:
      switch (rng() % 9) {
        case 0:
          return std::nan("");
        case 1:
          return std::numeric_limits<double>::infinity();
        case 2:
          return -std::numeric_limits<double>::infinity();
        case 3:
          return -0.0;
        case 4:
          return 0.0;
        case 5:
          return 1e308;
        default:
          return static_cast<double>(static_cast<int64_t>(rng() % 2001) -
                                     1000) /
                 3;
      }
  }
}

struct Case {
  std::vector<double> values;
  std::vector<size_t> lo, hi;
};

// Windows of `len` samples one sample apart (sometimes shorter, sometimes
// empty, sometimes two apart), as steps over a series sampled once per step.
Case MakeCase(std::mt19937_64& rng, int kind) {
  Case c;
  const size_t n = 8 + rng() % 60;
  for (size_t i = 0; i < n; ++i) {
    c.values.push_back(Value(rng, kind, static_cast<int>(i)));
  }
  const size_t len = 1 + rng() % 12;
  size_t start = 0;
  while (start < n) {
    size_t end = std::min(n, start + len);
    switch (rng() % 10) {
      case 0:
        end = start;  // An empty window.
        break;
      case 1:
        end = start + (end - start) / 2;
        break;
      default:
        break;
    }
    c.lo.push_back(start);
    c.hi.push_back(end);
    start += rng() % 8 == 0 ? 2 : 1;
  }
  return c;
}

void ExpectSameAsOneByOne(const Case& c, AllWindowsFn all,
                          double (*one)(SampleView<double>)) {
  const int count = static_cast<int>(c.lo.size());
  std::vector<double> out(count, 0.0);
  const int64_t present =
      all(c.values.data(), c.lo.data(), c.hi.data(), count, out.data());
  int64_t want_present = 0;
  for (int i = 0; i < count; ++i) {
    if (c.hi[i] == c.lo[i]) {
      EXPECT_TRUE(IsAbsent(out[i])) << "window " << i;
      continue;
    }
    ++want_present;
    const double want =
        one(SampleView<double>(c.values.data() + c.lo[i], c.hi[i] - c.lo[i]));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(out[i]) && !IsAbsent(out[i])) << "window " << i;
    } else {
      EXPECT_EQ(Bits(out[i]), Bits(want))
          << "window " << i << " [" << c.lo[i] << ", " << c.hi[i]
          << "): " << out[i] << " vs " << want;
    }
  }
  EXPECT_EQ(present, want_present);
}

TEST(FoldsTest, AllWindowsEqualOneByOne) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 3000; ++round) {
    const Case c = MakeCase(rng, round % 3);
    SCOPED_TRACE(::testing::Message() << "round " << round);
    ExpectSameAsOneByOne(c, AverageWindows, AverageOf);
    ExpectSameAsOneByOne(c, SumWindows, SumOf);
    if (HasFailure()) return;
  }
}

// Four contiguous windows of which one overflows: all four fall back, and
// the overflowing one takes the incremental mean.
TEST(FoldsTest, OverflowInOneLane) {
  const double big = std::numeric_limits<double>::max() / 2;
  std::vector<double> v{1, 2, 3, big, big, big, 4, 5};
  std::vector<size_t> lo{0, 1, 2, 3}, hi{3, 4, 5, 6};
  std::vector<double> out(4);
  EXPECT_EQ(AverageWindows(v.data(), lo.data(), hi.data(), 4, out.data()), 4);
  EXPECT_EQ(out[0], 2);
  // (big + big + big) / 3 without overflowing, as AverageOf computes it.
  EXPECT_DOUBLE_EQ(out[3], big);
  EXPECT_EQ(Bits(out[3]), Bits(AverageOf(SampleView<double>(v.data() + 3, 3))));
  EXPECT_EQ(SumWindows(v.data(), lo.data(), hi.data(), 4, out.data()), 4);
  EXPECT_EQ(out[0], 6);
  EXPECT_EQ(out[3], std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace promeval::eval
