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
    return Peek57(buf_, pos);
  }
  // The same from data() (kept in a register by the caller).
  [[gnu::always_inline]] static uint64_t Peek57(const unsigned char* buf,
                                                size_t pos) {
    uint64_t w;
    std::memcpy(&w, buf + (pos >> 3), 8);
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

  // Go's binary.ReadUvarint over the bit stream's bytes, from a byte
  // boundary (where the encoding puts them: the chunk's start and after
  // the first value's 64 bits).
  bool Uvarint(size_t& pos, uint64_t& out) const {
    uint64_t x = 0;
    for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
      const uint64_t b = buf_[pos >> 3];
      pos += 8;
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
  const unsigned char* data() const { return buf_; }

 private:
  // Reads start inside the data (at a sample's start) and go on for at
  // most one sample (145 bits), each loading 9 bytes.
  static constexpr size_t kPadding = 32;
  unsigned char small_[512];
  std::vector<unsigned char> large_;
  const unsigned char* buf_;
  size_t bits_;
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

// Where a chunk's decoding stands between two samples.
struct XorCursor {
  size_t pos = 0;  // The next sample's first bit.
  int64_t ts = 0;
  uint64_t delta = 0;
  uint64_t value_bits = 0;
  int leading = 0;
  int significant = 0;  // 0: no bit window yet.
};

// Decodes sample `i` at `c.pos` with every check (the reference decoder,
// and the one that reports errors): sample 0 is a varint timestamp and the
// value's 64 bits; sample 1 a uvarint delta; the others a delta of deltas:
// a prefix of up to four 1 bits, then 0, 14, 17, 20 or 64 bits, negative
// numbers coming back as high unsigned ones (bstream.md). A value after
// the first is 0 (unchanged), 10 (XORed with the bits in the previous
// window) or 11 (a new window: 5 bits of leading zeros, 6 of significant
// bits, 0 meaning 64), then the window's significant bits.
absl::Status DecodeSample(const PaddedBits& in, int i, int total,
                          absl::string_view where, XorCursor& c) {
  size_t& pos = c.pos;
  if (i == 0) {
    if (!in.Varint(pos, c.ts)) {
      return XorCorruption(where, pos, in.bits(), i, total,
                           "has a bad timestamp in");
    }
    c.value_bits = in.Read(pos, 64);
  } else {
    if (i == 1) {
      if (!in.Uvarint(pos, c.delta)) {
        return XorCorruption(where, pos, in.bits(), i, total,
                             "has a bad delta in");
      }
    } else {
      int ones = 0;
      while (ones < 4 && in.Read(pos, 1) != 0) ++ones;
      static constexpr int kSizes[] = {0, 14, 17, 20, 64};
      const int size = kSizes[ones];
      if (size != 0) {
        uint64_t b = in.Read(pos, size);
        if (size < 64 && b > (uint64_t{1} << (size - 1))) {
          b -= uint64_t{1} << size;
        }
        c.delta += b;
      }
    }
    c.ts = static_cast<int64_t>(static_cast<uint64_t>(c.ts) + c.delta);
    if (in.Read(pos, 1) != 0) {
      if (in.Read(pos, 1) != 0) {
        const int leading = static_cast<int>(in.Read(pos, 5));
        int significant = static_cast<int>(in.Read(pos, 6));
        if (significant == 0) significant = 64;
        if (leading + significant > 64) {
          return XorCorruption(
              where, pos, in.bits(), i, total,
              absl::StrCat("has ", leading, " leading and ", significant,
                           " significant bits in"));
        }
        c.leading = leading;
        c.significant = significant;
      } else if (c.significant == 0) {
        return XorCorruption(where, pos, in.bits(), i, total,
                             "reuses a bit window never set in");
      }
      c.value_bits ^= in.Read(pos, c.significant)
                      << (64 - c.leading - c.significant);
    }
  }
  if (pos > in.bits()) {
    return XorCorruption(where, pos, in.bits(), i, total, "ends inside");
  }
  return absl::OkStatus();
}

// Decodes samples after sample 1 from `c` on into tp[0..n) and vp[0..n)
// while they are plain: a delta of deltas of at most 20 bits, a value that
// fits in the 57 bits read at once with its timestamp, a good bit window,
// no bit past the data's, a timestamp <= maxt (the first one after maxt is
// written, and ends the run). Returns how many it wrote; `c` is after the
// last. DecodeSample decodes the sample it stops at (and says what is
// wrong with it, if anything).
//
// The hot loop: one load a sample (PaddedBits::Peek57) holds its timestamp
// and usually its value; the position is the only state the loads wait
// for. Few values are live, so that they all stay in registers, and each
// instruction counts (the loop runs at about four a cycle).
template <bool kBounded>
[[gnu::always_inline]] inline int DecodePlainSamples(const PaddedBits& in,
                                                     int64_t maxt, int n,
                                                     XorCursor& c, int64_t* tp,
                                                     double* vp) {
  const unsigned char* const data = in.data();
  const size_t bits = in.bits();
  size_t pos = c.pos;
  int64_t ts = c.ts;
  uint64_t delta = c.delta;
  uint64_t value_bits = c.value_bits;
  int significant = c.significant;
  int trailing = 64 - c.leading - c.significant;
  int64_t* t = tp;
  int64_t* const t_end = tp + n;
  const ptrdiff_t v_from_t =
      reinterpret_cast<char*>(vp) - reinterpret_cast<char*>(tp);
  while (t != t_end) {
    uint64_t w = PaddedBits::Peek57(data, pos);
    // The timestamp: after it, w begins with its last bit.
    int length = 2;  // A zero delta of deltas and an unchanged value.
    uint64_t new_delta = delta;
    if ((w >> 63) != 0) {
      const int ones = std::countl_one(w);
      if (ones >= 4) break;  // A 64-bit delta of deltas.
      static constexpr int kSizes[] = {0, 14, 17, 20};
      const int size = kSizes[ones];
      uint64_t b = (w << (ones + 1)) >> (64 - size);
      if (b > (uint64_t{1} << (size - 1))) b -= uint64_t{1} << size;
      new_delta += b;
      w <<= ones + size;
      length += ones + size;
    }
    // The value.
    const uint64_t x = w << 1;
    if ((x >> 63) != 0) {
      int sig = significant;
      int trail = trailing;
      int head = 2;
      if (((x >> 62) & 1) != 0) {
        const int lead = static_cast<int>((x >> 57) & 31);
        sig = static_cast<int>((x >> 51) & 63);
        sig = sig == 0 ? 64 : sig;
        trail = 64 - lead - sig;
        if (trail < 0) break;
        head = 13;
      } else if (sig == 0) {
        break;  // No window yet.
      }
      length += head + sig - 1;
      if (length > 57 || pos + static_cast<size_t>(length) > bits) break;
      // sig <= 55 here.
      value_bits ^= ((x << head) >> (64 - sig)) << trail;
      significant = sig;
      trailing = trail;
    } else if (pos + static_cast<size_t>(length) > bits) {
      break;
    }
    pos += static_cast<size_t>(length);
    delta = new_delta;
    ts = static_cast<int64_t>(static_cast<uint64_t>(ts) + delta);
    *t = ts;
    std::memcpy(reinterpret_cast<char*>(t) + v_from_t, &value_bits, 8);
    ++t;
    if (kBounded && ts > maxt) break;
  }
  c.pos = pos;
  c.ts = ts;
  c.delta = delta;
  c.value_bits = value_bits;
  c.leading = 64 - trailing - significant;
  c.significant = significant;
  return static_cast<int>(t - tp);
}

// DecodePlainSamples compiled for processors with BMI2 (shifts by a
// register that does not have to be CL: fewer instructions in the loop)
// and for the others; chosen once.
template <bool kBounded>
[[gnu::noinline, gnu::target("bmi2,lzcnt")]] int DecodePlainSamplesBmi2(
    const PaddedBits& in, int64_t maxt, int n, XorCursor& c, int64_t* tp,
    double* vp) {
  return DecodePlainSamples<kBounded>(in, maxt, n, c, tp, vp);
}

template <bool kBounded>
[[gnu::noinline]] int DecodePlainSamplesBase(const PaddedBits& in, int64_t maxt,
                                             int n, XorCursor& c, int64_t* tp,
                                             double* vp) {
  return DecodePlainSamples<kBounded>(in, maxt, n, c, tp, vp);
}

int DecodePlain(const PaddedBits& in, int64_t maxt, int n, XorCursor& c,
                int64_t* tp, double* vp) {
  // Every processor with BMI2 (Intel Haswell, AMD Excavator and later)
  // has LZCNT too.
  static const bool bmi2 = __builtin_cpu_supports("bmi2");
  if (maxt == std::numeric_limits<int64_t>::max()) {
    return bmi2 ? DecodePlainSamplesBmi2<false>(in, maxt, n, c, tp, vp)
                : DecodePlainSamplesBase<false>(in, maxt, n, c, tp, vp);
  }
  return bmi2 ? DecodePlainSamplesBmi2<true>(in, maxt, n, c, tp, vp)
              : DecodePlainSamplesBase<true>(in, maxt, n, c, tp, vp);
}

}  // namespace

absl::StatusOr<int> DecodeXorChunk(absl::string_view data, int64_t mint,
                                   int64_t maxt, std::vector<int64_t>& t,
                                   std::vector<double>& v,
                                   absl::string_view where, bool* stale) {
  absl::StatusOr<int> total_or = XorChunkSamples(data, where);
  if (!total_or.ok()) return total_or.status();
  const int total = *total_or;
  if (total == 0) return 0;
  const PaddedBits in(data.substr(2));
  // The samples are written through pointers into room made for all of
  // them, then the ones outside [mint, maxt] are cut.
  const size_t old = t.size();
  t.resize(old + static_cast<size_t>(total));
  v.resize(old + static_cast<size_t>(total));
  int64_t* const tp = t.data() + old;
  double* const vp = v.data() + old;
  XorCursor c;
  absl::Status error;
  int i = 0;  // Samples written.
  while (i < total && (i == 0 || tp[i - 1] <= maxt)) {
    if (i >= 2) {
      i += DecodePlain(in, maxt, total - i, c, tp + i, vp + i);
      if (i == total || tp[i - 1] > maxt) break;
    }
    error = DecodeSample(in, i, total, where, c);
    if (!error.ok()) break;
    tp[i] = c.ts;
    vp[i] = std::bit_cast<double>(c.value_bits);
    ++i;
  }
  // Samples are in time order: the ones to cut are at the ends.
  size_t end = static_cast<size_t>(i);
  while (end > 0 && tp[end - 1] > maxt) --end;
  const size_t begin =
      mint == std::numeric_limits<int64_t>::min()
          ? 0
          : static_cast<size_t>(std::lower_bound(tp, tp + end, mint) - tp);
  if (begin > 0) {
    std::memmove(tp, tp + begin, (end - begin) * sizeof(int64_t));
    std::memmove(vp, vp + begin, (end - begin) * sizeof(double));
  }
  const size_t kept = end - begin;
  t.resize(old + kept);
  v.resize(old + kept);
  if (stale != nullptr && !*stale) {
    // Stale markers are rare: looked for afterwards, in what was kept.
    bool seen = false;
    for (size_t k = 0; k < kept; ++k) {
      seen |= std::bit_cast<uint64_t>(vp[k]) == kStaleNaNBits;
    }
    *stale = seen;
  }
  if (!error.ok()) return error;
  return static_cast<int>(kept);
}

}  // namespace promeval::tsdb
