// ReplayHead: WAL segments, checkpoints, head chunks and the WBL built here
// byte by byte from the format specs (../shared/prometheus/specs/tsdb/),
// and the data directory of a real Prometheus (the Debian package, 2.42),
// read while it runs and after it stopped, against its HTTP API.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <snappy.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <bit>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "promeval/labels.h"
#include "promeval/storage.h"
#include "promeval/value.h"
#include "tests/tsdb_encode.h"
#include "tsdb/decbuf.h"
#include "tsdb/head.h"

namespace promeval::tsdb {
namespace {

namespace fs = std::filesystem;
using ::absl::StrCat;
using ::promeval::tsdb::encode::PutBe16;
using ::promeval::tsdb::encode::PutBe32;
using ::promeval::tsdb::encode::PutBe64;
using ::promeval::tsdb::encode::PutByte;
using ::promeval::tsdb::encode::PutUvarint;
using ::promeval::tsdb::encode::PutVarint;
using ::promeval::tsdb::encode::XorChunk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();
constexpr size_t kPage = 32 * 1024;

// --- Encoding -------------------------------------------------------------

void PutString(std::string& s, absl::string_view str) {
  PutUvarint(s, str.size());
  s.append(str.data(), str.size());
}

struct Sample {
  uint64_t ref;
  int64_t t;
  double v;
};

using RawLabels = std::vector<std::pair<std::string, std::string>>;

std::string SeriesRecord(const std::vector<std::pair<uint64_t, RawLabels>>& s) {
  std::string r;
  PutByte(r, 1);
  for (const auto& [ref, labels] : s) {
    PutBe64(r, ref);
    PutUvarint(r, labels.size());
    for (const auto& [n, v] : labels) {
      PutString(r, n);
      PutString(r, v);
    }
  }
  return r;
}

std::string SamplesRecord(const std::vector<Sample>& samples) {
  std::string r;
  PutByte(r, 2);
  if (samples.empty()) return r;
  PutBe64(r, samples[0].ref);
  PutBe64(r, static_cast<uint64_t>(samples[0].t));
  for (const Sample& s : samples) {
    PutVarint(r, static_cast<int64_t>(s.ref - samples[0].ref));
    PutVarint(r, s.t - samples[0].t);
    PutBe64(r, std::bit_cast<uint64_t>(s.v));
  }
  return r;
}

// Prometheus 3.x's samples v2 (no start times).
std::string SamplesV2Record(const std::vector<Sample>& samples) {
  std::string r;
  PutByte(r, 11);
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i == 0) {
      PutVarint(r, static_cast<int64_t>(samples[0].ref));
      PutVarint(r, samples[0].t);
      PutVarint(r, 0);
    } else {
      PutVarint(r, static_cast<int64_t>(samples[i].ref - samples[i - 1].ref));
      PutVarint(r, samples[i].t - samples[0].t);
      PutByte(r, 0);
    }
    PutBe64(r, std::bit_cast<uint64_t>(samples[i].v));
  }
  return r;
}

std::string TombstonesRecord(
    const std::vector<std::tuple<uint64_t, int64_t, int64_t>>& stones) {
  std::string r;
  PutByte(r, 3);
  for (const auto& [ref, mint, maxt] : stones) {
    PutBe64(r, ref);
    PutVarint(r, mint);
    PutVarint(r, maxt);
  }
  return r;
}

// An integer native histogram sample per (ref, t): schema 0, one bucket.
std::string HistogramRecord(
    const std::vector<std::pair<uint64_t, int64_t>>& h) {
  std::string r;
  PutByte(r, 7);
  PutBe64(r, h[0].first);
  PutBe64(r, static_cast<uint64_t>(h[0].second));
  for (const auto& [ref, t] : h) {
    PutVarint(r, static_cast<int64_t>(ref - h[0].first));
    PutVarint(r, t - h[0].second);
    PutByte(r, 0);                             // Counter reset hint.
    PutVarint(r, 0);                           // Schema.
    PutBe64(r, std::bit_cast<uint64_t>(0.0));  // Zero threshold.
    PutUvarint(r, 0);                          // Zero count.
    PutUvarint(r, 1);                          // Count.
    PutBe64(r, std::bit_cast<uint64_t>(1.5));  // Sum.
    PutUvarint(r, 1);                          // Positive spans.
    PutVarint(r, 0);
    PutUvarint(r, 1);
    PutUvarint(r, 0);  // Negative spans.
    PutUvarint(r, 1);  // Positive buckets.
    PutVarint(r, 1);
    PutUvarint(r, 0);  // Negative buckets.
  }
  return r;
}

std::string ExemplarRecord(uint64_t ref, int64_t t) {
  std::string r;
  PutByte(r, 4);
  PutBe64(r, ref);
  PutBe64(r, static_cast<uint64_t>(t));
  PutVarint(r, 0);
  PutVarint(r, 0);
  PutBe64(r, std::bit_cast<uint64_t>(1.0));
  PutUvarint(r, 1);
  PutString(r, "trace_id");
  PutString(r, "abc");
  return r;
}

std::string MetadataRecord(uint64_t ref) {
  std::string r;
  PutByte(r, 6);
  PutUvarint(r, ref);
  PutByte(r, 1);  // Counter.
  PutUvarint(r, 2);
  PutString(r, "UNIT");
  PutString(r, "seconds");
  PutString(r, "HELP");
  PutString(r, "Help text.");
  return r;
}

std::string MmapMarkersRecord(uint64_t ref, uint64_t chunk_ref) {
  std::string r;
  PutByte(r, 5);
  PutBe64(r, ref);
  PutBe64(r, chunk_ref);
  return r;
}

enum class Compression { kNone, kSnappy, kZstd };

// A segment written as Prometheus's wlog.WL.log writes it: fragments fill
// the pages, a page with fewer than 7 bytes left is padded with zeros.
class Segment {
 public:
  Segment& Log(absl::string_view record,
               Compression compression = Compression::kNone) {
    std::string enc(record);
    uint8_t flags = 0;
    if (compression == Compression::kSnappy) {
      enc.clear();
      snappy::Compress(record.data(), record.size(), &enc);
      flags = 0x08;
    } else if (compression == Compression::kZstd) {
      enc.resize(ZSTD_compressBound(record.size()));
      enc.resize(ZSTD_compress(enc.data(), enc.size(), record.data(),
                               record.size(), 1));
      flags = 0x10;
    }
    absl::string_view rest(enc);
    for (int i = 0; i == 0 || !rest.empty(); ++i) {
      size_t left = kPage - bytes_.size() % kPage;
      if (left < 7) {
        bytes_.append(left, '\0');
        left = kPage;
      }
      const size_t n = std::min(rest.size(), left - 7);
      const bool end = n == rest.size();
      const uint8_t type = i == 0 ? (end ? 1 : 2) : (end ? 4 : 3);
      PutByte(bytes_, type | flags);
      PutBe16(bytes_, static_cast<uint16_t>(n));
      PutBe32(bytes_, Crc32c(rest.substr(0, n)));
      bytes_.append(rest.data(), n);
      rest.remove_prefix(n);
    }
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

struct FileChunk {
  uint64_t ref;
  int64_t mint;
  int64_t maxt;
  uint8_t encoding;
  std::string data;
};

std::string HeadChunkFile(const std::vector<FileChunk>& chunks) {
  std::string f;
  PutBe32(f, 0x0130BC91);
  PutByte(f, 1);
  f.append(3, '\0');
  for (const FileChunk& c : chunks) {
    const size_t start = f.size();
    PutBe64(f, c.ref);
    PutBe64(f, static_cast<uint64_t>(c.mint));
    PutBe64(f, static_cast<uint64_t>(c.maxt));
    PutByte(f, c.encoding);
    PutUvarint(f, c.data.size());
    f.append(c.data);
    PutBe32(f, Crc32c(absl::string_view(f).substr(start)));
  }
  return f;
}

// A head chunk of float samples at t = start, start + step, ...
FileChunk FloatChunk(uint64_t ref, int64_t start, int64_t step, int n,
                     double base, bool ooo = false) {
  XorChunk x;
  for (int i = 0; i < n; ++i) x.Add(start + i * step, base + i);
  return {ref, start, start + (n - 1) * step,
          static_cast<uint8_t>(ooo ? 0x81 : 0x01), x.Bytes()};
}

// Every sample of the series `matchers` select, as "name{labels}@t=v"
// ("stale" for a stale marker), series in label order.
std::vector<std::string> StoredSamples(Queryable& storage,
                                       absl::Span<const Matcher> matchers) {
  std::vector<std::string> out;
  std::unique_ptr<Querier> q = *storage.NewQuerier(kMinTime, kMaxTime);
  absl::StatusOr<std::vector<SeriesData>> data =
      q->Select(matchers, kMinTime, kMaxTime);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return out;
  for (const SeriesData& s : *data) {
    const std::string series = StrCat(s.labels->Get("__name__"),
                                      s.labels->WithoutMetricName().ToString());
    for (size_t i = 0; i < s.timestamps.size(); ++i) {
      out.push_back(
          StrCat(series, "@", s.timestamps[i], "=",
                 IsStaleNaN(s.values[i]) ? "stale" : StrCat(s.values[i])));
    }
  }
  return out;
}

// --- The data directory ---------------------------------------------------

class TsdbHeadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tsdb_head_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/wal");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& rel, const std::string& content) {
    const fs::path p = fs::path(dir_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  void WriteSegment(const std::string& rel, const Segment& s) {
    Write(rel, s.bytes());
  }

  absl::StatusOr<HeadStats> Replay(const HeadOptions& options = {}) {
    storage_.Clear();
    return ReplayHead(dir_, storage_, options);
  }
  std::vector<std::string> All() {
    return StoredSamples(
        storage_, {*Matcher::Create(MatchType::kRegexp, "__name__", ".+")});
  }

  std::string dir_;
  MemStorage storage_;
};

RawLabels Metric(const std::string& name, const std::string& job = "a") {
  return {{"__name__", name}, {"job", job}};
}

TEST_F(TsdbHeadTest, NoWalNoSeries) {
  fs::remove_all(dir_ + "/wal");
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 0);
  EXPECT_EQ(storage_.NumSeries(), 0);
  EXPECT_EQ(ReplayHead(dir_ + "/missing", storage_).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TsdbHeadTest, SeriesSamplesStaleMarkersInTimeOrder) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("up")}, {2, Metric("up", "b")}}))
      .Log(SamplesRecord({{1, 1000, 1}, {2, 1000, 5}, {1, 2000, 0.5}}))
      .Log(SamplesV2Record({{2, 2000, 6}, {1, 3000, StaleNaN()}}))
      .Log(ExemplarRecord(1, 2000))
      .Log(MetadataRecord(1))
      .Log(SamplesRecord({}));
  WriteSegment("wal/00000000", s);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(All(),
              ElementsAre(R"(up{job="a"}@1000=1)", R"(up{job="a"}@2000=0.5)",
                          R"(up{job="a"}@3000=stale)", R"(up{job="b"}@1000=5)",
                          R"(up{job="b"}@2000=6)"));
  EXPECT_EQ(stats->series, 2);
  EXPECT_EQ(stats->samples, 5);
  EXPECT_EQ(stats->min_time, 1000);
  EXPECT_EQ(stats->max_time, 3000);
  EXPECT_EQ(stats->checkpoint, -1);
  EXPECT_EQ(stats->wal_segments, 1);
  EXPECT_EQ(stats->attempts, 1);
  EXPECT_FALSE(stats->torn_tail);
  EXPECT_THAT(stats->warnings, IsEmpty());
}

TEST_F(TsdbHeadTest, RecordsSplitAcrossPagesAndSegments) {
  // A series record of ~100 KiB (four pages), then 3000 samples in one
  // record (over a page), in the first segment; more in the second.
  std::vector<std::pair<uint64_t, RawLabels>> series;
  for (uint64_t i = 1; i <= 1000; ++i) {
    series.push_back({i,
                      {{"__name__", "m"},
                       {"i", absl::StrCat(i)},
                       {"pad", std::string(80, 'x')}}});
  }
  std::vector<Sample> samples;
  for (uint64_t i = 1; i <= 1000; ++i) {
    for (int64_t t = 1; t <= 3; ++t)
      samples.push_back({i, t * 1000, double(i * t)});
  }
  Segment s0;
  s0.Log(SeriesRecord(series)).Log(SamplesRecord(samples));
  ASSERT_GT(s0.size(), 4 * kPage);
  Segment s1;
  samples.clear();
  for (uint64_t i = 1; i <= 1000; ++i) samples.push_back({i, 4000, -1.0 * i});
  s1.Log(SamplesRecord(samples));
  WriteSegment("wal/00000000", s0);
  WriteSegment("wal/00000001", s1);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->series, 1000);
  EXPECT_EQ(stats->samples, 4000);
  EXPECT_EQ(stats->wal_segments, 2);
  EXPECT_THAT(
      StoredSamples(storage_, {*Matcher::Create(MatchType::kEqual, "i", "7")}),
      ElementsAre(
          StrCat(R"(m{i="7", pad=")", std::string(80, 'x'), R"("}@1000=7)"),
          StrCat(R"(m{i="7", pad=")", std::string(80, 'x'), R"("}@2000=14)"),
          StrCat(R"(m{i="7", pad=")", std::string(80, 'x'), R"("}@3000=21)"),
          StrCat(R"(m{i="7", pad=")", std::string(80, 'x'), R"("}@4000=-7)")));
}

TEST_F(TsdbHeadTest, SnappyAndZstdRecords) {
  std::vector<Sample> samples;
  for (int64_t t = 1; t <= 500; ++t) samples.push_back({1, t * 1000, 1.0});
  std::vector<Sample> more;
  for (int64_t t = 501; t <= 5000; ++t) more.push_back({1, t * 1000, 2.0});
  Segment s;
  s.Log(SeriesRecord({{1, Metric("c")}}), Compression::kSnappy)
      .Log(SamplesRecord(samples), Compression::kSnappy)
      .Log(SamplesRecord(more), Compression::kZstd);  // Over a page raw.
  WriteSegment("wal/00000000", s);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->samples, 5000);
  std::vector<std::string> all = All();
  ASSERT_EQ(all.size(), 5000u);
  EXPECT_EQ(all[499], R"(c{job="a"}@500000=1)");
  EXPECT_EQ(all[4999], R"(c{job="a"}@5000000=2)");

  // A corrupt compressed record (checksums fine) names its place.
  std::string bad = SamplesRecord(samples);
  Segment s2;
  s2.Log(SeriesRecord({{1, Metric("c")}}));
  const size_t at = s2.size();
  std::string compressed;
  snappy::Compress(bad.data(), bad.size(), &compressed);
  compressed[0] ^= 0x01;  // The length it claims.
  std::string frag;
  PutByte(frag, 0x09);
  PutBe16(frag, static_cast<uint16_t>(compressed.size()));
  PutBe32(frag, Crc32c(compressed));
  Write("wal/00000000", s2.bytes() + frag + compressed);
  absl::StatusOr<HeadStats> failed = Replay();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(failed.status().message(),
              HasSubstr(StrCat("wal/00000000: offset ", at, ": ")));
  EXPECT_EQ(storage_.NumSeries(), 0);
}

TEST_F(TsdbHeadTest, TornTailToleratedOnlyAtTheEndOfTheLastSegment) {
  std::vector<Sample> big;
  for (int64_t t = 1; t <= 4000; ++t) big.push_back({1, t, 1.0});
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}})).Log(SamplesRecord({{1, 0, 7}}));
  const size_t complete = s.size();
  s.Log(SamplesRecord(big));  // Over a page: first, middle..., last.
  ASSERT_GT(s.size(), complete + kPage);
  // Cut inside the data of the first fragment, after the first page, and
  // inside a header.
  for (size_t cut : {complete + 100, kPage + 50, complete + 3}) {
    SCOPED_TRACE(cut);
    Write("wal/00000000", s.bytes().substr(0, cut));
    absl::StatusOr<HeadStats> stats = Replay();
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_TRUE(stats->torn_tail);
    EXPECT_THAT(All(), ElementsAre(R"(x{job="a"}@0=7)"));
    ASSERT_EQ(stats->warnings.size(), 1u);
    EXPECT_THAT(stats->warnings[0],
                HasSubstr(StrCat("wal/00000000: offset ", complete)));
  }
  // The same segment followed by another one: corruption.
  Segment next;
  next.Log(SamplesRecord({{1, 5000, 1}}));
  WriteSegment("wal/00000001", next);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(stats.status().message(),
              HasSubstr(StrCat("wal/00000000: offset ", complete)));
  EXPECT_THAT(stats.status().message(), HasSubstr("torn"));
}

TEST_F(TsdbHeadTest, ChecksumMismatchInTheMiddleIsAnError) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}})).Log(SamplesRecord({{1, 1, 1}}));
  const size_t at = s.size();
  s.Log(SamplesRecord({{1, 2, 2}})).Log(SamplesRecord({{1, 3, 3}}));
  std::string bytes = s.bytes();
  bytes[at + 9] ^= 1;
  Write("wal/00000000", bytes);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(stats.status().message(),
              HasSubstr(StrCat(dir_, "/wal/00000000: offset ", at,
                               ": unexpected checksum")));
  EXPECT_EQ(storage_.NumSeries(), 0);

  // Non-zero bytes in a page's padding, an unknown fragment type.
  bytes = s.bytes() + std::string(1, '\0') + "x";
  Write("wal/00000000", bytes);
  EXPECT_THAT(Replay().status().message(),
              HasSubstr(StrCat("offset ", s.size() + 1,
                               ": unexpected non-zero byte in padded page")));
  bytes = s.bytes();
  bytes[at] = 5;
  Write("wal/00000000", bytes);
  EXPECT_THAT(Replay().status().message(),
              HasSubstr(StrCat("offset ", at, ": unexpected fragment type 5")));
  // A malformed record (checksum fine).
  Segment bad;
  bad.Log(SeriesRecord({{1, Metric("x")}})).Log(std::string("\x02\x00\x01", 3));
  WriteSegment("wal/00000000", bad);
  EXPECT_THAT(Replay().status().message(),
              HasSubstr("decode samples: record: offset 1: truncated"));
}

TEST_F(TsdbHeadTest, CheckpointThenTheSegmentsAfterIt) {
  Segment cp;
  cp.Log(SeriesRecord({{1, Metric("x")}, {2, Metric("y")}}))
      .Log(SamplesRecord({{1, 1000, 1}, {2, 1000, 10}}));
  WriteSegment("wal/checkpoint.00000002/00000000", cp);
  // Older segments still there (covered by the checkpoint): not read.
  Segment old;
  old.Log(SeriesRecord({{9, Metric("old")}})).Log(SamplesRecord({{9, 1, 1}}));
  WriteSegment("wal/00000001", old);
  WriteSegment("wal/00000002", old);
  Write("wal/checkpoint.00000001.tmp/00000000", "garbage");
  Segment s3, s4;
  s3.Log(SamplesRecord({{1, 2000, 2}, {2, 2000, 20}}));
  s4.Log(SeriesRecord({{3, Metric("z")}}))
      .Log(SamplesRecord({{1, 3000, 3}, {3, 3000, 30}}));
  WriteSegment("wal/00000003", s3);
  WriteSegment("wal/00000004", s4);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->checkpoint, 2);
  EXPECT_EQ(stats->wal_segments, 2);
  EXPECT_THAT(All(),
              ElementsAre(R"(x{job="a"}@1000=1)", R"(x{job="a"}@2000=2)",
                          R"(x{job="a"}@3000=3)", R"(y{job="a"}@1000=10)",
                          R"(y{job="a"}@2000=20)", R"(z{job="a"}@3000=30)"));

  // A segment missing after the checkpoint (tried three times).
  fs::remove(dir_ + "/wal/00000003");
  stats = Replay();
  ASSERT_FALSE(stats.ok());
  EXPECT_THAT(stats.status().message(), HasSubstr("WAL segment 3 is missing"));
}

TEST_F(TsdbHeadTest, DuplicateSeriesRecordsUnknownRefsOutOfOrderSamples) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}, {2, Metric("y")}}))
      .Log(SamplesRecord({{1, 1000, 1}, {2, 1000, 10}, {99, 1000, 5}}))
      // Ref 5 has the labels of ref 1: it maps to series 1, which
      // Prometheus resets (resetSeriesWithMMappedChunks): what was replayed
      // for it so far is dropped (it would be in a block already).
      .Log(SeriesRecord({{5, Metric("x")}}))
      .Log(SamplesRecord({{5, 2000, 2}, {1, 3000, 3}, {2, 2000, 20}}))
      // Older than the newest sample, or at the same time: skipped, the
      // first one stays.
      .Log(SamplesRecord({{1, 2500, 9}, {5, 3000, 9}, {2, 2000, 21}}));
  WriteSegment("wal/00000000", s);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(All(),
              ElementsAre(R"(x{job="a"}@2000=2)", R"(x{job="a"}@3000=3)",
                          R"(y{job="a"}@1000=10)", R"(y{job="a"}@2000=20)"));
  EXPECT_EQ(stats->skipped_unknown_series, 1);
  EXPECT_EQ(stats->skipped_out_of_order, 3);
}

TEST_F(TsdbHeadTest, Tombstones) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}, {2, Metric("y")}}));
  for (int64_t t = 1; t <= 5; ++t) {
    s.Log(SamplesRecord({{1, t * 1000, double(t)}, {2, t * 1000, double(t)}}));
  }
  s.Log(TombstonesRecord({{1, 2000, 3000}, {1, 5000, 5000}, {42, 0, 9000}}))
      // Prometheus 3.x deletes a stale series with a tombstone of all time;
      // a later series record for its labels is a new series.
      .Log(TombstonesRecord({{2, kMinTime, kMaxTime}}))
      .Log(SamplesRecord({{2, 6000, 6}}))
      .Log(SeriesRecord({{7, Metric("y")}}))
      .Log(SamplesRecord({{7, 7000, 7}}));
  WriteSegment("wal/00000000", s);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(All(), ElementsAre(R"(x{job="a"}@1000=1)", R"(x{job="a"}@4000=4)",
                                 R"(y{job="a"}@7000=7)"));
  EXPECT_EQ(stats->deleted_samples, 3);
  EXPECT_EQ(stats->skipped_unknown_series, 1);  // Ref 2 after its deletion.
}

TEST_F(TsdbHeadTest, HistogramSeriesLeftOutAndCounted) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}, {2, Metric("h")}, {3, Metric("hc")}}))
      .Log(SamplesRecord({{1, 1000, 1}}))
      .Log(HistogramRecord({{2, 1000}, {2, 2000}}));
  WriteSegment("wal/00000000", s);
  // Series 3's samples are in a histogram head chunk (its bytes are not
  // read).
  Write("chunks_head/000001",
        HeadChunkFile({{3, 500, 900, 2, std::string(10, '\x01')}}));
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(All(), ElementsAre(R"(x{job="a"}@1000=1)"));
  EXPECT_EQ(stats->histogram_series, 2);
  EXPECT_EQ(stats->series, 1);
  EXPECT_THAT(stats->warnings, IsEmpty());
}

TEST_F(TsdbHeadTest, HeadChunksAndTheWalCountEachSampleOnce) {
  // Series 1: two chunks (t = 1000..5000, 6000..10000), then the WAL from
  // 1000 on (as Prometheus keeps it until a checkpoint): the WAL's samples
  // up to the last chunk's maxt are skipped, even with another value.
  Write("chunks_head/000001",
        HeadChunkFile({FloatChunk(1, 1000, 1000, 5, 100)}));
  Write("chunks_head/000002",
        HeadChunkFile({FloatChunk(1, 6000, 1000, 5, 200),
                       FloatChunk(2, 1000, 1000, 3, 300)}));
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}, {2, Metric("y")}}));
  for (int64_t t = 1; t <= 12; ++t) {
    s.Log(SamplesRecord({{1, t * 1000, t == 7 ? -1.0 : 99.0}}));
  }
  s.Log(SamplesRecord({{2, 4000, 4}}));
  WriteSegment("wal/00000000", s);
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->mmapped_chunks, 3);
  EXPECT_EQ(stats->skipped_in_chunks, 10);
  std::vector<std::string> x = StoredSamples(
      storage_, {*Matcher::Create(MatchType::kEqual, "__name__", "x")});
  ASSERT_EQ(x.size(), 12u);
  EXPECT_EQ(x[0], R"(x{job="a"}@1000=100)");
  EXPECT_EQ(x[6], R"(x{job="a"}@7000=201)");
  EXPECT_EQ(x[9], R"(x{job="a"}@10000=204)");
  EXPECT_EQ(x[10], R"(x{job="a"}@11000=99)");
  EXPECT_THAT(StoredSamples(storage_, {*Matcher::Create(MatchType::kEqual,
                                                        "__name__", "y")}),
              ElementsAre(R"(y{job="a"}@1000=300)", R"(y{job="a"}@2000=301)",
                          R"(y{job="a"}@3000=302)", R"(y{job="a"}@4000=4)"));

  // A corrupt chunk: its file and the later ones are left out (Prometheus
  // deletes them), the WAL holds their samples.
  std::string file2 = HeadChunkFile({FloatChunk(1, 6000, 1000, 5, 200)});
  file2[40] ^= 1;
  Write("chunks_head/000002", file2);
  stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->mmapped_chunks, 1);
  ASSERT_EQ(stats->warnings.size(), 1u);
  EXPECT_THAT(stats->warnings[0],
              HasSubstr("chunks_head/000002: offset 8: head chunk checksum"));
  x = StoredSamples(storage_,
                    {*Matcher::Create(MatchType::kEqual, "__name__", "x")});
  ASSERT_EQ(x.size(), 12u);
  EXPECT_EQ(x[4], R"(x{job="a"}@5000=104)");
  EXPECT_EQ(x[5], R"(x{job="a"}@6000=99)");
  EXPECT_EQ(x[6], R"(x{job="a"}@7000=-1)");

  // A last file torn mid-chunk (a copy of a running Prometheus): the same.
  std::string file3 = HeadChunkFile({FloatChunk(1, 6000, 1000, 5, 200)});
  Write("chunks_head/000002", file3.substr(0, file3.size() - 3));
  stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->samples, 13);
  // Zeros after the chunks (preallocation) end the file.
  Write("chunks_head/000002", file3 + std::string(100, '\0'));
  stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->mmapped_chunks, 2);
  EXPECT_THAT(stats->warnings, IsEmpty());
  // A bad magic number in a file that is not the last: an error.
  Write("chunks_head/000003", HeadChunkFile({}));
  Write("chunks_head/000001", std::string(8, 'x'));
  EXPECT_THAT(Replay().status().message(),
              HasSubstr("chunks_head/000001: offset 0: invalid magic number"));
}

TEST_F(TsdbHeadTest, OutOfOrderSamplesFromTheWblAndHeadChunks) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}}))
      .Log(SamplesRecord({{1, 10000, 10}, {1, 20000, 20}}));
  WriteSegment("wal/00000000", s);
  Segment wbl;
  wbl.Log(SamplesRecord({{1, 15000, 15}, {1, 5000, 5}, {1, 20000, -1}}))
      .Log(MmapMarkersRecord(1, (uint64_t{1} << 32) | 8))
      .Log(SamplesRecord({{1, 12000, 12}, {1, 15000, -2}, {77, 1, 1}}));
  WriteSegment("wbl/00000000", wbl);
  Write("chunks_head/000001",
        HeadChunkFile({FloatChunk(1, 1000, 1000, 2, 1, /*ooo=*/true)}));
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(All(),
              ElementsAre(R"(x{job="a"}@1000=1)", R"(x{job="a"}@2000=2)",
                          R"(x{job="a"}@5000=5)", R"(x{job="a"}@10000=10)",
                          R"(x{job="a"}@12000=12)", R"(x{job="a"}@15000=15)",
                          R"(x{job="a"}@20000=20)"));
  EXPECT_EQ(stats->ooo_samples, 5);
  EXPECT_EQ(stats->wbl_segments, 1);
  EXPECT_EQ(stats->skipped_unknown_series, 1);
  EXPECT_FALSE(stats->wbl_torn_tail);

  // The WBL's last record torn: the WBL ends there.
  Write("wbl/00000000", wbl.bytes().substr(0, wbl.size() - 4));
  stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(stats->wbl_torn_tail);
  EXPECT_FALSE(stats->torn_tail);
  EXPECT_EQ(stats->ooo_samples, 4);  // Not 12000 any more.
}

TEST_F(TsdbHeadTest, MinValidTimeFromTheBlocks) {
  Segment s;
  s.Log(SeriesRecord({{1, Metric("x")}}));
  for (int64_t t = 1; t <= 6; ++t) s.Log(SamplesRecord({{1, t * 1000, 1}}));
  WriteSegment("wal/00000000", s);
  Write("01BKGV7JBM69T2G1BGBGM6KB12/meta.json",
        R"({"ulid":"01BKGV7JBM69T2G1BGBGM6KB12","minTime":0,"maxTime":3000,)"
        R"("version":1})");
  Write("01BKGTZQ1SYQJTR4PB43C8PD98/meta.json",
        R"({"minTime":0,"maxTime":5000,"version":1,)"
        R"("compaction":{"level":1,"hints":["from-out-of-order"]}})");
  Write("01BKGTZQ1HHWHV8FBJXW1Y3W0K/meta.json", "not json");
  absl::StatusOr<HeadStats> stats = Replay();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->min_valid_time, 3000);
  EXPECT_EQ(stats->skipped_before_min_valid_time, 2);
  EXPECT_EQ(stats->samples, 4);
  HeadOptions options;
  options.min_valid_time = kMinTime;
  stats = Replay(options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->samples, 6);
}

// --- A real Prometheus ------------------------------------------------------

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view d : absl::StrSplit(path, ':')) {
    if (access(absl::StrCat(d, "/", program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// GET http://127.0.0.1:PORT/TARGET: the status code and the body (-1 when
// the connection fails).
std::pair<int, std::string> HttpGet(int port, const std::string& target) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return {-1, ""};
  }
  const std::string request =
      absl::StrCat("GET ", target, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return {-1, ""};
  }
  std::string response;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) response.append(buf, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (!absl::StartsWith(response, "HTTP/") || body == std::string::npos) {
    return {-1, ""};
  }
  return {std::atoi(response.c_str() + response.find(' ') + 1),
          response.substr(body + 4)};
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

// A prometheus process, killed by its pid when this goes out of scope.
class PrometheusProcess {
 public:
  PrometheusProcess(const std::string& work, const std::string& tsdb) {
    port_ = FreePort();
    const std::string config = work + "/prometheus.yml";
    std::ofstream(config)
        << "global:\n  scrape_interval: 1s\n"
        << "scrape_configs:\n  - job_name: prometheus\n"
        << "    static_configs:\n      - targets: ['127.0.0.1:" << port_
        << "']\n";
    log_ = work + "/prometheus.log";
    std::vector<std::string> args = {
        "prometheus", "--config.file=" + config, "--storage.tsdb.path=" + tsdb,
        absl::StrCat("--web.listen-address=127.0.0.1:", port_),
        // No compaction while the test runs.
        "--storage.tsdb.min-block-duration=1d",
        "--storage.tsdb.max-block-duration=1d",
        "--storage.tsdb.retention.time=100y"};
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("prometheus", argv.data());
      _exit(127);
    }
  }
  ~PrometheusProcess() { Stop(SIGKILL); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Waits up to `seconds` for /-/ready.
  bool WaitReady(int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (HttpGet(port_, "/-/ready").first == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Sends `signal` and waits for the process to exit.
  void Stop(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }
  const std::string& log() const { return log_; }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_;
};

using RawSamples = std::vector<std::pair<int64_t, uint64_t>>;  // t, bits

// The series `query` (a range selector) selects at `time_ms`, by labels.
std::map<std::string, RawSamples> QueryApi(int port, const std::string& query,
                                           int64_t time_ms) {
  std::map<std::string, RawSamples> out;
  auto [code, body] = HttpGet(
      port, absl::StrCat("/api/v1/query?query=", UrlEncode(query),
                         "&time=", absl::StrFormat("%.3f", time_ms / 1000.0)));
  EXPECT_EQ(code, 200) << body;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || j.value("status", "") != "success") {
    ADD_FAILURE() << body;
    return out;
  }
  for (const nlohmann::json& series : j["data"]["result"]) {
    std::vector<Label> labels;
    for (const auto& [name, value] : series["metric"].items()) {
      labels.push_back({name, value.get<std::string>()});
    }
    RawSamples& samples = out[Labels(labels).ToString()];
    for (const nlohmann::json& pair : series["values"]) {
      const double t = pair[0].get<double>();
      const double v = std::strtod(pair[1].get<std::string>().c_str(), nullptr);
      samples.push_back({std::llround(t * 1000), std::bit_cast<uint64_t>(v)});
    }
  }
  return out;
}

// The samples of `storage` for series whose name matches `names`, in
// [mint, maxt], by labels.
std::map<std::string, RawSamples> Stored(MemStorage& storage,
                                         const std::string& names, int64_t mint,
                                         int64_t maxt) {
  std::map<std::string, RawSamples> out;
  std::unique_ptr<Querier> q = *storage.NewQuerier(mint, maxt);
  absl::StatusOr<std::vector<SeriesData>> data = q->Select(
      {*Matcher::Create(MatchType::kRegexp, "__name__", names)}, mint, maxt);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return out;
  for (const SeriesData& s : *data) {
    RawSamples samples;
    for (size_t i = 0; i < s.timestamps.size(); ++i) {
      if (s.timestamps[i] < mint || s.timestamps[i] > maxt) continue;
      samples.push_back(
          {s.timestamps[i], std::bit_cast<uint64_t>(s.values[i])});
    }
    if (!samples.empty()) out[s.labels->ToString()] = samples;
  }
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(TsdbHeadTest, RealPrometheusWhileRunningAndStopped) {
  if (!OnPath("prometheus")) GTEST_SKIP() << "prometheus is not installed";
  const std::string tsdb = dir_ + "/data";
  const std::string names =
      "up|scrape_duration_seconds|prometheus_http_requests_total|"
      "prometheus_tsdb_head_samples_appended_total";
  const std::string query = absl::StrCat("{__name__=~\"", names, "\"}[1m]");
  PrometheusProcess prometheus(dir_, tsdb);
  ASSERT_TRUE(prometheus.WaitReady(60)) << "see " << prometheus.log();
  std::this_thread::sleep_for(std::chrono::seconds(15));

  // While it runs: the API at a time five seconds ago (every scrape before
  // it committed), then a copy of the directory.
  const int64_t t1 = NowMs() - 5000;
  std::map<std::string, RawSamples> api1 =
      QueryApi(prometheus.port(), query, t1);
  std::error_code ec;
  fs::copy(tsdb, dir_ + "/copy", fs::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << ec.message();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const int64_t t2 = NowMs() - 5000;
  std::map<std::string, RawSamples> api2 =
      QueryApi(prometheus.port(), query, t2);
  prometheus.Stop(SIGTERM);

  ASSERT_GE(api1.size(), 4u);
  size_t in_api = 0;
  for (const auto& [labels, samples] : api1) in_api += samples.size();
  ASSERT_GE(in_api, 20u);
  for (const auto& [dir, api, t] :
       {std::tuple(dir_ + "/copy", &api1, t1), std::tuple(tsdb, &api2, t2)}) {
    SCOPED_TRACE(dir);
    MemStorage storage;
    absl::StatusOr<HeadStats> stats = ReplayHead(dir, storage);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_GT(stats->series, 100);
    EXPECT_GT(stats->samples, 1000);
    EXPECT_EQ(stats->histogram_series, 0);
    EXPECT_EQ(stats->skipped_unknown_series, 0);
    EXPECT_EQ(stats->min_valid_time, kMinTime);  // No blocks.
    std::map<std::string, RawSamples> replayed =
        Stored(storage, names, t - 60000, t);
    EXPECT_EQ(replayed, *api);
  }
}

}  // namespace
}  // namespace promeval::tsdb
