// The chunk segment files of a persistent block (chunks/000001, ...;
// Prometheus's tsdb/chunks Reader; format in ../shared/prometheus/specs/
// tsdb/format_chunks.md).
//
// A chunk reference is the segment's position among the block's segment
// files (0 for the first) << 32 | the chunk's byte offset in it. A chunk is
// `len <uvarint> | encoding <1 byte> | data <len bytes> | CRC32C of
// encoding and data <4 bytes>`; Chunk() checks its bounds and checksum.
//
// Internal to promeval (tsdb/). Thread-safe after Open (read-only).
#ifndef PROMEVAL_TSDB_CHUNKS_H_
#define PROMEVAL_TSDB_CHUNKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tsdb/mmap_file.h"

namespace promeval::tsdb {

// One chunk as stored: views of the mapped segment file.
struct RawChunk {
  uint8_t encoding = 0;
  absl::string_view data;             // After the encoding byte.
  const std::string* file = nullptr;  // The segment's path.
  uint64_t offset = 0;                // Of the chunk in it.
};

class ChunkReader {
 public:
  // Maps the segment files in `dir` (the files whose names are decimal
  // numbers, in name order, as Prometheus's sequenceFiles lists them) and
  // checks their headers (magic 0x85BD40DD, version 1).
  static absl::StatusOr<std::unique_ptr<ChunkReader>> Open(std::string dir);

  // The chunk at `ref`; kDataLoss naming the segment file and offset if it
  // lies outside the file or (with `verify`) its checksum does not match.
  // Without `verify` only its bounds are checked: for a look at its header
  // before the checked read.
  absl::StatusOr<RawChunk> Chunk(uint64_t ref, bool verify = true) const;

  const std::string& dir() const { return dir_; }
  size_t num_segments() const { return segments_.size(); }

 private:
  explicit ChunkReader(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::vector<std::unique_ptr<MmapFile>> segments_;
};

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_CHUNKS_H_
