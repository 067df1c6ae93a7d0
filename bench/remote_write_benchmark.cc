// Remote write throughput: commits synthetic samples (SERIES series, one
// sample each a commit, as a scrape or a rule evaluation appends them) to a
// RemoteWriter and measures the samples per second from the first commit to
// the end of Close(), with the writer's own CPU time. Against a receiver
// (--url, e.g. a loopback Prometheus with --web.enable-remote-write-receiver:
// bench/compare_remote_write.py) or against a client that sends nothing
// (--null: the sender's own cost, encoding and compressing).
//
// usage: remote_write_benchmark (--url URL | --null) [--series 10000]
//          [--samples 200] [--shards 4] [--max-samples-per-send 2000]
//          [--start-ms T] [--interval-ms 15000]
// Prints one JSON line; exits 1 if any sample was not written.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "promeval/remote.h"
#include "remote/http_client.h"

namespace {

// Accepts everything without sending it anywhere.
class NullClient : public promeval::remote::HttpClient {
 public:
  absl::StatusOr<promeval::remote::HttpResponse> Post(
      absl::string_view, const promeval::remote::HttpHeaders&,
      absl::string_view, int64_t) override {
    promeval::remote::HttpResponse r;
    r.status = 204;
    return r;
  }
};

double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "remote_write_benchmark: %s\nusage: remote_write_benchmark "
               "(--url URL | --null) [--series N] [--samples N] [--shards N] "
               "[--max-samples-per-send N] [--start-ms T] [--interval-ms N]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  bool null = false;
  int64_t series = 10000, samples = 200, interval_ms = 15000;
  int64_t start_ms = -1;
  promeval::RemoteWriteOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--null") {
      null = true;
      continue;
    }
    if (i + 1 >= argc) Usage(("missing value of " + arg).c_str());
    const char* value = argv[++i];
    int64_t n = 0;
    const bool number = absl::SimpleAtoi(value, &n);
    if (arg == "--url") {
      url = value;
    } else if (number && arg == "--series") {
      series = n;
    } else if (number && arg == "--samples") {
      samples = n;
    } else if (number && arg == "--shards") {
      options.shards = static_cast<int>(n);
    } else if (number && arg == "--max-samples-per-send") {
      options.max_samples_per_send = static_cast<int>(n);
    } else if (number && arg == "--start-ms") {
      start_ms = n;
    } else if (number && arg == "--interval-ms") {
      interval_ms = n;
    } else {
      Usage(("bad argument " + arg).c_str());
    }
  }
  if (url.empty() == !null) Usage("give --url or --null");
  if (start_ms < 0) {
    // The samples end now (a receiver takes them in order without an
    // out-of-order window).
    start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               samples * interval_ms;
  }
  options.endpoint.url = null ? "http://null/" : url;
  options.capacity =
      std::max<int64_t>(options.capacity, 2 * options.max_samples_per_send);
  absl::StatusOr<std::unique_ptr<promeval::RemoteWriter>> writer =
      null ? promeval::RemoteWriter::Create(options,
                                            std::make_unique<NullClient>())
           : promeval::RemoteWriter::Create(options);
  if (!writer.ok()) {
    std::fprintf(stderr, "remote_write_benchmark: %s\n",
                 std::string(writer.status().message()).c_str());
    return 2;
  }
  // The label sets exist before the clock starts, as a caller's do.
  std::vector<promeval::Labels> labels;
  labels.reserve(series);
  for (int64_t s = 0; s < series; ++s) {
    labels.push_back(
        promeval::Labels{{"__name__", "bench_requests_total"},
                         {"instance", absl::StrCat("host-", s % 100, ":9100")},
                         {"job", "bench"},
                         {"series", absl::StrCat(s)}});
  }
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t k = 0; k < samples; ++k) {
    std::unique_ptr<promeval::Appender> app = (*writer)->NewAppender();
    const int64_t t = start_ms + k * interval_ms;
    for (int64_t s = 0; s < series; ++s) {
      app->Append(labels[s], t, static_cast<double>(k * 10 + s % 7));
    }
    absl::Status committed = app->Commit();
    if (!committed.ok()) {
      std::fprintf(stderr, "remote_write_benchmark: %s\n",
                   std::string(committed.message()).c_str());
      return 1;
    }
  }
  const absl::Status closed = (*writer)->Close();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double cpu = CpuSeconds() - cpu_start;
  const promeval::RemoteWriteStats st = (*writer)->stats();
  std::printf(
      "{\"samples\":%lld,\"seconds\":%.6f,\"samplesPerSecond\":%.0f,"
      "\"cpuSeconds\":%.6f,\"encodeSeconds\":%.6f,\"sendSeconds\":%.6f,"
      "\"requests\":%lld,\"retries\":%lld,\"bytesSent\":%lld,"
      "\"samplesSent\":%lld}\n",
      static_cast<long long>(series * samples), wall,
      static_cast<double>(series * samples) / wall, cpu, st.encode_ns / 1e9,
      st.send_ns / 1e9, static_cast<long long>(st.requests),
      static_cast<long long>(st.retries), static_cast<long long>(st.bytes_sent),
      static_cast<long long>(st.samples_sent));
  if (!closed.ok()) {
    std::fprintf(stderr, "remote_write_benchmark: %s\n",
                 std::string(closed.message()).c_str());
    return 1;
  }
  return 0;
}
