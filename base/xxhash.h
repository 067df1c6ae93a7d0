// XXH64, the 64-bit xxHash (as github.com/cespare/xxhash's Sum64, seed 0),
// which Prometheus uses to hash label sets.
#ifndef PROMEVAL_BASE_XXHASH_H_
#define PROMEVAL_BASE_XXHASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace promeval {

uint64_t XXHash64(absl::string_view data);

}  // namespace promeval

#endif  // PROMEVAL_BASE_XXHASH_H_
