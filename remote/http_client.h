// The HTTP client of the remote protocols (remote read, remote write): POST
// requests over libcurl (TLS through the distribution's OpenSSL), with the
// options every deployment needs: a timeout, extra headers, basic auth or a
// bearer token read from files, a CA file and a client certificate, and a
// limit on the bytes of an answer.
//
// Behind a small interface so that tests can inject faults no real server
// produces. Secrets are read from their files once, when the client is made;
// they never appear in error messages (nor does a URL's user information).
//
// Internal to promeval. Thread-safe: Post may be called from several threads
// at once (each request takes an idle connection or makes one).
#ifndef PROMEVAL_REMOTE_HTTP_CLIENT_H_
#define PROMEVAL_REMOTE_HTTP_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "promeval/remote.h"

namespace promeval::remote {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string retry_after;  // The Retry-After header, if any.
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // POSTs `body` with `headers` to `url` and returns the answer, whatever its
  // status. Errors name the endpoint (`url` without user information):
  // kUnavailable when it cannot be reached (refused, reset, DNS),
  // kDeadlineExceeded on the timeout, kResourceExhausted when the answer's
  // body is larger than `max_response_bytes`.
  virtual absl::StatusOr<HttpResponse> Post(absl::string_view url,
                                            const HttpHeaders& headers,
                                            absl::string_view body,
                                            int64_t max_response_bytes) = 0;
};

// Whether `name` is a header the protocols set themselves (Content-Type,
// Authorization, User-Agent, X-Prometheus-Remote-Write-Version, ...; the
// remote write specification's reserved headers): users may not set it.
bool IsReservedHeader(absl::string_view name);

// A libcurl client for `endpoint` (its timeout, headers, auth and TLS
// files; secrets read from their files now). Fails if a secret or
// certificate file cannot be read (naming the file, not its content), both
// basic auth and a bearer token are given, or a header is reserved; the
// message is prefixed with "`what` URL: " (the URL without user
// information).
absl::StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(
    const RemoteEndpoint& endpoint, absl::string_view what);

// OK if `url` starts with http:// or https://; otherwise an error saying
// so, prefixed with "`what` URL: ".
absl::Status CheckUrl(absl::string_view url, absl::string_view what);

// `url` without user information ("http://user:pw@host/" -> "http://host/"),
// for messages.
std::string RedactUrl(absl::string_view url);

}  // namespace promeval::remote

#endif  // PROMEVAL_REMOTE_HTTP_CLIENT_H_
