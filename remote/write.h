// The remote write protocol's request (docs/remote_write_spec.md, 1.0):
// encoding a WriteRequest, the headers, reading an answer's Retry-After.
// Pure functions, shared by RemoteWriter and its tests.
//
// Internal to promeval. Thread-safe.
#ifndef PROMEVAL_REMOTE_WRITE_H_
#define PROMEVAL_REMOTE_WRITE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "promeval/labels.h"
#include "remote/http_client.h"

namespace promeval::remote {

// One series of a WriteRequest: its labels and samples (in time order).
struct WriteSeries {
  const Labels* labels;
  absl::Span<const int64_t> timestamps;
  absl::Span<const double> values;
};

// Appends the protobuf encoding of a WriteRequest holding `series` (one
// TimeSeries each, in order) to `out`, uncompressed. Values are written bit
// for bit (a stale NaN stays one).
void EncodeWriteRequest(absl::Span<const WriteSeries> series, std::string& out);

// The headers the protocol requires (Content-Encoding, Content-Type,
// X-Prometheus-Remote-Write-Version; the client adds User-Agent).
const HttpHeaders& WriteRequestHeaders();

// An answer's Retry-After: delay seconds or an HTTP date (as of `now`);
// nullopt when it is neither.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

}  // namespace promeval::remote

#endif  // PROMEVAL_REMOTE_WRITE_H_
