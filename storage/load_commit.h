// The last step of every loader: one commit, its error naming the file.
//
// Internal to promeval's storage folder.
#ifndef PROMEVAL_STORAGE_LOAD_COMMIT_H_
#define PROMEVAL_STORAGE_LOAD_COMMIT_H_

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

namespace promeval {

// Commits `app` and returns `stats` (its timestamps zeroed when nothing was
// loaded), or the commit's error prefixed with `filename`.
inline absl::StatusOr<LoadStats> CommitLoad(Appender& app,
                                            absl::string_view filename,
                                            LoadStats stats) {
  if (stats.samples == 0) stats.min_timestamp_ms = stats.max_timestamp_ms = 0;
  absl::Status committed = app.Commit();
  if (!committed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": ", committed.message()));
  }
  return stats;
}

}  // namespace promeval

#endif  // PROMEVAL_STORAGE_LOAD_COMMIT_H_
