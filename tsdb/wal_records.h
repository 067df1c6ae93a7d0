// The records of Prometheus's WAL and WBL (tsdb/record): series, float
// samples (v1 and the v2 of Prometheus 3.x with start times), tombstones,
// m-map markers (WBL), and the records decoded only to be checked and
// skipped: exemplars, metadata and native histogram samples (of these only
// the series and time of each sample are kept, to leave those series out).
// Format in ../shared/prometheus/specs/tsdb/format_wal.md; where the text
// and Prometheus's encoder differ (sample deltas are signed varints), the
// encoder wins.
//
// Every decoder reads the whole record and fails, without appending
// anything, on a record that ends early: kDataLoss "record: offset N: WHAT"
// (N counts from the start of the record, type byte included), which the
// caller places in its file.
//
// Internal to promeval (tsdb/). Thread-safe (pure functions).
#ifndef PROMEVAL_TSDB_WAL_RECORDS_H_
#define PROMEVAL_TSDB_WAL_RECORDS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "promeval/labels.h"

namespace promeval::tsdb {

// record.Type: the first byte of a record.
enum class WalRecordType : uint8_t {
  kUnknown = 0,
  kSeries = 1,
  kSamples = 2,
  kTombstones = 3,
  kExemplars = 4,
  kMmapMarkers = 5,
  kMetadata = 6,
  kHistogramSamples = 7,
  kFloatHistogramSamples = 8,
  kCustomBucketsHistogramSamples = 9,
  kCustomBucketsFloatHistogramSamples = 10,
  kSamplesV2 = 11,
  kHistogramSamplesV2 = 12,
  kFloatHistogramSamplesV2 = 13,
};

// The type of `record`; kUnknown for an empty record or an unknown type
// (which Prometheus's replay skips).
WalRecordType GetWalRecordType(absl::string_view record);

// A series record entry: the series' reference in the head and its labels
// as stored (Prometheus writes them sorted; nothing here relies on it).
struct WalSeries {
  uint64_t ref = 0;
  std::vector<Label> labels;
};

struct WalSample {
  uint64_t ref = 0;
  int64_t t = 0;
  double v = 0;
};

// A deleted interval [min_time, max_time] of a series.
struct WalTombstone {
  uint64_t ref = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
};

// WBL: every out-of-order sample of `ref` so far is in the head chunk at
// `chunk_ref` (file sequence << 32 | offset) of chunks_head/.
struct WalMmapMarker {
  uint64_t ref = 0;
  uint64_t chunk_ref = 0;
};

// A native histogram sample, reduced to where it belongs.
struct WalHistogramSample {
  uint64_t ref = 0;
  int64_t t = 0;
};

absl::Status DecodeSeriesRecord(absl::string_view record,
                                std::vector<WalSeries>& out);
// kSamples or kSamplesV2 (start times are read and dropped).
absl::Status DecodeSamplesRecord(absl::string_view record,
                                 std::vector<WalSample>& out);
absl::Status DecodeTombstonesRecord(absl::string_view record,
                                    std::vector<WalTombstone>& out);
absl::Status DecodeMmapMarkersRecord(absl::string_view record,
                                     std::vector<WalMmapMarker>& out);
// Any of the six histogram record types. Samples of a schema Prometheus does
// not know are left out, as its decoder skips them.
absl::Status DecodeHistogramRecord(absl::string_view record,
                                   std::vector<WalHistogramSample>& out);
// Checks an exemplars or metadata record (Prometheus's replay fails on a
// malformed one too).
absl::Status CheckSkippedRecord(absl::string_view record);

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_WAL_RECORDS_H_
