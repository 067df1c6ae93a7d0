// Remote read: the answers' decoders over hand-made frames (what a real
// server sends is checked against Prometheus by tests/remote_read_test.py),
// the request's encoding, the engine's hints, and the faults a real server
// does not produce, from a local fake endpoint (cpp-httplib, or a raw
// socket for a torn answer) on 127.0.0.1.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/engine.h"
#include "promeval/remote.h"
#include "promeval/value.h"
#include "remote/http_client.h"
#include "remote/proto/remote.pb.h"
#include "remote/read.h"
#include "tests/fake_endpoint.h"
#include "tests/tsdb_encode.h"
#include "tsdb/decbuf.h"

namespace promeval {
namespace {

using ::promeval::tsdb::encode::PutBe32;
using ::promeval::tsdb::encode::PutUvarint;
using ::promeval::tsdb::encode::XorChunk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Type = RemoteReadOptions::ResponseType;

constexpr absl::string_view kWhere = "remote read test";

// --- Answers -------------------------------------------------------------

void SetLabels(
    google::protobuf::RepeatedPtrField<prometheus::Label>* out,
    std::initializer_list<std::pair<const char*, const char*>> labels) {
  for (const auto& [n, v] : labels) {
    prometheus::Label* l = out->Add();
    l->set_name(n);
    l->set_value(v);
  }
}

void AddXorChunk(prometheus::ChunkedSeries* s,
                 const std::vector<std::pair<int64_t, double>>& samples) {
  XorChunk c;
  for (const auto& [t, v] : samples) c.Add(t, v);
  prometheus::Chunk* chunk = s->add_chunks();
  chunk->set_type(prometheus::Chunk::XOR);
  chunk->set_min_time_ms(samples.front().first);
  chunk->set_max_time_ms(samples.back().first);
  chunk->set_data(c.Bytes());
}

// A frame as Prometheus writes it: uvarint length, CRC32C (big-endian),
// the message.
std::string Frame(const prometheus::ChunkedReadResponse& r) {
  const std::string m = r.SerializeAsString();
  std::string out;
  PutUvarint(out, m.size());
  PutBe32(out, tsdb::Crc32c(m));
  return out + m;
}

std::string Describe(const remote::ReadSeries& s) {
  std::vector<std::string> points;
  for (size_t i = 0; i < s.t.size(); ++i) {
    points.push_back(absl::StrCat(s.t[i], ":", s.v[i]));
  }
  return absl::StrCat(s.labels.ToString(), " ", absl::StrJoin(points, " "));
}

TEST(RemoteReadDecodeTest, StreamedSeriesSortedAndJoinedOverFrames) {
  prometheus::ChunkedReadResponse f1, f2;
  prometheus::ChunkedSeries* b = f1.add_chunked_series();
  SetLabels(b->mutable_labels(), {{"__name__", "m"}, {"i", "b"}});
  AddXorChunk(b, {{1000, 1}, {2000, 2}});
  prometheus::ChunkedSeries* a1 = f1.add_chunked_series();
  SetLabels(a1->mutable_labels(), {{"i", "a"}, {"__name__", "m"}});
  AddXorChunk(a1, {{1000, 10}, {2000, 20}});
  // The same series goes on in the next frame (a server splits a series
  // whose chunks do not fit in one frame).
  prometheus::ChunkedSeries* a2 = f2.add_chunked_series();
  SetLabels(a2->mutable_labels(), {{"__name__", "m"}, {"i", "a"}});
  AddXorChunk(a2, {{3000, 30}, {4000, StaleNaN()}});
  absl::StatusOr<remote::ReadResult> r = remote::DecodeReadResponse(
      remote::kStreamedContentType, Frame(f1) + Frame(f2), 1, kWhere);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->queries.size(), 1u);
  std::vector<std::string> got;
  for (const remote::ReadSeries& s : r->queries[0]) got.push_back(Describe(s));
  EXPECT_THAT(got, ElementsAre("{__name__=\"m\", i=\"a\"} 1000:10 2000:20 "
                               "3000:30 4000:nan",
                               "{__name__=\"m\", i=\"b\"} 1000:1 2000:2"));
  EXPECT_TRUE(IsStaleNaN(r->queries[0][0].v[3]));
  EXPECT_EQ(r->skipped_histogram_series, 0);
}

TEST(RemoteReadDecodeTest, HistogramSeriesLeftOutAndCounted) {
  prometheus::ChunkedReadResponse f;
  prometheus::ChunkedSeries* h = f.add_chunked_series();
  SetLabels(h->mutable_labels(), {{"__name__", "h"}});
  prometheus::Chunk* c = h->add_chunks();
  c->set_type(prometheus::Chunk::HISTOGRAM);
  c->set_data("whatever");
  prometheus::ChunkedSeries* x = f.add_chunked_series();
  SetLabels(x->mutable_labels(), {{"__name__", "x"}});
  AddXorChunk(x, {{1000, 1}});
  absl::StatusOr<remote::ReadResult> r = remote::DecodeReadResponse(
      remote::kStreamedContentType, Frame(f), 1, kWhere);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->queries[0].size(), 1u);
  EXPECT_EQ(r->queries[0][0].labels.ToString(), "{__name__=\"x\"}");
  EXPECT_EQ(r->skipped_histogram_series, 1);

  prometheus::ReadResponse samples;
  prometheus::TimeSeries* ts = samples.add_results()->add_timeseries();
  SetLabels(ts->mutable_labels(), {{"__name__", "h"}});
  ts->add_histograms("a histogram");
  std::string body;
  const std::string raw = samples.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &body);
  r = remote::DecodeReadResponse("application/x-protobuf", body, 1, kWhere);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->queries[0].empty());
  EXPECT_EQ(r->skipped_histogram_series, 1);
}

TEST(RemoteReadDecodeTest, SamplesInTimeOrderOncePerTimestamp) {
  prometheus::ReadResponse response;
  prometheus::QueryResult* q0 = response.add_results();
  response.add_results();  // The second query selected nothing.
  prometheus::TimeSeries* ts = q0->add_timeseries();
  SetLabels(ts->mutable_labels(), {{"__name__", "m"}});
  for (const auto& [t, v] : std::vector<std::pair<int64_t, double>>{
           {3000, 3}, {1000, 1}, {3000, 9}, {2000, 2}}) {
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(t);
    s->set_value(v);
  }
  std::string body;
  const std::string raw = response.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &body);
  absl::StatusOr<remote::ReadResult> r =
      remote::DecodeReadResponse("application/x-protobuf", body, 2, kWhere);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->queries.size(), 2u);
  ASSERT_EQ(r->queries[0].size(), 1u);
  EXPECT_EQ(Describe(r->queries[0][0]),
            "{__name__=\"m\"} 1000:1 2000:2 3000:3");
  EXPECT_TRUE(r->queries[1].empty());

  r = remote::DecodeReadResponse("application/x-protobuf", body, 3, kWhere);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("2 results for 3 queries"));
}

TEST(RemoteReadDecodeTest, BadBytesNameThePlace) {
  prometheus::ChunkedReadResponse f;
  prometheus::ChunkedSeries* s = f.add_chunked_series();
  SetLabels(s->mutable_labels(), {{"__name__", "m"}});
  AddXorChunk(s, {{1000, 1}, {2000, 2}, {3000, 3}});
  const std::string good = Frame(f);
  std::string flipped = good;
  flipped.back() ^= 1;
  std::string long_frame;
  PutUvarint(long_frame, 1000);
  long_frame += "abcd";
  prometheus::ChunkedReadResponse other_query = f;
  other_query.set_query_index(1);
  prometheus::ChunkedReadResponse xor2 = f;
  xor2.mutable_chunked_series(0)->mutable_chunks(0)->set_type(
      prometheus::Chunk::XOR2);
  prometheus::ChunkedReadResponse torn_chunk = f;
  std::string* data =
      torn_chunk.mutable_chunked_series(0)->mutable_chunks(0)->mutable_data();
  data->resize(data->size() - 3);
  std::string not_proto;
  PutUvarint(not_proto, 3);
  PutBe32(not_proto, tsdb::Crc32c("\xff\xff\xff"));
  not_proto += "\xff\xff\xff";
  for (const auto& [body, content_type, want] :
       std::vector<std::tuple<std::string, absl::string_view, std::string>>{
           {flipped, remote::kStreamedContentType,
            "offset 0: remote read frame checksum mismatch"},
           {good + long_frame, remote::kStreamedContentType,
            absl::StrCat("offset ", good.size(),
                         ": remote read frame of 1000 bytes, only 4 bytes "
                         "left")},
           {Frame(other_query), remote::kStreamedContentType,
            "frame for query 1 of a request of 1"},
           {Frame(xor2), remote::kStreamedContentType,
            "unsupported chunk encoding 4 in series {__name__=\"m\"}"},
           {Frame(torn_chunk), remote::kStreamedContentType,
            "series {__name__=\"m\"}"},
           {not_proto, remote::kStreamedContentType,
            "is not a ChunkedReadResponse"},
           {"\x80", remote::kStreamedContentType, "offset 1: truncated"},
           {"not snappy at all", "application/x-protobuf",
            "not snappy-compressed"},
       }) {
    absl::StatusOr<remote::ReadResult> r =
        remote::DecodeReadResponse(content_type, body, 1, kWhere);
    ASSERT_FALSE(r.ok()) << want;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << want;
    EXPECT_THAT(r.status().message(), HasSubstr(want));
    EXPECT_THAT(r.status().message(), HasSubstr(kWhere));
  }
}

// --- Requests ------------------------------------------------------------

prometheus::ReadRequest DecodeRequest(const std::string& body) {
  std::string raw;
  EXPECT_TRUE(snappy::Uncompress(body.data(), body.size(), &raw));
  prometheus::ReadRequest r;
  EXPECT_TRUE(r.ParseFromString(raw));
  return r;
}

TEST(RemoteReadRequestTest, MatchersRangeHintsAndResponseTypes) {
  std::vector<Matcher> matchers = {
      *Matcher::Create(MatchType::kEqual, "__name__", "m"),
      *Matcher::Create(MatchType::kNotEqual, "a", "1"),
      *Matcher::Create(MatchType::kRegexp, "b", "x.*"),
      *Matcher::Create(MatchType::kNotRegexp, "c", "")};
  SelectHints hints;
  hints.start_ms = 1000;
  hints.end_ms = 61000;
  hints.step_ms = 15000;
  hints.range_ms = 300000;
  hints.func = "sum";
  hints.by = true;
  hints.grouping = {"job", "instance"};
  const remote::ReadQuery q{matchers, &hints};
  const prometheus::ReadRequest r =
      DecodeRequest(remote::EncodeReadRequest({&q, 1}, Type::kAuto));
  ASSERT_EQ(r.queries_size(), 1);
  const prometheus::Query& query = r.queries(0);
  EXPECT_EQ(query.start_timestamp_ms(), 1000);
  EXPECT_EQ(query.end_timestamp_ms(), 61000);
  std::vector<std::string> got;
  for (const prometheus::LabelMatcher& m : query.matchers()) {
    got.push_back(absl::StrCat(m.type(), " ", m.name(), " ", m.value()));
  }
  EXPECT_THAT(got, ElementsAre("0 __name__ m", "1 a 1", "2 b x.*", "3 c "));
  EXPECT_EQ(query.hints().step_ms(), 15000);
  EXPECT_EQ(query.hints().func(), "sum");
  EXPECT_EQ(query.hints().start_ms(), 1000);
  EXPECT_EQ(query.hints().end_ms(), 61000);
  EXPECT_THAT(query.hints().grouping(), ElementsAre("job", "instance"));
  EXPECT_TRUE(query.hints().by());
  EXPECT_EQ(query.hints().range_ms(), 300000);
  EXPECT_THAT(r.accepted_response_types(),
              ElementsAre(prometheus::ReadRequest::STREAMED_XOR_CHUNKS,
                          prometheus::ReadRequest::SAMPLES));
  EXPECT_THAT(DecodeRequest(remote::EncodeReadRequest({&q, 1}, Type::kSamples))
                  .accepted_response_types(),
              ElementsAre(prometheus::ReadRequest::SAMPLES));
  EXPECT_THAT(
      DecodeRequest(remote::EncodeReadRequest({&q, 1}, Type::kStreamedChunks))
          .accepted_response_types(),
      ElementsAre(prometheus::ReadRequest::STREAMED_XOR_CHUNKS));
}

// The hints the engine gives each selection: what Prometheus's
// populateSeries gives (extractFuncFromPath, extractGroupsFromPath).
class HintRecorder : public Queryable {
 public:
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t,
                                                      int64_t) override {
    return std::make_unique<Recording>(*this);
  }
  std::map<std::string, SelectHints> hints;  // By metric name.

 private:
  class Recording : public Querier {
   public:
    explicit Recording(HintRecorder& r) : r_(r) {}
    absl::StatusOr<std::vector<SeriesData>> Select(absl::Span<const Matcher>,
                                                   int64_t, int64_t) override {
      ADD_FAILURE() << "the engine selects with hints";
      return std::vector<SeriesData>();
    }
    absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
        absl::Span<const Matcher> matchers, const SelectHints& h) override {
      for (const Matcher& m : matchers) {
        if (m.name() == "__name__") r_.hints[m.value()] = h;
      }
      return std::vector<SeriesData>();
    }

   private:
    HintRecorder& r_;
  };
};

std::string Show(const SelectHints& h) {
  return absl::StrCat(h.start_ms, "..", h.end_ms, " step ", h.step_ms,
                      " range ", h.range_ms, " func ", h.func,
                      h.by ? " by " : " without ",
                      absl::StrJoin(h.grouping, ","));
}

TEST(RemoteReadHintsTest, FromTheEngine) {
  std::unique_ptr<Engine> engine = *Engine::Create(EngineOptions());
  const int64_t t = 1'000'000;
  const int64_t lookback = 5 * 60 * 1000;
  struct Case {
    std::string query;
    bool range;
    std::map<std::string, std::string> want;
  };
  const std::vector<Case> cases = {
      {"sum by (job) (rate(x[5m]))",
       false,
       {{"x", absl::StrCat(t - 300000 + 1, "..", t,
                           " step 0 range 300000 func rate without ")}}},
      {"sum by (job) (x)",
       false,
       {{"x", absl::StrCat(t - lookback + 1, "..", t,
                           " step 0 range 0 func sum by job")}}},
      {"sum without (i, j) (x)",
       true,
       {{"x", absl::StrCat(t - lookback + 1, "..", t + 600000,
                           " step 60000 range 0 func sum without i,j")}}},
      {"x + on(i) abs(-y offset 1m)",
       false,
       {{"x", absl::StrCat(t - lookback + 1, "..", t,
                           " step 0 range 0 func  without ")},
        {"y", absl::StrCat(t - 60000 - lookback + 1, "..", t - 60000,
                           " step 0 range 0 func abs without ")}}},
      {"max_over_time(rate(x[5m])[1h:1m] @ 100)",
       false,
       // The subquery's steps are multiples of 1m in (100s - 1h, 100s].
       {{"x", absl::StrCat(-3480000 - 300000 + 1, "..", 60000,
                           " step 0 range 300000 func rate without ")}}},
      {"count_values(\"v\", (x))",
       false,
       {{"x", absl::StrCat(t - lookback + 1, "..", t,
                           " step 0 range 0 func count_values without ")}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    HintRecorder recorder;
    absl::StatusOr<QueryResult> r =
        c.range ? engine->RangeQuery(recorder, c.query, t, t + 600000, 60000)
                : engine->InstantQuery(recorder, c.query, t);
    ASSERT_TRUE(r.ok()) << r.status();
    std::map<std::string, std::string> got;
    for (const auto& [name, h] : recorder.hints) got[name] = Show(h);
    EXPECT_EQ(got, c.want);
  }
}

// The selections the engine plans (Querier::Prefetch) cover the ones it
// then makes: the same matchers and hints, a time range containing the
// selection's; those under a duration expression are not planned.
class PlanRecorder : public Queryable {
 public:
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t,
                                                      int64_t) override {
    return std::make_unique<Recording>(*this);
  }
  struct Selection {
    std::string matchers;
    SelectHints hints;
  };
  std::vector<Selection> planned, made;
  int prefetches = 0;

 private:
  static std::string Text(absl::Span<const Matcher> matchers) {
    std::string out;
    for (const Matcher& m : matchers) absl::StrAppend(&out, m.ToString(), ",");
    return out;
  }
  class Recording : public Querier {
   public:
    explicit Recording(PlanRecorder& r) : r_(r) {}
    absl::Status Prefetch(absl::Span<const PlannedSelect> selects) override {
      ++r_.prefetches;
      EXPECT_TRUE(r_.made.empty()) << "planned after a selection";
      for (const PlannedSelect& p : selects) {
        r_.planned.push_back({Text(p.matchers), p.hints});
      }
      return absl::OkStatus();
    }
    absl::StatusOr<std::vector<SeriesData>> Select(absl::Span<const Matcher>,
                                                   int64_t, int64_t) override {
      return std::vector<SeriesData>();
    }
    absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
        absl::Span<const Matcher> matchers, const SelectHints& h) override {
      r_.made.push_back({Text(matchers), h});
      return std::vector<SeriesData>();
    }

   private:
    PlanRecorder& r_;
  };
};

TEST(RemoteReadPlanTest, PlannedRangesCoverTheSelections) {
  EngineOptions options;
  options.parser = ParseOptions::AllEnabled();
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  const int64_t t = 10'000'000;
  const std::vector<std::string> queries = {
      "x",
      "rate(x[5m]) + y offset 10m",
      "x @ 5000 - x @ start() + x @ end()",
      "sum by (j) (rate(x[2m] offset -3m))",
      "max_over_time(rate(x[5m])[1h:1m] @ 100)",
      "max_over_time(rate(x[5m] offset 1m)[30m:2m] offset 7m)",
      "avg_over_time(max_over_time(y[3m])[20m:1m] offset 2m)[40m:5m])",
      "min_over_time((max_over_time(y[3m])[20m:1m] offset 2m)[40m:5m] @ "
      "9000000)",
      "topk(2, x) and on() count(y offset 1h)",
      "label_replace(x, \"a\", \"b\", \"c\", \"d\")",
      "rate(x[5m] anchored) + delta(y[2m] smoothed) + x smoothed",
  };
  for (const std::string& q : queries) {
    for (bool range : {false, true}) {
      SCOPED_TRACE(absl::StrCat(q, range ? " (range)" : " (instant)"));
      PlanRecorder rec;
      absl::StatusOr<QueryResult> r =
          range ? engine->RangeQuery(rec, q, t, t + 3'600'000, 60'000)
                : engine->InstantQuery(rec, q, t);
      if (!r.ok()) continue;  // Not a valid query of this kind.
      EXPECT_EQ(rec.prefetches, 1);
      EXPECT_FALSE(rec.made.empty());
      for (const PlanRecorder::Selection& m : rec.made) {
        const bool covered =
            std::any_of(rec.planned.begin(), rec.planned.end(),
                        [&](const PlanRecorder::Selection& p) {
                          return p.matchers == m.matchers &&
                                 p.hints.start_ms <= m.hints.start_ms &&
                                 m.hints.end_ms <= p.hints.end_ms &&
                                 p.hints.func == m.hints.func &&
                                 p.hints.range_ms == m.hints.range_ms &&
                                 p.hints.step_ms == m.hints.step_ms;
                        });
        EXPECT_TRUE(covered) << m.matchers << " " << Show(m.hints);
      }
    }
  }
  // A duration expression: that selection is left out of the plan.
  PlanRecorder rec;
  ASSERT_TRUE(engine->InstantQuery(rec, "x offset (1m + 1m) + y", t).ok());
  ASSERT_EQ(rec.planned.size(), 1u);
  EXPECT_THAT(rec.planned[0].matchers, HasSubstr("\"y\""));
}

// --- Faults from a fake endpoint ------------------------------------------

using testing::FreePort;

// A fake endpoint answering at /api/v1/read.
class FakeEndpoint : public testing::FakeEndpoint {
 public:
  explicit FakeEndpoint(httplib::Server::Handler handler)
      : testing::FakeEndpoint("/api/v1/read", std::move(handler)) {}
};

absl::Status SelectFrom(const RemoteReadOptions& options) {
  absl::StatusOr<std::unique_ptr<RemoteReadQueryable>> q =
      RemoteReadQueryable::Create(options);
  if (!q.ok()) return q.status();
  std::unique_ptr<Querier> querier = *(*q)->NewQuerier(0, 1000);
  const Matcher m = *Matcher::Create(MatchType::kEqual, "__name__", "m");
  return querier->Select({&m, 1}, 0, 1000).status();
}

RemoteReadOptions Options(const std::string& url) {
  RemoteReadOptions o;
  o.endpoint.url = url;
  o.endpoint.timeout = absl::Seconds(5);
  return o;
}

TEST(RemoteReadFaultTest, NothingListening) {
  const std::string url =
      absl::StrCat("http://127.0.0.1:", FreePort(), "/api/v1/read");
  absl::Status s = SelectFrom(Options(url));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("remote read ", url, ": ")));
}

TEST(RemoteReadFaultTest, ServerErrorWithItsMessage) {
  FakeEndpoint fake([](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("storage on fire\n", "text/plain");
  });
  absl::Status s = SelectFrom(Options(fake.url()));
  EXPECT_THAT(s.message(),
              HasSubstr(absl::StrCat("remote read ", fake.url(),
                                     ": the server answered HTTP 500: "
                                     "storage on fire")));
}

TEST(RemoteReadFaultTest, TimeoutIsBounded) {
  FakeEndpoint fake([](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    res.set_content("", "application/x-protobuf");
  });
  RemoteReadOptions o = Options(fake.url());
  o.endpoint.timeout = absl::Milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = SelectFrom(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(s.message(), HasSubstr(fake.url()));
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(900));
}

TEST(RemoteReadFaultTest, AnswerTooLarge) {
  FakeEndpoint fake([](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(100000, 'x'),
                    remote::kStreamedContentType.data());
  });
  RemoteReadOptions o = Options(fake.url());
  o.max_response_bytes = 1000;
  absl::Status s = SelectFrom(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(s.message(), HasSubstr("larger than 1000 bytes"));
}

TEST(RemoteReadFaultTest, BrokenBytes) {
  FakeEndpoint fake([](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string("\x05\x00\x00\x00\x00garbage", 12),
                    remote::kStreamedContentType.data());
  });
  absl::Status s = SelectFrom(Options(fake.url()));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(s.message(), HasSubstr("checksum mismatch"));
}

// Asked for streamed chunks, a server may answer with samples.
TEST(RemoteReadFaultTest, SamplesWhenChunksWereAskedFor) {
  prometheus::ReadResponse response;
  prometheus::TimeSeries* ts = response.add_results()->add_timeseries();
  SetLabels(ts->mutable_labels(), {{"__name__", "m"}});
  prometheus::Sample* sample = ts->add_samples();
  sample->set_timestamp(500);
  sample->set_value(7);
  std::string body;
  const std::string raw = response.SerializeAsString();
  snappy::Compress(raw.data(), raw.size(), &body);
  std::map<std::string, std::string> seen;
  FakeEndpoint fake([&](const httplib::Request& req, httplib::Response& res) {
    for (const char* h : {"Content-Encoding", "Content-Type",
                          "X-Prometheus-Remote-Read-Version", "Authorization",
                          "X-Scope-OrgID", "User-Agent"}) {
      seen[h] = req.get_header_value(h);
    }
    res.set_content(body, "application/x-protobuf");
  });
  const std::string token = std::filesystem::temp_directory_path() /
                            absl::StrCat("promeval-token-", getpid());
  std::ofstream(token) << "s3cret\n";
  RemoteReadOptions o = Options(fake.url());
  o.endpoint.bearer_token_file = token;
  o.endpoint.headers = {{"X-Scope-OrgID", "tenant-1"}};
  absl::StatusOr<std::unique_ptr<RemoteReadQueryable>> q =
      RemoteReadQueryable::Create(o);
  ASSERT_TRUE(q.ok()) << q.status();
  std::unique_ptr<Querier> querier = *(*q)->NewQuerier(0, 1000);
  const Matcher m = *Matcher::Create(MatchType::kEqual, "__name__", "m");
  absl::StatusOr<std::vector<SeriesData>> got =
      querier->Select({&m, 1}, 0, 1000);
  std::filesystem::remove(token);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_THAT((*got)[0].timestamps, ElementsAre(500));
  EXPECT_THAT((*got)[0].values, ElementsAre(7));
  EXPECT_EQ(seen["Content-Encoding"], "snappy");
  EXPECT_EQ(seen["Content-Type"], "application/x-protobuf");
  EXPECT_EQ(seen["X-Prometheus-Remote-Read-Version"], "0.1.0");
  EXPECT_EQ(seen["Authorization"], "Bearer s3cret");
  EXPECT_EQ(seen["X-Scope-OrgID"], "tenant-1");
  EXPECT_THAT(seen["User-Agent"], HasSubstr("promeval/"));
  EXPECT_EQ((*q)->stats().requests, 1);
}

// --remote-read-batch: the two selections of `a + b` as the two queries of
// one request, each answered from its part of the answer; a batched request
// that fails fails the query, naming the endpoint.
TEST(RemoteReadFaultTest, BatchedSelectionsInOneRequest) {
  std::vector<prometheus::ReadRequest> requests;
  std::mutex mu;
  bool fail = false;
  FakeEndpoint fake([&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    requests.push_back(DecodeRequest(req.body));
    if (fail) {
      res.status = 503;
      res.set_content("busy", "text/plain");
      return;
    }
    prometheus::ReadResponse response;
    for (const prometheus::Query& q : requests.back().queries()) {
      prometheus::TimeSeries* ts = response.add_results()->add_timeseries();
      std::string name;
      for (const prometheus::LabelMatcher& m : q.matchers()) {
        if (m.name() == "__name__") name = m.value();
      }
      SetLabels(ts->mutable_labels(), {{"__name__", name.c_str()}, {"i", "1"}});
      // A sample before the selection's range too: it must not show.
      for (int64_t t : {q.start_timestamp_ms() - 1, int64_t{60000}}) {
        prometheus::Sample* sample = ts->add_samples();
        sample->set_timestamp(t);
        sample->set_value(name == "a" ? 1 : 10);
      }
    }
    std::string body;
    const std::string raw = response.SerializeAsString();
    snappy::Compress(raw.data(), raw.size(), &body);
    res.set_content(body, "application/x-protobuf");
  });
  RemoteReadOptions o = Options(fake.url());
  o.batch_selections = true;
  o.response_type = Type::kSamples;
  std::unique_ptr<RemoteReadQueryable> q = *RemoteReadQueryable::Create(o);
  std::unique_ptr<Engine> engine = *Engine::Create(EngineOptions());
  absl::StatusOr<QueryResult> r =
      engine->InstantQuery(*q, "a + on(i) b", 90000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->vector.size(), 1u);
  EXPECT_EQ(r->vector[0].v, 11);
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].queries_size(), 2);
  EXPECT_EQ(requests[0].queries(0).start_timestamp_ms(), 90000 - 300000);
  EXPECT_EQ(requests[0].queries(0).end_timestamp_ms(), 90000);
  EXPECT_EQ(q->stats().requests, 1);
  EXPECT_EQ(q->stats().samples, 2);  // The early samples cut off.

  fail = true;
  r = engine->InstantQuery(*q, "a + on(i) b", 90000);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("remote read ", fake.url(),
                                     ": the server answered HTTP 503: busy")));
}

// An answer cut off mid-body (the server closes the connection).
TEST(RemoteReadFaultTest, TornAnswer) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ASSERT_EQ(listen(listener, 1), 0);
  std::thread server([listener] {
    const int fd = accept(listener, nullptr, nullptr);
    char buf[4096];
    (void)read(fd, buf, sizeof(buf));
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: 5000\r\n\r\n0123456789";
    (void)write(fd, head.data(), head.size());
    close(fd);
  });
  const std::string url =
      absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/api/v1/read");
  absl::Status s = SelectFrom(Options(url));
  server.join();
  close(listener);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("remote read ", url)));
}

TEST(RemoteReadFaultTest, SecretsNeverInMessages) {
  RemoteReadOptions o = Options("http://user:pw@127.0.0.1:1/api/v1/read");
  o.endpoint.bearer_token_file = "/nonexistent/token";
  absl::Status s = SelectFrom(o);
  EXPECT_THAT(s.message(), HasSubstr("cannot read the bearer token file "
                                     "/nonexistent/token"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("pw@")));
  EXPECT_THAT(s.message(), HasSubstr("http://127.0.0.1:1/api/v1/read"));
}

}  // namespace
}  // namespace promeval
