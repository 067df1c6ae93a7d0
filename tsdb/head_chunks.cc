#include "tsdb/head_chunks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

constexpr uint8_t kOutOfOrderMask = 0x80;
// Series ref, mint, maxt, encoding, the longest length (a uvarint of 32
// bits) and the CRC: with fewer bytes left, the rest must be zeros.
constexpr size_t kMaxChunkMetaSize = 8 + 8 + 8 + 1 + 5 + 4;

}  // namespace

absl::Status CheckHeadChunkFileHeader(absl::string_view content,
                                      absl::string_view file) {
  if (content.size() < kHeadChunkFileHeaderSize) {
    return CorruptionError(file, 0,
                           absl::StrCat("invalid head chunk file header: ",
                                        content.size(), " bytes"));
  }
  Decbuf d(content, file);
  const uint32_t magic = d.Be32();
  if (magic != kHeadChunksMagic) {
    return CorruptionError(
        file, 0, absl::StrCat("invalid magic number ", absl::Hex(magic)));
  }
  const uint8_t version = d.Byte();
  if (version != 1) {
    return CorruptionError(
        file, 4, absl::StrCat("invalid chunk format version ", version));
  }
  return absl::OkStatus();
}

absl::Status ParseHeadChunkFile(absl::string_view content,
                                absl::string_view file, uint64_t sequence,
                                std::vector<HeadChunk>& out) {
  size_t pos = kHeadChunkFileHeaderSize;
  while (pos < content.size()) {
    const size_t left = content.size() - pos;
    if (left < kMaxChunkMetaSize) {
      if (std::all_of(content.begin() + pos, content.end(),
                      [](char c) { return c == 0; })) {
        break;
      }
      return CorruptionError(
          file, pos,
          absl::StrCat("head chunk file has some unread data, but not enough "
                       "bytes for a chunk header: ",
                       left, " bytes left"));
    }
    Decbuf d(content.substr(pos), file, pos);
    HeadChunk c;
    c.series_ref = d.Be64();
    c.min_time = static_cast<int64_t>(d.Be64());
    c.max_time = static_cast<int64_t>(d.Be64());
    // Series references start at 1: zeros are the preallocated end.
    if (c.series_ref == 0 && c.min_time == 0 && c.max_time == 0) break;
    const uint8_t encoding = d.Byte();
    c.encoding = encoding & ~kOutOfOrderMask;
    c.out_of_order = (encoding & kOutOfOrderMask) != 0;
    const uint64_t length = d.Uvarint();
    if (!d.ok()) return d.status();
    if (length > d.remaining() || d.remaining() - length < 4) {
      return CorruptionError(
          file, pos,
          absl::StrCat("head chunk of ", length,
                       " bytes and its checksum past the end of the file"));
    }
    c.data = d.Bytes(static_cast<size_t>(length));
    const size_t body = static_cast<size_t>(d.offset()) - pos;
    const uint32_t want = d.Be32();
    const uint32_t got = Crc32c(content.substr(pos, body));
    if (got != want) {
      return CorruptionError(
          file, pos,
          absl::StrCat("head chunk checksum mismatch: stored ",
                       absl::Hex(want, absl::kZeroPad8), ", computed ",
                       absl::Hex(got, absl::kZeroPad8)));
    }
    c.ref = (sequence << 32) | static_cast<uint64_t>(pos);
    out.push_back(c);
    pos = static_cast<size_t>(d.offset());
  }
  return absl::OkStatus();
}

}  // namespace promeval::tsdb
