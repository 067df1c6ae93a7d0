// Prometheus's write-ahead logs (tsdb/wlog), read-only: the numbered files
// of a directory (WAL and WBL segments, checkpoint.N directories, head chunk
// files) and the records of one segment (format in
// ../shared/prometheus/specs/tsdb/format_wal.md).
//
// A segment is a sequence of 32 KiB pages holding record fragments
// `type <1b> | len <2b> | CRC32C <4b> | data`; a record is one full
// fragment or first, middle..., last; a zero type byte pads the rest of its
// page. The type byte's bit 3 marks a snappy-compressed record, bit 4 a
// zstd one (what the writer sets on every fragment of the record). A short
// last page reads as if padded with zeros, as Prometheus's reader does.
//
// Files are read with read() into memory, never mapped: a running
// Prometheus truncates WAL segments and head chunk files (repair at start,
// truncation after compaction), and a mapping of a file that shrinks faults
// when read past the new end.
//
// Internal to promeval (tsdb/). Not thread-safe (a reader is used by one
// thread); the functions are.
#ifndef PROMEVAL_TSDB_WAL_H_
#define PROMEVAL_TSDB_WAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval::tsdb {

inline constexpr size_t kWalPageSize = 32 * 1024;
inline constexpr size_t kWalFragmentHeaderSize = 7;
// The most a compressed record may expand to (a whole segment is 128 MiB).
inline constexpr size_t kWalMaxRecordSize = size_t{512} << 20;

// The content of the file at `path` as it is now (a file that shrinks while
// it is read gives what was left). kNotFound if it does not exist (or no
// longer does); other failures name the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// The names of the regular files (or, with `directories`, the directories)
// in `dir`, unsorted. kNotFound when `dir` does not exist.
absl::StatusOr<std::vector<std::string>> ListEntries(const std::string& dir,
                                                     bool directories);

// An entry of a directory named `prefix` followed by a decimal number.
struct NumberedEntry {
  int64_t index = 0;
  std::string name;
};

// The entries of `dir` named `prefix` + digits (at most 18; names with
// anything else after the digits, such as checkpoint.00000003.tmp, are not
// listed), sorted by number; regular files when `directories` is false,
// directories otherwise. kNotFound when `dir` does not exist.
absl::StatusOr<std::vector<NumberedEntry>> ListNumberedEntries(
    const std::string& dir, absl::string_view prefix, bool directories);

// Reads the records of one segment, in order.
class WalSegmentReader {
 public:
  // `data` is the segment's content, `file` its name in errors. With
  // `tolerate_torn_tail`, a segment that ends inside a record (a fragment
  // header or data cut short by the end of the file, or first and middle
  // fragments without their last) ends the reading without an error, and
  // torn() says so; otherwise that is an error too.
  WalSegmentReader(absl::string_view data, std::string file,
                   bool tolerate_torn_tail)
      : data_(data),
        file_(std::move(file)),
        tolerate_torn_(tolerate_torn_tail) {}

  // The next record, decompressed, in `*record` (valid until the next call);
  // false at the end of the segment or on an error (then status() is not
  // OK). Must not be called again after it returned false.
  bool Next(absl::string_view* record);

  // kDataLoss "FILE: offset N: WHAT" for a checksum mismatch, an invalid
  // fragment type or length, non-zero padding, a fragment out of sequence,
  // a record that does not decompress, or a torn tail not tolerated.
  const absl::Status& status() const { return status_; }
  bool torn() const { return torn_; }
  // Where the torn record starts.
  uint64_t torn_offset() const { return torn_offset_; }
  // The file offset of the first fragment of the record Next() returned.
  uint64_t record_offset() const { return record_offset_; }
  const std::string& file() const { return file_; }

 private:
  bool Fail(uint64_t offset, absl::string_view what);
  bool Torn(uint64_t offset, absl::string_view what);
  bool Decompress(uint8_t header);

  absl::string_view data_;
  std::string file_;
  bool tolerate_torn_;
  size_t pos_ = 0;
  uint64_t record_offset_ = 0;
  bool torn_ = false;
  uint64_t torn_offset_ = 0;
  absl::Status status_;
  std::string assembled_;
  std::string decompressed_;
};

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_WAL_H_
