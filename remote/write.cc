#include "remote/write.h"

#include <snappy.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "promeval/remote.h"

namespace promeval {
namespace remote {
namespace {

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A field's tag and length, then its bytes: the size of a length-delimited
// field holding `len` bytes.
size_t FieldSize(size_t len) { return 1 + VarintSize(len) + len; }

size_t LabelSize(const Label& l) {
  return FieldSize(l.name.size()) + FieldSize(l.value.size());
}

size_t SampleSize(int64_t t) {
  return 9 + 1 + VarintSize(static_cast<uint64_t>(t));
}

// Writes at a pointer into space reserved beforehand.
class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  void Byte(uint8_t b) { *p_++ = static_cast<char>(b); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void Bytes(uint8_t tag, absl::string_view s) {
    Byte(tag);
    Varint(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void Fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<char>(v >> (8 * i));
  }
  char* end() const { return p_; }

 private:
  char* p_;
};

}  // namespace

void EncodeWriteRequest(absl::Span<const WriteSeries> series,
                        std::string& out) {
  // Sizes first (a message's length precedes it), then one pass writing.
  std::vector<size_t> sizes(series.size());
  size_t total = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    size_t size = 0;
    for (const Label& l : *series[i].labels) size += FieldSize(LabelSize(l));
    for (int64_t t : series[i].timestamps) size += FieldSize(SampleSize(t));
    sizes[i] = size;
    total += FieldSize(size);
  }
  const size_t start = out.size();
  out.resize(start + total);
  Writer w(out.data() + start);
  for (size_t i = 0; i < series.size(); ++i) {
    const WriteSeries& s = series[i];
    w.Byte(0x0a);  // WriteRequest.timeseries = 1
    w.Varint(sizes[i]);
    for (const Label& l : *s.labels) {
      w.Byte(0x0a);  // TimeSeries.labels = 1
      w.Varint(LabelSize(l));
      w.Bytes(0x0a, l.name);   // Label.name = 1
      w.Bytes(0x12, l.value);  // Label.value = 2
    }
    for (size_t j = 0; j < s.timestamps.size(); ++j) {
      const int64_t t = s.timestamps[j];
      w.Byte(0x12);  // TimeSeries.samples = 2
      w.Varint(SampleSize(t));
      uint64_t bits;
      std::memcpy(&bits, &s.values[j], sizeof(bits));
      w.Byte(0x09);  // Sample.value = 1, fixed64
      w.Fixed64(bits);
      w.Byte(0x10);  // Sample.timestamp = 2, varint
      w.Varint(static_cast<uint64_t>(t));
    }
  }
}

const HttpHeaders& WriteRequestHeaders() {
  static const HttpHeaders* headers = new HttpHeaders{
      {"Content-Encoding", "snappy"},
      {"Content-Type", "application/x-protobuf"},
      {"X-Prometheus-Remote-Write-Version", "0.1.0"},
  };
  return *headers;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  int64_t seconds;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(seconds);
  }
  // An HTTP date (RFC 9110's IMF-fixdate).
  absl::Time when;
  std::string error;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value),
                       absl::UTCTimeZone(), &when, &error)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

}  // namespace remote

using Clock = std::chrono::steady_clock;

namespace {
int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}
}  // namespace

struct RemoteWriter::QueuedSample {
  Labels labels;
  int64_t t;
  double v;
};

struct RemoteWriter::Shard {
  std::mutex mu;
  std::condition_variable wake;  // The sender: samples, or closing.
  std::condition_variable room;  // Blocked producers: room in the queue.
  std::condition_variable idle;  // Flush(): nothing queued or in flight.
  std::deque<QueuedSample> queue;
  Clock::time_point oldest;  // When the queue last became non-empty.
  bool closing = false;
  bool sending = false;  // A batch is in flight.
  int flushing = 0;      // Flush() calls waiting: send partial batches now.
  std::thread thread;
};

class RemoteWriter::WriteAppender : public Appender {
 public:
  explicit WriteAppender(RemoteWriter& writer) : writer_(writer) {}

  void Append(const Labels& labels, int64_t t, double v) override {
    pending_.push_back({labels, t, v});
  }

  absl::Status Commit() override {
    if (pending_.empty()) return absl::OkStatus();
    const bool queued = writer_.Enqueue(pending_);
    pending_.clear();
    if (!queued) {
      return absl::FailedPreconditionError(absl::StrCat(
          "remote write ", writer_.where_, ": the writer is closed"));
    }
    return absl::OkStatus();
  }

 private:
  RemoteWriter& writer_;
  std::vector<QueuedSample> pending_;
};

absl::StatusOr<std::unique_ptr<RemoteWriter>> RemoteWriter::Create(
    const RemoteWriteOptions& options) {
  absl::StatusOr<std::unique_ptr<remote::HttpClient>> client =
      remote::NewHttpClient(options.endpoint, "remote write");
  if (!client.ok()) return client.status();
  return Create(options, *std::move(client));
}

absl::StatusOr<std::unique_ptr<RemoteWriter>> RemoteWriter::Create(
    const RemoteWriteOptions& options,
    std::unique_ptr<remote::HttpClient> client) {
  const RemoteWriteOptions& o = options;
  auto invalid = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "remote write ", remote::RedactUrl(o.endpoint.url), ": ", what));
  };
  if (absl::Status url = remote::CheckUrl(o.endpoint.url, "remote write");
      !url.ok()) {
    return url;
  }
  if (o.shards < 1 || o.shards > 1024) {
    return invalid("shards must be from 1 to 1024");
  }
  if (o.max_samples_per_send < 1) {
    return invalid("max samples per send must be at least 1");
  }
  if (o.capacity < o.max_samples_per_send) {
    return invalid("the queue capacity must hold a request's samples");
  }
  if (o.retry_limit < 1) return invalid("the retry limit must be at least 1");
  if (o.min_backoff <= absl::ZeroDuration() || o.max_backoff < o.min_backoff ||
      o.batch_send_deadline <= absl::ZeroDuration() ||
      o.max_retry_after < absl::ZeroDuration()) {
    return invalid("bad backoff or deadline durations");
  }
  return std::unique_ptr<RemoteWriter>(
      new RemoteWriter(options, std::move(client)));
}

RemoteWriter::RemoteWriter(RemoteWriteOptions options,
                           std::unique_ptr<remote::HttpClient> client)
    : options_(std::move(options)),
      where_(remote::RedactUrl(options_.endpoint.url)),
      client_(std::move(client)) {
  for (int i = 0; i < options_.shards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    s->thread = std::thread([this, s] { RunShard(*s); });
  }
}

RemoteWriter::~RemoteWriter() { Close().IgnoreError(); }

std::unique_ptr<Appender> RemoteWriter::NewAppender() {
  return std::make_unique<WriteAppender>(*this);
}

bool RemoteWriter::Enqueue(std::vector<QueuedSample>& samples) {
  if (closed_.load()) return false;
  counters_.committed += static_cast<int64_t>(samples.size());
  // Each shard's samples in commit order; a shard locked once.
  std::vector<std::vector<QueuedSample*>> by_shard(shards_.size());
  for (QueuedSample& s : samples) {
    by_shard[s.labels.Hash() % shards_.size()].push_back(&s);
  }
  bool open = true;
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (by_shard[i].empty()) continue;
    Shard& shard = *shards_[i];
    int64_t dropped = 0;
    {
      std::unique_lock<std::mutex> lock(shard.mu);
      for (QueuedSample* s : by_shard[i]) {
        if (static_cast<int64_t>(shard.queue.size()) >= options_.capacity) {
          if (options_.when_full == RemoteWriteOptions::WhenFull::kDrop) {
            ++dropped;
            continue;
          }
          shard.wake.notify_one();
          shard.room.wait(lock, [&] {
            return static_cast<int64_t>(shard.queue.size()) <
                       options_.capacity ||
                   shard.closing;
          });
        }
        if (shard.closing) {
          ++dropped;
          open = false;
          continue;
        }
        if (shard.queue.empty()) shard.oldest = Clock::now();
        shard.queue.push_back(std::move(*s));
      }
    }
    shard.wake.notify_one();
    if (dropped > 0) {
      counters_.dropped += dropped;
      NoteError(absl::StrCat(dropped, " samples dropped: the queue was full"));
    }
  }
  return open;
}

void RemoteWriter::RunShard(Shard& shard) {
  const size_t max = static_cast<size_t>(options_.max_samples_per_send);
  const auto deadline =
      absl::ToChronoMilliseconds(options_.batch_send_deadline);
  std::vector<QueuedSample> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(shard.mu);
      while (true) {
        if (shard.queue.size() >= max) break;
        if (!shard.queue.empty() && (shard.closing || shard.flushing > 0 ||
                                     Clock::now() >= shard.oldest + deadline)) {
          break;
        }
        if (shard.queue.empty()) {
          if (shard.closing) return;
          shard.wake.wait(lock);
        } else {
          shard.wake.wait_until(lock, shard.oldest + deadline);
        }
      }
      const size_t n = std::min(max, shard.queue.size());
      batch.assign(std::make_move_iterator(shard.queue.begin()),
                   std::make_move_iterator(shard.queue.begin() + n));
      shard.queue.erase(shard.queue.begin(), shard.queue.begin() + n);
      if (!shard.queue.empty()) shard.oldest = Clock::now();
      shard.sending = true;
    }
    shard.room.notify_all();
    Send(batch);
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      shard.sending = false;
    }
    shard.idle.notify_all();
  }
}

void RemoteWriter::Send(const std::vector<QueuedSample>& batch) {
  const auto encode_start = Clock::now();
  // The samples of a series go as one TimeSeries, in their order (a
  // stable sort by series): a receiver then looks each series up once a
  // request, not once a sample.
  std::vector<uint32_t> order(batch.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return batch[a].labels.Hash() < batch[b].labels.Hash();
  });
  std::vector<int64_t> t(batch.size());
  std::vector<double> v(batch.size());
  std::vector<remote::WriteSeries> series;
  for (size_t i = 0; i < order.size(); ++i) {
    const QueuedSample& sample = batch[order[i]];
    t[i] = sample.t;
    v[i] = sample.v;
    if (i == 0 || !(sample.labels == batch[order[i - 1]].labels)) {
      series.push_back({&sample.labels, {}, {}});
      series.back().timestamps = absl::MakeConstSpan(&t[i], 1);
      series.back().values = absl::MakeConstSpan(&v[i], 1);
    } else {
      remote::WriteSeries& s = series.back();
      s.timestamps =
          absl::MakeConstSpan(s.timestamps.data(), s.timestamps.size() + 1);
      s.values = absl::MakeConstSpan(s.values.data(), s.values.size() + 1);
    }
  }
  std::string raw;
  remote::EncodeWriteRequest(series, raw);
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);
  counters_.encode_ns +=
      std::chrono::nanoseconds(Clock::now() - encode_start).count();

  const int64_t n = static_cast<int64_t>(batch.size());
  // While the endpoint is down, one request at a time probes it, at most
  // once a max_backoff; the others fail at once (a refusing or silent
  // endpoint costs one timeout, not one a request).
  bool probe = false;
  if (endpoint_down_.load()) {
    bool idle = false;
    if (NowNs() < next_probe_ns_.load() ||
        !probing_.compare_exchange_strong(idle, true)) {
      counters_.failed += n;
      return;
    }
    probe = true;
  }
  absl::Duration backoff = options_.min_backoff;
  for (int attempt = 1;; ++attempt) {
    const auto send_start = Clock::now();
    absl::StatusOr<remote::HttpResponse> answer = client_->Post(
        options_.endpoint.url, remote::WriteRequestHeaders(), body, 1 << 20);
    counters_.send_ns +=
        std::chrono::nanoseconds(Clock::now() - send_start).count();
    ++counters_.requests;
    counters_.bytes += static_cast<int64_t>(body.size());
    std::string error;
    absl::Duration wait = backoff;
    if (!answer.ok()) {
      // The client's message names the endpoint; the writer's own will.
      error = std::string(absl::StripPrefix(answer.status().message(),
                                            absl::StrCat(where_, ": ")));
    } else if (answer->status >= 200 && answer->status < 300) {
      counters_.sent += n;
      endpoint_down_ = false;
      if (probe) probing_ = false;
      return;
    } else {
      // The receiver's message, as it is (one line, not too long).
      std::string message(absl::StripAsciiWhitespace(
          absl::string_view(answer->body).substr(0, 512)));
      std::replace(message.begin(), message.end(), '\n', ' ');
      error = absl::StrCat("the receiver answered HTTP ", answer->status,
                           message.empty() ? "" : ": ", message);
      if (answer->status != 429 && answer->status < 500) {
        // The request can never succeed: not retried. (The endpoint is up.)
        counters_.rejected += n;
        NoteError(absl::StrCat(n, " samples rejected: ", error));
        endpoint_down_ = false;
        if (probe) probing_ = false;
        return;
      }
      if (std::optional<absl::Duration> after =
              remote::ParseRetryAfter(answer->retry_after, absl::Now())) {
        wait = std::min(*after, options_.max_retry_after);
      }
    }
    if (attempt >= options_.retry_limit || probe) {
      counters_.failed += n;
      next_probe_ns_ = NowNs() + absl::ToInt64Nanoseconds(options_.max_backoff);
      endpoint_down_ = true;
      if (probe) probing_ = false;
      NoteError(
          absl::StrCat(n, " samples failed after ", attempt,
                       attempt == 1 ? " attempt: " : " attempts: ", error));
      return;
    }
    ++counters_.retries;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(wait));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void RemoteWriter::Flush() {
  // Every shard sends what it holds at once; then wait for each.
  for (auto& shard : shards_) {
    {
      std::lock_guard<std::mutex> lock(shard->mu);
      ++shard->flushing;
    }
    shard->wake.notify_one();
  }
  for (auto& shard : shards_) {
    std::unique_lock<std::mutex> lock(shard->mu);
    shard->idle.wait(lock, [&] {
      return (shard->queue.empty() && !shard->sending) || shard->closing;
    });
    --shard->flushing;
  }
}

void RemoteWriter::NoteError(std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = std::move(error);
}

absl::Status RemoteWriter::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (!closed_.exchange(true)) {
    for (auto& shard : shards_) {
      {
        std::lock_guard<std::mutex> lock(shard->mu);
        shard->closing = true;
      }
      shard->wake.notify_all();
      shard->room.notify_all();
      shard->idle.notify_all();
    }
    for (auto& shard : shards_) shard->thread.join();
    const RemoteWriteStats s = stats();
    const int64_t lost =
        s.samples_dropped + s.samples_failed + s.samples_rejected;
    if (lost > 0) {
      std::vector<std::string> why;
      if (s.samples_dropped > 0) {
        why.push_back(absl::StrCat(s.samples_dropped, " dropped (queue full)"));
      }
      if (s.samples_failed > 0) {
        why.push_back(absl::StrCat(s.samples_failed, " failed after retries"));
      }
      if (s.samples_rejected > 0) {
        why.push_back(
            absl::StrCat(s.samples_rejected, " rejected by the receiver"));
      }
      close_status_ = absl::UnavailableError(absl::StrCat(
          "remote write ", where_, ": ", lost, " of ", s.samples_committed,
          " samples not written (", absl::StrJoin(why, ", "),
          "); last error: ", s.last_error));
    }
  }
  return close_status_;
}

RemoteWriteStats RemoteWriter::stats() const {
  RemoteWriteStats s;
  s.samples_committed = counters_.committed.load();
  s.samples_sent = counters_.sent.load();
  s.samples_dropped = counters_.dropped.load();
  s.samples_failed = counters_.failed.load();
  s.samples_rejected = counters_.rejected.load();
  s.requests = counters_.requests.load();
  s.retries = counters_.retries.load();
  s.bytes_sent = counters_.bytes.load();
  s.send_ns = counters_.send_ns.load();
  s.encode_ns = counters_.encode_ns.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.last_error = last_error_;
  return s;
}

}  // namespace promeval
