#include "tsdb/decbuf.h"

#include <array>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace promeval::tsdb {
namespace {

// CRC32-Castagnoli, reflected polynomial 0x82F63B78: slicing-by-8 tables.
struct Crc32cTables {
  std::array<std::array<uint32_t, 256>, 8> t;
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) {
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
      }
    }
  }
};

uint32_t Crc32cPortable(const unsigned char* p, size_t n, uint32_t crc) {
  static const Crc32cTables* tables = new Crc32cTables();
  const auto& t = tables->t;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);  // Little-endian machines only (x86, arm).
    word ^= crc;
    crc = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^
          t[5][(word >> 16) & 0xff] ^ t[4][(word >> 24) & 0xff] ^
          t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
          t[1][(word >> 48) & 0xff] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const unsigned char* p,
                                                       size_t n, uint32_t crc) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
#endif

}  // namespace

uint32_t Crc32c(absl::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return ~Crc32cSse42(p, data.size(), crc);
#endif
  return ~Crc32cPortable(p, data.size(), crc);
}

absl::Status CorruptionError(absl::string_view file, uint64_t offset,
                             absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(file, ": offset ", offset, ": ", what));
}

void Decbuf::Fail(absl::string_view what) {
  if (status_.ok()) status_ = CorruptionError(file_, offset(), what);
}

bool Decbuf::Need(size_t n) {
  if (!status_.ok()) return false;
  if (remaining() < n) {
    Fail(absl::StrCat("truncated: ", n, " bytes needed, ", remaining(),
                      " left"));
    return false;
  }
  return true;
}

uint8_t Decbuf::Byte() {
  if (!Need(1)) return 0;
  return static_cast<uint8_t>(data_[pos_++]);
}

uint16_t Decbuf::Be16() {
  if (!Need(2)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
  pos_ += 2;
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

uint32_t Decbuf::Be32() {
  if (!Need(4)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
  pos_ += 4;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t Decbuf::Be64() {
  const uint64_t hi = Be32();
  const uint64_t lo = Be32();
  return (hi << 32) | lo;
}

uint64_t Decbuf::Uvarint() {
  if (!status_.ok()) return 0;
  uint64_t x = 0;
  for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
    if (pos_ >= data_.size()) {
      Fail("truncated varint");
      return 0;
    }
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (i == 9 && b > 1) {
      Fail("varint overflows 64 bits");
      return 0;
    }
    x |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return x;
  }
  Fail("varint overflows 64 bits");
  return 0;
}

int64_t Decbuf::Varint() {
  const uint64_t ux = Uvarint();
  int64_t x = static_cast<int64_t>(ux >> 1);
  if (ux & 1) x = ~x;
  return x;
}

uint32_t Decbuf::Uvarint32() {
  const uint64_t x = Uvarint();
  if (x > UINT32_MAX) {
    Fail("varint overflows 32 bits");
    return 0;
  }
  return static_cast<uint32_t>(x);
}

absl::string_view Decbuf::Bytes(size_t n) {
  if (!Need(n)) return {};
  absl::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

absl::string_view Decbuf::UvarintString() {
  const uint64_t n = Uvarint();
  if (!status_.ok()) return {};
  if (n > remaining()) {
    Fail(absl::StrCat("string of ", n, " bytes past the end"));
    return {};
  }
  return Bytes(static_cast<size_t>(n));
}

absl::Status ReadCheckedSection(absl::string_view file_data,
                                absl::string_view file, uint64_t offset,
                                LengthKind kind, absl::string_view* body) {
  if (offset > file_data.size()) {
    return CorruptionError(file, offset, "section starts past the end");
  }
  Decbuf d(file_data.substr(offset), file, offset);
  const uint64_t len = kind == LengthKind::kBe32 ? d.Be32() : d.Uvarint();
  if (!d.ok()) return d.status();
  if (len > d.remaining() || d.remaining() - len < 4) {
    return CorruptionError(
        file, offset,
        absl::StrCat("section of ", len,
                     " bytes and its checksum past the end"));
  }
  absl::string_view b = d.Bytes(static_cast<size_t>(len));
  const uint32_t want = d.Be32();
  const uint32_t got = Crc32c(b);
  if (got != want) {
    return CorruptionError(
        file, offset,
        absl::StrCat("checksum mismatch: stored ", want, ", computed ", got));
  }
  *body = b;
  return absl::OkStatus();
}

}  // namespace promeval::tsdb
