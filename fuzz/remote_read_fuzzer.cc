// Fuzzes the decoders of remote read answers (remote/read.h) with arbitrary
// bytes as the body of a streamed answer (frames of ChunkedReadResponse)
// or of a samples answer (a snappy-compressed ReadResponse). A decode
// either fails, or gives each query's series sorted by labels, once each,
// with samples in strictly increasing time order; nothing crashes, hangs
// or leaks.
//
// Input: a flags byte, then the body. Flags:
//   bit 0: a streamed answer (otherwise samples);
//   bit 1: recompute the checksums of the frames (so that mutations reach
//          the messages behind them);
//   bits 2-3: the request had 1 to 4 queries.
// The seeds (testdata/fuzz/remote_read/) are answers of Prometheus 2.42.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "promeval/labels.h"
#include "remote/read.h"
#include "tsdb/decbuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (flags & 2) {
    // Frames: uvarint length, 4-byte CRC, message.
    size_t pos = 0;
    while (pos < body.size()) {
      uint64_t len = 0;
      int shift = 0;
      while (pos < body.size() && shift < 64) {
        const uint8_t b = static_cast<uint8_t>(body[pos++]);
        len |= static_cast<uint64_t>(b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
      if (body.size() - pos < 4 || len > body.size() - pos - 4) break;
      const uint32_t crc = promeval::tsdb::Crc32c(
          absl::string_view(body).substr(pos + 4, len));
      for (int i = 0; i < 4; ++i) {
        body[pos + i] = static_cast<char>(crc >> (24 - 8 * i));
      }
      pos += 4 + len;
    }
  }
  const size_t queries = 1 + ((flags >> 2) & 3);
  absl::StatusOr<promeval::remote::ReadResult> r =
      promeval::remote::DecodeReadResponse(
          (flags & 1) ? promeval::remote::kStreamedContentType
                      : "application/x-protobuf",
          body, queries, "fuzz");
  if (!r.ok()) return 0;
  if (r->queries.size() != queries) abort();
  for (const auto& series : r->queries) {
    for (size_t i = 0; i < series.size(); ++i) {
      if (i > 0 && promeval::CompareLabels(series[i - 1].labels,
                                           series[i].labels) >= 0) {
        abort();
      }
      const auto& s = series[i];
      if (s.t.size() != s.v.size()) abort();
      for (size_t k = 1; k < s.t.size(); ++k) {
        if (s.t[k - 1] >= s.t[k]) abort();
      }
    }
  }
  return 0;
}
