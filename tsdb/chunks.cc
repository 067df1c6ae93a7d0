#include "tsdb/chunks.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "promeval/status_macros.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

constexpr uint32_t kChunksMagic = 0x85BD40DD;
constexpr uint8_t kChunksFormatV1 = 1;
constexpr size_t kSegmentHeaderLen = 8;

// Go's strconv.ParseUint(name, 10, 64) succeeds.
bool IsSequenceName(const std::string& name) {
  if (name.empty() || name.size() > 20) return false;
  if (!std::all_of(name.begin(), name.end(),
                   [](char c) { return absl::ascii_isdigit(c); })) {
    return false;
  }
  return name.size() < 20 || name <= "18446744073709551615";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChunkReader>> ChunkReader::Open(
    std::string dir) {
  std::unique_ptr<ChunkReader> r(new ChunkReader(std::move(dir)));
  std::error_code ec;
  std::filesystem::directory_iterator it(r->dir_, ec);
  if (ec) {
    const std::string message =
        absl::StrCat("read chunks directory ", r->dir_, ": ", ec.message());
    if (ec == std::errc::no_such_file_or_directory) {
      return absl::NotFoundError(message);
    }
    return absl::FailedPreconditionError(message);
  }
  std::vector<std::string> names;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (IsSequenceName(name)) names.push_back(std::move(name));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("read chunks directory ", r->dir_, ": ", ec.message()));
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<MmapFile> segment,
                              MmapFile::Open(absl::StrCat(r->dir_, "/", name)));
    Decbuf d(segment->data(), segment->path());
    const uint32_t magic = d.Be32();
    const uint8_t version = d.Byte();
    d.Skip(3);
    if (!d.ok()) return d.status();
    if (magic != kChunksMagic) {
      return CorruptionError(segment->path(), 0,
                             absl::StrCat("invalid chunks magic number 0x",
                                          absl::Hex(magic, absl::kZeroPad8)));
    }
    if (version != kChunksFormatV1) {
      return CorruptionError(segment->path(), 4,
                             absl::StrCat("unknown chunks format version ",
                                          static_cast<int>(version)));
    }
    r->segments_.push_back(std::move(segment));
  }
  return r;
}

absl::StatusOr<RawChunk> ChunkReader::Chunk(uint64_t ref, bool verify) const {
  const uint64_t sequence = ref >> 32;
  const uint64_t offset = ref & 0xffffffffu;
  if (sequence >= segments_.size()) {
    return absl::DataLossError(
        absl::StrCat(dir_, ": chunk reference ", ref, " names segment ",
                     sequence, " of ", segments_.size(), " segment files"));
  }
  const MmapFile& segment = *segments_[sequence];
  const absl::string_view data = segment.data();
  if (offset < kSegmentHeaderLen || offset >= data.size()) {
    return CorruptionError(
        segment.path(), offset,
        absl::StrCat("chunk reference ", ref, " outside the segment's ",
                     data.size(), " bytes"));
  }
  Decbuf d(data.substr(offset), segment.path(), offset);
  const uint32_t len = d.Uvarint32();
  if (!d.ok()) return d.status();
  if (d.remaining() < 5 || len > d.remaining() - 5) {
    return CorruptionError(
        segment.path(), offset,
        absl::StrCat("chunk of ", len, " bytes past the end of the segment"));
  }
  const absl::string_view checked = d.Bytes(size_t{len} + 1);
  const uint32_t want = d.Be32();
  const uint32_t got = verify ? Crc32c(checked) : want;
  if (got != want) {
    return CorruptionError(segment.path(), offset,
                           absl::StrCat("chunk checksum mismatch: stored ",
                                        want, ", computed ", got));
  }
  RawChunk chunk;
  chunk.encoding = static_cast<uint8_t>(checked[0]);
  chunk.data = checked.substr(1);
  chunk.file = &segment.path();
  chunk.offset = offset;
  return chunk;
}

}  // namespace promeval::tsdb
