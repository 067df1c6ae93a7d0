// `promeval tsdb info DIR...`: the blocks and the head of Prometheus data
// directories, as `promtool tsdb list` shows blocks.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "promeval/text.h"
#include "promeval/tsdb.h"

namespace promeval::cli {
namespace {

// The table of one directory.
std::string InfoText(const TsdbInfo& info) {
  std::string out = absl::StrCat(info.dir, "\n");
  absl::StrAppendFormat(&out, "%-28s %-24s %-24s %12s %10s %8s %5s\n",
                        "BLOCK ULID", "MIN TIME", "MAX TIME", "SAMPLES",
                        "CHUNKS", "SERIES", "LEVEL");
  for (const TsdbBlockInfo& b : info.blocks) {
    absl::StrAppendFormat(&out, "%-28s %-24s %-24s %12d %10d %8d %5d\n", b.ulid,
                          FormatRfc3339Millis(b.min_time),
                          FormatRfc3339Millis(b.max_time), b.samples, b.chunks,
                          b.series, b.compaction_level);
  }
  const TsdbHeadInfo& h = info.head;
  if (!h.present) {
    absl::StrAppend(&out, "head: none (no wal/)\n");
    return out;
  }
  if (h.samples == 0) {
    absl::StrAppend(&out, "head: no samples");
  } else {
    absl::StrAppendFormat(&out, "head: %s to %s, %d samples, %d series",
                          FormatRfc3339Millis(h.min_time),
                          FormatRfc3339Millis(h.max_time), h.samples, h.series);
  }
  absl::StrAppend(&out, " (",
                  h.checkpoint >= 0
                      ? absl::StrCat("checkpoint ", h.checkpoint, ", ")
                      : std::string(),
                  h.wal_segments, " WAL segments, ", h.mmapped_chunks,
                  " head chunks, ", h.ooo_samples, " out-of-order samples");
  if (h.histogram_series > 0) {
    absl::StrAppend(&out, ", ", h.histogram_series,
                    " series of native histograms left out");
  }
  if (h.torn_tail) absl::StrAppend(&out, ", a torn record at the end");
  absl::StrAppend(&out, ")\n");
  for (const std::string& w : h.warnings) {
    absl::StrAppend(&out, "warning: ", w, "\n");
  }
  return out;
}

nlohmann::json InfoJson(const TsdbInfo& info) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const TsdbBlockInfo& b : info.blocks) {
    blocks.push_back({{"ulid", b.ulid},
                      {"minTime", b.min_time},
                      {"maxTime", b.max_time},
                      {"samples", b.samples},
                      {"chunks", b.chunks},
                      {"series", b.series},
                      {"compactionLevel", b.compaction_level}});
  }
  const TsdbHeadInfo& h = info.head;
  nlohmann::json head = nullptr;
  if (h.present) {
    head = {{"minTime", h.min_time},
            {"maxTime", h.max_time},
            {"samples", h.samples},
            {"series", h.series},
            {"checkpoint", h.checkpoint},
            {"walSegments", h.wal_segments},
            {"headChunks", h.mmapped_chunks},
            {"outOfOrderSamples", h.ooo_samples},
            {"histogramSeries", h.histogram_series},
            {"tornTail", h.torn_tail},
            {"warnings", h.warnings}};
  }
  return {{"dir", info.dir}, {"blocks", blocks}, {"head", head}};
}

}  // namespace

void RegisterTsdb(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> dirs;
    std::string format = "text";
  };
  auto o = std::make_shared<Options>();
  CLI::App* tsdb =
      app.add_subcommand("tsdb", "Look at Prometheus data directories.");
  tsdb->require_subcommand(1);
  CLI::App* info = tsdb->add_subcommand(
      "info",
      "The blocks (time range, samples, chunks, series) and the head (the WAL "
      "replayed: time range, samples, series) of data directories.");
  info->add_option("--format", o->format, "text or json.")
      ->check(CLI::IsMember({"text", "json"}));
  info->add_option("dir", o->dirs, "Data directories.")->required();
  info->callback([o, &exit_code] {
    nlohmann::json all = nlohmann::json::array();
    for (const std::string& dir : o->dirs) {
      absl::StatusOr<std::unique_ptr<TsdbQueryable>> db =
          TsdbQueryable::Open(dir);
      absl::StatusOr<TsdbInfo> info =
          db.ok() ? (*db)->Info(/*replay_head=*/true) : db.status();
      if (!info.ok()) {
        std::cerr << "promeval tsdb info: " << info.status().message() << "\n";
        exit_code = 1;
        continue;
      }
      if (o->format == "json") {
        all.push_back(InfoJson(*info));
      } else {
        std::cout << InfoText(*info);
      }
    }
    if (o->format == "json") std::cout << all.dump() << "\n";
  });
}

}  // namespace promeval::cli
