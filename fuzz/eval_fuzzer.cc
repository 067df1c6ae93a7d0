// Fuzzes query evaluation: the input is a PromQL expression, evaluated as an
// instant and as a range query over a small fixed dataset with every
// experimental feature on, tight limits and parallel evaluation. Errors are
// fine; crashes, hangs, and results that ignore the limits are not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/parser.h"
#include "promeval/storage.h"

namespace {

// Counters with a reset, gauges with NaN/Inf, a stale marker, classic
// histogram buckets, an info metric, and series that start and stop.
constexpr absl::string_view kData = R"(load 30s
  http_requests_total{job="api", instance="a:9090", code="200"} 0+10x20 5+10x20
  http_requests_total{job="api", instance="b:9090", code="500"} 0+1x40
  http_requests_total{job="db", instance="c:9090", code="200"} _x10 1+2x30
  node_temp{instance="a:9090"} 20 21 NaN 23 Inf -Inf 19 stale 18 17 -1+0.5x30
  node_temp{instance="b:9090"} 1e308 -1e308 0 -0 1e-300 _ _ 4x30
  req_bucket{le="0.1", job="api"} 0+1x40
  req_bucket{le="0.5", job="api"} 0+3x40
  req_bucket{le="+Inf", job="api"} 0+4x40
  req_bucket{le="bad", job="db"} 0+1x40
  target_info{instance="a:9090", job="api", version="1.2"} 1x40
  up{instance="a:9090", job="api"} 1 1 0 1 stale
)";

promeval::Storage& Data() {
  static promeval::MemStorage* storage = [] {
    auto* s = new promeval::MemStorage();
    if (!promeval::LoadSeriesScript(kData, "fuzz.load", *s).ok()) std::abort();
    return s;
  }();
  return *storage;
}

const promeval::Engine& TheEngine() {
  static const promeval::Engine* engine = [] {
    promeval::EngineOptions o;
    o.max_samples = 50000;
    o.timeout = absl::Seconds(2);
    o.parser = promeval::ParseOptions::AllEnabled();
    o.delayed_name_removal = true;
    // Two threads that split even the smallest loops: the parallel paths
    // are fuzzed too.
    o.workers = 2;
    o.parallel_min_series = 1;
    return promeval::Engine::Create(o)->release();
  }();
  return *engine;
}

void CheckLimits(const promeval::QueryResult& r) {
  size_t points = r.vector.size();
  for (const promeval::Series& s : r.matrix) points += s.points.size();
  if (points > static_cast<size_t>(TheEngine().options().max_samples)) {
    std::fprintf(stderr, "result of %zu samples passed the limit\n", points);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view query(reinterpret_cast<const char*>(data), size);
  const promeval::Engine& engine = TheEngine();
  // Parsed once (the parser has its own fuzzer), evaluated twice.
  absl::StatusOr<promeval::ExprPtr> expr =
      promeval::ParseExpr(query, engine.options().parser);
  if (!expr.ok()) return 0;
  auto instant = engine.Evaluate(Data(), **expr, query, 600 * 1000, 600 * 1000,
                                 0, /*instant=*/true);
  if (instant.ok()) CheckLimits(*instant);
  auto range = engine.Evaluate(Data(), **expr, query, 0, 1200 * 1000, 60 * 1000,
                               /*instant=*/false);
  if (range.ok()) CheckLimits(*range);
  return 0;
}
