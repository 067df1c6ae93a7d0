// Remote write: the request's encoding (read back with the protobuf
// library), Retry-After, reserved headers, and the writer against a local
// fake endpoint (cpp-httplib on 127.0.0.1): what it sends, batching, shards
// keeping each series in order, retries, rejections, an endpoint that is
// down or slow, full queues. What a real receiver makes of the requests is
// checked against Prometheus by tests/remote_write_test.py.
#include <httplib.h>
#include <snappy.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/remote.h"
#include "promeval/value.h"
#include "remote/http_client.h"
#include "remote/proto/remote.pb.h"
#include "remote/write.h"
#include "tests/fake_endpoint.h"

namespace promeval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

prometheus::WriteRequest Parse(const std::string& raw) {
  prometheus::WriteRequest req;
  EXPECT_TRUE(req.ParseFromString(raw));
  return req;
}

TEST(RemoteWriteEncodeTest, ReadBackByProtobuf) {
  const Labels a{{"__name__", "up"}, {"job", "j\xff"}};  // Bytes as they are.
  const Labels b{{"__name__", "x"}};
  const std::vector<int64_t> ta = {-5, 0, 1700000000123};
  const std::vector<double> va = {0.0, -1.5, StaleNaN()};
  const std::vector<int64_t> tb = {std::numeric_limits<int64_t>::min()};
  const std::vector<double> vb = {std::numeric_limits<double>::infinity()};
  std::string raw = "keep";
  remote::EncodeWriteRequest({{&a, ta, va}, {&b, tb, vb}}, raw);
  ASSERT_EQ(raw.substr(0, 4), "keep");  // Appended.
  const prometheus::WriteRequest req = Parse(raw.substr(4));
  ASSERT_EQ(req.timeseries_size(), 2);
  const prometheus::TimeSeries& s = req.timeseries(0);
  ASSERT_EQ(s.labels_size(), 2);
  EXPECT_EQ(s.labels(0).name(), "__name__");
  EXPECT_EQ(s.labels(0).value(), "up");
  EXPECT_EQ(s.labels(1).name(), "job");
  EXPECT_EQ(s.labels(1).value(), "j\xff");
  ASSERT_EQ(s.samples_size(), 3);
  EXPECT_EQ(s.samples(0).timestamp(), -5);
  EXPECT_EQ(s.samples(1).value(), -1.5);
  EXPECT_EQ(s.samples(2).timestamp(), 1700000000123);
  EXPECT_EQ(Bits(s.samples(2).value()), kStaleNaNBits);
  EXPECT_EQ(req.timeseries(1).samples(0).timestamp(),
            std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(std::isinf(req.timeseries(1).samples(0).value()));
  // Nothing: an empty request.
  std::string empty;
  remote::EncodeWriteRequest({}, empty);
  EXPECT_EQ(empty, "");
}

TEST(RemoteWriteEncodeTest, RetryAfter) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(remote::ParseRetryAfter("3", now), absl::Seconds(3));
  EXPECT_EQ(remote::ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  EXPECT_EQ(remote::ParseRetryAfter("Tue, 14 Nov 2023 22:13:25 GMT", now),
            absl::Seconds(5));
  EXPECT_EQ(remote::ParseRetryAfter("Tue, 14 Nov 2023 22:13:00 GMT", now),
            absl::ZeroDuration());  // In the past.
  EXPECT_EQ(remote::ParseRetryAfter("-1", now), std::nullopt);
  EXPECT_EQ(remote::ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(remote::ParseRetryAfter("", now), std::nullopt);
}

TEST(RemoteWriteEncodeTest, ReservedHeadersRefused) {
  EXPECT_TRUE(remote::IsReservedHeader("content-type"));
  EXPECT_TRUE(remote::IsReservedHeader("X-Prometheus-Remote-Write-Version"));
  EXPECT_FALSE(remote::IsReservedHeader("X-Scope-OrgID"));
  RemoteWriteOptions o;
  o.endpoint.url = "http://127.0.0.1:1/api/v1/write";
  o.endpoint.headers = {{"Content-Encoding", "gzip"}};
  absl::StatusOr<std::unique_ptr<RemoteWriter>> w = RemoteWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(),
              HasSubstr("the header Content-Encoding is set by the protocol"));
}

// --- Against a fake endpoint ---------------------------------------------

// What a fake receiver got: each request's headers and decoded body.
struct Received {
  std::mutex mu;
  std::vector<prometheus::WriteRequest> requests;
  std::vector<httplib::Headers> headers;
  int64_t samples = 0;
  // Per series (by its labels as text), the timestamps in arrival order.
  std::map<std::string, std::vector<int64_t>> series;

  bool Take(const httplib::Request& req) {
    std::string raw;
    if (!snappy::Uncompress(req.body.data(), req.body.size(), &raw)) {
      return false;
    }
    prometheus::WriteRequest w;
    if (!w.ParseFromString(raw)) return false;
    std::lock_guard<std::mutex> lock(mu);
    for (const prometheus::TimeSeries& ts : w.timeseries()) {
      std::string key;
      for (const prometheus::Label& l : ts.labels()) {
        absl::StrAppend(&key, l.name(), "=", l.value(), ",");
      }
      for (const prometheus::Sample& s : ts.samples()) {
        series[key].push_back(s.timestamp());
        ++samples;
      }
    }
    requests.push_back(std::move(w));
    headers.push_back(req.headers);
    return true;
  }
};

class FakeReceiver : public testing::FakeEndpoint {
 public:
  explicit FakeReceiver(httplib::Server::Handler handler)
      : testing::FakeEndpoint("/api/v1/write", std::move(handler)) {}
};

RemoteWriteOptions Options(const std::string& url) {
  RemoteWriteOptions o;
  o.endpoint.url = url;
  o.endpoint.timeout = absl::Seconds(5);
  o.min_backoff = absl::Milliseconds(5);
  o.max_backoff = absl::Milliseconds(50);
  return o;
}

std::unique_ptr<RemoteWriter> Writer(const RemoteWriteOptions& o) {
  absl::StatusOr<std::unique_ptr<RemoteWriter>> w = RemoteWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *std::move(w) : nullptr;
}

// Commits `n` samples: series s{i % series}, at times 1000 * (i / series).
absl::Status Commit(Appendable& a, int n, int series = 1) {
  std::unique_ptr<Appender> app = a.NewAppender();
  for (int i = 0; i < n; ++i) {
    app->Append(Labels{{"__name__", "m"}, {"s", absl::StrCat(i % series)}},
                int64_t{1000} * (i / series), i);
  }
  return app->Commit();
}

TEST(RemoteWriteTest, SendsEverythingWithTheProtocolsHeaders) {
  Received got;
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    res.status = got.Take(req) ? 204 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.endpoint.headers = {{"X-Scope-OrgID", "tenant-1"}};
  std::unique_ptr<RemoteWriter> w = Writer(o);
  {
    std::unique_ptr<Appender> app = w->NewAppender();
    app->Append(Labels{{"__name__", "a"}}, 1000, 1);
    app->Append(Labels{{"__name__", "a"}}, 2000, StaleNaN());
    app->AppendSamples(Labels{{"__name__", "b"}, {"x", "y"}}, {1, 2, 3},
                       {4, 5, 6});
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(w->Close().ok());
  const RemoteWriteStats s = w->stats();
  EXPECT_EQ(s.samples_committed, 5);
  EXPECT_EQ(s.samples_sent, 5);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(got.samples, 5);
  EXPECT_THAT(got.series["__name__=a,"], ElementsAre(1000, 2000));
  EXPECT_THAT(got.series["__name__=b,x=y,"], ElementsAre(1, 2, 3));
  for (const prometheus::WriteRequest& r : got.requests) {
    for (const prometheus::TimeSeries& ts : r.timeseries()) {
      if (ts.labels(0).value() == "a" && ts.samples_size() == 2) {
        EXPECT_EQ(Bits(ts.samples(1).value()), kStaleNaNBits);
      }
    }
  }
  for (const httplib::Headers& h : got.headers) {
    EXPECT_EQ(h.find("Content-Encoding")->second, "snappy");
    EXPECT_EQ(h.find("Content-Type")->second, "application/x-protobuf");
    EXPECT_EQ(h.find("X-Prometheus-Remote-Write-Version")->second, "0.1.0");
    EXPECT_THAT(h.find("User-Agent")->second, HasSubstr("promeval/"));
    EXPECT_EQ(h.find("X-Scope-OrgID")->second, "tenant-1");
  }
}

TEST(RemoteWriteTest, BatchesByCountAndEachSeriesInOrderOverShards) {
  Received got;
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    res.status = got.Take(req) ? 200 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.shards = 3;
  o.max_samples_per_send = 7;
  o.capacity = 20;  // Commits wait for room (kBlock).
  std::unique_ptr<RemoteWriter> w = Writer(o);
  for (int c = 0; c < 10; ++c) {
    // 50 series, 4 samples each a commit, times going on commit by commit.
    std::unique_ptr<Appender> app = w->NewAppender();
    for (int i = 0; i < 200; ++i) {
      app->Append(Labels{{"__name__", "m"}, {"s", absl::StrCat(i % 50)}},
                  int64_t{1000} * (c * 4 + i / 50), i);
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(w->stats().samples_sent, 2000);
  EXPECT_EQ(got.samples, 2000);
  ASSERT_EQ(got.series.size(), 50u);
  for (const auto& [key, times] : got.series) {
    ASSERT_EQ(times.size(), 40u) << key;
    for (size_t i = 0; i < times.size(); ++i) {
      EXPECT_EQ(times[i], int64_t{1000} * static_cast<int64_t>(i)) << key;
    }
  }
  for (const prometheus::WriteRequest& r : got.requests) {
    int samples = 0;
    for (const prometheus::TimeSeries& ts : r.timeseries()) {
      samples += ts.samples_size();
    }
    EXPECT_LE(samples, 7);
  }
  EXPECT_GE(got.requests.size(), 2000u / 7);
}

TEST(RemoteWriteTest, BatchSentAfterTheDeadlineWithoutClose) {
  Received got;
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    res.status = got.Take(req) ? 200 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.batch_send_deadline = absl::Milliseconds(50);
  std::unique_ptr<RemoteWriter> w = Writer(o);
  ASSERT_TRUE(Commit(*w, 3).ok());
  const auto start = Clock::now();
  while (w->stats().samples_sent < 3 &&
         Clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(w->stats().samples_sent, 3);  // Before Close().
  EXPECT_TRUE(w->Close().ok());
}

TEST(RemoteWriteTest, FlushSendsAtOnceAndWaits) {
  Received got;
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    res.status = got.Take(req) ? 200 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.batch_send_deadline = absl::Hours(1);
  std::unique_ptr<RemoteWriter> w = Writer(o);
  ASSERT_TRUE(Commit(*w, 30, 30).ok());  // Less than a batch on each shard.
  const auto start = Clock::now();
  w->Flush();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(w->stats().samples_sent, 30);  // Before Close().
  {
    std::lock_guard<std::mutex> lock(got.mu);
    EXPECT_EQ(got.samples, 30);
  }
  w->Flush();  // Nothing to send: returns at once.
  EXPECT_TRUE(w->Close().ok());
}

TEST(RemoteWriteTest, ServerErrorsRetriedUntilAccepted) {
  Received got;
  std::atomic<int> calls{0};
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    if (++calls <= 2) {
      res.status = 503;
      return;
    }
    res.status = got.Take(req) ? 200 : 400;
  });
  std::unique_ptr<RemoteWriter> w = Writer(Options(fake.url()));
  ASSERT_TRUE(Commit(*w, 10).ok());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_EQ(w->stats().retries, 2);
  EXPECT_EQ(w->stats().requests, 3);
  EXPECT_EQ(got.samples, 10);
}

TEST(RemoteWriteTest, TooManyRequestsHonoursRetryAfter) {
  Received got;
  std::atomic<int> calls{0};
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      return;
    }
    res.status = got.Take(req) ? 200 : 400;
  });
  std::unique_ptr<RemoteWriter> w = Writer(Options(fake.url()));
  const auto start = Clock::now();
  ASSERT_TRUE(Commit(*w, 4).ok());
  EXPECT_TRUE(w->Close().ok());
  // The backoff alone would be 5 ms.
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(950));
  EXPECT_EQ(got.samples, 4);
}

TEST(RemoteWriteTest, ClientErrorsNotRetriedAndReported) {
  std::atomic<int> calls{0};
  FakeReceiver fake([&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 400;
    res.set_content("out of order sample\n", "text/plain");
  });
  std::unique_ptr<RemoteWriter> w = Writer(Options(fake.url()));
  ASSERT_TRUE(Commit(*w, 6).ok());
  const absl::Status s = w->Close();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(w->stats().samples_rejected, 6);
  EXPECT_EQ(w->stats().retries, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("remote write ", fake.url(),
                                     ": 6 of 6 samples not written (6 "
                                     "rejected by the receiver)")));
  EXPECT_THAT(s.message(),
              HasSubstr("the receiver answered HTTP 400: out of order sample"));
  EXPECT_EQ(w->Close(), s);  // The same again.
}

TEST(RemoteWriteTest, EndpointDownFailsFastAfterTheFirstGivesUp) {
  const std::string url =
      absl::StrCat("http://127.0.0.1:", testing::FreePort(), "/api/v1/write");
  RemoteWriteOptions o = Options(url);
  o.shards = 1;
  o.max_samples_per_send = 10;
  o.retry_limit = 3;
  o.max_backoff = absl::Seconds(10);  // No probe during the test.
  std::unique_ptr<RemoteWriter> w = Writer(o);
  ASSERT_TRUE(Commit(*w, 500).ok());  // 50 requests' worth.
  const absl::Status s = w->Close();
  const RemoteWriteStats st = w->stats();
  EXPECT_EQ(st.samples_failed, 500);
  // Three attempts for the first request; the others fail at once.
  EXPECT_EQ(st.requests, 3);
  EXPECT_THAT(s.message(), HasSubstr("500 of 500 samples not written (500 "
                                     "failed after retries)"));
  EXPECT_THAT(s.message(), HasSubstr("10 samples failed after 3 attempts: "));
  EXPECT_THAT(s.message(), HasSubstr(url));
}

// A silent endpoint (it takes requests and never answers in time): the
// first request's attempts time out, the rest fail at once.
TEST(RemoteWriteTest, SilentEndpointCostsOneRequestsTimeouts) {
  FakeReceiver fake([&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    res.status = 200;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.endpoint.timeout = absl::Milliseconds(100);
  o.shards = 2;
  o.max_samples_per_send = 10;
  o.retry_limit = 2;
  o.max_backoff = absl::Seconds(10);
  std::unique_ptr<RemoteWriter> w = Writer(o);
  const auto start = Clock::now();
  ASSERT_TRUE(Commit(*w, 1000, 50).ok());  // 100 requests' worth.
  EXPECT_FALSE(w->Close().ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(w->stats().samples_failed, 1000);
  EXPECT_LE(w->stats().requests, 4);  // Two attempts on each shard at most.
}

TEST(RemoteWriteTest, EndpointBackAfterAnOutage) {
  Received got;
  std::atomic<bool> up{false};
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    res.status = up ? (got.Take(req) ? 200 : 400) : 500;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.shards = 1;
  o.retry_limit = 2;
  o.batch_send_deadline = absl::Milliseconds(1);
  std::unique_ptr<RemoteWriter> w = Writer(o);
  ASSERT_TRUE(Commit(*w, 5).ok());
  const auto start = Clock::now();
  while (w->stats().samples_failed < 5 &&
         Clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  up = true;
  // After max_backoff (50 ms) the next request probes the endpoint.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(Commit(*w, 7).ok());
  EXPECT_FALSE(w->Close().ok());
  EXPECT_EQ(w->stats().samples_failed, 5);
  EXPECT_EQ(w->stats().samples_sent, 7);
  EXPECT_EQ(got.samples, 7);
}

TEST(RemoteWriteTest, SlowEndpointTimesOut) {
  FakeReceiver fake([&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    res.status = 200;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.endpoint.timeout = absl::Milliseconds(100);
  o.retry_limit = 2;
  std::unique_ptr<RemoteWriter> w = Writer(o);
  const auto start = Clock::now();
  ASSERT_TRUE(Commit(*w, 3).ok());
  const absl::Status s = w->Close();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(w->stats().samples_failed, 3);
  EXPECT_THAT(s.message(), HasSubstr("timed out"));
}

TEST(RemoteWriteTest, FullQueueDropsAndCountsWhenAskedTo) {
  std::mutex gate;
  gate.lock();  // The receiver answers once the test opens it.
  Received got;
  std::atomic<bool> entered{false};
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    entered = true;
    std::lock_guard<std::mutex> lock(gate);
    res.status = got.Take(req) ? 200 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.shards = 1;
  o.max_samples_per_send = 10;
  o.capacity = 10;
  o.when_full = RemoteWriteOptions::WhenFull::kDrop;
  std::unique_ptr<RemoteWriter> w = Writer(o);
  // The first request's 10 samples are taken by the sender, 10 more fit in
  // the queue; the rest of the 100 are dropped.
  ASSERT_TRUE(Commit(*w, 10).ok());
  const auto start = Clock::now();
  while (!entered && Clock::now() - start < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(entered);
  ASSERT_TRUE(Commit(*w, 90).ok());
  gate.unlock();
  const absl::Status s = w->Close();
  const RemoteWriteStats st = w->stats();
  EXPECT_EQ(st.samples_committed, 100);
  EXPECT_EQ(st.samples_sent, 20);
  EXPECT_EQ(st.samples_dropped, 80);
  EXPECT_EQ(got.samples, 20);
  EXPECT_THAT(s.message(), HasSubstr("80 of 100 samples not written (80 "
                                     "dropped (queue full))"));
}

TEST(RemoteWriteTest, FullQueueWaitsForRoomByDefault) {
  Received got;
  FakeReceiver fake([&](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    res.status = got.Take(req) ? 200 : 400;
  });
  RemoteWriteOptions o = Options(fake.url());
  o.shards = 2;
  o.max_samples_per_send = 10;
  o.capacity = 10;
  std::unique_ptr<RemoteWriter> w = Writer(o);
  ASSERT_TRUE(Commit(*w, 400, 4).ok());
  EXPECT_TRUE(w->Close().ok());
  EXPECT_EQ(got.samples, 400);
  EXPECT_EQ(w->stats().samples_dropped, 0);
}

TEST(RemoteWriteTest, CommitAfterCloseFails) {
  std::unique_ptr<RemoteWriter> w =
      Writer(Options("http://127.0.0.1:1/api/v1/write"));
  ASSERT_TRUE(w->Close().ok());  // Nothing committed, nothing lost.
  const absl::Status s = Commit(*w, 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(w->stats().samples_committed, 0);
}

TEST(RemoteWriteTest, BadOptions) {
  RemoteWriteOptions o = Options("http://127.0.0.1:1/api/v1/write");
  o.capacity = 5;
  o.max_samples_per_send = 10;
  EXPECT_FALSE(RemoteWriter::Create(o).ok());
  o = Options("http://127.0.0.1:1/api/v1/write");
  o.retry_limit = 0;
  EXPECT_FALSE(RemoteWriter::Create(o).ok());
  o = Options("ftp://127.0.0.1:1/api/v1/write");
  absl::StatusOr<std::unique_ptr<RemoteWriter>> w = RemoteWriter::Create(o);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(),
              HasSubstr("remote write ftp://127.0.0.1:1/api/v1/write: the URL "
                        "must start with http:// or https://"));
}

}  // namespace
}  // namespace promeval
