// Fuzzes the head replay (tsdb/head.h) with arbitrary bytes as a WAL
// segment and as a head chunk file of a temporary data directory. A replay
// either fails (and appends nothing) or appends what it reports; nothing
// crashes, hangs or leaks.
//
// Input: a flags byte, the head chunk file's length (2 bytes, big-endian),
// the head chunk file, then the segment. Flags:
//   bit 0: write the head chunk file (chunks_head/000001);
//   bit 1: recompute the checksums of the segment's fragments and of the
//          chunks (so that mutations reach the records behind them);
//   bits 2-3: where the segment goes: 0 wal/00000000, 1 the checkpoint
//          wal/checkpoint.00000000/00000000 (with an empty wal/00000001),
//          2 wbl/00000000 (after a WAL naming series 1 to 3), 3 both
//          wal/00000000 and wal/00000001.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/string_view.h"
#include "promeval/storage.h"
#include "tsdb/decbuf.h"
#include "tsdb/head.h"

namespace {

namespace fs = std::filesystem;

constexpr size_t kPage = 32 * 1024;

void PutBe32(std::string& s, size_t at, uint32_t x) {
  for (size_t i = 0; i < 4; ++i)
    s[at + i] = static_cast<char>(x >> (24 - 8 * i));
}

// Walks the fragments as the reader does and rewrites their checksums.
void FixSegment(std::string& s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if ((s[pos] & 7) == 0) {
      pos = (pos / kPage + 1) * kPage;
      continue;
    }
    if (s.size() - pos < 7) return;
    const size_t len = (static_cast<uint8_t>(s[pos + 1]) << 8) |
                       static_cast<uint8_t>(s[pos + 2]);
    if (s.size() - pos - 7 < len) return;
    PutBe32(s, pos + 3,
            promeval::tsdb::Crc32c(absl::string_view(s).substr(pos + 7, len)));
    pos += 7 + len;
  }
}

// The same for head chunks: ref, mint, maxt, encoding, uvarint length,
// data, CRC of everything before it.
void FixChunks(std::string& s) {
  size_t pos = 8;
  while (s.size() > pos && s.size() - pos >= 34) {
    size_t at = pos + 25;
    uint64_t len = 0;
    for (int shift = 0; at < s.size() && shift < 35; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(s[at++]);
      len |= uint64_t{b & 0x7fu} << shift;
      if (b < 0x80) break;
    }
    if (len > s.size() || s.size() - at < len + 4) return;
    at += len;
    PutBe32(s, at,
            promeval::tsdb::Crc32c(absl::string_view(s).substr(pos, at - pos)));
    pos = at + 4;
  }
}

void Write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A WAL naming series 1 to 3 ({__name__="a", i="1"}...), one full
// fragment.
std::string SeriesWal() {
  std::string rec = "\x01";
  for (char i = '1'; i <= '3'; ++i) {
    rec += std::string(7, '\0') + std::string(1, i - '0');
    rec +=
        "\x02\x08__name__\x01"
        "a\x01i\x01";
    rec += i;
  }
  std::string frag = "\x01";
  frag += static_cast<char>(rec.size() >> 8);
  frag += static_cast<char>(rec.size() & 0xff);
  frag += std::string(4, '\0');
  PutBe32(frag, 3, promeval::tsdb::Crc32c(rec));
  return frag + rec;
}

const fs::path& TempDir() {
  static const fs::path* dir = [] {
    // In memory where there is a tmpfs: the files are written anew for
    // every input.
    std::error_code ec;
    std::string tmpl = fs::is_directory("/dev/shm", ec)
                           ? "/dev/shm/tsdb_wal_fuzzer.XXXXXX"
                           : "/tmp/tsdb_wal_fuzzer.XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(TempDir(), ec);
    });
    return new fs::path(tmpl.c_str());
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const size_t chunk_len =
      std::min<size_t>(size - 3, (static_cast<size_t>(data[1]) << 8) | data[2]);
  std::string chunks(reinterpret_cast<const char*>(data + 3), chunk_len);
  std::string segment(reinterpret_cast<const char*>(data + 3 + chunk_len),
                      size - 3 - chunk_len);
  if (flags & 2) {
    FixSegment(segment);
    FixChunks(chunks);
  }
  const fs::path dir = TempDir() / "data";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "wal");
  if (flags & 1) Write(dir / "chunks_head" / "000001", chunks);
  switch ((flags >> 2) & 3) {
    case 0:
      Write(dir / "wal" / "00000000", segment);
      break;
    case 1:
      Write(dir / "wal" / "checkpoint.00000000" / "00000000", segment);
      Write(dir / "wal" / "00000001", "");
      break;
    case 2:
      Write(dir / "wal" / "00000000", SeriesWal());
      Write(dir / "wbl" / "00000000", segment);
      break;
    default:
      Write(dir / "wal" / "00000000", segment);
      Write(dir / "wal" / "00000001", segment);
      break;
  }
  promeval::MemStorage storage;
  absl::StatusOr<promeval::tsdb::HeadStats> stats =
      promeval::tsdb::ReplayHead(dir.string(), storage);
  // (Counted by the store: a matcher would miss label values that are not
  // UTF-8, which the WAL may hold.)
  const int64_t series = stats.ok() ? stats->series : 0;
  const int64_t samples = stats.ok() ? stats->samples : 0;
  if (storage.NumSeries() != series || storage.NumSamples() != samples) {
    std::fprintf(
        stderr, "replayed %lld series, %lld samples; stored %lld, %lld\n",
        static_cast<long long>(series), static_cast<long long>(samples),
        static_cast<long long>(storage.NumSeries()),
        static_cast<long long>(storage.NumSamples()));
    std::abort();
  }
  return 0;
}
