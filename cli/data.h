// Loading the --data files of the query and rules subcommands, and the
// feature, time and duration arguments the subcommands share.
#ifndef PROMEVAL_CLI_DATA_H_
#define PROMEVAL_CLI_DATA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/remote.h"
#include "promeval/storage.h"
#include "promeval/tsdb.h"

namespace promeval::cli {

// --data-format values: auto, openmetrics, prometheus, promqltest.
inline constexpr char kDataFormatHelp[] =
    "Format of the --data files: auto (default: a file whose first command "
    "is 'load' is a promqltest series script, one ending with '# EOF' is "
    "OpenMetrics, anything else Prometheus text), openmetrics, prometheus, "
    "promqltest.";

// Loads every file into `storage`; the stats are summed (min/max over all).
// A file that fails to load leaves nothing of itself in the storage.
absl::StatusOr<LoadStats> LoadDataFiles(const std::vector<std::string>& files,
                                        absl::string_view format,
                                        int64_t default_timestamp_ms,
                                        Appendable& storage);

// How the remote endpoints of a command are reached: --remote-timeout,
// --header, basic auth, bearer token and TLS files (one set for all of the
// command's endpoints).
class RemoteEndpointFlags {
 public:
  void AddOptions(CLI::App& cmd);
  // The endpoint for `url`; a bad --header or --remote-timeout is an error.
  absl::StatusOr<RemoteEndpoint> Endpoint(const std::string& url) const;

 private:
  std::string timeout_ = "1m";
  std::vector<std::string> headers_;
  RemoteEndpoint base_;
};

// The data a query or a replay reads: --data files loaded into an
// in-memory store, --tsdb data directories and --remote-read endpoints,
// read as one Queryable (series of all sources merged; FanoutQueryable).
class DataSources {
 public:
  // Adds --data, --data-format, --tsdb, --remote-read and its options to
  // `cmd`.
  void AddOptions(CLI::App& cmd);
  bool empty() const {
    return files_.empty() && tsdb_dirs_.empty() && remote_urls_.empty();
  }
  const RemoteEndpointFlags& remote_flags() const { return remote_flags_; }
  // The remote read endpoints' costs, summed.
  RemoteReadStats RemoteStats() const;

  // Loads the files (samples without a timestamp get `default_timestamp_ms`)
  // and opens the directories, whose chunks large selects decode on
  // `threads` threads (0: one per core, as the engine's workers).
  // Errors name the file or directory.
  absl::Status Open(int64_t default_timestamp_ms, int threads = 0);

  // Everything, with the in-memory store first (which is also where rules
  // write, so that their outputs are read back).
  Queryable& queryable() { return *fanout_; }
  MemStorage& memory() { return memory_; }
  const LoadStats& loaded() const { return loaded_; }
  // The time of the newest sample of the files and the directories'
  // blocks and heads (0 if there is none): where `query` runs without
  // --time. Replays the directories' heads.
  absl::StatusOr<int64_t> NewestSampleMs();
  // Prints warnings to stderr: what the directories' head replays tolerated
  // (a torn tail, head chunk files left out), and how many series holding
  // native histograms were left out (nothing if none of these).
  void PrintWarnings(absl::string_view command) const;

 private:
  std::vector<std::string> files_;
  std::string format_ = "auto";
  std::vector<std::string> tsdb_dirs_;
  std::vector<std::string> remote_urls_;
  std::string response_type_ = "auto";
  std::vector<std::string> required_matchers_;
  std::string max_response_bytes_ = "1GiB";
  bool batch_ = false;
  RemoteEndpointFlags remote_flags_;
  MemStorage memory_;
  LoadStats loaded_;
  std::vector<std::unique_ptr<TsdbQueryable>> tsdbs_;
  std::vector<std::unique_ptr<RemoteReadQueryable>> remotes_;
  std::unique_ptr<FanoutQueryable> fanout_;
};

// Adds --enable-feature (Prometheus's feature flags, comma-separated or
// repeated) to `cmd`.
void AddFeatureOption(CLI::App& cmd, std::vector<std::string>& features);

// Applies the feature flags to `options` (parser features and
// promql-delayed-name-removal). An unknown flag: prints
// "COMMAND: unknown feature F" on stderr and returns false.
bool ApplyFeatures(absl::string_view command,
                   const std::vector<std::string>& features,
                   EngineOptions& options);

// A time as the Prometheus API takes it: Unix seconds (fractions allowed,
// rounded to ms) or RFC3339. Milliseconds since the epoch.
absl::StatusOr<int64_t> ParseTimeArg(absl::string_view s);

// A duration as the Prometheus API takes it: seconds (fractions allowed) or a
// PromQL duration ("5m", "1h30m"). Milliseconds.
absl::StatusOr<int64_t> ParseDurationArg(absl::string_view s);

// A size in bytes: digits, optionally followed by B, KB, MB, GB (powers of
// 1000) or KiB, MiB, GiB (powers of 1024).
absl::StatusOr<int64_t> ParseByteSize(absl::string_view s);

}  // namespace promeval::cli

#endif  // PROMEVAL_CLI_DATA_H_
