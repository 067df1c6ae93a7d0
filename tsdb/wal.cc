#include "tsdb/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <snappy.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

constexpr uint8_t kFragmentTypeMask = 0x07;
constexpr uint8_t kSnappyMask = 0x08;
constexpr uint8_t kZstdMask = 0x10;

enum FragmentType : uint8_t {
  kPageTerm = 0,
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};

absl::Status ErrnoError(absl::string_view what, const std::string& path,
                        int err) {
  std::string message = absl::StrCat(what, " ", path, ": ", strerror(err));
  if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) {
    return absl::PermissionDeniedError(message);
  }
  return absl::FailedPreconditionError(message);
}

struct FdCloser {
  int fd;
  ~FdCloser() { close(fd); }
};

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

struct ZstdStreamFree {
  void operator()(ZSTD_DStream* s) const { ZSTD_freeDStream(s); }
};

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoError("open", path, errno);
  FdCloser closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("read ", path, ": not a regular file"));
  }
  std::string content;
  // The size now is a hint: the file may grow or shrink while it is read.
  content.resize(static_cast<size_t>(st.st_size) + 1);
  size_t used = 0;
  while (true) {
    if (used == content.size()) content.resize(content.size() * 2 + 4096);
    const ssize_t n = read(fd, content.data() + used, content.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  content.resize(used);
  return content;
}

absl::StatusOr<std::vector<std::string>> ListEntries(const std::string& dir,
                                                     bool directories) {
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (d == nullptr) return ErrnoError("list", dir, errno);
  std::vector<std::string> out;
  while (true) {
    errno = 0;
    const struct dirent* e = readdir(d.get());
    if (e == nullptr) {
      if (errno != 0) return ErrnoError("list", dir, errno);
      break;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
      continue;
    }
    bool is_dir = e->d_type == DT_DIR;
    bool is_reg = e->d_type == DT_REG;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;
      if (stat(absl::StrCat(dir, "/", e->d_name).c_str(), &st) != 0) continue;
      is_dir = S_ISDIR(st.st_mode);
      is_reg = S_ISREG(st.st_mode);
    }
    if (directories ? is_dir : is_reg) out.emplace_back(e->d_name);
  }
  return out;
}

absl::StatusOr<std::vector<NumberedEntry>> ListNumberedEntries(
    const std::string& dir, absl::string_view prefix, bool directories) {
  absl::StatusOr<std::vector<std::string>> names =
      ListEntries(dir, directories);
  if (!names.ok()) return names.status();
  std::vector<NumberedEntry> out;
  for (std::string& name : *names) {
    if (!absl::StartsWith(name, prefix)) continue;
    absl::string_view digits = absl::string_view(name).substr(prefix.size());
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char c) { return absl::ascii_isdigit(c); })) {
      continue;
    }
    int64_t index = 0;
    for (char c : digits) index = index * 10 + (c - '0');
    out.push_back({index, std::move(name)});
  }
  std::sort(out.begin(), out.end(),
            [](const NumberedEntry& a, const NumberedEntry& b) {
              return a.index < b.index;
            });
  return out;
}

bool WalSegmentReader::Fail(uint64_t offset, absl::string_view what) {
  if (status_.ok()) status_ = CorruptionError(file_, offset, what);
  return false;
}

bool WalSegmentReader::Torn(uint64_t offset, absl::string_view what) {
  if (!tolerate_torn_) return Fail(offset, what);
  torn_ = true;
  torn_offset_ = offset;
  return false;
}

bool WalSegmentReader::Next(absl::string_view* record) {
  assembled_.clear();
  bool in_record = false;
  while (true) {
    if (pos_ >= data_.size()) {
      // The end of the file (a short last page reads as zero padding).
      if (in_record) {
        return Torn(record_offset_,
                    "the segment ends inside a record: last record is torn");
      }
      return false;
    }
    const uint8_t header = static_cast<uint8_t>(data_[pos_]);
    const uint8_t type = header & kFragmentTypeMask;
    if (type == kPageTerm) {
      // The rest of the page must be zeros.
      const size_t page_end = (pos_ / kWalPageSize + 1) * kWalPageSize;
      const size_t end = std::min(page_end, data_.size());
      for (size_t i = pos_ + 1; i < end; ++i) {
        if (data_[i] != 0) {
          return Fail(i, "unexpected non-zero byte in padded page");
        }
      }
      pos_ = end;
      continue;
    }
    if (data_.size() - pos_ < kWalFragmentHeaderSize) {
      return Torn(in_record ? record_offset_ : pos_,
                  "fragment header cut short by the end of the segment: last "
                  "record is torn");
    }
    Decbuf d(data_.substr(pos_ + 1, kWalFragmentHeaderSize - 1), file_,
             pos_ + 1);
    const uint16_t length = d.Be16();
    const uint32_t crc = d.Be32();
    if (length > kWalPageSize - kWalFragmentHeaderSize) {
      return Fail(pos_, absl::StrCat("invalid record size ", length));
    }
    if (data_.size() - pos_ - kWalFragmentHeaderSize < length) {
      return Torn(in_record ? record_offset_ : pos_,
                  absl::StrCat("fragment of ", length,
                               " bytes cut short by the end of the segment: "
                               "last record is torn"));
    }
    absl::string_view fragment =
        data_.substr(pos_ + kWalFragmentHeaderSize, length);
    const uint32_t computed = Crc32c(fragment);
    if (computed != crc) {
      return Fail(pos_,
                  absl::StrCat("unexpected checksum ",
                               absl::Hex(computed, absl::kZeroPad8),
                               ", expected ", absl::Hex(crc, absl::kZeroPad8)));
    }
    switch (type) {
      case kFull:
      case kFirst:
        if (in_record) {
          return Fail(pos_, absl::StrCat("unexpected ",
                                         type == kFull ? "full" : "first",
                                         " fragment inside a record"));
        }
        record_offset_ = pos_;
        break;
      case kMiddle:
      case kLast:
        if (!in_record) {
          return Fail(pos_, absl::StrCat("unexpected ",
                                         type == kMiddle ? "middle" : "last",
                                         " fragment outside a record"));
        }
        break;
      default:
        return Fail(pos_, absl::StrCat("unexpected fragment type ", type));
    }
    assembled_.append(fragment.data(), fragment.size());
    pos_ += kWalFragmentHeaderSize + length;
    if (type == kFull || type == kLast) {
      if (!Decompress(header)) return false;
      *record = (header & (kSnappyMask | kZstdMask)) != 0
                    ? absl::string_view(decompressed_)
                    : absl::string_view(assembled_);
      return true;
    }
    in_record = true;
  }
}

bool WalSegmentReader::Decompress(uint8_t header) {
  if ((header & kSnappyMask) != 0) {
    size_t length = 0;
    if (!snappy::GetUncompressedLength(assembled_.data(), assembled_.size(),
                                       &length) ||
        length > kWalMaxRecordSize ||
        !snappy::IsValidCompressedBuffer(assembled_.data(),
                                         assembled_.size())) {
      return Fail(record_offset_, "record: corrupt snappy data");
    }
    decompressed_.resize(length);
    if (!snappy::RawUncompress(assembled_.data(), assembled_.size(),
                               decompressed_.data())) {
      return Fail(record_offset_, "record: corrupt snappy data");
    }
    return true;
  }
  if ((header & kZstdMask) == 0) return true;
  decompressed_.clear();
  if (assembled_.empty()) return true;
  std::unique_ptr<ZSTD_DStream, ZstdStreamFree> stream(ZSTD_createDStream());
  if (stream == nullptr) {
    status_ = absl::ResourceExhaustedError("zstd: out of memory");
    return false;
  }
  ZSTD_initDStream(stream.get());
  ZSTD_inBuffer in{assembled_.data(), assembled_.size(), 0};
  size_t produced = 0;
  decompressed_.resize(std::min(kWalMaxRecordSize + 1,
                                std::max<size_t>(assembled_.size() * 4, 4096)));
  while (true) {
    if (produced == decompressed_.size()) {
      if (decompressed_.size() > kWalMaxRecordSize) {
        return Fail(record_offset_,
                    absl::StrCat("record: zstd data expands past ",
                                 kWalMaxRecordSize, " bytes"));
      }
      decompressed_.resize(
          std::min(kWalMaxRecordSize + 1, decompressed_.size() * 2));
    }
    ZSTD_outBuffer out{decompressed_.data() + produced,
                       decompressed_.size() - produced, 0};
    const size_t ret = ZSTD_decompressStream(stream.get(), &out, &in);
    produced += out.pos;
    if (ZSTD_isError(ret)) {
      return Fail(record_offset_, absl::StrCat("record: corrupt zstd data: ",
                                               ZSTD_getErrorName(ret)));
    }
    if (in.pos == in.size) {
      if (ret == 0) break;  // The last frame is complete.
      if (out.pos < out.size) {
        return Fail(record_offset_, "record: truncated zstd data");
      }
    }
  }
  decompressed_.resize(produced);
  return true;
}

}  // namespace promeval::tsdb
