// The head of a Prometheus data directory (the samples not yet in a block),
// read-only: the newest checkpoint.N, the WAL segments after it, the
// memory-mapped head chunks (chunks_head/) and the out-of-order WBL (wbl/),
// replayed as Prometheus replays them when it starts (tsdb/head_wal.go;
// formats in ../shared/prometheus/specs/tsdb/format_wal.md and
// format_head_chunks.md).
//
// Works on the directory of a running Prometheus or a copy of one: files
// are read, never written or locked; a torn record at the tail of the last
// segment (a write in progress, or a copy taken mid-write) ends the replay
// there, as Prometheus's replay does. Compressed records (snappy, zstd) are
// decompressed. Exemplars, metadata and native histogram records are
// skipped (the series holding native histograms are counted).
//
// Internal to promeval. Thread-safe (a pure function of the directory).
#ifndef PROMEVAL_TSDB_HEAD_H_
#define PROMEVAL_TSDB_HEAD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "promeval/storage.h"

namespace promeval::tsdb {

struct HeadStats {
  int64_t series = 0;    // Series with at least one float sample.
  int64_t samples = 0;   // Float samples appended.
  int64_t min_time = 0;  // Of those samples (ms); 0 when there are none.
  int64_t max_time = 0;
  int64_t histogram_series = 0;  // Series left out: they hold histograms.
  int checkpoint = -1;           // The checkpoint replayed (-1: none).
  int64_t wal_segments = 0;      // Segments read after it.
  int64_t mmapped_chunks = 0;    // Head chunks read from chunks_head/.
  int64_t ooo_samples = 0;       // From wbl/.
  bool torn_tail = false;        // The last segment ended mid-record.
};

// Replays the head of the data directory `dir` into `out`: every series
// with its float samples in time order (one sample per timestamp: a sample
// both in a head chunk and in the WAL counts once), in one commit, nothing
// when there is no wal/. Errors name the file and byte offset (kDataLoss
// for corrupt bytes other than a torn tail).
absl::StatusOr<HeadStats> ReplayHead(const std::string& dir, Appendable& out);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_HEAD_H_
