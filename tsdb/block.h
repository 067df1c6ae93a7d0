// One persistent block of a Prometheus data directory, read-only: its
// meta.json, its index (format version 2), its chunk segment files and its
// tombstones (Prometheus's tsdb.Block, tsdb/index, tsdb/chunks,
// tsdb/tombstones; formats in ../shared/prometheus/specs/tsdb/).
//
// Opening a block maps its files and reads meta.json, the TOC, the symbol
// table and the postings offset table; series entries, postings and chunks
// are read when a query asks for them, so what a query holds is what it
// touches. Every section read is length- and CRC32-checked; corrupt bytes
// give kDataLoss naming the file and byte offset, never a crash.
//
// Internal to promeval. Thread-safe after Open (read-only).
#ifndef PROMEVAL_TSDB_BLOCK_H_
#define PROMEVAL_TSDB_BLOCK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "promeval/labels.h"

namespace promeval::tsdb {

// meta.json.
struct BlockMeta {
  std::string ulid;
  int64_t min_time = 0;  // Inclusive (ms).
  int64_t max_time = 0;  // Exclusive (ms), as Prometheus writes it.
  int64_t num_samples = 0;
  int64_t num_series = 0;
  int64_t num_chunks = 0;
  int64_t num_tombstones = 0;
  int compaction_level = 0;
  int version = 0;  // 1.
};

// A chunk of a series as the index lists it.
struct ChunkMeta {
  int64_t min_time = 0;  // First sample (inclusive).
  int64_t max_time = 0;  // Last sample (inclusive).
  uint64_t ref = 0;      // Segment sequence << 32 | offset in the segment.
};

struct BlockSeries {
  Labels labels;
  uint64_t id = 0;  // The series' reference in the index (offset / 16).
  std::vector<ChunkMeta> chunks;  // Only those overlapping the selection.
};

// Samples of one series, in time order.
struct SeriesSamples {
  std::vector<int64_t> t;
  std::vector<double> v;
  bool stale = false;  // A stale marker is among them (ReadSamples sets it).
};

class Block {
 public:
  // `dir` is the block's directory (holding meta.json, index, chunks/,
  // tombstones).
  static absl::StatusOr<std::unique_ptr<Block>> Open(std::string dir);
  virtual ~Block() = default;

  virtual const BlockMeta& meta() const = 0;
  virtual const std::string& dir() const = 0;

  // The series matching every matcher (Prometheus's PostingsForMatchers:
  // a matcher that matches the empty value also selects series without the
  // label; no matchers select every series, as MemStorage does) with a
  // chunk overlapping [mint, maxt], sorted by labels, each with the chunks
  // that overlap. Chunks that tombstones delete entirely are left out too,
  // as Prometheus's block querier leaves them out. Appends to `out` (nothing
  // on an error: kDataLoss naming the index file and offset).
  virtual absl::Status Select(absl::Span<const Matcher> matchers, int64_t mint,
                              int64_t maxt,
                              std::vector<BlockSeries>& out) const = 0;

  // Appends to `out` the samples of `series`'s chunks with mint <= t <=
  // maxt, without the intervals its tombstones delete. Returns false (and
  // appends nothing) if a chunk holds native histograms, which are not
  // supported yet. XOR2 chunks (storage.tsdb.chunk_encoding.floats) give
  // kUnimplemented, corrupt chunks and unknown encodings kDataLoss, naming
  // the segment file and offset; on an error nothing is appended.
  virtual absl::StatusOr<bool> ReadSamples(const BlockSeries& series,
                                           int64_t mint, int64_t maxt,
                                           SeriesSamples& out) const = 0;

  // The most samples ReadSamples can append for these arguments (the
  // samples of the chunks it would decode, from their headers, checksums
  // not checked), for a caller reserving room once: 0 if it would append
  // nothing or fail (ReadSamples reports the error).
  virtual size_t MaxSamples(const BlockSeries& series, int64_t mint,
                            int64_t maxt) const = 0;
};

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_BLOCK_H_
