// What a store holds, as text for test expectations.
#ifndef PROMEVAL_TESTS_STORED_SAMPLES_H_
#define PROMEVAL_TESTS_STORED_SAMPLES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "promeval/labels.h"
#include "promeval/storage.h"
#include "promeval/value.h"

namespace promeval::testing {

// Every sample of the series `matchers` select, as "labels@t=v" (t in ms,
// "stale" for a stale marker), series in label order.
inline std::vector<std::string> StoredSamples(
    Queryable& storage, absl::Span<const Matcher> matchers) {
  std::vector<std::string> out;
  std::unique_ptr<Querier> q = *storage.NewQuerier(0, int64_t{1} << 50);
  absl::StatusOr<std::vector<SeriesData>> data =
      q->Select(matchers, 0, int64_t{1} << 50);
  EXPECT_TRUE(data.ok()) << data.status();
  if (!data.ok()) return out;
  for (const SeriesData& s : *data) {
    for (size_t i = 0; i < s.timestamps.size(); ++i) {
      out.push_back(absl::StrCat(
          s.labels->ToString(), "@", s.timestamps[i], "=",
          IsStaleNaN(s.values[i]) ? "stale" : absl::StrCat(s.values[i])));
    }
  }
  return out;
}

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_STORED_SAMPLES_H_
