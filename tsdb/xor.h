// Prometheus's chunk encodings (tsdb/chunkenc) and the decoder of the
// XOR-encoded float chunks (Gorilla: delta-of-delta timestamps, XORed
// values), which the data directory reader and remote read share.
//
// Internal to promeval. Thread-safe (pure functions).
#ifndef PROMEVAL_TSDB_XOR_H_
#define PROMEVAL_TSDB_XOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval::tsdb {

// chunkenc.Encoding.
enum class ChunkEncoding : uint8_t {
  kNone = 0,
  kXor = 1,
  kHistogram = 2,
  kFloatHistogram = 3,
  kXor2 = 4,
  kHistogramSt = 5,
  kFloatHistogramSt = 6,
};

// Whether the encoding holds native histograms (not supported yet: a series
// with such chunks is skipped and counted).
bool IsHistogramEncoding(uint8_t encoding);

// Appends the samples of an XOR chunk (`data`: the chunk's bytes after the
// encoding byte) with mint <= t <= maxt to `t` and `v`, in order; returns
// how many. A chunk whose bytes end early or claim more samples than they
// hold is an error (kDataLoss, "WHERE: ..."). Stale markers are kept.
// With `stale`, sets *stale to true if a stale marker (StaleNaN) was among
// the samples appended (and leaves it alone otherwise).
absl::StatusOr<int> DecodeXorChunk(absl::string_view data, int64_t mint,
                                   int64_t maxt, std::vector<int64_t>& t,
                                   std::vector<double>& v,
                                   absl::string_view where,
                                   bool* stale = nullptr);

// The number of samples an XOR chunk says it holds (its first two bytes).
absl::StatusOr<int> XorChunkSamples(absl::string_view data,
                                    absl::string_view where);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_XOR_H_
