// Parsing throughput over a realistic mix of PromQL expressions: short
// selectors, typical recording/alerting rule expressions, and a generated
// 2 KB rule expression. Reports expressions and bytes per second.
//
//   build/bench/parse_benchmark --benchmark_repetitions=5
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "promeval/parser.h"

namespace promeval {
namespace {

// A ~2 KB expression of the kind rule generators write: an `or` of
// per-service error-ratio alerts.
std::string LongRuleExpression() {
  std::string out;
  for (int i = 0; out.size() < 2000; ++i) {
    if (i > 0) out += " or ";
    absl::StrAppend(
        &out, "(sum by (job, instance) (rate(http_requests_total{job=\"svc", i,
        "\",code=~\"5..\"}[5m])) / sum by (job, instance) "
        "(rate(http_requests_total{job=\"svc",
        i, "\"}[5m])) > 0.05)");
  }
  return out;
}

const std::vector<std::string>& Mix() {
  static const auto* mix = new std::vector<std::string>{
      "up",
      "up{job=\"node\"}",
      "node_cpu_seconds_total{mode!=\"idle\",instance=~\"web-.*\"}",
      "rate(http_requests_total[5m])",
      "sum by (job, instance) "
      "(rate(metric_total{job=~\"api|web\",env!=\"dev\"}[5m]))",
      "histogram_quantile(0.99, sum by (le, job) (rate(lat_bucket[5m])))",
      "sum by (job) (rate(err_total[5m])) / sum by (job) (rate(req_total[5m])) "
      "> 0.05",
      "(max_over_time(g[10m]) - min_over_time(g[10m])) / on (instance) "
      "group_left (team) info * 100",
      "avg_over_time(node_load1[1h] offset 1d @ end())",
      "max_over_time(rate(x_total[1m])[30m:1m])",
      "label_replace(up, \"host\", \"$1\", \"instance\", \"([^:]+):.*\")",
      "topk(5, sum without (instance) (rate(bytes_total[5m])))",
      "absent(up{job=\"batch\"} == 1) or vector(0)",
      "predict_linear(node_filesystem_free_bytes[6h], 4 * 3600) < 0",
      LongRuleExpression(),
  };
  return *mix;
}

void BM_ParseMix(benchmark::State& state) {
  const auto& mix = Mix();
  size_t bytes = 0;
  for (const std::string& e : mix) bytes += e.size();
  for (auto _ : state) {
    for (const std::string& e : mix) {
      absl::StatusOr<ExprPtr> parsed = ParseExpr(e);
      if (!parsed.ok()) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetItemsProcessed(state.iterations() * mix.size());
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_ParseMix);

// One expression at a time, to see the cost by size.
void BM_ParseOne(benchmark::State& state) {
  const std::string& e = Mix()[state.range(0)];
  for (auto _ : state) {
    absl::StatusOr<ExprPtr> parsed = ParseExpr(e);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetLabel(absl::StrCat(e.size(), " bytes"));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * e.size());
}
BENCHMARK(BM_ParseOne)->Arg(0)->Arg(4)->Arg(7)->Arg(14);

void BM_ParseError(benchmark::State& state) {
  const std::string e = "sum by (job) (rate(foo{a=\"b\" c}[5m]))";
  for (auto _ : state) {
    absl::StatusOr<ExprPtr> parsed = ParseExpr(e);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseError);

}  // namespace
}  // namespace promeval

BENCHMARK_MAIN();
