#include "tsdb/xor.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

// Reads bits most significant first (Prometheus's bstreamReader): `buf_`
// holds `valid_` unread bits in its low end.
class BitReader {
 public:
  explicit BitReader(absl::string_view data)
      : p_(reinterpret_cast<const unsigned char*>(data.data())),
        end_(p_ + data.size()) {}

  // The next `n` (1 to 64) bits, or false at the end of the data.
  bool Read(int n, uint64_t& out) {
    if (n <= valid_) {
      valid_ -= n;
      out = (buf_ >> valid_) & Mask(n);
      return true;
    }
    const int have = valid_;
    const uint64_t hi = have > 0 ? (buf_ & Mask(have)) : 0;
    const int need = n - have;
    if (!Refill() || need > valid_) return false;
    valid_ -= need;
    const uint64_t lo = (buf_ >> valid_) & Mask(need);
    out = need == 64 ? lo : (hi << need) | lo;
    return true;
  }

  bool Bit(uint64_t& out) { return Read(1, out); }

  // Go's binary.ReadUvarint over the bit stream's bytes.
  bool Uvarint(uint64_t& out) {
    uint64_t x = 0;
    for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
      uint64_t b;
      if (!Read(8, b)) return false;
      if (i == 9 && b > 1) return false;
      x |= (b & 0x7f) << shift;
      if (b < 0x80) {
        out = x;
        return true;
      }
    }
    return false;
  }

  bool Varint(int64_t& out) {
    uint64_t ux;
    if (!Uvarint(ux)) return false;
    out = static_cast<int64_t>(ux >> 1);
    if (ux & 1) out = ~out;
    return true;
  }

  // The offset of the next unread byte, for errors.
  size_t consumed(const unsigned char* start) const {
    return static_cast<size_t>(p_ - start) - static_cast<size_t>(valid_ / 8);
  }

 private:
  static uint64_t Mask(int n) {
    return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  }

  // Loads the next (up to) 8 bytes; the old bits must have been taken.
  bool Refill() {
    const size_t left = static_cast<size_t>(end_ - p_);
    if (left == 0) return false;
    if (left >= 8) {
      uint64_t word;
      std::memcpy(&word, p_, 8);
      buf_ = __builtin_bswap64(word);
      valid_ = 64;
      p_ += 8;
      return true;
    }
    buf_ = 0;
    for (size_t i = 0; i < left; ++i) buf_ = (buf_ << 8) | p_[i];
    valid_ = static_cast<int>(left * 8);
    p_ = end_;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  uint64_t buf_ = 0;
  int valid_ = 0;
};

}  // namespace

bool IsHistogramEncoding(uint8_t encoding) {
  switch (static_cast<ChunkEncoding>(encoding)) {
    case ChunkEncoding::kHistogram:
    case ChunkEncoding::kFloatHistogram:
    case ChunkEncoding::kHistogramSt:
    case ChunkEncoding::kFloatHistogramSt:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<int> XorChunkSamples(absl::string_view data,
                                    absl::string_view where) {
  if (data.size() < 2) {
    return CorruptionError(where, 0, "XOR chunk shorter than its header");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  return (p[0] << 8) | p[1];
}

absl::StatusOr<int> DecodeXorChunk(absl::string_view data, int64_t mint,
                                   int64_t maxt, std::vector<int64_t>& t,
                                   std::vector<double>& v,
                                   absl::string_view where) {
  absl::StatusOr<int> total = XorChunkSamples(data, where);
  if (!total.ok()) return total.status();
  const auto* start = reinterpret_cast<const unsigned char*>(data.data());
  BitReader br(data.substr(2));
  auto truncated = [&](int i) {
    return CorruptionError(
        where, 2 + br.consumed(start + 2),
        absl::StrCat("XOR chunk ends inside sample ", i, " of ", *total));
  };
  int appended = 0;
  int64_t ts = 0;
  uint64_t delta = 0;
  uint64_t value_bits = 0;
  int leading = -1, trailing = 0;  // -1: no window yet.
  for (int i = 0; i < *total; ++i) {
    if (i == 0) {
      if (!br.Varint(ts) || !br.Read(64, value_bits)) return truncated(i);
    } else {
      if (i == 1) {
        if (!br.Uvarint(delta)) return truncated(i);
      } else {
        // The delta of deltas: a prefix of up to four 1 bits, then 0, 14,
        // 17, 20 or 64 bits.
        int ones = 0;
        for (; ones < 4; ++ones) {
          uint64_t bit;
          if (!br.Bit(bit)) return truncated(i);
          if (bit == 0) break;
        }
        static constexpr int kSizes[] = {0, 14, 17, 20, 64};
        const int size = kSizes[ones];
        int64_t dod = 0;
        if (size == 64) {
          uint64_t bits;
          if (!br.Read(64, bits)) return truncated(i);
          dod = static_cast<int64_t>(bits);
        } else if (size > 0) {
          uint64_t bits;
          if (!br.Read(size, bits)) return truncated(i);
          // Negative numbers come back as high unsigned ones (bstream.md).
          if (bits > (uint64_t{1} << (size - 1))) bits -= uint64_t{1} << size;
          dod = static_cast<int64_t>(bits);
        }
        delta = static_cast<uint64_t>(static_cast<int64_t>(delta) + dod);
      }
      ts = static_cast<int64_t>(static_cast<uint64_t>(ts) + delta);
      // The value: 0 unchanged; 10 the previous window; 11, a new window
      // (5 bits of leading zeros, 6 of significant bits, 0 meaning 64).
      uint64_t bit;
      if (!br.Bit(bit)) return truncated(i);
      if (bit != 0) {
        if (!br.Bit(bit)) return truncated(i);
        int significant;
        if (bit == 0) {
          if (leading < 0) {
            return CorruptionError(
                where, 2 + br.consumed(start + 2),
                absl::StrCat("XOR chunk sample ", i,
                             " reuses a bit window never set"));
          }
          significant = 64 - leading - trailing;
        } else {
          uint64_t lead, sig;
          if (!br.Read(5, lead) || !br.Read(6, sig)) return truncated(i);
          significant = sig == 0 ? 64 : static_cast<int>(sig);
          if (static_cast<int>(lead) + significant > 64) {
            return CorruptionError(
                where, 2 + br.consumed(start + 2),
                absl::StrCat("XOR chunk sample ", i, " has ", lead,
                             " leading and ", significant,
                             " significant bits"));
          }
          leading = static_cast<int>(lead);
          trailing = 64 - leading - significant;
        }
        uint64_t bits;
        if (!br.Read(significant, bits)) return truncated(i);
        value_bits ^= trailing == 64 ? 0 : bits << trailing;
      }
    }
    if (ts > maxt) break;  // Samples are in time order.
    if (ts >= mint) {
      t.push_back(ts);
      v.push_back(std::bit_cast<double>(value_bits));
      ++appended;
    }
  }
  return appended;
}

}  // namespace promeval::tsdb
