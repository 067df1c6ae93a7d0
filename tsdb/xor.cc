#include "tsdb/xor.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "promeval/value.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

// The chunk's bits after its two header bytes, read most significant first
// (Prometheus's bstreamReader) from a copy followed by zero bytes, so that
// a read never checks for the end: reads past the end give zeros, and the
// decoder compares its position with the data's bits once a sample is
// complete. The position is the decoder's own local (a register).
class PaddedBits {
 public:
  explicit PaddedBits(absl::string_view data) : bits_(data.size() * 8) {
    unsigned char* buf = small_;
    if (data.size() + kPadding > sizeof(small_)) {
      large_.resize(data.size() + kPadding);
      buf = large_.data();
    }
    std::memcpy(buf, data.data(), data.size());
    std::memset(buf + data.size(), 0, kPadding);
    buf_ = buf;
  }

  // At least 57 bits from bit `pos` on, in the high end (one load: the
  // bits below them are the following ones or zeros).
  [[gnu::always_inline]] uint64_t Peek57(size_t pos) const {
    uint64_t w;
    std::memcpy(&w, buf_ + (pos >> 3), 8);
    return __builtin_bswap64(w) << (pos & 7);
  }

  // The 64 bits from bit `pos` on.
  [[gnu::always_inline]] uint64_t Peek(size_t pos) const {
    const size_t byte = pos >> 3;
    const int shift = static_cast<int>(pos & 7);
    uint64_t w;
    std::memcpy(&w, buf_ + byte, 8);
    // Branch-free: with shift 0 the ninth byte is shifted out entirely.
    return (__builtin_bswap64(w) << shift) |
           (static_cast<uint64_t>(buf_[byte + 8]) >> (8 - shift));
  }

  // The `n` (1 to 64) bits from `pos` on; advances `pos`.
  [[gnu::always_inline]] uint64_t Read(size_t& pos, int n) const {
    const uint64_t w = Peek(pos);
    pos += static_cast<size_t>(n);
    return n == 64 ? w : w >> (64 - n);
  }

  // Go's binary.ReadUvarint over the bit stream's bytes.
  bool Uvarint(size_t& pos, uint64_t& out) const {
    uint64_t x = 0;
    for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
      const uint64_t b = Read(pos, 8);
      if (i == 9 && b > 1) return false;
      x |= (b & 0x7f) << shift;
      if (b < 0x80) {
        out = x;
        return true;
      }
    }
    return false;
  }

  bool Varint(size_t& pos, int64_t& out) const {
    uint64_t ux;
    if (!Uvarint(pos, ux)) return false;
    out = static_cast<int64_t>(ux >> 1);
    if (ux & 1) out = ~out;
    return true;
  }

  size_t bits() const { return bits_; }

 private:
  static constexpr size_t kPadding = 16;
  unsigned char small_[512];
  std::vector<unsigned char> large_;
  const unsigned char* buf_;
  size_t bits_;
};

enum class ValueError { kNone, kNoWindow, kBadWindow };

// The value of a sample after the first: 0 unchanged; 10 the previous
// window; 11 a new window (5 bits of leading zeros, 6 of significant bits,
// 0 meaning 64), then the significant bits, XORed into `value_bits`. `w`
// holds at least 57 bits from `pos` on (PaddedBits::Peek57), of which the
// first `used` (at most 24) are the timestamp's; `pos` is advanced past the
// value. `leading` is -1
// before the first window. The three kinds are told apart without
// branches (they follow each other at random in real data, where branches
// would be mispredicted half the time), and the value is taken from the
// rest of `w` when it fits there (one load a sample).
[[gnu::always_inline]] inline ValueError DecodeValue(
    const PaddedBits& in, size_t& pos, uint64_t w, int used,
    uint64_t& value_bits, int& leading, int& trailing) {
  const uint64_t x = w << used;
  const bool changed = (x >> 63) != 0;
  const bool new_window = changed && ((x >> 62) & 1) != 0;
  const int new_lead = static_cast<int>((x >> 57) & 31);
  const int new_sig = static_cast<int>((x >> 51) & 63);
  const int new_significant = new_sig == 0 ? 64 : new_sig;
  if (changed && !new_window && leading < 0) [[unlikely]] {
    return ValueError::kNoWindow;
  }
  if (new_window && new_lead + new_significant > 64) [[unlikely]] {
    leading = new_lead;
    trailing = new_significant;  // For the message.
    return ValueError::kBadWindow;
  }
  leading = new_window ? new_lead : leading;
  trailing = new_window ? 64 - new_lead - new_significant : trailing;
  const int header = new_window ? 13 : (changed ? 2 : 1);
  const int significant = changed ? 64 - leading - trailing : 0;
  if (used + header + significant <= 57) [[likely]] {
    // significant <= 62 here: two shifts, right by 1 then by 63 - n, take
    // the n bits after the header, and none when n is 0.
    const uint64_t bits = ((x << header) >> 1) >> (63 - significant);
    pos += static_cast<size_t>(used + header + significant);
    value_bits ^= bits << trailing;
  } else {
    pos += static_cast<size_t>(used + header);
    value_bits ^= in.Read(pos, significant) << trailing;
  }
  return ValueError::kNone;
}

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

namespace {

// The error for sample `i` of `total` of a chunk whose decoding stopped at
// bit `pos` of its data's `bits` (after the two header bytes).
[[gnu::noinline, gnu::cold]] absl::Status XorCorruption(
    absl::string_view where, size_t pos, size_t bits, int i, int total,
    absl::string_view what) {
  return CorruptionError(
      where, 2 + std::min(pos, bits) / 8,
      absl::StrCat("XOR chunk ", what, " sample ", i, " of ", total));
}

[[gnu::noinline, gnu::cold]] absl::Status ValueCorruption(
    absl::string_view where, size_t pos, size_t bits, int i, int total,
    ValueError e, int leading, int significant) {
  if (e == ValueError::kNoWindow) {
    return XorCorruption(where, pos, bits, i, total,
                         "reuses a bit window never set in");
  }
  return XorCorruption(where, pos, bits, i, total,
                       absl::StrCat("has ", leading, " leading and ",
                                    significant, " significant bits in"));
}

// DecodeXorChunk; kBounded: compare each sample with mint and maxt (not
// needed when the whole time line is asked for).
template <bool kBounded>
absl::StatusOr<int> DecodeXor(absl::string_view data, int64_t mint,
                              int64_t maxt, std::vector<int64_t>& t,
                              std::vector<double>& v, absl::string_view where,
                              bool* stale) {
  absl::StatusOr<int> total_or = XorChunkSamples(data, where);
  if (!total_or.ok()) return total_or.status();
  const int total = *total_or;
  if (total == 0) return 0;
  const PaddedBits in(data.substr(2));
  const size_t bits = in.bits();
  // The samples are written through pointers into room made for all of
  // them, then the vectors are cut to what was kept.
  const size_t old = t.size();
  t.resize(old + static_cast<size_t>(total));
  v.resize(old + static_cast<size_t>(total));
  int64_t* tp = t.data() + old;
  double* vp = v.data() + old;
  size_t kept = 0;
  bool stale_seen = false;
  size_t pos = 0;
  int leading = -1, trailing = 0;  // -1: no window yet.
  int64_t ts = 0;
  uint64_t delta = 0;
  uint64_t value_bits = 0;
  absl::Status error;
  for (int i = 0; i < total; ++i) {
    // The timestamp: sample 0 a varint, sample 1 a uvarint delta, the
    // others a delta of deltas: a prefix of up to four 1 bits, then 0, 14,
    // 17, 20 or 64 bits; negative numbers come back as high unsigned ones
    // (bstream.md). `w` holds the bits from `pos` on, of which `used` are
    // the timestamp's (DecodeValue takes the value from the rest).
    uint64_t w = 0;
    int used = 0;
    if (i >= 2) [[likely]] {
      w = in.Peek57(pos);
      used = 1;
      if ((w >> 63) != 0) {
        const int ones = std::min(std::countl_one(w), 4);
        static constexpr int kSizes[] = {0, 14, 17, 20, 64};
        const int size = kSizes[ones];
        const int prefix = ones < 4 ? ones + 1 : 4;
        int64_t dod;
        if (size == 64) {
          pos += static_cast<size_t>(prefix);
          dod = static_cast<int64_t>(in.Read(pos, 64));
          w = in.Peek57(pos);
          used = 0;
        } else {
          uint64_t b = (w << prefix) >> (64 - size);
          used = prefix + size;
          if (b > (uint64_t{1} << (size - 1))) b -= uint64_t{1} << size;
          dod = static_cast<int64_t>(b);
        }
        delta = static_cast<uint64_t>(static_cast<int64_t>(delta) + dod);
      }
      ts = static_cast<int64_t>(static_cast<uint64_t>(ts) + delta);
    } else if (i == 0) {
      if (!in.Varint(pos, ts)) {
        error =
            XorCorruption(where, pos, bits, i, total, "has a bad timestamp in");
        break;
      }
    } else {
      if (!in.Uvarint(pos, delta)) {
        error = XorCorruption(where, pos, bits, i, total, "has a bad delta in");
        break;
      }
      ts = static_cast<int64_t>(static_cast<uint64_t>(ts) + delta);
      w = in.Peek57(pos);
    }
    // The value: sample 0's 64 bits as they are, the others XORed.
    if (i == 0) {
      value_bits = in.Read(pos, 64);
    } else if (ValueError e =
                   DecodeValue(in, pos, w, used, value_bits, leading, trailing);
               e != ValueError::kNone) {
      error = ValueCorruption(where, pos, bits, i, total, e, leading, trailing);
      break;
    }
    if (pos > bits) {
      error = XorCorruption(where, pos, bits, i, total, "ends inside");
      break;
    }
    if (kBounded && ts > maxt) break;  // Samples are in time order.
    tp[kept] = ts;
    vp[kept] = std::bit_cast<double>(value_bits);
    stale_seen |= (value_bits == kStaleNaNBits) & (!kBounded || ts >= mint);
    kept += !kBounded || ts >= mint ? 1 : 0;
  }
  t.resize(old + kept);
  v.resize(old + kept);
  if (stale != nullptr && stale_seen) *stale = true;
  if (!error.ok()) return error;
  return static_cast<int>(kept);
}

}  // namespace

absl::StatusOr<int> DecodeXorChunk(absl::string_view data, int64_t mint,
                                   int64_t maxt, std::vector<int64_t>& t,
                                   std::vector<double>& v,
                                   absl::string_view where, bool* stale) {
  if (mint == std::numeric_limits<int64_t>::min() &&
      maxt == std::numeric_limits<int64_t>::max()) {
    return DecodeXor<false>(data, mint, maxt, t, v, where, stale);
  }
  return DecodeXor<true>(data, mint, maxt, t, v, where, stale);
}

}  // namespace promeval::tsdb
