// A Prometheus data directory as a Queryable, read-only: its persistent
// blocks and its head (the WAL with its checkpoint, the memory-mapped head
// chunks, the out-of-order WBL), as Prometheus 2.x and 3.x write them.
//
// Opening reads each block's meta.json, the index's table of contents,
// symbols and postings offset table; a query selects series through the
// postings and decodes only the chunks overlapping its time range, so the
// memory a query holds is proportional to what it touches. The head (the
// last hours, not yet in a block) is replayed into memory once, when the
// first querier is created. Series from several blocks (and the head) are
// merged by labels; samples at equal timestamps in overlapping blocks count
// once (the first block's, in time order, then the head's).
//
// The directory of a running Prometheus (or a copy of one) works: nothing
// is written and no lock is taken; a record being written at the end of the
// WAL is left out. Series holding native histograms are not supported yet:
// they are left out and counted (SkippedHistogramSeries()).
//
// Errors: kNotFound / kPermissionDenied for the directory, kDataLoss naming
// the file and byte offset for corrupt bytes, kUnimplemented for formats
// not supported (index version 1, XOR2 chunks).
//
// Thread-safety: a TsdbQueryable and its queriers may be used from any
// number of threads (Querier::ConcurrentSelect() is true).
#ifndef PROMEVAL_TSDB_H_
#define PROMEVAL_TSDB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "promeval/storage.h"

namespace promeval {

struct TsdbOptions {
  // Replay the head (wal/, chunks_head/, wbl/) too.
  bool head = true;
  // Threads a Select decodes the blocks' chunks on (its series split among
  // them) when it reads `parallel_min_samples` samples or more; 1: the
  // calling thread only.
  int threads = 1;
  int64_t parallel_min_samples = int64_t{1} << 20;
};

struct TsdbBlockInfo {
  std::string ulid;
  int64_t min_time = 0;  // Inclusive (ms).
  int64_t max_time = 0;  // Exclusive (ms).
  int64_t series = 0;
  int64_t samples = 0;
  int64_t chunks = 0;
  int compaction_level = 0;
};

struct TsdbHeadInfo {
  bool present = false;  // wal/ exists.
  bool replayed = false;
  int64_t min_time = 0;  // Of its float samples (ms), once replayed.
  int64_t max_time = 0;
  int64_t series = 0;
  int64_t samples = 0;
  int checkpoint = -1;
  int64_t wal_segments = 0;
  int64_t mmapped_chunks = 0;
  int64_t ooo_samples = 0;
  int64_t histogram_series = 0;
  bool torn_tail = false;
  // What the replay tolerated, each naming the file and offset: a torn
  // record at the end of a log, head chunk files left out (their samples
  // come from the WAL), files a running Prometheus deleted meanwhile.
  std::vector<std::string> warnings;
};

struct TsdbInfo {
  std::string dir;
  std::vector<TsdbBlockInfo> blocks;  // By min_time.
  TsdbHeadInfo head;
};

class TsdbQueryable : public Queryable {
 public:
  static absl::StatusOr<std::unique_ptr<TsdbQueryable>> Open(
      std::string dir, TsdbOptions options = {});
  ~TsdbQueryable() override;

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;

  // The blocks and the head; with `replay_head`, the head is replayed first
  // (if it was not yet) so its figures are known.
  absl::StatusOr<TsdbInfo> Info(bool replay_head = false);

  // Series left out of query results so far because a chunk or record of
  // theirs holds native histograms.
  int64_t SkippedHistogramSeries() const;

  class Impl;  // Internal.

 private:
  explicit TsdbQueryable(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace promeval

#endif  // PROMEVAL_TSDB_H_
