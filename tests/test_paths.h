// Where tests find their data: the source tree and the shared upstream corpus
// (../shared next to the checkout; tests that need it skip when it is absent),
// and reading it.
#ifndef PROMEVAL_TESTS_TEST_PATHS_H_
#define PROMEVAL_TESTS_TEST_PATHS_H_

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_TEST_PATHS_H_
