// Encoders for the tests of the data directory reader: Go's integer
// encodings and Prometheus's XOR chunk encoder, written from the format
// documents (bstream.md, tsdb/chunkenc/xor.go's behaviour) and independent
// of the reader under test.
#ifndef PROMEVAL_TESTS_TSDB_ENCODE_H_
#define PROMEVAL_TESTS_TSDB_ENCODE_H_

#include <bit>
#include <cstdint>
#include <string>

namespace promeval::tsdb::encode {

inline void PutByte(std::string& s, uint8_t b) {
  s.push_back(static_cast<char>(b));
}
inline void PutBe16(std::string& s, uint16_t x) {
  PutByte(s, x >> 8);
  PutByte(s, x & 0xff);
}
inline void PutBe32(std::string& s, uint32_t x) {
  PutBe16(s, x >> 16);
  PutBe16(s, x & 0xffff);
}
inline void PutBe64(std::string& s, uint64_t x) {
  PutBe32(s, x >> 32);
  PutBe32(s, x & 0xffffffffu);
}
inline void PutUvarint(std::string& s, uint64_t x) {
  while (x >= 0x80) {
    PutByte(s, static_cast<uint8_t>(x | 0x80));
    x >>= 7;
  }
  PutByte(s, static_cast<uint8_t>(x));
}
inline void PutVarint(std::string& s, int64_t x) {
  PutUvarint(s,
             (static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63));
}

// Prometheus's XOR chunk encoder (tsdb/chunkenc/xor.go; bstream.md):
// Add the samples in time order, then take the chunk's Bytes (the
// encoding byte not included).
class XorChunk {
 public:
  XorChunk& Add(int64_t t, double v) {
    const uint64_t vbits = std::bit_cast<uint64_t>(v);
    if (n_ == 0) {
      std::string b;
      PutVarint(b, t);
      for (char c : b) Bits(static_cast<uint8_t>(c), 8);
      Bits(vbits, 64);
    } else if (n_ == 1) {
      delta_ = static_cast<uint64_t>(t - t_);
      std::string b;
      PutUvarint(b, delta_);
      for (char c : b) Bits(static_cast<uint8_t>(c), 8);
      Value(vbits);
    } else {
      const uint64_t delta = static_cast<uint64_t>(t - t_);
      const auto dod = static_cast<int64_t>(delta - delta_);
      auto fits = [&](int nbits) {
        return -((int64_t{1} << (nbits - 1)) - 1) <= dod &&
               dod <= (int64_t{1} << (nbits - 1));
      };
      if (dod == 0) {
        Bits(0, 1);
      } else if (fits(14)) {
        Bits(0b10, 2);
        Bits(static_cast<uint64_t>(dod), 14);
      } else if (fits(17)) {
        Bits(0b110, 3);
        Bits(static_cast<uint64_t>(dod), 17);
      } else if (fits(20)) {
        Bits(0b1110, 4);
        Bits(static_cast<uint64_t>(dod), 20);
      } else {
        Bits(0b1111, 4);
        Bits(static_cast<uint64_t>(dod), 64);
      }
      delta_ = delta;
      Value(vbits);
    }
    t_ = t;
    v_ = vbits;
    ++n_;
    return *this;
  }
  std::string Bytes() const {
    std::string out;
    PutBe16(out, static_cast<uint16_t>(n_));
    return out + bits_;
  }

 private:
  void Bits(uint64_t x, int n) {
    for (int i = n - 1; i >= 0; --i) {
      if (used_ % 8 == 0) bits_.push_back('\0');
      if ((x >> i) & 1) bits_.back() |= static_cast<char>(0x80 >> (used_ % 8));
      ++used_;
    }
  }
  void Value(uint64_t vbits) {
    const uint64_t x = vbits ^ v_;
    if (x == 0) {
      Bits(0, 1);
      return;
    }
    Bits(1, 1);
    int leading = std::countl_zero(x);
    const int trailing = std::countr_zero(x);
    if (leading >= 32) leading = 31;
    if (leading_ >= 0 && leading >= leading_ && trailing >= trailing_) {
      Bits(0, 1);
      Bits(x >> trailing_, 64 - leading_ - trailing_);
      return;
    }
    leading_ = leading;
    trailing_ = trailing;
    Bits(1, 1);
    Bits(static_cast<uint64_t>(leading), 5);
    const int sig = 64 - leading - trailing;
    Bits(static_cast<uint64_t>(sig & 63), 6);
    Bits(x >> trailing, sig);
  }

  std::string bits_;
  int64_t used_ = 0;
  int n_ = 0;
  int64_t t_ = 0;
  uint64_t delta_ = 0;
  uint64_t v_ = 0;
  int leading_ = -1, trailing_ = 0;
};

}  // namespace promeval::tsdb::encode

#endif  // PROMEVAL_TESTS_TSDB_ENCODE_H_
