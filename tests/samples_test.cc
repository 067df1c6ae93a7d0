// UpperBoundTime agrees with std::upper_bound on evenly and unevenly spaced
// timestamps, for targets before, inside, between and after them.
#include "eval/samples.h"

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace promeval::eval {
namespace {

void ExpectLikeUpperBound(const std::vector<int64_t>& t, int64_t x) {
  const size_t want = std::upper_bound(t.begin(), t.end(), x) - t.begin();
  ASSERT_EQ(UpperBoundTime(t, x), want) << "x=" << x << " n=" << t.size();
}

TEST(UpperBoundTimeTest, MatchesUpperBound) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    const size_t n = rng() % 40;
    std::vector<int64_t> t;
    int64_t now = static_cast<int64_t>(rng() % 1000) - 500;
    for (size_t i = 0; i < n; ++i) {
      // Mostly a regular interval, sometimes a gap or a burst (and repeats).
      switch (rng() % 8) {
        case 0:
          now += static_cast<int64_t>(rng() % 100000);
          break;
        case 1:
          now += static_cast<int64_t>(rng() % 2);
          break;
        default:
          now += 15000;
      }
      t.push_back(now);
    }
    for (int q = 0; q < 30; ++q) {
      const int64_t lo = t.empty() ? 0 : t.front() - 20000;
      const int64_t hi = t.empty() ? 1 : t.back() + 20000;
      ExpectLikeUpperBound(
          t, lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo)));
    }
    for (int64_t x : t) {
      ExpectLikeUpperBound(t, x);
      ExpectLikeUpperBound(t, x - 1);
      ExpectLikeUpperBound(t, x + 1);
    }
  }
}

TEST(UpperBoundTimeTest, ExtremeTimes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::vector<int64_t> t = {kMin, -1, 0, 1, kMax};
  for (int64_t x : {kMin, kMin + 1, int64_t{-2}, int64_t{-1}, int64_t{0},
                    int64_t{1}, int64_t{2}, kMax - 1, kMax}) {
    ExpectLikeUpperBound(t, x);
  }
  ExpectLikeUpperBound({}, 0);
  ExpectLikeUpperBound({5}, 4);
  ExpectLikeUpperBound({5}, 5);
  ExpectLikeUpperBound({5, 6}, 5);
}

}  // namespace
}  // namespace promeval::eval
