// How evaluation time and memory grow with the number of series and of steps
// for `sum by (pod) (rate(x[1m]))`: a range query over `steps` one-minute
// steps of `series` counters (a sample every 30s, 100 pods), single-threaded.
// Reports, besides the time, the engine's peak of values held (peak_MB, its
// estimate) and the process's resident memory growth during the query
// (rss_MB: the kernel's peak RSS, reset before each query); the store's own
// samples are not counted in either. Both grow with the output (pods x
// steps) plus one block of input series at a time, not with series x steps:
// the aggregation takes rate()'s output series as they are made.
//
//   build/bench/cost_growth                       the whole grid
//   build/bench/cost_growth --benchmark_filter=/10000/   one column
//
// The 100k-series x 10k-step corner (2 billion samples, 32 GB) is left out.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "promeval/engine.h"
#include "promeval/storage.h"

namespace promeval {
namespace {

constexpr int64_t kScrapeMs = 30 * 1000;
constexpr int64_t kStepMs = 60 * 1000;
constexpr int kPods = 100;

// The store of the current grid point (one at a time: they are large).
MemStorage& Data(int series, int steps) {
  static std::unique_ptr<MemStorage> storage;
  static std::pair<int, int> current;
  if (storage == nullptr || current != std::make_pair(series, steps)) {
    storage = nullptr;
    storage = std::make_unique<MemStorage>();
    current = {series, steps};
    const int samples = 2 * steps + 4;  // Covers the first window too.
    std::vector<int64_t> t(samples);
    std::vector<double> v(samples);
    for (int i = 0; i < samples; ++i) t[i] = i * kScrapeMs;
    std::unique_ptr<Appender> app = storage->NewAppender();
    for (int s = 0; s < series; ++s) {
      for (int i = 0; i < samples; ++i)
        v[i] = static_cast<double>(i * (s % 7 + 1));
      app->AppendSamples(Labels({{"__name__", "x"},
                                 {"pod", absl::StrCat("p", s % kPods)},
                                 {"i", absl::StrCat(s)}}),
                         t, v);
    }
    if (!app->Commit().ok()) std::abort();
  }
  return *storage;
}

// A memory figure of /proc/self/status ("VmHWM:" the kernel's peak resident
// set, "VmRSS:" the current one), in bytes.
int64_t StatusBytes(absl::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, field)) {
      return std::atoll(line.c_str() + field.size()) * 1024;
    }
  }
  return 0;
}
int64_t PeakRss() { return StatusBytes("VmHWM:"); }
int64_t CurrentRss() { return StatusBytes("VmRSS:"); }
// Resets the peak to the current resident set (Linux).
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void BM_SumRate(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  const int steps = static_cast<int>(state.range(1));
  MemStorage& storage = Data(series, steps);
  EngineOptions options;
  options.workers = 1;
  options.max_samples = int64_t{1} << 40;
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  const int64_t start = 2 * kStepMs;
  const int64_t end = start + (steps - 1) * kStepMs;
  int64_t peak_bytes = 0, rss_growth = 0;
  for (auto _ : state) {
    // Freed memory goes back to the system first, so that what the query
    // allocates shows as growth.
    malloc_trim(0);
    ResetPeakRss();
    const int64_t before = CurrentRss();
    absl::StatusOr<QueryResult> r = engine->RangeQuery(
        storage, "sum by (pod) (rate(x[1m]))", start, end, kStepMs);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    peak_bytes = r->stats.peak_bytes;
    // The first run's growth: later ones reuse what the allocator kept.
    rss_growth = std::max(rss_growth, PeakRss() - before);
    benchmark::DoNotOptimize(r->matrix.data());
  }
  state.counters["peak_MB"] = static_cast<double>(peak_bytes) / 1e6;
  state.counters["rss_MB"] = static_cast<double>(rss_growth) / 1e6;
  state.counters["ns_per_series_step"] =
      benchmark::Counter(static_cast<double>(series) * steps,
                         benchmark::Counter::kIsIterationInvariantRate |
                             benchmark::Counter::kInvert);
}

void Grid(benchmark::internal::Benchmark* b) {
  for (int series : {1000, 10000, 100000}) {
    for (int steps : {100, 1000, 10000}) {
      if (static_cast<int64_t>(series) * steps > 100000000) continue;
      b->Args({series, steps});
    }
  }
}

BENCHMARK(BM_SumRate)->Apply(Grid)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace promeval

BENCHMARK_MAIN();
