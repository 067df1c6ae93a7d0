#include "tsdb/tombstones.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tsdb/decbuf.h"
#include "tsdb/mmap_file.h"

namespace promeval::tsdb {
namespace {

constexpr uint32_t kTombstonesMagic = 0x0130BA30;
constexpr uint8_t kTombstonesFormatV1 = 1;
constexpr size_t kHeaderLen = 5;
constexpr size_t kCrcLen = 4;

// Sorts `intervals` and merges those that overlap or touch.
void Normalize(std::vector<Interval>& intervals) {
  std::sort(intervals.begin(), intervals.end(),
            [](const Interval& a, const Interval& b) {
              return a.min_time < b.min_time;
            });
  size_t out = 0;
  for (size_t i = 1; i < intervals.size(); ++i) {
    Interval& last = intervals[out];
    const Interval& next = intervals[i];
    // next.min_time - 1 <= last.max_time, without overflow.
    if (last.max_time == std::numeric_limits<int64_t>::max() ||
        next.min_time <= last.max_time + 1) {
      last.max_time = std::max(last.max_time, next.max_time);
    } else {
      intervals[++out] = next;
    }
  }
  if (!intervals.empty()) intervals.resize(out + 1);
}

}  // namespace

bool IsSubrange(int64_t mint, int64_t maxt,
                absl::Span<const Interval> intervals) {
  for (const Interval& i : intervals) {
    if (mint >= i.min_time && maxt <= i.max_time) return true;
  }
  return false;
}

absl::StatusOr<Tombstones> Tombstones::Read(const std::string& path) {
  absl::StatusOr<std::unique_ptr<MmapFile>> file = MmapFile::Open(path);
  if (absl::IsNotFound(file.status())) return Tombstones();
  if (!file.ok()) return file.status();
  return Parse((*file)->data(), path);
}

absl::StatusOr<Tombstones> Tombstones::Parse(absl::string_view content,
                                             absl::string_view path) {
  if (content.size() < kHeaderLen + kCrcLen) {
    return CorruptionError(path, 0,
                           absl::StrCat("tombstones file of ", content.size(),
                                        " bytes is shorter than its header"));
  }
  Decbuf header(content, path);
  const uint32_t magic = header.Be32();
  const uint8_t version = header.Byte();
  if (magic != kTombstonesMagic) {
    return CorruptionError(path, 0,
                           absl::StrCat("invalid tombstones magic number 0x",
                                        absl::Hex(magic, absl::kZeroPad8)));
  }
  if (version != kTombstonesFormatV1) {
    return CorruptionError(path, 4,
                           absl::StrCat("unknown tombstones format version ",
                                        static_cast<int>(version)));
  }
  const size_t end = content.size() - kCrcLen;
  const absl::string_view entries =
      content.substr(kHeaderLen, end - kHeaderLen);
  Decbuf crc(content.substr(end), path, end);
  const uint32_t want = crc.Be32();
  const uint32_t got = Crc32c(entries);
  if (got != want) {
    return CorruptionError(path, end,
                           absl::StrCat("tombstones checksum mismatch: stored ",
                                        want, ", computed ", got));
  }
  Tombstones t;
  Decbuf d(entries, path, kHeaderLen);
  while (d.remaining() > 0) {
    const uint64_t ref = d.Uvarint();
    const int64_t mint = d.Varint();
    const int64_t maxt = d.Varint();
    if (!d.ok()) return d.status();
    ++t.num_entries_;
    // An interval that ends before it starts deletes nothing.
    if (maxt >= mint) t.intervals_[ref].push_back(Interval{mint, maxt});
  }
  for (auto& [ref, intervals] : t.intervals_) Normalize(intervals);
  return t;
}

}  // namespace promeval::tsdb
