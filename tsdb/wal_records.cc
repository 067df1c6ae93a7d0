#include "tsdb/wal_records.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

constexpr int32_t kCustomBucketsSchema = -53;

// The record after its type byte; offsets in errors count the type byte.
Decbuf Body(absl::string_view record) {
  return Decbuf(record.substr(1), "record", 1);
}

// Go's int64(a) + b, wrapping.
int64_t WrapAdd(uint64_t a, int64_t b) {
  return static_cast<int64_t>(a + static_cast<uint64_t>(b));
}

// Reads `n` elements with `read` while the buffer is fine: a count larger
// than the bytes left fails at the end of the data, not after n steps.
template <typename F>
void ReadN(Decbuf& d, uint64_t n, F read) {
  for (uint64_t i = 0; i < n && d.ok(); ++i) read();
}

void SkipLabels(Decbuf& d) {
  ReadN(d, d.Uvarint(), [&] {
    d.UvarintString();
    d.UvarintString();
  });
}

// record.DecodeHistogram / DecodeFloatHistogram, values skipped; the schema.
int32_t SkipHistogram(Decbuf& d, bool floats) {
  d.Byte();  // Counter reset hint.
  const auto schema = static_cast<int32_t>(d.Varint());
  d.Be64();  // Zero threshold.
  if (floats) {
    d.Be64();  // Zero count.
    d.Be64();  // Count.
  } else {
    d.Uvarint();
    d.Uvarint();
  }
  d.Be64();  // Sum.
  for (int sign = 0; sign < 2; ++sign) {
    ReadN(d, d.Uvarint(), [&] {
      d.Varint();
      d.Uvarint32();
    });
  }
  for (int sign = 0; sign < 2; ++sign) {
    ReadN(d, d.Uvarint(), [&] {
      if (floats) {
        d.Be64();
      } else {
        d.Varint();
      }
    });
  }
  if (schema == kCustomBucketsSchema) ReadN(d, d.Uvarint(), [&] { d.Be64(); });
  return schema;
}

// histogram.IsKnownSchema.
bool IsKnownSchema(int32_t schema) {
  return schema == kCustomBucketsSchema || (schema >= -9 && schema <= 52);
}

// The start time of a v2 sample after the first (record.readSTMarker).
int64_t ReadStartTime(Decbuf& d, int64_t prev_st, int64_t first_st) {
  switch (d.Byte()) {
    case 0:
      return 0;
    case 1:
      return prev_st;
    default:
      return WrapAdd(static_cast<uint64_t>(first_st), d.Varint());
  }
}

template <typename T>
absl::Status Finish(const Decbuf& d, std::vector<T>& out, size_t start) {
  if (d.ok()) return absl::OkStatus();
  out.resize(start);
  return d.status();
}

// Appends what `read` decodes until the record ends.
template <typename T, typename F>
absl::Status DecodeEach(absl::string_view record, std::vector<T>& out, F read) {
  const size_t start = out.size();
  Decbuf d = Body(record);
  while (d.remaining() > 0 && d.ok()) out.push_back(read(d));
  return Finish(d, out, start);
}

// Walks the rows of a samples or histogram record and calls `payload(d,
// ref, t)` to read the rest of each row. v1: the base reference and time
// (8 bytes each), then per row their deltas (varints); v2: the first row's
// reference, time and start time (varints), then per row the reference as
// a delta to the previous row's, the time as a delta to the first one's and
// a start time marker.
template <typename T, typename F>
absl::Status DecodeRows(absl::string_view record, bool v2, std::vector<T>& out,
                        F payload) {
  const size_t start = out.size();
  Decbuf d = Body(record);
  if (d.remaining() == 0) return absl::OkStatus();
  if (!v2) {
    const uint64_t base_ref = d.Be64();
    const uint64_t base_time = d.Be64();
    while (d.remaining() > 0 && d.ok()) {
      const int64_t dref = d.Varint();
      const int64_t dtime = d.Varint();
      payload(d, static_cast<uint64_t>(WrapAdd(base_ref, dref)),
              WrapAdd(base_time, dtime));
    }
    return Finish(d, out, start);
  }
  uint64_t ref = static_cast<uint64_t>(d.Varint());
  const int64_t first_t = d.Varint();
  const int64_t first_st = d.Varint();
  int64_t t = first_t;
  int64_t st = first_st;
  bool first = true;
  while (d.remaining() > 0 && d.ok()) {
    if (!first) {
      ref = static_cast<uint64_t>(WrapAdd(ref, d.Varint()));
      t = WrapAdd(static_cast<uint64_t>(first_t), d.Varint());
      st = ReadStartTime(d, st, first_st);
    }
    first = false;
    payload(d, ref, t);
  }
  return Finish(d, out, start);
}

}  // namespace

WalRecordType GetWalRecordType(absl::string_view record) {
  if (record.empty()) return WalRecordType::kUnknown;
  const auto type = static_cast<uint8_t>(record[0]);
  if (type < 1 || type > 13) return WalRecordType::kUnknown;
  return static_cast<WalRecordType>(type);
}

absl::Status DecodeSeriesRecord(absl::string_view record,
                                std::vector<WalSeries>& out) {
  return DecodeEach(record, out, [](Decbuf& d) {
    WalSeries s;
    s.ref = d.Be64();
    ReadN(d, d.Uvarint(), [&] {
      absl::string_view name = d.UvarintString();
      absl::string_view value = d.UvarintString();
      s.labels.push_back({std::string(name), std::string(value)});
    });
    return s;
  });
}

absl::Status DecodeSamplesRecord(absl::string_view record,
                                 std::vector<WalSample>& out) {
  return DecodeRows(record,
                    GetWalRecordType(record) == WalRecordType::kSamplesV2, out,
                    [&](Decbuf& d, uint64_t ref, int64_t t) {
                      const uint64_t bits = d.Be64();
                      out.push_back({ref, t, std::bit_cast<double>(bits)});
                    });
}

absl::Status DecodeTombstonesRecord(absl::string_view record,
                                    std::vector<WalTombstone>& out) {
  return DecodeEach(record, out, [](Decbuf& d) {
    WalTombstone s;
    s.ref = d.Be64();
    s.min_time = d.Varint();
    s.max_time = d.Varint();
    return s;
  });
}

absl::Status DecodeMmapMarkersRecord(absl::string_view record,
                                     std::vector<WalMmapMarker>& out) {
  return DecodeEach(record, out, [](Decbuf& d) {
    WalMmapMarker m;
    m.ref = d.Be64();
    m.chunk_ref = d.Be64();
    return m;
  });
}

absl::Status DecodeHistogramRecord(absl::string_view record,
                                   std::vector<WalHistogramSample>& out) {
  const WalRecordType type = GetWalRecordType(record);
  const bool floats =
      type == WalRecordType::kFloatHistogramSamples ||
      type == WalRecordType::kCustomBucketsFloatHistogramSamples ||
      type == WalRecordType::kFloatHistogramSamplesV2;
  const bool v2 = type == WalRecordType::kHistogramSamplesV2 ||
                  type == WalRecordType::kFloatHistogramSamplesV2;
  return DecodeRows(record, v2, out, [&](Decbuf& d, uint64_t ref, int64_t t) {
    const int32_t schema = SkipHistogram(d, floats);
    if (d.ok() && IsKnownSchema(schema)) out.push_back({ref, t});
  });
}

absl::Status CheckSkippedRecord(absl::string_view record) {
  Decbuf d = Body(record);
  if (GetWalRecordType(record) == WalRecordType::kMetadata) {
    while (d.remaining() > 0 && d.ok()) {
      d.Uvarint();  // Series reference.
      d.Byte();     // Metric type.
      ReadN(d, d.Uvarint(), [&] {
        d.UvarintString();
        d.UvarintString();
      });
    }
    return d.status();
  }
  // Exemplars: rows like samples', each with a value and labels.
  std::vector<int> none;
  return DecodeRows(record, false, none, [](Decbuf& d, uint64_t, int64_t) {
    d.Be64();
    SkipLabels(d);
  });
}

}  // namespace promeval::tsdb
