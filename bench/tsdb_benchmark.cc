// The data directory reader's speed:
//   BM_XorDecode   every chunk of a block's chunk segment files (as
//                  Prometheus wrote them) decoded with tsdb::DecodeXorChunk,
//                  on one core; items_per_second is samples per second
//                  (bench/compare_tsdb.py runs it on the first block of its
//                  dataset and sets it against memcpy's bandwidth);
//   BM_TsdbQuery   with --dir=DIR --query=EXPR --start=S --end=E --step=D
//                  (seconds): the range query over the data directory,
//                  opened once, single-threaded (for profiling the reader
//                  under the engine).
//
// usage: tsdb_benchmark --chunks=BLOCK/chunks [--dir=DIR --query=EXPR
//                       --start=S --end=E --step=D] [benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "promeval/engine.h"
#include "promeval/tsdb.h"
#include "tsdb/chunks.h"
#include "tsdb/xor.h"

namespace promeval {
namespace {

std::vector<tsdb::RawChunk>& Chunks() {
  static std::vector<tsdb::RawChunk> chunks;
  return chunks;
}

int UvarintSize(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Every XOR chunk of the segment files in `dir`, in file order: each
// segment's chunks follow its 8-byte header back to back.
bool ReadChunks(const std::string& dir, std::unique_ptr<tsdb::ChunkReader>& r) {
  absl::StatusOr<std::unique_ptr<tsdb::ChunkReader>> reader =
      tsdb::ChunkReader::Open(dir);
  if (!reader.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(reader.status().message()).c_str());
    return false;
  }
  r = *std::move(reader);
  for (uint64_t segment = 0; segment < r->num_segments(); ++segment) {
    uint64_t offset = 8;
    while (true) {
      absl::StatusOr<tsdb::RawChunk> c = r->Chunk(segment << 32 | offset);
      if (!c.ok()) break;  // The end of the segment.
      if (c->encoding == static_cast<uint8_t>(tsdb::ChunkEncoding::kXor)) {
        Chunks().push_back(*c);
      }
      offset += UvarintSize(c->data.size()) + 1 + c->data.size() + 4;
    }
  }
  return !Chunks().empty();
}

void BM_XorDecode(benchmark::State& state) {
  std::vector<int64_t> t;
  std::vector<double> v;
  t.reserve(1024);
  v.reserve(1024);
  int64_t samples = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    for (const tsdb::RawChunk& c : Chunks()) {
      t.clear();
      v.clear();
      absl::StatusOr<int> n =
          tsdb::DecodeXorChunk(c.data, INT64_MIN, INT64_MAX, t, v, "benchmark");
      if (!n.ok()) {
        state.SkipWithError(std::string(n.status().message()).c_str());
        return;
      }
      samples += *n;
      bytes += static_cast<int64_t>(c.data.size());
      benchmark::DoNotOptimize(t.data());
      benchmark::DoNotOptimize(v.data());
    }
  }
  state.SetItemsProcessed(samples);
  state.counters["chunk_bytes_per_sample"] =
      static_cast<double>(bytes) / static_cast<double>(samples);
  state.counters["chunks"] = static_cast<double>(Chunks().size());
}

struct QueryArgs {
  std::string dir, query;
  double start = 0, end = 0, step = 60;
};

QueryArgs& Query() {
  static QueryArgs args;
  return args;
}

void BM_TsdbQuery(benchmark::State& state) {
  const QueryArgs& a = Query();
  absl::StatusOr<std::unique_ptr<TsdbQueryable>> db =
      TsdbQueryable::Open(a.dir);
  if (!db.ok()) {
    state.SkipWithError(std::string(db.status().message()).c_str());
    return;
  }
  EngineOptions options;
  options.workers = 1;
  std::unique_ptr<Engine> engine = *Engine::Create(options);
  for (auto _ : state) {
    absl::StatusOr<QueryResult> r =
        engine->RangeQuery(**db, a.query, static_cast<int64_t>(a.start * 1000),
                           static_cast<int64_t>(a.end * 1000),
                           static_cast<int64_t>(a.step * 1000));
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(r->matrix);
  }
}

}  // namespace
}  // namespace promeval

int main(int argc, char** argv) {
  std::string dir;
  std::vector<char*> rest;
  promeval::QueryArgs& q = promeval::Query();
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--chunks=", 0) == 0) {
      dir = arg.substr(9);
    } else if (arg.rfind("--dir=", 0) == 0) {
      q.dir = arg.substr(6);
    } else if (arg.rfind("--query=", 0) == 0) {
      q.query = arg.substr(8);
    } else if (arg.rfind("--start=", 0) == 0) {
      q.start = std::atof(arg.c_str() + 8);
    } else if (arg.rfind("--end=", 0) == 0) {
      q.end = std::atof(arg.c_str() + 6);
    } else if (arg.rfind("--step=", 0) == 0) {
      q.step = std::atof(arg.c_str() + 7);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: tsdb_benchmark --chunks=BLOCK/chunks\n");
    return 2;
  }
  std::unique_ptr<promeval::tsdb::ChunkReader> reader;
  if (!promeval::ReadChunks(dir, reader)) {
    std::fprintf(stderr, "%s: no XOR chunks\n", dir.c_str());
    return 1;
  }
  benchmark::RegisterBenchmark("BM_XorDecode", promeval::BM_XorDecode)
      ->Unit(benchmark::kMillisecond);
  if (!q.dir.empty()) {
    benchmark::RegisterBenchmark("BM_TsdbQuery", promeval::BM_TsdbQuery)
        ->Unit(benchmark::kMillisecond);
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
