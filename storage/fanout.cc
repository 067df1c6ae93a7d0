// FanoutQueryable: several sources read as one, with Prometheus's merge of
// series by labels and of samples by time (storage/merge.go).
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "promeval/status_macros.h"
#include "promeval/storage.h"

namespace promeval {
namespace {

class FanoutQuerier : public Querier {
 public:
  explicit FanoutQuerier(std::vector<std::unique_ptr<Querier>> sources)
      : sources_(std::move(sources)) {}

  bool ConcurrentSelect() const override {
    for (const std::unique_ptr<Querier>& q : sources_) {
      if (!q->ConcurrentSelect()) return false;
    }
    return true;
  }

  absl::StatusOr<std::vector<SeriesData>> Select(
      absl::Span<const Matcher> matchers, int64_t mint, int64_t maxt) override {
    SelectHints hints;
    hints.start_ms = mint;
    hints.end_ms = maxt;
    return SelectWithHints(matchers, hints);
  }

  absl::Status Prefetch(absl::Span<const PlannedSelect> selects) override {
    for (const std::unique_ptr<Querier>& q : sources_) {
      PROMEVAL_RETURN_IF_ERROR(q->Prefetch(selects));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
      absl::Span<const Matcher> matchers, const SelectHints& hints) override {
    std::vector<std::vector<SeriesData>> from(sources_.size());
    for (size_t i = 0; i < sources_.size(); ++i) {
      PROMEVAL_ASSIGN_OR_RETURN(from[i],
                                sources_[i]->SelectWithHints(matchers, hints));
    }
    if (from.size() == 1) return std::move(from[0]);
    std::vector<size_t> pos(from.size(), 0);
    std::vector<SeriesData> out;
    std::vector<std::unique_ptr<Merged>> merged;
    std::vector<const SeriesData*> parts;
    while (true) {
      const Labels* least = nullptr;
      for (size_t i = 0; i < from.size(); ++i) {
        if (pos[i] == from[i].size()) continue;
        const Labels* l = from[i][pos[i]].labels;
        if (least == nullptr || CompareLabels(*l, *least) < 0) least = l;
      }
      if (least == nullptr) break;
      parts.clear();
      for (size_t i = 0; i < from.size(); ++i) {
        if (pos[i] < from[i].size() && *from[i][pos[i]].labels == *least) {
          parts.push_back(&from[i][pos[i]++]);
        }
      }
      if (parts.size() == 1) {
        out.push_back(*parts[0]);
        continue;
      }
      auto m = std::make_unique<Merged>();
      Merge(parts, *m);
      SeriesData data;
      data.labels = parts[0]->labels;
      data.timestamps = m->t;
      data.values = m->v;
      out.push_back(data);
      merged.push_back(std::move(m));
    }
    absl::MutexLock lock(&mu_);
    for (std::unique_ptr<Merged>& m : merged) merged_.push_back(std::move(m));
    return out;
  }

 private:
  struct Merged {
    std::vector<int64_t> t;
    std::vector<double> v;
  };

  // In time order, one sample per timestamp: the earlier part's.
  static void Merge(const std::vector<const SeriesData*>& parts, Merged& out) {
    size_t total = 0;
    for (const SeriesData* p : parts) total += p->timestamps.size();
    out.t.reserve(total);
    out.v.reserve(total);
    // Parts one after another in time (blocks of consecutive time ranges,
    // the usual case) are concatenated.
    std::vector<const SeriesData*> by_time;
    for (const SeriesData* p : parts) {
      if (!p->timestamps.empty()) by_time.push_back(p);
    }
    std::stable_sort(by_time.begin(), by_time.end(),
                     [](const SeriesData* a, const SeriesData* b) {
                       return a->timestamps.front() < b->timestamps.front();
                     });
    bool disjoint = true;
    for (size_t i = 1; i < by_time.size(); ++i) {
      disjoint = disjoint && by_time[i]->timestamps.front() >
                                 by_time[i - 1]->timestamps.back();
    }
    if (disjoint) {
      for (const SeriesData* p : by_time) {
        out.t.insert(out.t.end(), p->timestamps.begin(), p->timestamps.end());
        out.v.insert(out.v.end(), p->values.begin(), p->values.end());
      }
      return;
    }
    std::vector<size_t> pos(parts.size(), 0);
    while (true) {
      size_t best = parts.size();
      for (size_t i = 0; i < parts.size(); ++i) {
        if (pos[i] == parts[i]->timestamps.size()) continue;
        if (best == parts.size() ||
            parts[i]->timestamps[pos[i]] < parts[best]->timestamps[pos[best]]) {
          best = i;
        }
      }
      if (best == parts.size()) break;
      const int64_t t = parts[best]->timestamps[pos[best]];
      out.t.push_back(t);
      out.v.push_back(parts[best]->values[pos[best]]);
      for (size_t i = 0; i < parts.size(); ++i) {
        while (pos[i] < parts[i]->timestamps.size() &&
               parts[i]->timestamps[pos[i]] == t) {
          ++pos[i];
        }
      }
    }
  }

  std::vector<std::unique_ptr<Querier>> sources_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Merged>> merged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Querier> NewFanoutQuerier(
    std::vector<std::unique_ptr<Querier>> sources) {
  return std::make_unique<FanoutQuerier>(std::move(sources));
}

absl::StatusOr<std::unique_ptr<Querier>> FanoutQueryable::NewQuerier(
    int64_t mint, int64_t maxt) {
  std::vector<std::unique_ptr<Querier>> queriers;
  for (Queryable* q : sources_) {
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> querier,
                              q->NewQuerier(mint, maxt));
    queriers.push_back(std::move(querier));
  }
  return NewFanoutQuerier(std::move(queriers));
}

}  // namespace promeval
