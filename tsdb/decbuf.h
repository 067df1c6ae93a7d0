// Reading the binary encodings of Prometheus's TSDB files: big-endian
// integers, Go's varints, length-prefixed strings, CRC32-Castagnoli checked
// sections (Prometheus's tsdb/encoding Decbuf).
//
// A Decbuf reads a byte range of a file that stays mapped while it is used.
// The first failure sticks: later reads return zeros, and status() tells
// what went wrong and where (the file and the byte offset), so a caller can
// decode a whole entry and check once. Nothing here reads outside the range
// it was given, whatever the bytes.
//
// Internal to promeval (tsdb/). Not thread-safe; cheap to copy.
#ifndef PROMEVAL_TSDB_DECBUF_H_
#define PROMEVAL_TSDB_DECBUF_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace promeval::tsdb {

// CRC32 with the Castagnoli polynomial (what Prometheus's TSDB uses), of
// `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);

// The error for corrupt bytes: kDataLoss, "FILE: offset N: WHAT".
absl::Status CorruptionError(absl::string_view file, uint64_t offset,
                             absl::string_view what);

class Decbuf {
 public:
  // `data` is bytes [base, base + data.size()) of `file` (for errors).
  Decbuf(absl::string_view data, absl::string_view file, uint64_t base = 0)
      : data_(data), file_(file), base_(base) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  // Bytes left to read.
  size_t remaining() const { return data_.size() - pos_; }
  // The file offset of the next byte to read.
  uint64_t offset() const { return base_ + pos_; }
  absl::string_view file() const { return file_; }

  uint8_t Byte();
  uint16_t Be16();
  uint32_t Be32();
  uint64_t Be64();
  // Go's binary.Uvarint / binary.Varint (at most 10 bytes; an overflowing
  // or unterminated varint is an error).
  uint64_t Uvarint();
  int64_t Varint();
  // A uvarint that must fit 32 bits.
  uint32_t Uvarint32();
  // The next `n` bytes.
  absl::string_view Bytes(size_t n);
  // A string prefixed with its uvarint length.
  absl::string_view UvarintString();
  void Skip(size_t n) { Bytes(n); }

  // Fails with "WHAT" at the current offset (keeps an earlier failure).
  void Fail(absl::string_view what);

 private:
  bool Need(size_t n);

  absl::string_view data_;
  absl::string_view file_;
  uint64_t base_;
  size_t pos_ = 0;
  absl::Status status_;
};

// A section `len <4b> | body | CRC32 <4b>` (or with `len` a uvarint for
// index series entries) at `offset` of `file`: checks that it lies within
// `file_data` and that the CRC32-Castagnoli of the body matches; the body,
// or kDataLoss naming the file and offset.
enum class LengthKind { kBe32, kUvarint };
absl::Status ReadCheckedSection(absl::string_view file_data,
                                absl::string_view file, uint64_t offset,
                                LengthKind kind, absl::string_view* body);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_DECBUF_H_
