// Loading the --data files of the query and rules subcommands, and the
// feature, time and duration arguments the subcommands share.
#ifndef PROMEVAL_CLI_DATA_H_
#define PROMEVAL_CLI_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/engine.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

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
