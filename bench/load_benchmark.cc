// Loading OpenMetrics text into the in-memory store: the data of
// ../shared/bench/gen_thanos_like.py (1000 pods: 4000 series, 2.88M samples,
// 170 MB). Reports bytes per second on one core.
//
//   build/bench/load_benchmark --benchmark_repetitions=3
#include <string>

#include "bench/thanos_workload.h"
#include "benchmark/benchmark.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

namespace promeval {
namespace {

void BM_LoadOpenMetrics(benchmark::State& state) {
  const std::string content =
      bench::ThanosLikeOpenMetrics(static_cast<int>(state.range(0)));
  TextLoadOptions options;
  options.format = TextFormat::kOpenMetrics;
  int64_t samples = 0;
  for (auto _ : state) {
    MemStorage storage;
    absl::StatusOr<LoadStats> stats =
        LoadText(content, "thanos.om", options, storage);
    if (!stats.ok()) {
      state.SkipWithError(std::string(stats.status().message()).c_str());
      return;
    }
    samples = stats->samples;
    benchmark::DoNotOptimize(storage.NumSamples());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(content.size()));
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["samples_per_second"] =
      benchmark::Counter(static_cast<double>(samples * state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoadOpenMetrics)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace promeval

BENCHMARK_MAIN();
