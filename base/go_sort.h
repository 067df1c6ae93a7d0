// Go's sort.Sort (pattern-defeating quicksort, Go 1.19 and later), step for
// step. Prometheus orders the results of topk, bottomk, sort and sort_desc
// with sort.Sort, which is not stable: elements that compare equal end up
// in an order that depends on the algorithm. Reproducing it exactly gives
// the same order as Prometheus for ties.
//
// Internal to promeval. Header-only; `less(i, j)` and `swap(i, j)` work on
// indices as Go's sort.Interface does.
#ifndef PROMEVAL_BASE_GO_SORT_H_
#define PROMEVAL_BASE_GO_SORT_H_

#include <bit>
#include <cstdint>
#include <tuple>
#include <utility>

namespace promeval {
namespace go_sort_internal {

enum class Hint { kUnknown, kIncreasing, kDecreasing };

template <typename Less, typename Swap>
class Sorter {
 public:
  Sorter(Less& less, Swap& swap) : less_(less), swap_(swap) {}

  void InsertionSort(int a, int b) {
    for (int i = a + 1; i < b; ++i) {
      for (int j = i; j > a && less_(j, j - 1); --j) swap_(j, j - 1);
    }
  }

  void SiftDown(int lo, int hi, int first) {
    int root = lo;
    while (true) {
      int child = 2 * root + 1;
      if (child >= hi) return;
      if (child + 1 < hi && less_(first + child, first + child + 1)) ++child;
      if (!less_(first + root, first + child)) return;
      swap_(first + root, first + child);
      root = child;
    }
  }

  void HeapSort(int a, int b) {
    int first = a, hi = b - a;
    for (int i = (hi - 1) / 2; i >= 0; --i) SiftDown(i, hi, first);
    for (int i = hi - 1; i >= 0; --i) {
      swap_(first, first + i);
      SiftDown(0, i, first);
    }
  }

  void Pdqsort(int a, int b, int limit) {
    constexpr int kMaxInsertion = 12;
    bool was_balanced = true, was_partitioned = true;
    while (true) {
      int length = b - a;
      if (length <= kMaxInsertion) {
        InsertionSort(a, b);
        return;
      }
      if (limit == 0) {
        HeapSort(a, b);
        return;
      }
      if (!was_balanced) {
        BreakPatterns(a, b);
        --limit;
      }
      auto [pivot, hint] = ChoosePivot(a, b);
      if (hint == Hint::kDecreasing) {
        ReverseRange(a, b);
        pivot = (b - 1) - (pivot - a);
        hint = Hint::kIncreasing;
      }
      if (was_balanced && was_partitioned && hint == Hint::kIncreasing &&
          PartialInsertionSort(a, b)) {
        return;
      }
      if (a > 0 && !less_(a - 1, pivot)) {
        a = PartitionEqual(a, b, pivot);
        continue;
      }
      auto [mid, already_partitioned] = Partition(a, b, pivot);
      was_partitioned = already_partitioned;
      int left = mid - a, right = b - mid;
      int balance_threshold = length / 8;
      if (left < right) {
        was_balanced = left >= balance_threshold;
        Pdqsort(a, mid, limit);
        a = mid + 1;
      } else {
        was_balanced = right >= balance_threshold;
        Pdqsort(mid + 1, b, limit);
        b = mid;
      }
    }
  }

 private:
  std::pair<int, bool> Partition(int a, int b, int pivot) {
    swap_(a, pivot);
    int i = a + 1, j = b - 1;
    while (i <= j && less_(i, a)) ++i;
    while (i <= j && !less_(j, a)) --j;
    if (i > j) {
      swap_(j, a);
      return {j, true};
    }
    swap_(i, j);
    ++i;
    --j;
    while (true) {
      while (i <= j && less_(i, a)) ++i;
      while (i <= j && !less_(j, a)) --j;
      if (i > j) break;
      swap_(i, j);
      ++i;
      --j;
    }
    swap_(j, a);
    return {j, false};
  }

  int PartitionEqual(int a, int b, int pivot) {
    swap_(a, pivot);
    int i = a + 1, j = b - 1;
    while (true) {
      while (i <= j && !less_(a, i)) ++i;
      while (i <= j && less_(a, j)) --j;
      if (i > j) break;
      swap_(i, j);
      ++i;
      --j;
    }
    return i;
  }

  bool PartialInsertionSort(int a, int b) {
    constexpr int kMaxSteps = 5, kShortestShifting = 50;
    int i = a + 1;
    for (int step = 0; step < kMaxSteps; ++step) {
      while (i < b && !less_(i, i - 1)) ++i;
      if (i == b) return true;
      if (b - a < kShortestShifting) return false;
      swap_(i, i - 1);
      if (i - a >= 2) {
        for (int j = i - 1; j >= 1; --j) {
          if (!less_(j, j - 1)) break;
          swap_(j, j - 1);
        }
      }
      if (b - i >= 2) {
        for (int j = i + 1; j < b; ++j) {
          if (!less_(j, j - 1)) break;
          swap_(j, j - 1);
        }
      }
    }
    return false;
  }

  void BreakPatterns(int a, int b) {
    int length = b - a;
    if (length < 8) return;
    uint64_t random = static_cast<uint64_t>(length);
    uint64_t modulus = uint64_t{1}
                       << std::bit_width(static_cast<uint64_t>(length));
    for (int idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1;
         ++idx) {
      random ^= random << 13;
      random ^= random >> 7;
      random ^= random << 17;
      int other = static_cast<int>(random & (modulus - 1));
      if (other >= length) other -= length;
      swap_(idx, a + other);
    }
  }

  std::pair<int, int> Order2(int a, int b, int& swaps) {
    if (less_(b, a)) {
      ++swaps;
      return {b, a};
    }
    return {a, b};
  }

  int Median(int a, int b, int c, int& swaps) {
    std::tie(a, b) = Order2(a, b, swaps);
    std::tie(b, c) = Order2(b, c, swaps);
    return Order2(a, b, swaps).second;
  }

  std::pair<int, Hint> ChoosePivot(int a, int b) {
    constexpr int kShortestNinther = 50, kMaxSwaps = 4 * 3;
    int l = b - a;
    int swaps = 0;
    int i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;
    if (l >= 8) {
      if (l >= kShortestNinther) {
        i = Median(i - 1, i, i + 1, swaps);
        j = Median(j - 1, j, j + 1, swaps);
        k = Median(k - 1, k, k + 1, swaps);
      }
      j = Median(i, j, k, swaps);
    }
    if (swaps == 0) return {j, Hint::kIncreasing};
    if (swaps == kMaxSwaps) return {j, Hint::kDecreasing};
    return {j, Hint::kUnknown};
  }

  void ReverseRange(int a, int b) {
    for (int i = a, j = b - 1; i < j; ++i, --j) swap_(i, j);
  }

  Less& less_;
  Swap& swap_;
};

}  // namespace go_sort_internal

// Sorts indices [0, n) as Go's sort.Sort(data) with data.Less = less and
// data.Swap = swap.
template <typename Less, typename Swap>
void GoSort(int n, Less less, Swap swap) {
  if (n <= 1) return;
  go_sort_internal::Sorter<Less, Swap> sorter(less, swap);
  sorter.Pdqsort(0, n, std::bit_width(static_cast<unsigned>(n)));
}

}  // namespace promeval

#endif  // PROMEVAL_BASE_GO_SORT_H_
