// The tombstones file of a persistent block: the time ranges deleted from
// its series (Prometheus's tsdb/tombstones; format in ../shared/prometheus/
// specs/tsdb/format_tombstones.md).
//
// Internal to promeval (tsdb/). Thread-safe after Read (read-only).
#ifndef PROMEVAL_TSDB_TOMBSTONES_H_
#define PROMEVAL_TSDB_TOMBSTONES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace promeval::tsdb {

// A closed time range [min_time, max_time] (ms).
struct Interval {
  int64_t min_time = 0;
  int64_t max_time = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

class Tombstones {
 public:
  // Reads the tombstones file at `path` (magic 0x0130BA30, version 1,
  // entries `series ref <uvarint> | mint <varint> | maxt <varint>`, CRC32C
  // of the entries); a missing file means no tombstones. Corrupt bytes give
  // kDataLoss naming the file and offset.
  static absl::StatusOr<Tombstones> Read(const std::string& path);

  // Parses the content of a tombstones file; `path` names it in errors.
  static absl::StatusOr<Tombstones> Parse(absl::string_view content,
                                          absl::string_view path);

  // The deleted intervals of series `ref`: sorted, disjoint, with no two
  // adjacent (as Prometheus's Intervals.Add merges them).
  absl::Span<const Interval> Get(uint64_t ref) const {
    auto it = intervals_.find(ref);
    if (it == intervals_.end()) return {};
    return it->second;
  }

  // The number of tombstone entries the file held.
  int64_t num_entries() const { return num_entries_; }
  bool empty() const { return intervals_.empty(); }

 private:
  absl::flat_hash_map<uint64_t, std::vector<Interval>> intervals_;
  int64_t num_entries_ = 0;
};

// Whether [mint, maxt] lies entirely within one of `intervals` (Prometheus's
// Interval.IsSubrange).
bool IsSubrange(int64_t mint, int64_t maxt,
                absl::Span<const Interval> intervals);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_TOMBSTONES_H_
