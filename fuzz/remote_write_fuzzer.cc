// Fuzzes the remote write request's encoder (remote/write.h) by a round
// trip through the protobuf library, and the parser of an answer's
// Retry-After: the encoding of any series parses back to exactly those
// series (labels, timestamps, values bit for bit; the encoder writes into
// space it sized itself, so a wrong size is an AddressSanitizer error), and
// no Retry-After value crashes or gives a negative delay.
//
// Input: series, each a byte holding its label count (low 3 bits) and
// sample count (high 5 bits); then per label a length byte and the name,
// a length byte and the value; then per sample 16 bytes (the timestamp and
// the value's bits, little-endian). Inputs cut short end the series. The
// whole input is also given to ParseRetryAfter.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "promeval/labels.h"
#include "remote/proto/remote.pb.h"
#include "remote/write.h"

namespace {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool Byte(uint8_t& b) {
    if (p_ == end_) return false;
    b = *p_++;
    return true;
  }
  bool Bytes(size_t n, std::string& out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    out.assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }
  bool U64(uint64_t& v) {
    if (end_ - p_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += 8;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

struct Series {
  promeval::Labels labels;
  std::vector<int64_t> t;
  std::vector<double> v;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto d = promeval::remote::ParseRetryAfter(
          text, absl::FromUnixSeconds(1700000000));
      d && *d < absl::ZeroDuration()) {
    std::abort();
  }

  Input in(data, size);
  std::vector<Series> all;
  uint8_t head;
  while (in.Byte(head)) {
    std::vector<promeval::Label> labels;
    bool complete = true;
    for (int i = 0; i < (head & 7) && complete; ++i) {
      uint8_t n;
      promeval::Label l;
      complete = in.Byte(n) && in.Bytes(n, l.name) && in.Byte(n) &&
                 in.Bytes(n, l.value);
      if (complete) labels.push_back(std::move(l));
    }
    Series s;
    s.labels = promeval::Labels(std::move(labels));
    for (int i = 0; i < (head >> 3) && complete; ++i) {
      uint64_t t, bits;
      complete = in.U64(t) && in.U64(bits);
      if (!complete) break;
      double v;
      std::memcpy(&v, &bits, sizeof(v));
      s.t.push_back(static_cast<int64_t>(t));
      s.v.push_back(v);
    }
    all.push_back(std::move(s));
    if (!complete) break;
  }
  std::vector<promeval::remote::WriteSeries> series;
  for (const Series& s : all) series.push_back({&s.labels, s.t, s.v});
  std::string raw;
  promeval::remote::EncodeWriteRequest(series, raw);

  prometheus::WriteRequest req;
  if (!req.ParseFromString(raw)) std::abort();
  if (req.timeseries_size() != static_cast<int>(all.size())) std::abort();
  for (size_t i = 0; i < all.size(); ++i) {
    const prometheus::TimeSeries& ts = req.timeseries(static_cast<int>(i));
    const Series& s = all[i];
    if (ts.labels_size() != static_cast<int>(s.labels.size())) std::abort();
    for (size_t j = 0; j < s.labels.size(); ++j) {
      const prometheus::Label& l = ts.labels(static_cast<int>(j));
      if (l.name() != s.labels[j].name || l.value() != s.labels[j].value) {
        std::abort();
      }
    }
    if (ts.samples_size() != static_cast<int>(s.t.size())) std::abort();
    for (size_t j = 0; j < s.t.size(); ++j) {
      const prometheus::Sample& sample = ts.samples(static_cast<int>(j));
      const double got = sample.value();
      if (sample.timestamp() != s.t[j] ||
          std::memcmp(&got, &s.v[j], sizeof(got)) != 0) {
        std::abort();
      }
    }
  }
  return 0;
}
