// Fuzzes the persistent block reader (tsdb/block.h). The input is a block's
// files:
//   flags <1 byte> | index length <2 bytes, big-endian> | index |
//   chunk segment length <2 bytes, big-endian> | chunk segment | tombstones
// (lengths past the end are cut short). Flags: 1 recomputes the index's
// checksums (TOC, symbols, postings offset table, the postings lists it
// names, series entries), 2 the chunks' checksums, 4 writes the tombstones
// file (else there is none), 8 recomputes its checksum; with checksums
// fixed, mutations reach the decoders behind them. The files go into a
// block directory with a valid meta.json; the block is opened, queried
// with a few matchers over two time ranges and its samples read. Errors are
// fine; crashes, hangs, leaks, and results out of label or time order or
// outside the range asked for are not. (A series's first 16 chunks are
// read, up to 512 chunks per input: the format lets many series share one
// chunk of 65535 samples.)
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "promeval/labels.h"
#include "tsdb/block.h"
#include "tsdb/decbuf.h"

namespace {

using promeval::Matcher;
using promeval::MatchType;

uint64_t Be(const std::string& s, size_t at, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; ++i) x = (x << 8) | static_cast<uint8_t>(s[at + i]);
  return x;
}

void PutBe32(std::string& s, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(x >> (24 - 8 * i));
}

// Go's binary.Uvarint at `pos`; false if it does not end within `limit`.
bool Uvarint(const std::string& s, size_t& pos, size_t limit, uint64_t& x) {
  x = 0;
  for (int shift = 0; shift < 64 && pos < limit; shift += 7) {
    const uint8_t b = static_cast<uint8_t>(s[pos++]);
    x |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return true;
  }
  return false;
}

// The CRC of `len <4b> | body | CRC <4b>` at `at`, if it fits.
void FixBe32Section(std::string& s, uint64_t at, size_t limit) {
  if (at > limit || limit - at < 8) return;
  const uint64_t len = Be(s, at, 4);
  if (len > limit - at - 8) return;
  PutBe32(s, at + 4 + len,
          promeval::tsdb::Crc32c(absl::string_view(s).substr(at + 4, len)));
}

void FixIndex(std::string& s) {
  constexpr size_t kTocLen = 52;
  if (s.size() < 5 + kTocLen) return;
  const size_t toc = s.size() - kTocLen;
  uint64_t refs[6];
  for (int i = 0; i < 6; ++i) refs[i] = Be(s, toc + 8 * i, 8);
  // The postings lists the postings offset table names, then the table.
  const uint64_t table = refs[5];
  if (table != 0 && table < toc && toc - table >= 8) {
    const uint64_t len = Be(s, table, 4);
    if (len >= 4 && len <= toc - table - 8) {
      size_t pos = table + 8;
      const size_t end = table + 4 + len;
      uint64_t count = Be(s, table + 4, 4);
      for (bool ok = true; ok && count > 0 && pos < end; --count) {
        uint64_t keys, n, offset;
        ok = Uvarint(s, pos, end, keys);
        for (int k = 0; ok && k < 2; ++k) {
          ok = Uvarint(s, pos, end, n) && n <= end - pos;
          if (ok) pos += n;
        }
        ok = ok && Uvarint(s, pos, end, offset);
        if (ok && offset < table) FixBe32Section(s, offset, table);
      }
    }
    FixBe32Section(s, table, toc);
  }
  if (refs[0] != 0 && refs[0] < toc) FixBe32Section(s, refs[0], toc);
  // Series entries, 16-byte aligned, up to the next section.
  if (refs[1] != 0 && refs[1] < toc) {
    size_t limit = toc;
    for (uint64_t r : refs) {
      if (r > refs[1] && r < limit) limit = r;
    }
    size_t pos = refs[1];
    while (pos < limit) {
      size_t p = pos;
      uint64_t len;
      if (!Uvarint(s, p, limit, len) || len > limit - p ||
          limit - p - len < 4) {
        break;
      }
      PutBe32(s, p + len,
              promeval::tsdb::Crc32c(absl::string_view(s).substr(p, len)));
      pos = (p + len + 4 + 15) / 16 * 16;
    }
  }
  PutBe32(s, toc + 48,
          promeval::tsdb::Crc32c(absl::string_view(s).substr(toc, 48)));
}

void FixChunks(std::string& s) {
  size_t pos = 8;
  while (pos < s.size()) {
    uint64_t len;
    if (!Uvarint(s, pos, s.size(), len) || len >= s.size() - pos ||
        s.size() - pos - len - 1 < 4) {
      return;
    }
    PutBe32(s, pos + 1 + len,
            promeval::tsdb::Crc32c(absl::string_view(s).substr(pos, len + 1)));
    pos += 1 + len + 4;
  }
}

void FixTombstones(std::string& s) {
  if (s.size() < 9) return;
  PutBe32(s, s.size() - 4,
          promeval::tsdb::Crc32c(absl::string_view(s).substr(5, s.size() - 9)));
}

void WriteFile(const std::string& path, absl::string_view content) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (!content.empty() &&
      std::fwrite(content.data(), 1, content.size(), f) != content.size()) {
    std::abort();
  }
  if (std::fclose(f) != 0) std::abort();
}

// The block directory, made once per process and removed at exit.
const std::string& BlockDir() {
  static const std::string* dir = [] {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "promeval_tsdb_fuzz.XXXXXX")
            .string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::filesystem::create_directory(tmpl + "/chunks");
    WriteFile(tmpl + "/meta.json",
              R"({"ulid": "01FUZZ", "minTime": 0, "maxTime": 1, )"
              R"("stats": {}, "compaction": {"level": 1}, "version": 1})");
    static std::string removed = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(removed, ec);
    });
    return new std::string(tmpl);
  }();
  return *dir;
}

const std::vector<std::vector<Matcher>>& Selectors() {
  static const auto* selectors = [] {
    auto m = [](MatchType type, const char* name, const char* value) {
      return *Matcher::Create(type, name, value);
    };
    return new std::vector<std::vector<Matcher>>{
        {},
        {m(MatchType::kRegexp, "__name__", ".+")},
        {m(MatchType::kEqual, "job", "api")},
        {m(MatchType::kNotEqual, "code", "")},
        {m(MatchType::kRegexp, "__name__", "up|http.*"),
         m(MatchType::kEqual, "code", "")},
        {m(MatchType::kNotRegexp, "job", "a.*"),
         m(MatchType::kRegexp, "instance", ".*")},
    };
  }();
  return *selectors;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string in(reinterpret_cast<const char*>(data), size);
  const uint8_t flags = data[0];
  size_t pos = 1;
  auto part = [&]() {
    size_t n = 0;
    if (in.size() - pos >= 2) {
      n = static_cast<size_t>(Be(in, pos, 2));
      pos += 2;
    } else {
      pos = in.size();
    }
    n = std::min(n, in.size() - pos);
    std::string out = in.substr(pos, n);
    pos += n;
    return out;
  };
  std::string index = part();
  std::string segment = part();
  std::string tombstones = in.substr(pos);
  if (flags & 1) FixIndex(index);
  if (flags & 2) FixChunks(segment);
  if (flags & 8) FixTombstones(tombstones);

  const std::string& dir = BlockDir();
  WriteFile(dir + "/index", index);
  WriteFile(dir + "/chunks/000001", segment);
  if (flags & 4) {
    WriteFile(dir + "/tombstones", tombstones);
  } else {
    unlink((dir + "/tombstones").c_str());
  }

  auto block = promeval::tsdb::Block::Open(dir);
  if (!block.ok()) return 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t ranges[][2] = {{kMin, kMax}, {1000, 1700000030000}};
  int chunk_budget = 512;
  for (const std::vector<Matcher>& matchers : Selectors()) {
    for (const auto& range : ranges) {
      const int64_t mint = range[0], maxt = range[1];
      std::vector<promeval::tsdb::BlockSeries> series;
      if (!(*block)->Select(matchers, mint, maxt, series).ok()) {
        Check(series.empty(), "nothing selected on failure");
        continue;
      }
      for (size_t i = 0; i < series.size(); ++i) {
        const promeval::tsdb::BlockSeries& s = series[i];
        Check(i == 0 ||
                  promeval::CompareLabels(series[i - 1].labels, s.labels) < 0,
              "series in label order");
        Check(!s.chunks.empty(), "selected series have chunks");
        for (const promeval::tsdb::ChunkMeta& c : s.chunks) {
          Check(c.max_time >= mint && c.min_time <= maxt,
                "chunks overlap the range");
        }
        // A chunk holds up to 65535 samples and series may share chunks:
        // reading at most 16 chunks per series and 512 per input keeps
        // every input fast.
        if (chunk_budget <= 0) continue;
        promeval::tsdb::BlockSeries few = s;
        if (few.chunks.size() > 16) few.chunks.resize(16);
        chunk_budget -= static_cast<int>(few.chunks.size());
        promeval::tsdb::SeriesSamples samples;
        auto ok = (*block)->ReadSamples(few, mint, maxt, samples);
        if (!ok.ok() || !*ok) {
          Check(samples.t.empty() && samples.v.empty(),
                "nothing appended on failure");
          continue;
        }
        Check(samples.t.size() == samples.v.size(), "as many values as times");
        for (size_t k = 0; k < samples.t.size(); ++k) {
          Check(samples.t[k] >= mint && samples.t[k] <= maxt,
                "samples within the range");
          Check(k == 0 || samples.t[k] > samples.t[k - 1],
                "samples in time order");
        }
      }
    }
  }
  return 0;
}
