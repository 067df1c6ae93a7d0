// Prometheus-compatible remote stores (Prometheus, Thanos, Mimir, Cortex,
// VictoriaMetrics): a Queryable over the remote read protocol, and an
// Appendable writing with the remote write protocol (1.0).
//
// RemoteReadQueryable sends each selection the engine makes as one remote
// read request (a protobuf ReadRequest with the selector's matchers, its
// time range with lookback, range windows, offsets and @ applied, and the
// engine's hints; snappy-compressed, POSTed with Prometheus's headers) and
// reads either answer: streamed XOR chunks (preferred; length-delimited
// frames, each CRC32C-checked, the chunks decoded by the data directory
// reader's decoder) or samples.
//
// RemoteWriter sends what is appended to it, a Commit() at a time, to a
// remote write receiver (see the class).
//
// Thread-safety: a RemoteReadQueryable and its queriers may be used from
// several threads at once (ConcurrentSelect() is true); so may a
// RemoteWriter (each Appender by one thread at a time).
#ifndef PROMEVAL_REMOTE_H_
#define PROMEVAL_REMOTE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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
  // Extra headers (X-Scope-OrgID for Mimir and Cortex tenants, ...); not
  // the protocols' own (Content-Type, Authorization, ...: see
  // remote::IsReservedHeader).
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
  // Ask for a query's selections in one request, several queries in its
  // ReadRequest (the engine announces them before evaluating: see
  // Querier::Prefetch), instead of one request per selection as Prometheus
  // does: fewer round trips to a distant store, but the server answers the
  // queries one after another, and the engine's workers wait for all.
  bool batch_selections = false;
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

struct RemoteWriteOptions {
  RemoteEndpoint endpoint;
  // Senders working in parallel, each with its own queue; a series always
  // goes through the same one, so its samples arrive in order.
  int shards = 4;
  // The most samples one request carries, and the longest a queued sample
  // waits for a request to fill up.
  // (Large requests amortize a receiver's per-request work: into
  // Prometheus 2.42, 4 shards of 10000 samples a request took 1.7 M
  // samples/s where 4 of 2000 took 0.6 M; bench/compare_remote_write.py.)
  int max_samples_per_send = 10000;
  absl::Duration batch_send_deadline = absl::Seconds(5);
  // The most samples a shard's queue holds (the memory bound: about 40
  // bytes a sample, the label sets shared with the caller); at least
  // max_samples_per_send, better twice that (one request filling while
  // one is in flight).
  int64_t capacity = 20000;
  // What Commit() does when a queue is full: wait for room (a replay or a
  // backfill: nothing is lost while the receiver takes samples, however
  // slowly), or drop the samples that do not fit and count them (a live
  // service that must not stall).
  enum class WhenFull { kBlock, kDrop };
  WhenFull when_full = WhenFull::kBlock;
  // Attempts of a request answered by a 5xx or a 429, or not answered at
  // all, before its samples are given up on (the first attempt included);
  // between attempts, an exponential backoff from min_backoff to
  // max_backoff, or the answer's Retry-After (at most max_retry_after).
  // Once a request has been given up on, the endpoint counts as down: one
  // request at a time probes it with a single attempt, at most once a
  // max_backoff, and the others fail at once, until a probe is answered (an
  // endpoint that stays down, refusing or silent, costs one request's
  // retries and then a timeout now and then, not retries for every
  // request).
  int retry_limit = 10;
  absl::Duration min_backoff = absl::Milliseconds(30);
  absl::Duration max_backoff = absl::Seconds(5);
  absl::Duration max_retry_after = absl::Minutes(1);
};

// What a RemoteWriter has done, since it was made. Every sample committed
// ends up in exactly one of sent, dropped, failed and rejected, or is
// still queued.
struct RemoteWriteStats {
  int64_t samples_committed = 0;
  int64_t samples_sent = 0;      // Accepted by the receiver (2xx).
  int64_t samples_dropped = 0;   // A queue was full (WhenFull::kDrop).
  int64_t samples_failed = 0;    // Given up on after retries.
  int64_t samples_rejected = 0;  // Answered by a 4xx other than 429.
  int64_t requests = 0;          // Attempts, retries included.
  int64_t retries = 0;
  int64_t bytes_sent = 0;  // Compressed request bodies, retries included.
  int64_t send_ns = 0;     // Waiting for answers, summed over the shards.
  int64_t encode_ns = 0;   // Encoding and compressing, summed likewise.
  std::string last_error;  // The last failure or rejection, if any.
};

// An Appendable over the remote write protocol 1.0
// (docs/remote_write_spec.md): each Commit() queues its samples on the
// shards (by series), which send them as snappy-compressed WriteRequests
// with the protocol's headers, batched by count and time; 5xx and 429
// answers and unreachable endpoints are retried with backoff, other 4xx
// answers are not. Stale markers go as Prometheus's stale NaN, bit for bit.
class RemoteWriter : public Appendable {
 public:
  // Fails if a secret or certificate file cannot be read, or an option is
  // out of range.
  static absl::StatusOr<std::unique_ptr<RemoteWriter>> Create(
      const RemoteWriteOptions& options);
  static absl::StatusOr<std::unique_ptr<RemoteWriter>> Create(
      const RemoteWriteOptions& options,
      std::unique_ptr<remote::HttpClient> client);
  // Close()s.
  ~RemoteWriter() override;

  // An appender whose Commit() queues its samples (kFailedPrecondition
  // after Close()); it never fails for the receiver's sake: what was not
  // written shows in stats() and in Close().
  std::unique_ptr<Appender> NewAppender() override;

  // Returns once every sample committed before the call has been sent (or
  // given up on): queued samples go at once, not at the batch deadline.
  // A sender that must keep receivers' windows in mind (a backfill in time
  // order, in slices) waits with it between slices.
  void Flush();

  // Sends everything queued (retrying as usual), then stops the shards.
  // OK only if every committed sample was accepted; otherwise an error
  // naming the endpoint that counts what was not written and why. Further
  // calls return the same.
  absl::Status Close();

  RemoteWriteStats stats() const;
  const RemoteWriteOptions& options() const { return options_; }

 private:
  class WriteAppender;
  struct Shard;
  struct QueuedSample;
  RemoteWriter(RemoteWriteOptions options,
               std::unique_ptr<remote::HttpClient> client);
  // Queues samples on the shards (by series); false after Close().
  bool Enqueue(std::vector<QueuedSample>& samples);
  void RunShard(Shard& shard);
  // Sends one batch, retrying; counts its fate.
  void Send(const std::vector<QueuedSample>& batch);
  void NoteError(std::string error);

  const RemoteWriteOptions options_;
  const std::string where_;  // The URL without user information.
  std::unique_ptr<remote::HttpClient> client_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<bool> closed_{false};
  // An endpoint given up on: probed by one request at a time, not before
  // next_probe_ns_ (steady clock), until one is answered.
  std::atomic<bool> endpoint_down_{false};
  std::atomic<bool> probing_{false};
  std::atomic<int64_t> next_probe_ns_{0};
  struct Counters {
    std::atomic<int64_t> committed{0}, sent{0}, dropped{0}, failed{0},
        rejected{0}, requests{0}, retries{0}, bytes{0}, send_ns{0},
        encode_ns{0};
  };
  Counters counters_;
  mutable std::mutex mu_;  // Guards last_error_.
  std::string last_error_;
  std::mutex close_mu_;  // Guards close_status_.
  absl::Status close_status_;
};

}  // namespace promeval

#endif  // PROMEVAL_REMOTE_H_
