// The head of a Prometheus data directory (the samples not yet in a block),
// read-only: the newest checkpoint.N, the WAL segments after it, the
// memory-mapped head chunks (chunks_head/) and the out-of-order WBL (wbl/),
// replayed as Prometheus replays them when it starts (tsdb/head_wal.go;
// formats in ../shared/prometheus/specs/tsdb/format_wal.md and
// format_head_chunks.md; what is kept and skipped is told in head.cc).
//
// Works on the directory of a running Prometheus or a copy of one: files
// are read (with read(), never mapped), never written or locked; a torn
// record at the tail of the last segment (a write in progress, or a copy
// taken mid-write) ends the replay of that log there; a corrupt or torn
// head chunk file is left out with the files after it, as Prometheus's
// repair deletes them (the WAL holds their samples); a checkpoint or
// segment deleted while it is read (a truncation after a compaction)
// starts the replay again. Compressed records (snappy, zstd) are
// decompressed. Exemplars, metadata and native histogram records are
// skipped (the series holding native histograms are left out and counted).
// In-order samples older than the newest block's end are left out (they
// are in the blocks); out-of-order ones are not.
//
// Internal to promeval. Thread-safe (a pure function of the directory).
#ifndef PROMEVAL_TSDB_HEAD_H_
#define PROMEVAL_TSDB_HEAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  int64_t wbl_segments = 0;      // Segments of wbl/ read.
  int64_t mmapped_chunks = 0;    // Head chunks read from chunks_head/.
  int64_t ooo_samples = 0;       // Out-of-order samples appended (wbl/ and the
                                 // out-of-order head chunks).
  bool torn_tail = false;        // The last segment ended mid-record.
  bool wbl_torn_tail = false;    // The same in wbl/.
  // In-order samples before this time are left out, as Prometheus's replay
  // leaves them out: they are in the blocks. The newest maxTime of the
  // blocks' meta.json (out-of-order blocks aside), or HeadOptions's; the
  // lowest int64 when there are no blocks.
  int64_t min_valid_time = INT64_MIN;
  // WAL and WBL samples left out, as Prometheus's replay leaves them out:
  int64_t skipped_in_chunks = 0;     // In a head chunk already (at or before
                                     // the series' last m-mapped chunk's end).
  int64_t skipped_out_of_order = 0;  // At or before the series' newest
                                     // sample (the first one stays).
  int64_t skipped_unknown_series = 0;  // No series record for their ref.
  int64_t skipped_before_min_valid_time = 0;
  int64_t deleted_samples = 0;  // In tombstoned intervals.
  // Replays started: a checkpoint or segment that a running Prometheus
  // deleted while it was being read starts the replay again (three times at
  // most; the last one takes a vanished segment as the end of the WAL).
  int attempts = 0;
  bool vanished = false;  // The last attempt met a vanished segment.
  // What was tolerated, each naming the file (and offset): a torn tail,
  // head chunk files left out (Prometheus's repair: their samples come
  // from the WAL), vanished files.
  std::vector<std::string> warnings;
};

struct HeadOptions {
  // Overrides the min valid time read from the blocks: a caller that opened
  // the blocks itself passes the newest in-order block's maxTime of its
  // own listing (a block compacted in between would otherwise hide its
  // samples from both).
  std::optional<int64_t> min_valid_time;
};

// Replays the head of the data directory `dir` into `out`: every series
// with its float samples in time order (one sample per timestamp: a sample
// both in a head chunk and in the WAL counts once), in one commit, nothing
// when there is no wal/. Errors name the file and byte offset (kDataLoss
// for corrupt bytes other than a torn tail); nothing is appended then.
absl::StatusOr<HeadStats> ReplayHead(const std::string& dir, Appendable& out,
                                     const HeadOptions& options = {});

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_HEAD_H_
