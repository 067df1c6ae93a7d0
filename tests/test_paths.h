// Where tests find their data: the source tree and the shared upstream corpus
// (../shared next to the checkout; tests that need it skip when it is absent).
#ifndef PROMEVAL_TESTS_TEST_PATHS_H_
#define PROMEVAL_TESTS_TEST_PATHS_H_

namespace promeval::testing {

inline constexpr char kSourceDir[] = PROMEVAL_SOURCE_DIR;
inline constexpr char kSharedDir[] = PROMEVAL_SOURCE_DIR "/../shared";

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_TEST_PATHS_H_
