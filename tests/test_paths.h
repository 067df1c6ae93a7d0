// Where tests find their data: the source tree and the shared upstream corpus
// (../shared next to the checkout; tests that need it skip when it is absent),
// and reading it; where they write: a fresh temporary directory of their own.
#ifndef PROMEVAL_TESTS_TEST_PATHS_H_
#define PROMEVAL_TESTS_TEST_PATHS_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace promeval::testing {

inline constexpr char kSourceDir[] = PROMEVAL_SOURCE_DIR;
inline constexpr char kSharedDir[] = PROMEVAL_SOURCE_DIR "/../shared";

// The content of a test data file; a missing file fails the test.
inline std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A new directory under the system's temporary directory (mkdtemp), removed
// with everything in it when the object goes. Failing to create it fails the
// test (path() is then empty).
class TempDir {
 public:
  TempDir() {
    std::string name =
        (std::filesystem::temp_directory_path() / "promeval_test.XXXXXX")
            .string();
    if (mkdtemp(name.data()) == nullptr) {
      ADD_FAILURE() << "cannot create a temporary directory " << name;
      return;
    }
    path_ = name;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_TEST_PATHS_H_
