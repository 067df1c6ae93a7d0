// What the loader fuzzers check after a load: the store holds exactly the
// samples the loader reported (none after a failed load: loads are atomic).
#ifndef PROMEVAL_FUZZ_LOAD_CHECK_H_
#define PROMEVAL_FUZZ_LOAD_CHECK_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "promeval/labels.h"
#include "promeval/loaders.h"
#include "promeval/storage.h"

namespace promeval::fuzz {

inline void CheckLoaded(Storage& storage,
                        const absl::StatusOr<LoadStats>& stats) {
  static const Matcher any =
      *Matcher::Create(MatchType::kRegexp, "__name__", ".*");
  auto querier = storage.NewQuerier(INT64_MIN, INT64_MAX);
  if (!querier.ok()) std::abort();
  auto all = (*querier)->Select({&any, 1}, INT64_MIN, INT64_MAX);
  if (!all.ok()) std::abort();
  int64_t samples = 0;
  for (const SeriesData& s : *all) samples += s.timestamps.size();
  const int64_t want = stats.ok() ? stats->samples : 0;
  if (samples != want) {
    std::fprintf(stderr, "loaded %lld samples, stored %lld\n",
                 static_cast<long long>(want), static_cast<long long>(samples));
    std::abort();
  }
}

}  // namespace promeval::fuzz

#endif  // PROMEVAL_FUZZ_LOAD_CHECK_H_
