#include "promeval/files.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace promeval {

absl::StatusOr<std::string> ReadFile(absl::string_view path) {
  std::string p(path);
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("open ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  char buffer[1 << 16];
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && st.st_size > 0) {
    content.resize(static_cast<size_t>(st.st_size));
    size_t n = std::fread(content.data(), 1, content.size(), f);
    content.resize(n);
  }
  // Whatever remains (or a file without a known size, like a pipe).
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
    content.append(buffer, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return absl::InvalidArgumentError(
        absl::StrCat("read ", path, ": ", std::strerror(errno)));
  }
  return content;
}

absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view content) {
  const std::string target(path);
  const std::string tmp = target + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  }
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), target.c_str()) != 0) {
    absl::Status error = absl::InvalidArgumentError(
        absl::StrCat("write ", path, ": ", std::strerror(errno)));
    std::remove(tmp.c_str());
    return error;
  }
  return absl::OkStatus();
}

}  // namespace promeval
