// Prometheus-compatible remote stores (Prometheus, Thanos, Mimir, Cortex,
// VictoriaMetrics): a Queryable over the remote read protocol.
//
// RemoteReadQueryable sends each selection the engine makes as one remote
// read request (a protobuf ReadRequest with the selector's matchers, its
// time range with lookback, range windows, offsets and @ applied, and the
// engine's hints; snappy-compressed, POSTed with Prometheus's headers) and
// reads either answer: streamed XOR chunks (preferred; length-delimited
// frames, each CRC32C-checked, the chunks decoded by the data directory
// reader's decoder) or samples.
//
// Thread-safety: a RemoteReadQueryable and its queriers may be used from
// several threads at once (ConcurrentSelect() is true).
#ifndef PROMEVAL_REMOTE_H_
#define PROMEVAL_REMOTE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "promeval/storage.h"

namespace promeval {

namespace remote {
class HttpClient;  // remote/http_client.h
}  // namespace remote

// How to reach an endpoint. Secrets come from files, read once when the
// client is made; they never appear in messages.
struct RemoteEndpoint {
  std::string url;  // E.g. http://prometheus:9090/api/v1/read.
  absl::Duration timeout = absl::Minutes(1);  // A whole request.
  // Extra headers (X-Scope-OrgID for Mimir and Cortex tenants, ...).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string bearer_token_file;
  // TLS: CA certificates (PEM; the system's when empty), a client
  // certificate and key (PEM), and skipping the server's verification.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
};

struct RemoteReadOptions {
  RemoteEndpoint endpoint;
  enum class ResponseType {
    kAuto,            // Ask for streamed chunks, accept samples.
    kSamples,         // Ask for samples only.
    kStreamedChunks,  // Ask for streamed chunks only.
  };
  ResponseType response_type = ResponseType::kAuto;
  // Prometheus's remote_read `required_matchers`: equality matchers a
  // selector must have (the same name and value) for the endpoint to be
  // asked at all; others select nothing from it.
  std::vector<std::pair<std::string, std::string>> required_matchers;
  // The reader's external labels (Prometheus's remote_read
  // `filter_external_labels`): sent as equality matchers, and removed from
  // the series that come back.
  std::vector<std::pair<std::string, std::string>> external_labels;
  // The most bytes one answer may have (a larger one fails the query).
  int64_t max_response_bytes = int64_t{1} << 30;
};

// What the requests of a RemoteReadQueryable cost, since it was made.
struct RemoteReadStats {
  int64_t requests = 0;
  int64_t response_bytes = 0;  // Bodies as received.
  int64_t series = 0;
  int64_t samples = 0;
  int64_t transfer_ns = 0;  // Sending and receiving (wall time).
  int64_t decode_ns = 0;    // Decompressing, parsing, decoding chunks.
  // Series holding native histograms (not supported yet), left out.
  int64_t skipped_histogram_series = 0;
};

class RemoteReadQueryable : public Queryable {
 public:
  // Fails if a secret or certificate file cannot be read, or the options
  // contradict each other.
  static absl::StatusOr<std::unique_ptr<RemoteReadQueryable>> Create(
      const RemoteReadOptions& options);
  // The same over a given HTTP client (tests inject faults with it).
  static absl::StatusOr<std::unique_ptr<RemoteReadQueryable>> Create(
      const RemoteReadOptions& options,
      std::unique_ptr<remote::HttpClient> client);
  ~RemoteReadQueryable() override;

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;

  RemoteReadStats stats() const;
  const RemoteReadOptions& options() const { return options_; }

 private:
  class RemoteQuerier;
  RemoteReadQueryable(RemoteReadOptions options,
                      std::unique_ptr<remote::HttpClient> client);

  const RemoteReadOptions options_;
  std::unique_ptr<remote::HttpClient> client_;
  struct Counters {
    std::atomic<int64_t> requests{0}, response_bytes{0}, series{0}, samples{0},
        transfer_ns{0}, decode_ns{0}, skipped{0};
  };
  Counters counters_;
};

}  // namespace promeval

#endif  // PROMEVAL_REMOTE_H_
