// Range-query evaluation over the data of ../shared/bench/gen_thanos_like.py
// (1000 pods: 3000 http_requests_total and 1000 http_responses_total series,
// a sample every 30s for 6h) and bench/gen_histograms.py (100 classic
// histograms of 11 buckets): the queries of ../shared/bench/
// thanos_queries.txt and of the function library over 2h at a 30s step,
// single-threaded. The same
// queries and range run against a loopback Prometheus in
// bench/compare_prometheus.py, which prints both side by side.
//
//   build/bench/eval_benchmark --benchmark_repetitions=3
//   build/bench/eval_benchmark --query='sum(http_requests_total)'  (others)
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/thanos_workload.h"
#include "benchmark/benchmark.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"

namespace promeval {
namespace {

// The 2h window: from 3h to 5h after the first sample.
constexpr int64_t kStartMs = (bench::kThanosStartSeconds + 3 * 3600) * 1000;
constexpr int64_t kEndMs = (bench::kThanosStartSeconds + 5 * 3600) * 1000;
constexpr int64_t kStepMs = 30 * 1000;

std::vector<std::string>& Queries() {
  static auto* queries = new std::vector<std::string>{
      "http_requests_total",
      "rate(http_requests_total[1m])",
      "sum by (pod) (http_requests_total)",
      "sum by (pod) (rate(http_requests_total[1m]))",
      "http_requests_total * 10",
      "http_requests_total / on (pod) group_left http_responses_total",
      "topk(5, http_requests_total)",
      "sum(rate(http_requests_total[5m])) by (container)",
      "max_over_time(rate(http_requests_total[1m])[10m:1m])",
      // The function library (bench/compare_prometheus.py runs these too).
      "increase(http_requests_total[5m])",
      "avg_over_time(http_requests_total[5m])",
      "max_over_time(http_requests_total[5m])",
      "quantile_over_time(0.9, http_requests_total[5m])",
      "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(0.99, sum by (le) "
      "(rate(http_request_duration_seconds_bucket[5m])))",
  };
  return *queries;
}

MemStorage& Storage() {
  static MemStorage* storage = [] {
    auto* s = new MemStorage();
    TextLoadOptions options;
    options.format = TextFormat::kOpenMetrics;
    absl::StatusOr<LoadStats> stats =
        LoadText(bench::ThanosLikeOpenMetrics(1000), "thanos.om", options, *s);
    if (!stats.ok()) std::abort();
    stats = LoadText(bench::HistogramOpenMetrics(bench::kHistogramPods),
                     "histograms.om", options, *s);
    if (!stats.ok()) std::abort();
    return s;
  }();
  return *storage;
}

// EngineOptions::workers: 1 (single-threaded figures) unless --workers=N.
int& Workers() {
  static int workers = 1;
  return workers;
}

void BM_RangeQuery(benchmark::State& state) {
  const std::string& query = Queries()[state.range(0)];
  state.SetLabel(query);
  MemStorage& storage = Storage();
  EngineOptions options;
  options.workers = Workers();
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  size_t series = 0;
  int64_t samples_read = 0;
  for (auto _ : state) {
    absl::StatusOr<QueryResult> r =
        engine->RangeQuery(storage, query, kStartMs, kEndMs, kStepMs);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    series = r->matrix.size();
    samples_read = r->stats.samples_read;
    benchmark::DoNotOptimize(r->matrix.data());
  }
  state.counters["series"] = static_cast<double>(series);
  // The bytes of samples the query reads (16 per sample: time and value),
  // per second: to compare with BM_Memcpy's bandwidth.
  state.counters["touched_bytes_per_second"] =
      benchmark::Counter(static_cast<double>(samples_read) * 16,
                         benchmark::Counter::kIsIterationInvariantRate);
}

// The machine's memory bandwidth as memcpy sees it: 256 MB copied, far
// larger than the caches.
void BM_Memcpy(benchmark::State& state) {
  const size_t n = size_t{256} << 20;
  std::vector<char> from(n, 1), to(n, 0);
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), n);
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n);
}
}  // namespace
}  // namespace promeval

int main(int argc, char** argv) {
  // --query=EXPR (repeatable) replaces the built-in queries; --workers=N
  // evaluates with N threads (timed in wall-clock time then).
  std::vector<std::string> queries;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--query=", 0) == 0) {
      queries.push_back(arg.substr(8));
    } else if (arg.rfind("--workers=", 0) == 0) {
      promeval::Workers() = std::max(1, std::atoi(arg.c_str() + 10));
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!queries.empty()) promeval::Queries() = queries;
  benchmark::internal::Benchmark* b =
      benchmark::RegisterBenchmark("BM_RangeQuery", promeval::BM_RangeQuery)
          ->DenseRange(0, static_cast<int>(promeval::Queries().size()) - 1)
          ->Unit(benchmark::kMillisecond);
  if (promeval::Workers() > 1) b->UseRealTime();
  benchmark::RegisterBenchmark("BM_Memcpy", promeval::BM_Memcpy)
      ->Unit(benchmark::kMillisecond);
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
