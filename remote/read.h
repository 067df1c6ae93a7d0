// The remote read protocol's messages (docs/remote_read_api.md): encoding a
// request, decoding both kinds of answer. Pure functions, shared by
// RemoteReadQueryable and the fuzz target.
//
// Internal to promeval. Thread-safe.
#ifndef PROMEVAL_REMOTE_READ_H_
#define PROMEVAL_REMOTE_READ_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "promeval/labels.h"
#include "promeval/remote.h"
#include "promeval/storage.h"
#include "remote/http_client.h"

namespace promeval::remote {

// One selection as a query of a ReadRequest: its matchers, and its time
// range and hints.
struct ReadQuery {
  absl::Span<const Matcher> matchers;
  const SelectHints* hints;
};

// The body of a ReadRequest holding `queries` (snappy-compressed), asking
// for the answer `type` says.
std::string EncodeReadRequest(absl::Span<const ReadQuery> queries,
                              RemoteReadOptions::ResponseType type);

// The headers Prometheus sends with a ReadRequest.
const HttpHeaders& ReadRequestHeaders();

// The content type of a streamed answer (a samples answer is
// application/x-protobuf).
inline constexpr absl::string_view kStreamedContentType =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

struct ReadSeries {
  Labels labels;
  std::vector<int64_t> t;
  std::vector<double> v;
};

struct ReadResult {
  // Per query of the request: its series sorted by labels (CompareLabels),
  // each once (a series split over several frames joined), its samples in
  // time order, one per timestamp (the first one sent).
  std::vector<std::vector<ReadSeries>> queries;
  // Series holding native histograms, left out.
  int64_t skipped_histogram_series = 0;
};

// Decodes the answer to a request of `num_queries` queries, of either kind
// (told apart by `content_type`): frames of ChunkedReadResponse (a uvarint
// length, the CRC32 Castagnoli of the message, big-endian, then the message)
// whose XOR chunks are decoded, or a snappy-compressed ReadResponse.
// Whatever the bytes, an error (kDataLoss) names `where`, the byte and what
// is wrong: bad snappy, bad protobuf, a frame longer than what is left, a
// CRC mismatch, a query index out of range, an unknown chunk encoding, a
// corrupt chunk.
absl::StatusOr<ReadResult> DecodeReadResponse(absl::string_view content_type,
                                              absl::string_view body,
                                              size_t num_queries,
                                              absl::string_view where);

}  // namespace promeval::remote

#endif  // PROMEVAL_REMOTE_READ_H_
