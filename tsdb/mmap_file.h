// A file mapped read-only into memory (Prometheus's fileutil.MmapFile).
//
// The mapping covers the file as it was when opened; a file that a running
// Prometheus appends to later keeps its old size here. Nothing is ever
// written through it.
//
// Internal to promeval (tsdb/). Thread-safe once open (read-only).
#ifndef PROMEVAL_TSDB_MMAP_FILE_H_
#define PROMEVAL_TSDB_MMAP_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace promeval::tsdb {

class MmapFile {
 public:
  // kNotFound / kPermissionDenied / kFailedPrecondition naming the path.
  static absl::StatusOr<std::unique_ptr<MmapFile>> Open(std::string path);
  ~MmapFile();
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  absl::string_view data() const { return data_; }
  const std::string& path() const { return path_; }

 private:
  MmapFile(std::string path, absl::string_view data)
      : path_(std::move(path)), data_(data) {}
  std::string path_;
  absl::string_view data_;
};

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_MMAP_FILE_H_
