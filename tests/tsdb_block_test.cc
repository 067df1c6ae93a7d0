// The persistent block reader (tsdb/block.h) over blocks that promtool
// writes at test time (`promtool tsdb create-blocks-from openmetrics`) from
// OpenMetrics text the tests generate: samples read back bit for bit,
// meta.json's counts, selection equal to MemStorage's on the same data,
// time ranges, tombstones, chunk encodings, and corrupt or truncated files
// (every byte of a small block flipped in turn) giving kDataLoss naming the
// file and offset, never a crash.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/labels.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"
#include "promeval/tsdb.h"
#include "promeval/value.h"
#include "tests/test_paths.h"
#include "tests/tsdb_encode.h"
#include "tsdb/block.h"
#include "tsdb/decbuf.h"
#include "tsdb/xor.h"

namespace promeval::tsdb {
namespace {

namespace fs = std::filesystem;
using ::promeval::tsdb::encode::PutUvarint;
using ::promeval::tsdb::encode::PutVarint;
using ::promeval::tsdb::encode::XorChunk;
using ::testing::HasSubstr;

constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();
// A multiple of two hours: promtool's blocks start there.
constexpr int64_t kStart = int64_t{1699999200} * 1000;
// Go's math.NaN(), which promtool's parser returns for "NaN".
constexpr uint64_t kGoNaN = 0x7FF8000000000001ULL;

Matcher M(MatchType type, std::string name, std::string value) {
  absl::StatusOr<Matcher> m =
      Matcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}
Matcher Eq(std::string n, std::string v) {
  return M(MatchType::kEqual, std::move(n), std::move(v));
}
Matcher Neq(std::string n, std::string v) {
  return M(MatchType::kNotEqual, std::move(n), std::move(v));
}
Matcher Re(std::string n, std::string v) {
  return M(MatchType::kRegexp, std::move(n), std::move(v));
}
Matcher Nre(std::string n, std::string v) {
  return M(MatchType::kNotRegexp, std::move(n), std::move(v));
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

void PutBe32(std::string& s, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(x >> (24 - 8 * i));
}

// A tombstones file (format_tombstones.md).
std::string TombstonesFile(
    const std::vector<std::tuple<uint64_t, int64_t, int64_t>>& stones) {
  std::string entries;
  for (const auto& [ref, mint, maxt] : stones) {
    PutUvarint(entries, ref);
    PutVarint(entries, mint);
    PutVarint(entries, maxt);
  }
  std::string file("\x01\x30\xBA\x30\x01", 5);
  file += entries;
  file.append(4, '\0');
  PutBe32(file, file.size() - 4, Crc32c(entries));
  return file;
}

// A series the generator wrote, with the samples promtool must have stored.
struct Expected {
  Labels labels;
  std::vector<int64_t> t;
  std::vector<uint64_t> bits;
};

// A deterministic random number generator (the tests must not vary).
struct Rng {
  uint64_t state;
  uint64_t Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1p-42; }
};

std::string OmValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.17g", v);
}

// OpenMetrics: label values escape \, " and newline.
std::string OmEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The generated data set: OpenMetrics text and what it holds.
struct DataSet {
  std::string text;
  std::vector<Expected> series;  // In label order.
};

// `n` series over `hours` hours from `start_ms`, samples every 15 to 60
// seconds (quarter-second timestamps, exact in OpenMetrics' seconds), now
// and then after a gap of 30 s, 5 min or 20 min (so that the XOR chunks'
// deltas of deltas take each of their sizes: 14, 17, 20 and 64 bits), with
// special values (NaN, infinities, -0, extremes) here and there.
DataSet Generate(int n, int hours, int64_t start_ms) {
  Rng rng{42};
  struct Family {
    std::string name;
    std::vector<Expected> series;
  };
  std::vector<Family> families = {{"http_requests", {}},
                                  {"up", {}},
                                  {"temperature_celsius", {}},
                                  {"process:cpu_seconds", {}}};
  const char* jobs[] = {"api", "web", "db"};
  for (int i = 0; i < n; ++i) {
    Family& f = families[i % families.size()];
    std::vector<Label> labels = {{"__name__", f.name},
                                 {"job", jobs[i % 3]},
                                 {"instance", absl::StrCat("host-", i)}};
    if (i % 2 == 0) labels.push_back({"code", i % 4 == 0 ? "200" : "500"});
    if (i % 5 == 0) labels.push_back({"path", "/a\"b\\c\nd"});
    if (i % 7 == 0) labels.push_back({"location", "zürich"});
    Expected e;
    e.labels = Labels(labels);
    const int64_t step = 15000 * (1 + i % 4);
    double value = 0;
    static constexpr int64_t kGaps[] = {30000, 300000, 1200000};
    for (int64_t t = start_ms + 250 * (i % 8);
         t < start_ms + int64_t{hours} * 3600 * 1000;
         t += step + 250 * static_cast<int64_t>(rng.Next() % 3) +
              (rng.Next() % 40 == 0 ? kGaps[rng.Next() % 3] : 0)) {
      const uint64_t r = rng.Next() % 200;
      double v;
      if (r == 0) {
        v = std::numeric_limits<double>::quiet_NaN();
      } else if (r == 1) {
        v = std::numeric_limits<double>::infinity();
      } else if (r == 2) {
        v = -std::numeric_limits<double>::infinity();
      } else if (r == 3) {
        v = -0.0;
      } else if (r == 4) {
        v = std::numeric_limits<double>::max();
      } else if (r == 5) {
        v = std::numeric_limits<double>::denorm_min();
      } else if (f.name == "http_requests") {
        value += static_cast<double>(rng.Next() % 100);
        v = value;
      } else if (f.name == "up") {
        v = rng.Next() % 10 == 0 ? 0 : 1;
      } else {
        v = (rng.Uniform() - 0.5) * std::pow(10.0, rng.Next() % 40 - 20.0);
      }
      e.t.push_back(t);
      e.bits.push_back(std::isnan(v) ? kGoNaN : std::bit_cast<uint64_t>(v));
    }
    f.series.push_back(std::move(e));
  }
  DataSet data;
  for (Family& f : families) {
    absl::StrAppend(&data.text, "# TYPE ", f.name, " gauge\n");
    for (Expected& e : f.series) {
      std::vector<std::string> pairs;
      for (const Label& l : e.labels) {
        if (l.name == "__name__") continue;
        pairs.push_back(absl::StrCat(l.name, "=\"", OmEscape(l.value), "\""));
      }
      const std::string prefix =
          absl::StrCat(f.name, "{", absl::StrJoin(pairs, ","), "} ");
      for (size_t k = 0; k < e.t.size(); ++k) {
        const double v = std::bit_cast<double>(e.bits[k]);
        absl::StrAppend(&data.text, prefix, OmValue(v), " ", e.t[k] / 1000, ".",
                        absl::StrFormat("%03d", e.t[k] % 1000), "\n");
      }
      data.series.push_back(std::move(e));
    }
  }
  data.text += "# EOF\n";
  std::sort(data.series.begin(), data.series.end(),
            [](const Expected& a, const Expected& b) {
              return CompareLabels(a.labels, b.labels) < 0;
            });
  return data;
}

bool HavePromtool() {
  return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

// Writes `text` to DIR/in.om, runs promtool into DIR/blocks and returns the
// block directories in time order.
std::vector<std::string> MakeBlocks(const fs::path& dir,
                                    const std::string& text) {
  WriteBytes(dir / "in.om", text);
  const fs::path out = dir / "blocks";
  const std::string command =
      absl::StrCat("promtool tsdb create-blocks-from openmetrics '",
                   (dir / "in.om").string(), "' '", out.string(), "' >'",
                   (dir / "promtool.log").string(), "' 2>&1");
  EXPECT_EQ(std::system(command.c_str()), 0) << command << "\n"
                                             << ReadBytes(dir / "promtool.log");
  std::vector<std::pair<int64_t, std::string>> blocks;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    if (!fs::exists(entry.path() / "meta.json")) continue;
    absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(entry.path());
    EXPECT_TRUE(b.ok()) << b.status();
    if (b.ok()) blocks.emplace_back((*b)->meta().min_time, entry.path());
  }
  std::sort(blocks.begin(), blocks.end());
  std::vector<std::string> dirs;
  for (auto& [t, d] : blocks) dirs.push_back(std::move(d));
  return dirs;
}

std::unique_ptr<Block> OpenOrDie(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(dir);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : nullptr;
}

std::vector<BlockSeries> SelectOrDie(const Block& b,
                                     const std::vector<Matcher>& matchers,
                                     int64_t mint = kMinTime,
                                     int64_t maxt = kMaxTime) {
  std::vector<BlockSeries> out;
  absl::Status s = b.Select(matchers, mint, maxt, out);
  EXPECT_TRUE(s.ok()) << s;
  for (size_t i = 1; i < out.size(); ++i) {
    EXPECT_LT(CompareLabels(out[i - 1].labels, out[i].labels), 0)
        << "not in label order: " << out[i].labels.ToString();
  }
  for (const BlockSeries& s : out) {
    EXPECT_FALSE(s.chunks.empty());
    for (const ChunkMeta& c : s.chunks) {
      EXPECT_TRUE(c.max_time >= mint && c.min_time <= maxt)
          << s.labels.ToString() << " chunk [" << c.min_time << ", "
          << c.max_time << "] outside [" << mint << ", " << maxt << "]";
    }
  }
  return out;
}

SeriesSamples ReadOrDie(const Block& b, const BlockSeries& s,
                        int64_t mint = kMinTime, int64_t maxt = kMaxTime) {
  SeriesSamples out;
  absl::StatusOr<bool> ok = b.ReadSamples(s, mint, maxt, out);
  EXPECT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok.ok() && *ok) << s.labels.ToString();
  return out;
}

std::vector<std::string> MemSelect(MemStorage& storage,
                                   const std::vector<Matcher>& matchers) {
  std::vector<std::string> out;
  auto q = storage.NewQuerier(kMinTime, kMaxTime);
  EXPECT_TRUE(q.ok());
  absl::StatusOr<std::vector<SeriesData>> data =
      (*q)->Select(matchers, kMinTime, kMaxTime);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return out;
  for (const SeriesData& s : *data) out.push_back(s.labels->ToString());
  return out;
}

// The label sets the blocks select, merged, in label order.
std::vector<std::string> BlocksSelect(
    const std::vector<std::unique_ptr<Block>>& blocks,
    const std::vector<Matcher>& matchers) {
  std::vector<Labels> all;
  for (const auto& b : blocks) {
    for (BlockSeries& s : SelectOrDie(*b, matchers)) {
      all.push_back(std::move(s.labels));
    }
  }
  std::sort(all.begin(), all.end(), [](const Labels& a, const Labels& b) {
    return CompareLabels(a, b) < 0;
  });
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<std::string> out;
  for (const Labels& l : all) out.push_back(l.ToString());
  return out;
}

std::string Describe(const std::vector<Matcher>& matchers) {
  std::vector<std::string> parts;
  for (const Matcher& m : matchers) parts.push_back(m.ToString());
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

class TsdbBlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HavePromtool()) GTEST_SKIP() << "promtool is not on PATH";
  }
  testing::TempDir tmp_;
};

// Six hours of 40 series: several blocks (promtool cuts at two-hour
// boundaries) with many chunks each. Every sample comes back bit for bit,
// and the counts match meta.json.
TEST_F(TsdbBlockTest, SamplesRoundTripAndCountsMatchMeta) {
  const int64_t start = kStart;
  DataSet data = Generate(40, 6, start);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_GE(dirs.size(), 3u);
  std::map<std::string, Expected> got;  // By labels.
  int64_t chunks_read = 0;
  for (const std::string& dir : dirs) {
    std::unique_ptr<Block> b = OpenOrDie(dir);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->dir(), dir);
    EXPECT_EQ(b->meta().version, 1);
    EXPECT_EQ(b->meta().ulid, fs::path(dir).filename().string());
    EXPECT_LT(b->meta().min_time, b->meta().max_time);
    std::vector<BlockSeries> all = SelectOrDie(*b, {Re("__name__", ".+")});
    int64_t samples = 0, chunks = 0;
    for (const BlockSeries& s : all) {
      chunks += s.chunks.size();
      for (const ChunkMeta& c : s.chunks) {
        EXPECT_GE(c.min_time, b->meta().min_time);
        EXPECT_LT(c.max_time, b->meta().max_time);
      }
      SeriesSamples ss = ReadOrDie(*b, s);
      samples += ss.t.size();
      Expected& e = got[s.labels.ToString()];
      e.labels = s.labels;
      for (size_t i = 0; i < ss.t.size(); ++i) {
        e.t.push_back(ss.t[i]);
        e.bits.push_back(std::bit_cast<uint64_t>(ss.v[i]));
      }
    }
    EXPECT_EQ(static_cast<int64_t>(all.size()), b->meta().num_series) << dir;
    EXPECT_EQ(samples, b->meta().num_samples) << dir;
    EXPECT_EQ(chunks, b->meta().num_chunks) << dir;
    chunks_read += chunks;
  }
  // Some series have more than one chunk per block.
  EXPECT_GT(chunks_read,
            static_cast<int64_t>(data.series.size() * dirs.size()));
  ASSERT_EQ(got.size(), data.series.size());
  for (const Expected& e : data.series) {
    SCOPED_TRACE(e.labels.ToString());
    const Expected& g = got[e.labels.ToString()];
    ASSERT_EQ(g.labels, e.labels);
    ASSERT_EQ(g.t, e.t);
    ASSERT_EQ(g.bits, e.bits);
  }
}

// Every kind of matcher selects what MemStorage selects from the same text.
TEST_F(TsdbBlockTest, SelectMatchesMemStorage) {
  DataSet data = Generate(40, 3, kStart);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_FALSE(dirs.empty());
  std::vector<std::unique_ptr<Block>> blocks;
  for (const std::string& d : dirs) blocks.push_back(OpenOrDie(d));
  MemStorage mem;
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  ASSERT_TRUE(LoadText(data.text, "in.om", options, mem).ok());

  const std::vector<std::vector<Matcher>> cases = {
      {},
      {Eq("__name__", "up")},
      {Eq("__name__", "nope")},
      {Eq("job", "api")},
      {Eq("__name__", "http_requests"), Eq("job", "web")},
      {Eq("__name__", "http_requests"), Neq("job", "web")},
      {Neq("job", "web")},
      {Neq("code", "200")},
      {Neq("code", "")},
      {Eq("code", "")},
      {Eq("code", ""), Eq("job", "db")},
      {Eq("nonexistent", "")},
      {Neq("nonexistent", "")},
      {Eq("nonexistent", "x")},
      {Neq("nonexistent", "x")},
      {Re("code", "")},
      {Re("code", "|200")},
      {Re("code", "2.*")},
      {Re("code", ".*")},
      {Re("code", ".+")},
      {Nre("code", ".*")},
      {Nre("code", ".+")},
      {Nre("code", "")},
      {Nre("code", "5..")},
      {Nre("code", "5..|")},
      {Re("__name__", ".+")},
      {Re("__name__", ".*")},
      {Re("__name__", "up|temperature_celsius")},
      {Re("__name__", "http_.*"), Re("instance", "host-[12].*")},
      {Re("__name__", "(?i)UP")},
      {Re("__name__", "process:.*")},
      {Nre("__name__", "up|http_requests"), Eq("job", "api")},
      {Nre("__name__", ".*s"), Re("location", ".+")},
      {Re("path", "/a\"b\\\\c\nd")},
      {Eq("path", "/a\"b\\c\nd")},
      {Eq("location", "zürich"), Neq("code", "500")},
      {Re("job", "api|db"), Nre("job", "db"), Neq("instance", "host-0")},
      {Re("job", "api"), Re("job", "web")},
      {Eq("job", "api"), Eq("job", "api")},
      {Re("instance", "host-1.*"), Eq("code", ""), Neq("path", "")},
  };
  for (const std::vector<Matcher>& matchers : cases) {
    SCOPED_TRACE(Describe(matchers));
    EXPECT_EQ(BlocksSelect(blocks, matchers), MemSelect(mem, matchers));
  }
  // And every selection is exact, not just equal to MemStorage's.
  EXPECT_EQ(BlocksSelect(blocks, {Eq("job", "api")}).size(), 14u);
  EXPECT_EQ(BlocksSelect(blocks, {}).size(), 40u);
}

// A time range selects the series with a chunk overlapping it, with only
// those chunks, and ReadSamples returns exactly the samples in it.
TEST_F(TsdbBlockTest, TimeRange) {
  const int64_t start = kStart;
  DataSet data = Generate(12, 5, start);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_FALSE(dirs.empty());
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {start + 3600 * 1000, start + 3600 * 1000 + 2400 * 1000},
      {start + 100, start + 20 * 1000},
      {start - 1000 * 1000, start},                // The first samples only.
      {start + 5 * 3600 * 1000, kMaxTime},         // After the data.
      {kMinTime, start - 1},                       // Before the data.
      {start + 7777 * 1000, start + 7777 * 1000},  // One instant.
  };
  for (const auto& [mint, maxt] : ranges) {
    SCOPED_TRACE(absl::StrCat("[", mint, ", ", maxt, "]"));
    std::map<std::string,
             std::pair<std::vector<int64_t>, std::vector<uint64_t>>>
        got;
    for (const std::string& dir : dirs) {
      std::unique_ptr<Block> b = OpenOrDie(dir);
      std::vector<BlockSeries> all = SelectOrDie(*b, {}, kMinTime, kMaxTime);
      std::vector<BlockSeries> sel = SelectOrDie(*b, {}, mint, maxt);
      // The chunks that overlap, no more, no fewer.
      size_t k = 0;
      for (const BlockSeries& s : all) {
        std::vector<uint64_t> want;
        for (const ChunkMeta& c : s.chunks) {
          if (c.max_time >= mint && c.min_time <= maxt) want.push_back(c.ref);
        }
        if (want.empty()) continue;
        ASSERT_LT(k, sel.size());
        ASSERT_EQ(sel[k].labels, s.labels);
        std::vector<uint64_t> refs;
        for (const ChunkMeta& c : sel[k].chunks) refs.push_back(c.ref);
        EXPECT_EQ(refs, want);
        ++k;
      }
      EXPECT_EQ(k, sel.size());
      for (const BlockSeries& s : sel) {
        SeriesSamples ss = ReadOrDie(*b, s, mint, maxt);
        auto& [t, bits] = got[s.labels.ToString()];
        for (size_t i = 0; i < ss.t.size(); ++i) {
          t.push_back(ss.t[i]);
          bits.push_back(std::bit_cast<uint64_t>(ss.v[i]));
        }
      }
    }
    for (const Expected& e : data.series) {
      std::vector<int64_t> t;
      std::vector<uint64_t> bits;
      for (size_t i = 0; i < e.t.size(); ++i) {
        if (e.t[i] >= mint && e.t[i] <= maxt) {
          t.push_back(e.t[i]);
          bits.push_back(e.bits[i]);
        }
      }
      auto it = got.find(e.labels.ToString());
      if (t.empty()) {
        EXPECT_TRUE(it == got.end() || it->second.first.empty());
        continue;
      }
      ASSERT_NE(it, got.end()) << e.labels.ToString();
      EXPECT_EQ(it->second.first, t) << e.labels.ToString();
      EXPECT_EQ(it->second.second, bits) << e.labels.ToString();
    }
  }
}

// Tombstones delete time ranges of series: their samples go, chunks wholly
// deleted are not selected, and a wholly deleted series is not selected.
TEST_F(TsdbBlockTest, Tombstones) {
  const int64_t start = kStart;
  DataSet data = Generate(8, 2, start);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_FALSE(dirs.empty());
  const std::string dir = dirs[0];
  std::vector<BlockSeries> before = SelectOrDie(*OpenOrDie(dir), {});
  ASSERT_GE(before.size(), 3u);
  // The series with the most chunks loses two ranges, the next one its
  // first chunk, the one with the fewest everything.
  std::vector<size_t> order(before.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return before[x].chunks.size() > before[y].chunks.size();
  });
  const size_t ia = std::min(order[0], order[1]);
  const size_t ic = std::max(order[0], order[1]);
  const size_t ib = order.back();
  const BlockSeries& a = before[ia];
  const BlockSeries& b = before[ib];
  const BlockSeries& c = before[ic];
  ASSERT_GE(a.chunks.size(), 3u);
  ASSERT_GE(c.chunks.size(), 2u);
  const int64_t mid = a.chunks[1].min_time;
  const int64_t a1 = mid - 60000, a2 = mid + 600000;
  const int64_t a3 = a.chunks.back().max_time - 100000;
  WriteBytes(
      fs::path(dir) / "tombstones",
      TombstonesFile({{a.id, a1, mid},
                      {b.id, kMinTime, kMaxTime},
                      {a.id, mid + 1, a2},  // Adjacent: merged.
                      {c.id, c.chunks[0].min_time - 5, c.chunks[0].max_time},
                      {a.id, a3, a3 + 99999},
                      {a.id, 10, 5}}));  // Empty: deletes nothing.
  std::unique_ptr<Block> blk = OpenOrDie(dir);
  std::vector<BlockSeries> after = SelectOrDie(*blk, {});
  ASSERT_EQ(after.size(), before.size() - 1);
  const BlockSeries* after_a = nullptr;
  const BlockSeries* after_c = nullptr;
  for (const BlockSeries& s : after) {
    EXPECT_NE(s.labels, b.labels);
    if (s.labels == a.labels) after_a = &s;
    if (s.labels == c.labels) after_c = &s;
  }
  ASSERT_NE(after_a, nullptr);
  ASSERT_NE(after_c, nullptr);
  EXPECT_EQ(after_c->chunks.size(), c.chunks.size() - 1);
  EXPECT_EQ(after_a->chunks.size(), a.chunks.size());

  SeriesSamples full_a = ReadOrDie(*blk, a);
  SeriesSamples got_a = ReadOrDie(*blk, *after_a);
  const Expected* ea = nullptr;
  for (const Expected& e : data.series) {
    if (e.labels == a.labels) ea = &e;
  }
  ASSERT_NE(ea, nullptr);
  std::vector<int64_t> want;
  for (int64_t t : ea->t) {
    if (t >= blk->meta().max_time) continue;
    if ((t >= a1 && t <= a2) || (t >= a3 && t <= a3 + 99999)) continue;
    want.push_back(t);
  }
  EXPECT_EQ(got_a.t, want);
  EXPECT_EQ(full_a.t, want);
  EXPECT_EQ(got_a.t.size(), got_a.v.size());
  EXPECT_LT(want.size(), ea->t.size());
  // Wholly deleted: nothing, even when asked for directly.
  SeriesSamples got_b = ReadOrDie(*blk, b);
  EXPECT_TRUE(got_b.t.empty());
  // Appending to samples already there, and a range inside the deletion.
  SeriesSamples two = ReadOrDie(*blk, *after_c);
  const size_t n = two.t.size();
  ASSERT_GT(n, 0u);
  absl::StatusOr<bool> ok = blk->ReadSamples(*after_a, a1, a2, two);
  ASSERT_TRUE(ok.ok() && *ok);
  EXPECT_EQ(two.t.size(), n);

  // Corrupt tombstones.
  std::string file = ReadBytes(fs::path(dir) / "tombstones");
  file[6] ^= 0x40;
  WriteBytes(fs::path(dir) / "tombstones", file);
  absl::StatusOr<std::unique_ptr<Block>> bad = Block::Open(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("tombstones: offset"));
  WriteBytes(fs::path(dir) / "tombstones", file.substr(0, 7));
  bad = Block::Open(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  // No tombstones file: nothing deleted.
  fs::remove(fs::path(dir) / "tombstones");
  EXPECT_EQ(SelectOrDie(*OpenOrDie(dir), {}).size(), before.size());
}

// Rewrites the encoding byte of the chunk at `ref` in `dir`'s first segment
// and its checksum.
void SetChunkEncoding(const std::string& dir, uint64_t ref, uint8_t encoding) {
  ASSERT_EQ(ref >> 32, 0u);
  const fs::path path = fs::path(dir) / "chunks" / "000001";
  std::string seg = ReadBytes(path);
  size_t p = ref;
  uint64_t len = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(seg[p++]);
    len |= uint64_t{byte & 0x7fu} << shift;
    if (byte < 0x80) break;
  }
  seg[p] = static_cast<char>(encoding);
  PutBe32(seg, p + 1 + len, Crc32c(absl::string_view(seg).substr(p, len + 1)));
  WriteBytes(path, seg);
}

TEST_F(TsdbBlockTest, ChunkEncodings) {
  DataSet data = Generate(3, 1, kStart);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_FALSE(dirs.empty());
  const std::string dir = dirs[0];
  std::vector<BlockSeries> all = SelectOrDie(*OpenOrDie(dir), {});
  ASSERT_FALSE(all.empty());
  const BlockSeries& s = all[0];
  ASSERT_GE(s.chunks.size(), 2u);
  const uint64_t ref = s.chunks.back().ref;

  // A native histogram chunk: not read, nothing appended.
  SetChunkEncoding(dir, ref, 2);
  SeriesSamples out;
  out.t = {1};
  out.v = {2};
  absl::StatusOr<bool> ok =
      OpenOrDie(dir)->ReadSamples(s, kMinTime, kMaxTime, out);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(*ok);
  EXPECT_EQ(out.t.size(), 1u);
  EXPECT_EQ(out.v.size(), 1u);
  // Outside the range asked for, the histogram chunk is not looked at.
  SeriesSamples first;
  ok = OpenOrDie(dir)->ReadSamples(s, kMinTime, s.chunks[0].max_time, first);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(*ok);
  EXPECT_FALSE(first.t.empty());
  SetChunkEncoding(dir, ref, 3);
  ok = OpenOrDie(dir)->ReadSamples(s, kMinTime, kMaxTime, out);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(*ok);

  // XOR2: not supported yet.
  SetChunkEncoding(dir, ref, 4);
  ok = OpenOrDie(dir)->ReadSamples(s, kMinTime, kMaxTime, out);
  ASSERT_FALSE(ok.ok());
  EXPECT_EQ(ok.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(ok.status().message()),
              HasSubstr("chunks/000001: offset"));

  // Unknown.
  SetChunkEncoding(dir, ref, 9);
  ok = OpenOrDie(dir)->ReadSamples(s, kMinTime, kMaxTime, out);
  ASSERT_FALSE(ok.ok());
  EXPECT_EQ(ok.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(ok.status().message()),
              HasSubstr(absl::StrCat("chunks/000001: offset ", ref & 0xffffffff,
                                     ": unknown chunk encoding 9")));
  EXPECT_EQ(out.t.size(), 1u);
}

// Every result of a block (selection, chunks, samples) as text, or the
// first error.
absl::StatusOr<std::string> Fingerprint(const Block& block) {
  const Block* b = &block;
  std::string out;
  const std::vector<std::vector<Matcher>> cases = {
      {}, {Re("__name__", "up|http_.*")}, {Neq("code", "")}, {Eq("job", "db")}};
  for (const std::vector<Matcher>& matchers : cases) {
    std::vector<BlockSeries> series;
    absl::Status s = b->Select(matchers, kMinTime, kMaxTime, series);
    if (!s.ok()) return s;
    for (const BlockSeries& bs : series) {
      absl::StrAppend(&out, bs.labels.ToString(), " ", bs.id, ":");
      for (const ChunkMeta& c : bs.chunks) {
        absl::StrAppend(&out, " [", c.min_time, ",", c.max_time, "]@", c.ref);
      }
      SeriesSamples samples;
      absl::StatusOr<bool> ok = b->ReadSamples(bs, kMinTime, kMaxTime, samples);
      if (!ok.ok()) return ok.status();
      absl::StrAppend(&out, " ", *ok, "\n");
      for (size_t i = 0; i < samples.t.size(); ++i) {
        absl::StrAppend(&out, samples.t[i], "=",
                        std::bit_cast<uint64_t>(samples.v[i]), " ");
      }
      out += "\n";
    }
  }
  return out;
}

absl::StatusOr<std::string> Fingerprint(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(dir);
  if (!b.ok()) return b.status();
  return Fingerprint(**b);
}

// A block is read from several threads at once (run under TSan too).
// Blocks overlapping in time (not yet compacted vertically) in one data
// directory read as one: each series' samples merged in time order, one
// per timestamp (the earlier block's, as Prometheus's merge keeps one of
// the duplicates), series of either block alone kept; blocks one after
// another in time concatenated; whatever the range asked for.
TEST_F(TsdbBlockTest, OverlappingBlocksMerge) {
  // A: m{a="1"} every minute for an hour from kStart; B: m{a="1"} every 30
  // seconds from 30 minutes in to 90 (whole minutes coincide with A's),
  // and m{a="2"}; C, two hours later: m{a="1"} (a block after them).
  auto om =
      [](const std::vector<std::tuple<std::string, int64_t, double>>& samples) {
        std::string text = "# TYPE m gauge\n";
        for (const auto& [labels, t, v] : samples) {
          absl::StrAppend(&text, "m{", labels, "} ", v, " ", t / 1000, ".",
                          absl::StrFormat("%03d", t % 1000), "\n");
        }
        return text + "# EOF\n";
      };
  constexpr int64_t kMin = 60000;
  std::vector<std::tuple<std::string, int64_t, double>> a, b, c;
  std::map<int64_t, double> want1, want2;
  for (int i = 0; i < 60; ++i) {
    a.emplace_back("a=\"1\"", kStart + i * kMin, i);
    want1[kStart + i * kMin] = i;
  }
  for (int i = 0; i < 120; ++i) {
    const int64_t t = kStart + 30 * kMin + i * kMin / 2;
    b.emplace_back("a=\"1\"", t, 1000 + i);
    want1.emplace(t, 1000 + i);  // A's value stays where A has one.
  }
  for (int i = 0; i < 120; ++i) {
    const int64_t t = kStart + 30 * kMin + i * kMin / 2;
    b.emplace_back("a=\"2\"", t, 2000 + i);
    want2[t] = 2000 + i;
  }
  for (int i = 0; i < 30; ++i) {
    const int64_t t = kStart + 120 * kMin + i * kMin;
    c.emplace_back("a=\"1\"", t, 3000 + i);
    want1[t] = 3000 + i;
  }
  const fs::path data = tmp_.path() / "data";
  fs::create_directories(data);
  int n = 0;
  for (const auto* samples : {&a, &b, &c}) {
    const fs::path d = tmp_.path() / absl::StrCat("part", n++);
    fs::create_directories(d);
    for (const std::string& block : MakeBlocks(d, om(*samples))) {
      fs::rename(block, data / fs::path(block).filename());
    }
  }
  absl::StatusOr<std::unique_ptr<TsdbQueryable>> db =
      TsdbQueryable::Open(data.string());
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_EQ((*db)->Info()->blocks.size(), 3u);
  const Matcher name = Eq("__name__", "m");
  for (auto [mint, maxt] : std::vector<std::pair<int64_t, int64_t>>{
           {kMinTime, kMaxTime},
           {kStart + 45 * kMin, kStart + 125 * kMin},
           {kStart + 59 * kMin + 30000, kStart + 60 * kMin}}) {
    SCOPED_TRACE(absl::StrCat(mint, " to ", maxt));
    absl::StatusOr<std::unique_ptr<Querier>> q = (*db)->NewQuerier(mint, maxt);
    ASSERT_TRUE(q.ok()) << q.status();
    absl::StatusOr<std::vector<SeriesData>> got =
        (*q)->Select({&name, 1}, mint, maxt);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), 2u);
    int k = 0;
    for (const std::map<int64_t, double>* want : {&want1, &want2}) {
      const SeriesData& s = (*got)[k++];
      EXPECT_EQ(s.labels->ToString(),
                absl::StrCat("{__name__=\"m\", a=\"", k, "\"}"));
      std::vector<std::pair<int64_t, double>> expected, actual;
      for (const auto& [t, v] : *want) {
        if (t >= mint && t <= maxt) expected.emplace_back(t, v);
      }
      for (size_t i = 0; i < s.timestamps.size(); ++i) {
        actual.emplace_back(s.timestamps[i], s.values[i]);
      }
      EXPECT_EQ(actual, expected) << s.labels->ToString();
    }
  }
}

// The decoder says whether a stale marker was among the samples it appended
// (the reader then tells the engine, which otherwise scans every range for
// them): XOR chunks of two samples written by hand (bstream.md: a count, a
// varint time, the first value's 64 bits, a uvarint delta, then the second
// value XORed: 0 for unchanged, here 11 with 5 bits of leading zeros, 6 of
// significant bits (0 meaning 64) and the 64 bits).
TEST(XorDecoderTest, ReportsStaleMarkers) {
  auto chunk = [](uint64_t first, uint64_t second) {
    std::string c("\x00\x02", 2);
    PutVarint(c, 1000);
    for (int i = 7; i >= 0; --i)
      c.push_back(static_cast<char>(first >> (8 * i)));
    PutUvarint(c, 15000);
    // 11 00000 000000, then `second ^ first`: 13 + 64 bits, padded.
    const uint64_t x = second ^ first;
    std::vector<bool> bits = {true, true};
    for (int i = 0; i < 11; ++i) bits.push_back(false);
    for (int i = 63; i >= 0; --i) bits.push_back(((x >> i) & 1) != 0);
    while (bits.size() % 8 != 0) bits.push_back(false);
    for (size_t i = 0; i < bits.size(); i += 8) {
      unsigned char b = 0;
      for (size_t k = 0; k < 8; ++k)
        b = static_cast<unsigned char>(b << 1 | bits[i + k]);
      c.push_back(static_cast<char>(b));
    }
    return c;
  };
  const uint64_t one = std::bit_cast<uint64_t>(1.0);
  const uint64_t two = std::bit_cast<uint64_t>(2.0);
  for (const auto& [first, second, want] :
       std::vector<std::tuple<uint64_t, uint64_t, bool>>{
           {one, two, false},
           {one, kStaleNaNBits, true},
           {kStaleNaNBits, one, true},
           {kGoNaN, two, false}}) {
    for (bool bounded : {false, true}) {
      std::vector<int64_t> t;
      std::vector<double> v;
      bool stale = false;
      absl::StatusOr<int> n = promeval::tsdb::DecodeXorChunk(
          chunk(first, second), bounded ? 0 : kMinTime,
          bounded ? 100000 : kMaxTime, t, v, "test", &stale);
      ASSERT_TRUE(n.ok()) << n.status();
      EXPECT_EQ(*n, 2);
      EXPECT_EQ(t, (std::vector<int64_t>{1000, 16000}));
      EXPECT_EQ(std::bit_cast<uint64_t>(v[0]), first);
      EXPECT_EQ(std::bit_cast<uint64_t>(v[1]), second);
      EXPECT_EQ(stale, want) << first << " " << second;
    }
  }
  // A stale marker outside the range asked for is not reported.
  std::vector<int64_t> t;
  std::vector<double> v;
  bool stale = false;
  ASSERT_TRUE(promeval::tsdb::DecodeXorChunk(chunk(kStaleNaNBits, one), 2000,
                                             20000, t, v, "test", &stale)
                  .ok());
  EXPECT_EQ(t, (std::vector<int64_t>{16000}));
  EXPECT_FALSE(stale);
}

// The decoder against the encoder, over chunks that take every path: each
// size of delta of deltas (0, 14, 17, 20 and 64 bits, both signs), values
// unchanged, XORed in the previous bit window and in new windows of every
// width up to 64 bits, long values after long timestamps (more than one
// 64-bit read holds), stale markers, chunks over 512 bytes; whole and cut
// to a time range. A chunk cut short decodes to an error naming it, or
// (when only padding bits were cut) to the same samples.
TEST(XorDecoderTest, DecodesWhatTheEncoderWrote) {
  std::mt19937_64 rng(20261207);
  int errors = 0;
  for (int round = 0; round < 4000; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const int n = 1 + static_cast<int>(rng() % 220);
    const int time_kind = round % 4;
    const int value_kind = (round / 4) % 5;
    std::vector<int64_t> ts;
    std::vector<uint64_t> vs;
    int64_t t =
        static_cast<int64_t>(rng() % 4'000'000'000'000) - 2'000'000'000'000;
    int64_t step = 1 + static_cast<int64_t>(rng() % 60'000);
    uint64_t v = rng();
    XorChunk encoder;
    for (int i = 0; i < n; ++i) {
      ts.push_back(t);
      vs.push_back(v);
      encoder.Add(t, std::bit_cast<double>(v));
      switch (time_kind) {
        case 0:  // Regular.
          break;
        case 1:  // Jitter.
          step += static_cast<int64_t>(rng() % 201) - 100;
          break;
        case 2: {  // A delta of deltas of each size, and at their edges.
          static constexpr int64_t kSizes[] = {0, 1 << 13, 1 << 16, 1 << 19,
                                               int64_t{1} << 40};
          const int64_t size = kSizes[rng() % 5];
          if (rng() % 2 == 0 && size != 0) {
            const int64_t edge = rng() % 2 == 0 ? size - 1 : -size;
            step += edge + static_cast<int64_t>(rng() % 3);
          } else if (size != 0) {
            step += static_cast<int64_t>(rng() % (2 * size)) - size;
          }
          break;
        }
        default:  // Large gaps now and then.
          if (rng() % 8 == 0)
            step = 1 + static_cast<int64_t>(rng() % 1'000'000'000);
      }
      if (step < 1) step = 1 + static_cast<int64_t>(rng() % 1000);
      t += step;
      switch (value_kind) {
        case 0:  // Mostly unchanged.
          if (rng() % 4 == 0) v = std::bit_cast<uint64_t>(double(rng() % 100));
          break;
        case 1:  // A counter.
          v = std::bit_cast<uint64_t>(std::bit_cast<double>(v) +
                                      double(rng() % 1000));
          break;
        case 2:  // Any 64 bits.
          v = rng();
          break;
        case 3:  // A few bits flipped anywhere.
          v ^= uint64_t{1} << (rng() % 64);
          if (rng() % 2 == 0) v ^= uint64_t{1} << (rng() % 64);
          break;
        default:  // Stale markers among gauges.
          v = rng() % 5 == 0
                  ? kStaleNaNBits
                  : std::bit_cast<uint64_t>(double(rng() % 1000) / 8);
      }
    }
    const std::string chunk = encoder.Bytes();
    // Whole, and cut to [mint, maxt].
    for (int cut = 0; cut < 3; ++cut) {
      int64_t mint = kMinTime, maxt = kMaxTime;
      if (cut > 0) {
        mint = ts[rng() % ts.size()] - (cut == 1 ? 0 : 1);
        maxt = std::max(mint, ts[rng() % ts.size()] + (cut == 1 ? 0 : 1));
      }
      std::vector<int64_t> want_t, got_t;
      std::vector<uint64_t> want_v;
      bool want_stale = false;
      for (size_t i = 0; i < ts.size(); ++i) {
        if (ts[i] < mint || ts[i] > maxt) continue;
        want_t.push_back(ts[i]);
        want_v.push_back(vs[i]);
        want_stale |= vs[i] == kStaleNaNBits;
      }
      std::vector<double> got_v;
      got_t.push_back(-1);  // Appended to, not replaced.
      got_v.push_back(-1);
      bool stale = false;
      absl::StatusOr<int> got =
          DecodeXorChunk(chunk, mint, maxt, got_t, got_v, "test", &stale);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(*got, static_cast<int>(want_t.size()));
      EXPECT_EQ(got_t, [&] {
        std::vector<int64_t> w{-1};
        w.insert(w.end(), want_t.begin(), want_t.end());
        return w;
      }());
      for (size_t i = 0; i < want_v.size(); ++i) {
        ASSERT_EQ(std::bit_cast<uint64_t>(got_v[i + 1]), want_v[i]) << i;
      }
      EXPECT_EQ(stale, want_stale);
    }
    // Cut short.
    for (size_t cut = 1; cut <= 12 && cut + 2 < chunk.size(); ++cut) {
      std::vector<int64_t> got_t;
      std::vector<double> got_v;
      absl::StatusOr<int> got =
          DecodeXorChunk(absl::string_view(chunk).substr(0, chunk.size() - cut),
                         kMinTime, kMaxTime, got_t, got_v, "test");
      if (got.ok()) {
        EXPECT_EQ(got_t, ts) << "cut " << cut;
      } else {
        ++errors;
        EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
        const std::string message(got.status().message());
        EXPECT_THAT(message, ::testing::StartsWith("test: offset "));
        EXPECT_THAT(message, HasSubstr(absl::StrCat(" of ", n)));
      }
    }
  }
  EXPECT_GT(errors, 10000);  // The cuts mostly hit samples' bits.
}

// A data directory whose Selects decode on four threads gives what one
// thread gives, from several threads at once too (run under
// ThreadSanitizer by scripts/test).
TEST_F(TsdbBlockTest, ConcurrentSelectsOnThreads) {
  DataSet data = Generate(40, 6, kStart);
  ASSERT_FALSE(MakeBlocks(tmp_.path(), data.text).empty());
  const std::string dir = (tmp_.path() / "blocks").string();
  TsdbOptions serial;
  TsdbOptions parallel;
  parallel.threads = 4;
  parallel.parallel_min_samples = 0;
  absl::StatusOr<std::unique_ptr<TsdbQueryable>> one =
      TsdbQueryable::Open(dir, serial);
  absl::StatusOr<std::unique_ptr<TsdbQueryable>> four =
      TsdbQueryable::Open(dir, parallel);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(four.ok()) << four.status();
  const Matcher any = Re("__name__", ".+");
  auto read = [&](TsdbQueryable& db, int64_t mint, int64_t maxt) {
    std::vector<std::string> out;
    absl::StatusOr<std::unique_ptr<Querier>> q = db.NewQuerier(mint, maxt);
    EXPECT_TRUE(q.ok()) << q.status();
    if (!q.ok()) return out;
    absl::StatusOr<std::vector<SeriesData>> got =
        (*q)->Select({&any, 1}, mint, maxt);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return out;
    for (const SeriesData& s : *got) {
      std::string line = s.labels->ToString();
      for (size_t i = 0; i < s.timestamps.size(); ++i) {
        absl::StrAppend(&line, " ", s.timestamps[i], "=",
                        std::bit_cast<uint64_t>(s.values[i]));
      }
      out.push_back(std::move(line));
    }
    return out;
  };
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {kMinTime, kMaxTime}, {kStart + 3600000, kStart + 3 * 3600000}};
  for (auto [mint, maxt] : ranges) {
    const std::vector<std::string> want = read(**one, mint, maxt);
    EXPECT_EQ(want.size(), 40u);
    EXPECT_EQ(read(**four, mint, maxt), want);
  }
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < got.size(); ++k) {
    threads.emplace_back([&, k] {
      got[k] = read(**four, ranges[k % 2].first, ranges[k % 2].second);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k], read(**one, ranges[k % 2].first, ranges[k % 2].second));
  }
}

TEST_F(TsdbBlockTest, ConcurrentReaders) {
  DataSet data = Generate(20, 2, kStart);
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), data.text);
  ASSERT_FALSE(dirs.empty());
  std::unique_ptr<Block> b = OpenOrDie(dirs[0]);
  absl::StatusOr<std::string> want = Fingerprint(*b);
  ASSERT_TRUE(want.ok()) << want.status();
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (std::string& g : got) {
    threads.emplace_back([&b, &g] {
      for (int i = 0; i < 5; ++i) {
        absl::StatusOr<std::string> f = Fingerprint(*b);
        g = f.ok() ? *f : f.status().ToString();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& g : got) EXPECT_EQ(g, *want);
}

// Flipping any byte of the index, a chunk segment or the tombstones either
// gives kDataLoss naming the file and offset or changes nothing (bytes no
// reader looks at: padding, the unused label index sections); truncating
// any of them gives kDataLoss. Never a crash (run under ASan too).
TEST_F(TsdbBlockTest, EveryCorruptByte) {
  const std::string text =
      "# TYPE http_requests gauge\n"
      "http_requests{job=\"api\",code=\"200\"} 100 1700000000\n"
      "http_requests{job=\"api\",code=\"200\"} 160 1700000060\n"
      "http_requests{job=\"api\",code=\"500\"} 1 1700000000\n"
      "http_requests{job=\"api\",code=\"500\"} NaN 1700000060.5\n"
      "# TYPE up gauge\n"
      "up{job=\"api\"} +Inf 1700000000\n"
      "up{job=\"web\",instance=\"x\"} 1 1700000000\n"
      "up{job=\"web\",instance=\"x\"} 0 1700000015\n"
      "# EOF\n";
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), text);
  ASSERT_EQ(dirs.size(), 1u);
  const std::string dir = dirs[0];
  // Tombstones to corrupt as well.
  std::vector<BlockSeries> all = SelectOrDie(*OpenOrDie(dir), {});
  ASSERT_EQ(all.size(), 4u);
  WriteBytes(fs::path(dir) / "tombstones",
             TombstonesFile({{all[0].id, 1700000060000, 1700000060000}}));
  absl::StatusOr<std::string> want = Fingerprint(dir);
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_THAT(*want, HasSubstr("9221120237041090561"));  // Go's NaN.

  for (const char* name : {"index", "chunks/000001", "tombstones"}) {
    SCOPED_TRACE(name);
    const fs::path path = fs::path(dir) / name;
    const std::string original = ReadBytes(path);
    int errors = 0, unchanged = 0;
    for (size_t i = 0; i < original.size(); ++i) {
      for (uint8_t flip : {0x01, 0x80, 0xff}) {
        std::string bad = original;
        bad[i] = static_cast<char>(bad[i] ^ flip);
        WriteBytes(path, bad);
        absl::StatusOr<std::string> got = Fingerprint(dir);
        if (got.ok()) {
          ASSERT_EQ(*got, *want) << "byte " << i << " ^ " << int{flip};
          ++unchanged;
          continue;
        }
        ++errors;
        if (std::string(name) == "index" && i == 4 &&
            (bad[4] == 1 || bad[4] == 3)) {
          ASSERT_EQ(got.status().code(), absl::StatusCode::kUnimplemented);
          ASSERT_THAT(
              std::string(got.status().message()),
              HasSubstr(absl::StrCat("index: unsupported index format version ",
                                     int{bad[4]})));
          continue;
        }
        ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss)
            << "byte " << i << " ^ " << int{flip} << ": " << got.status();
        ASSERT_THAT(std::string(got.status().message()),
                    HasSubstr(absl::StrCat(name, ": offset ")))
            << "byte " << i << " ^ " << int{flip};
      }
    }
    for (size_t n = 0; n < original.size(); ++n) {
      WriteBytes(path, original.substr(0, n));
      absl::StatusOr<std::string> got = Fingerprint(dir);
      ASSERT_FALSE(got.ok()) << "truncated to " << n;
      ASSERT_EQ(got.status().code(), absl::StatusCode::kDataLoss)
          << "truncated to " << n << ": " << got.status();
      ASSERT_THAT(std::string(got.status().message()), HasSubstr(name));
    }
    WriteBytes(path, original);
    EXPECT_GT(errors, static_cast<int>(original.size()));
    if (std::string(name) == "index") {
      EXPECT_GT(unchanged, 0);
    }
  }
  ASSERT_EQ(*Fingerprint(dir), *want);
}

uint32_t Be32At(const std::string& s, size_t at) {
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i) x = (x << 8) | static_cast<uint8_t>(s[at + i]);
  return x;
}

uint64_t UvarintAt(const std::string& s, size_t& at) {
  uint64_t x = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(s[at++]);
    x |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return x;
  }
}

// Recomputes the checksum of the `len <4b> | body | CRC <4b>` section at
// `at`.
void FixSection(std::string& s, size_t at) {
  const uint32_t len = Be32At(s, at);
  PutBe32(s, at + 4 + len, Crc32c(absl::string_view(s).substr(at + 4, len)));
}

// Bytes that pass every checksum but break the format's rules: kDataLoss
// naming the file and offset all the same.
TEST_F(TsdbBlockTest, CorruptButChecksummed) {
  const std::string text =
      "# TYPE http_requests gauge\n"
      "http_requests{job=\"api\",code=\"200\"} 100 1700000000\n"
      "http_requests{job=\"api\",code=\"500\"} 1 1700000000\n"
      "http_requests{job=\"api\",code=\"500\"} 2 1700000001\n"
      "# TYPE up gauge\n"
      "up{job=\"web\",instance=\"x\"} 1 1700000000\n"
      "# EOF\n";
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), text);
  ASSERT_EQ(dirs.size(), 1u);
  const fs::path dir = dirs[0];
  const std::string index = ReadBytes(dir / "index");
  const size_t toc = index.size() - 52;
  auto toc_ref = [&](int i) {
    return (uint64_t{Be32At(index, toc + 8 * i)} << 32) |
           Be32At(index, toc + 8 * i + 4);
  };
  const size_t symbols = toc_ref(0);
  // Symbols: "" 200 500 __name__ api code http_requests instance job up web
  // x.
  ASSERT_EQ(Be32At(index, symbols + 4), 12u);
  std::vector<BlockSeries> all = SelectOrDie(*OpenOrDie(dir), {});
  ASSERT_EQ(all.size(), 3u);
  auto expect_data_loss = [&](const absl::Status& s, const std::string& file,
                              const std::string& what) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(std::string(s.message()),
                HasSubstr((dir / file).string() + ": offset "));
    EXPECT_THAT(std::string(s.message()), HasSubstr(what));
  };
  auto select_error = [&]() {
    std::vector<BlockSeries> out(1);  // Left as it was on errors.
    absl::Status s = OpenOrDie(dir)->Select({}, kMinTime, kMaxTime, out);
    EXPECT_EQ(out.size(), 1u);
    return s;
  };
  // The first series' entry: len | #labels | name value ... | CRC.
  const size_t entry = all[0].id * 16;
  size_t body = entry;
  const uint64_t len = UvarintAt(index, body);
  auto edit_series = [&](size_t at, uint8_t byte) {
    std::string bad = index;
    bad[body + at] = static_cast<char>(byte);
    PutBe32(bad, body + len, Crc32c(absl::string_view(bad).substr(body, len)));
    WriteBytes(dir / "index", bad);
  };

  // The first label's value becomes "x": the series sorts after the next.
  edit_series(2, 11);
  expect_data_loss(select_error(), "index",
                   "does not sort after the series before it");
  // The first label's name becomes "x": names out of order.
  edit_series(1, 11);
  expect_data_loss(select_error(), "index", "label names not sorted");
  // An empty value (Prometheus drops those labels).
  edit_series(2, 0);
  expect_data_loss(select_error(), "index",
                   "label __name__ has an empty value");
  // A symbol that does not exist.
  edit_series(2, 12);
  expect_data_loss(select_error(), "index", "refers to symbol 12 of 12");

  // Two symbols of the same length swapped: not sorted.
  {
    std::string bad = index;
    const std::string sorted = absl::StrCat("\x03", "200", "\x03", "500");
    const std::string swapped = absl::StrCat("\x03", "500", "\x03", "200");
    ASSERT_EQ(bad.substr(symbols + 9, 8), sorted);
    bad.replace(symbols + 9, 8, swapped);
    FixSection(bad, symbols);
    WriteBytes(dir / "index", bad);
    absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(dir);
    ASSERT_FALSE(b.ok());
    expect_data_loss(b.status(), "index", "symbol 2 is not after symbol 1");
  }
  // The all-postings list out of order.
  {
    std::string bad = index;
    const size_t table = toc_ref(5);
    // The first entry of the postings offset table: 2 | "" | "" | offset.
    size_t at = table + 8;
    ASSERT_EQ(bad.substr(at, 3), std::string("\x02\x00\x00", 3));
    at += 3;
    const size_t postings = UvarintAt(bad, at);
    ASSERT_EQ(Be32At(bad, postings + 4), 3u);
    const std::string first = bad.substr(postings + 8, 4);
    bad.replace(postings + 8, 4, bad.substr(postings + 12, 4));
    bad.replace(postings + 12, 4, first);
    FixSection(bad, postings);
    WriteBytes(dir / "index", bad);
    expect_data_loss(select_error(), "index",
                     "postings list not strictly increasing");
  }
  WriteBytes(dir / "index", index);

  // An XOR chunk claiming more samples than it holds.
  {
    const fs::path path = dir / "chunks" / "000001";
    std::string seg = ReadBytes(path);
    size_t at = all[0].chunks[0].ref;
    const uint64_t chunk_len = UvarintAt(seg, at);
    ASSERT_EQ(seg[at], 1);  // XOR.
    seg[at + 1] = '\x7f';
    PutBe32(seg, at + 1 + chunk_len,
            Crc32c(absl::string_view(seg).substr(at, chunk_len + 1)));
    WriteBytes(path, seg);
    SeriesSamples out;
    absl::StatusOr<bool> ok =
        OpenOrDie(dir)->ReadSamples(all[0], kMinTime, kMaxTime, out);
    ASSERT_FALSE(ok.ok());
    EXPECT_EQ(ok.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(ok.status().message()),
                HasSubstr(absl::StrCat(path.string(), " (chunk at offset ",
                                       all[0].chunks[0].ref, "): offset ")));
    EXPECT_THAT(std::string(ok.status().message()),
                HasSubstr("XOR chunk ends inside sample 1 of 32513"));
    EXPECT_TRUE(out.t.empty());
  }
}

TEST_F(TsdbBlockTest, BadFiles) {
  const std::string text =
      "# TYPE up gauge\nup{job=\"api\"} 1 1700000000\n# EOF\n";
  std::vector<std::string> dirs = MakeBlocks(tmp_.path(), text);
  ASSERT_EQ(dirs.size(), 1u);
  const fs::path dir = dirs[0];
  const std::string meta = ReadBytes(dir / "meta.json");
  auto open_error = [&]() {
    absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(dir.string());
    EXPECT_FALSE(b.ok());
    return b.ok() ? absl::OkStatus() : b.status();
  };

  // Index version 1.
  const std::string index = ReadBytes(dir / "index");
  std::string v1 = index;
  v1[4] = 1;
  WriteBytes(dir / "index", v1);
  absl::Status s = open_error();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr((dir / "index").string() +
                        ": unsupported index format version 1"));
  WriteBytes(dir / "index", index);

  // meta.json.
  const std::vector<std::pair<std::string, std::string>> metas = {
      {"{\"ulid\": \"x\", \"minTime\": 1,",
       "meta.json: offset 27: syntax error while parsing object key - "
       "unexpected end of input"},
      {"", "meta.json: offset 0: syntax error while parsing value"},
      {"{\"ulid\" 5}", "meta.json: offset 8: syntax error"},
      {"[]", "not a JSON object"},
      {"{\"ulid\": 5, \"minTime\": 1, \"maxTime\": 2, \"version\": 1}",
       "no \"ulid\" string"},
      {"{\"ulid\": \"x\", \"minTime\": \"1\", \"maxTime\": 2, \"version\": 1}",
       "\"minTime\" is not an integer"},
      {"{\"ulid\": \"x\", \"minTime\": 1.5, \"maxTime\": 2, \"version\": 1}",
       "\"minTime\" is not an integer"},
      {"{\"ulid\": \"x\", \"minTime\": 1, \"version\": 1}", "no \"maxTime\""},
      {"{\"ulid\": \"x\", \"minTime\": 1, \"maxTime\": 18446744073709551615, "
       "\"version\": 1}",
       "\"maxTime\" out of range"},
      {"{\"ulid\": \"x\", \"minTime\": 1, \"maxTime\": 2, \"version\": 1, "
       "\"stats\": {\"numSamples\": -1.5}}",
       "stats: \"numSamples\" is not an integer"},
      {"{\"ulid\": \"x\", \"minTime\": 1, \"maxTime\": 2, \"version\": 1, "
       "\"stats\": 3}",
       "\"stats\" is not an object"},
      {"{\"ulid\": \"x\", \"minTime\": 1, \"maxTime\": 2, \"version\": 1, "
       "\"compaction\": {\"level\": 99999999999}}",
       "compaction: \"level\" out of range"},
  };
  for (const auto& [content, want] : metas) {
    SCOPED_TRACE(content);
    WriteBytes(dir / "meta.json", content);
    s = open_error();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(want));
    EXPECT_THAT(std::string(s.message()),
                HasSubstr((dir / "meta.json").string()));
  }
  WriteBytes(dir / "meta.json",
             "{\"ulid\": \"x\", \"minTime\": 1, \"maxTime\": 2, "
             "\"version\": 2}");
  s = open_error();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("unsupported meta.json version 2"));
  WriteBytes(dir / "meta.json",
             "{\"ulid\": \"x\", \"minTime\": -5, \"maxTime\": 2, "
             "\"version\": 1, \"stats\": {\"numSeries\": 7}, \"extra\": [1]}");
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(dir.string());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->meta().min_time, -5);
  EXPECT_EQ((*b)->meta().num_series, 7);
  EXPECT_EQ((*b)->meta().num_samples, 0);
  WriteBytes(dir / "meta.json", meta);

  // Missing files.
  fs::rename(dir / "index", dir / "index.x");
  s = open_error();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr((dir / "index").string()));
  fs::rename(dir / "index.x", dir / "index");
  fs::rename(dir / "chunks", dir / "chunks.x");
  s = open_error();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr((dir / "chunks").string()));
  // A chunk reference to a segment that is not there.
  fs::create_directory(dir / "chunks");
  fs::copy_file(dir / "chunks.x" / "000001", dir / "chunks" / "not-a-number");
  b = Block::Open(dir.string());
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<BlockSeries> all = SelectOrDie(**b, {});
  ASSERT_EQ(all.size(), 1u);
  SeriesSamples out;
  absl::StatusOr<bool> ok = (*b)->ReadSamples(all[0], kMinTime, kMaxTime, out);
  ASSERT_FALSE(ok.ok());
  EXPECT_EQ(ok.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(ok.status().message()),
              HasSubstr("names segment 0 of 0"));
  fs::remove_all(dir / "chunks");
  fs::rename(dir / "chunks.x", dir / "chunks");
  EXPECT_TRUE(Block::Open(dir.string()).ok());
  EXPECT_TRUE(Block::Open(dir.string() + "/").ok());
}

}  // namespace
}  // namespace promeval::tsdb
