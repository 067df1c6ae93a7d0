#include "tsdb/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace promeval::tsdb {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path,
                        int err) {
  std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MmapFile>> MmapFile::Open(std::string path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("open ", path, ": not a regular file"));
  }
  absl::string_view data;
  if (st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                     MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return ErrnoError("mmap", path, err);
    }
    data = absl::string_view(static_cast<const char*>(p),
                             static_cast<size_t>(st.st_size));
  }
  ::close(fd);  // The mapping stays valid.
  return std::unique_ptr<MmapFile>(new MmapFile(std::move(path), data));
}

MmapFile::~MmapFile() {
  if (!data_.empty()) {
    ::munmap(const_cast<char*>(data_.data()), data_.size());
  }
}

}  // namespace promeval::tsdb
