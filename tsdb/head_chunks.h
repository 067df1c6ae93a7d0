// The head chunk files of chunks_head/ (Prometheus's
// tsdb/chunks/head_chunks.go), read-only: the chunks the head cut and wrote
// to disk, each with its series reference and time range (format in
// ../shared/prometheus/specs/tsdb/format_head_chunks.md).
//
// A file is `magic 0x0130BC91 <4b> | version 1 <1b> | padding <3b>` then
// chunks `series ref <8b> | mint <8b> | maxt <8b> | encoding <1b> | len
// <uvarint> | data | CRC32C <4b>` (the checksum covers everything before
// it); the highest bit of the encoding marks an out-of-order chunk. The
// content ends at the end of the file or at zero bytes (files are
// preallocated).
//
// Internal to promeval (tsdb/). Thread-safe (pure functions).
#ifndef PROMEVAL_TSDB_HEAD_CHUNKS_H_
#define PROMEVAL_TSDB_HEAD_CHUNKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace promeval::tsdb {

inline constexpr uint32_t kHeadChunksMagic = 0x0130BC91;
inline constexpr size_t kHeadChunkFileHeaderSize = 8;

struct HeadChunk {
  uint64_t series_ref = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint8_t encoding = 0;  // ChunkEncoding, without the out-of-order bit.
  bool out_of_order = false;
  uint64_t ref = 0;        // ChunkDiskMapperRef: file sequence << 32 | offset.
  absl::string_view data;  // The chunk (for XOR: 2-byte count, bit stream).
};

// Checks the header of a head chunk file (kDataLoss "FILE: offset N: ...").
absl::Status CheckHeadChunkFileHeader(absl::string_view content,
                                      absl::string_view file);

// Appends the chunks of the file `content` (number `sequence`, named `file`
// in errors), header already checked, to `out`, in file order; `data` views
// `content`. A chunk cut short by the end of the file, a length that
// overflows, a checksum mismatch or non-zero bytes too few for a chunk give
// kDataLoss naming the file and offset; the chunks before it stay in `out`
// (IterateAllChunks's checks).
absl::Status ParseHeadChunkFile(absl::string_view content,
                                absl::string_view file, uint64_t sequence,
                                std::vector<HeadChunk>& out);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_HEAD_CHUNKS_H_
