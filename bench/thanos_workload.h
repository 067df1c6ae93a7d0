// The dataset of ../shared/bench/gen_thanos_like.py, generated in memory:
// per pod three http_requests_total series (container c0..c2) and one
// http_responses_total series, a sample every 30s for 6h from 1700000000s,
// as OpenMetrics text. The same bytes as the script writes, so benchmarks
// and the whole-process comparisons (bench/compare_prometheus.py) read the
// same data.
#ifndef PROMEVAL_BENCH_THANOS_WORKLOAD_H_
#define PROMEVAL_BENCH_THANOS_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace promeval::bench {

inline constexpr int64_t kThanosStartSeconds = 1700000000;
inline constexpr int kThanosSamples = 720;  // 6h at 30s.

inline std::string ThanosLikeOpenMetrics(int pods) {
  std::string out = "# TYPE http_requests counter\n";
  for (int p = 0; p < pods; ++p) {
    for (int c = 0; c < 3; ++c) {
      for (int i = 0; i < kThanosSamples; ++i) {
        absl::StrAppend(&out, "http_requests_total{pod=\"p", p,
                        "\",container=\"c", c, "\"} ", i * (p % 7 + c + 1), " ",
                        kThanosStartSeconds + i * 30, "\n");
      }
    }
  }
  out += "# TYPE http_responses counter\n";
  for (int p = 0; p < pods; ++p) {
    for (int i = 0; i < kThanosSamples; ++i) {
      absl::StrAppend(&out, "http_responses_total{pod=\"p", p, "\"} ",
                      i * (p % 5 + 1), " ", kThanosStartSeconds + i * 30, "\n");
    }
  }
  out += "# EOF\n";
  return out;
}

// Classic histograms for histogram_quantile: per pod one
// http_request_duration_seconds histogram (11 buckets), the same 6h at 30s.
// Bucket b of pod p counts i * (b + 1 + p % 4) at sample i. The same bytes as
// bench/gen_histograms.py writes.
inline constexpr int kHistogramPods = 100;
inline constexpr const char* kHistogramBounds[] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
    "0.5",   "1",    "2.5",   "5",    "+Inf"};

inline std::string HistogramOpenMetrics(int pods) {
  std::string out = "# TYPE http_request_duration_seconds histogram\n";
  for (int p = 0; p < pods; ++p) {
    for (int b = 0; b < 11; ++b) {
      for (int i = 0; i < kThanosSamples; ++i) {
        absl::StrAppend(&out, "http_request_duration_seconds_bucket{pod=\"p", p,
                        "\",le=\"", kHistogramBounds[b], "\"} ",
                        i * (b + 1 + p % 4), " ", kThanosStartSeconds + i * 30,
                        "\n");
      }
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace promeval::bench

#endif  // PROMEVAL_BENCH_THANOS_WORKLOAD_H_
