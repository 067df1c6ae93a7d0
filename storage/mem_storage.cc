#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/xxhash.h"
#include "promeval/storage.h"
#include "promeval/text.h"
#include "promeval/value.h"

namespace promeval {
namespace {

// A series' timestamps. Series sampled at the same times (promtool's
// input_series, test scripts' load blocks, fixture files, rules' outputs)
// share one column: that halves their memory and lets a query read the
// timestamps from cache. A shared column is copied before it is appended to.
using TimeColumn = std::shared_ptr<std::vector<int64_t>>;

// The column to append to: `column` itself unless it is shared (or null).
std::vector<int64_t>& Unshared(TimeColumn& column) {
  if (column == nullptr) {
    column = std::make_shared<std::vector<int64_t>>();
  } else if (column.use_count() > 1) {
    auto own = std::make_shared<std::vector<int64_t>>();
    own->reserve(column->capacity());
    own->assign(column->begin(), column->end());
    column = std::move(own);
  }
  return *column;
}

// Timestamp columns by content, so that equal ones are held once. Columns
// shorter than kMinShared are not pooled: looking them up would cost more
// than holding them twice.
class ColumnPool {
 public:
  static constexpr size_t kMinShared = 16;

  // An equal column from the pool, or `column` (now pooled).
  TimeColumn Share(TimeColumn column) {
    if (column == nullptr || column->size() < kMinShared) return column;
    auto& same = Candidates(*column);
    if (TimeColumn found = Find(same, *column)) return found;
    same.push_back(column);
    return column;
  }

  // An equal column from the pool, or a new pooled one holding `times`.
  TimeColumn Share(absl::Span<const int64_t> times) {
    if (times.size() < kMinShared) {
      return std::make_shared<std::vector<int64_t>>(times.begin(), times.end());
    }
    auto& same = Candidates(times);
    if (TimeColumn found = Find(same, times)) return found;
    auto column =
        std::make_shared<std::vector<int64_t>>(times.begin(), times.end());
    same.push_back(column);
    return column;
  }

  void Clear() { columns_.clear(); }

 private:
  using Weak = std::weak_ptr<std::vector<int64_t>>;

  // The pooled columns with the hash of `times`, without those no series
  // holds any more.
  std::vector<Weak>& Candidates(absl::Span<const int64_t> times) {
    const uint64_t hash =
        XXHash64(absl::string_view(reinterpret_cast<const char*>(times.data()),
                                   times.size() * sizeof(int64_t)));
    std::vector<Weak>& same = columns_[hash];
    same.erase(std::remove_if(same.begin(), same.end(),
                              [](const Weak& w) { return w.expired(); }),
               same.end());
    return same;
  }

  static TimeColumn Find(const std::vector<Weak>& same,
                         absl::Span<const int64_t> times) {
    for (const Weak& weak : same) {
      TimeColumn column = weak.lock();
      if (column != nullptr && absl::Span<const int64_t>(*column) == times) {
        return column;
      }
    }
    return nullptr;
  }

  absl::flat_hash_map<uint64_t, std::vector<Weak>> columns_;
};

struct MemSeries {
  Labels labels;
  TimeColumn timestamps = std::make_shared<std::vector<int64_t>>();
  std::vector<double> values;
  int64_t stale_markers = 0;

  const std::vector<int64_t>& times() const { return *timestamps; }
};

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// Sorted-vector set operations on series ids.
std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a,
                                const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::back_inserter(out));
  return out;
}

std::vector<uint32_t> Subtract(const std::vector<uint32_t>& a,
                               const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

}  // namespace

void Appender::AppendSamples(const Labels& labels,
                             absl::Span<const int64_t> timestamps,
                             absl::Span<const double> values) {
  for (size_t i = 0; i < timestamps.size(); ++i) {
    Append(labels, timestamps[i], values[i]);
  }
}

// A readers-writer lock that prefers writers (a query holds a read lock for
// its whole evaluation; commits must not starve behind a stream of queries).
// Built on pthread_rwlock, which ThreadSanitizer understands; Debian's
// prebuilt absl::Mutex carries no TSan annotations.
class ABSL_LOCKABLE RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_rwlock_wrlock(&lock_); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    pthread_rwlock_rdlock(&lock_);
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(RwLock* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~WriterLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  RwLock* mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(RwLock* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }

 private:
  RwLock* mu_;
};

class MemStorage::Impl {
 public:
  mutable RwLock mu;
  std::vector<std::unique_ptr<MemSeries>> series ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> by_hash
      ABSL_GUARDED_BY(mu);
  // Label name -> value -> ids of the series with it, ascending.
  absl::flat_hash_map<std::string,
                      absl::flat_hash_map<std::string, std::vector<uint32_t>>>
      postings ABSL_GUARDED_BY(mu);
  int64_t num_samples ABSL_GUARDED_BY(mu) = 0;
  // rank[id]: the position of the series in label order.
  std::vector<uint32_t> rank ABSL_GUARDED_BY(mu);
  // The series' timestamp columns.
  ColumnPool columns ABSL_GUARDED_BY(mu);

  void UpdateRanks() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::vector<uint32_t> order(series.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return CompareLabels(series[a]->labels, series[b]->labels) < 0;
    });
    rank.resize(series.size());
    for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  }

  // The id of the series with these labels, or -1.
  int64_t Find(const Labels& labels) const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    auto it = by_hash.find(labels.Hash());
    if (it == by_hash.end()) return -1;
    for (uint32_t id : it->second) {
      if (series[id]->labels == labels) return id;
    }
    return -1;
  }

  uint32_t Create(const Labels& labels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    uint32_t id = static_cast<uint32_t>(series.size());
    auto s = std::make_unique<MemSeries>();
    s->labels = labels;
    series.push_back(std::move(s));
    by_hash[labels.Hash()].push_back(id);
    for (const Label& l : labels) postings[l.name][l.value].push_back(id);
    return id;
  }

  // The ids of the series matching all matchers, ascending.
  std::vector<uint32_t> Match(absl::Span<const Matcher> matchers) const
      ABSL_SHARED_LOCKS_REQUIRED(mu) {
    std::vector<uint32_t> result;
    bool have_positive = false;
    std::vector<std::vector<uint32_t>> exclusions;
    for (const Matcher& m : matchers) {
      auto name_it = postings.find(m.name());
      bool matches_empty = m.Matches("");
      if (!matches_empty) {
        // Series whose value of the label matches.
        std::vector<uint32_t> ids;
        if (name_it != postings.end()) {
          if (m.type() == MatchType::kEqual) {
            auto v = name_it->second.find(m.value());
            if (v != name_it->second.end()) ids = v->second;
          } else {
            for (const auto& [value, list] : name_it->second) {
              if (m.Matches(value)) {
                std::vector<uint32_t> merged;
                std::merge(ids.begin(), ids.end(), list.begin(), list.end(),
                           std::back_inserter(merged));
                ids = std::move(merged);
              }
            }
          }
        }
        result = have_positive ? Intersect(result, ids) : std::move(ids);
        have_positive = true;
        if (result.empty()) return result;
      } else if (name_it != postings.end()) {
        // Matches absent labels: exclude the series whose value does not
        // match.
        std::vector<uint32_t> excluded;
        for (const auto& [value, list] : name_it->second) {
          if (!m.Matches(value)) {
            std::vector<uint32_t> merged;
            std::merge(excluded.begin(), excluded.end(), list.begin(),
                       list.end(), std::back_inserter(merged));
            excluded = std::move(merged);
          }
        }
        exclusions.push_back(std::move(excluded));
      }
    }
    if (!have_positive) {
      result.resize(series.size());
      for (uint32_t i = 0; i < result.size(); ++i) result[i] = i;
    }
    for (const auto& excluded : exclusions) result = Subtract(result, excluded);
    return result;
  }
};

class MemStorage::MemQuerier : public Querier {
 public:
  explicit MemQuerier(const Impl* impl) ABSL_NO_THREAD_SAFETY_ANALYSIS
      : impl_(impl) {
    impl_->mu.ReaderLock();
  }
  ~MemQuerier() override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    impl_->mu.ReaderUnlock();
  }

  absl::StatusOr<std::vector<SeriesData>> Select(
      absl::Span<const Matcher> matchers, int64_t mint,
      int64_t maxt) override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    std::vector<uint32_t> ids = impl_->Match(matchers);
    std::sort(ids.begin(), ids.end(),
              [this](uint32_t a, uint32_t b) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                return impl_->rank[a] < impl_->rank[b];
              });
    std::vector<SeriesData> out;
    for (uint32_t id : ids) {
      const MemSeries& s = *impl_->series[id];
      const std::vector<int64_t>& times = s.times();
      if (times.empty() || times.front() > maxt || times.back() < mint) {
        continue;
      }
      out.push_back(
          SeriesData{&s.labels, times, s.values, s.stale_markers == 0});
    }
    return out;
  }

  // Select only reads the store, under the read lock this querier holds.
  bool ConcurrentSelect() const override { return true; }

 private:
  const Impl* impl_;
};

// Makes room for `n` more elements, growing geometrically: commits that
// add a few samples each must not reallocate every time.
template <typename T>
void Grow(std::vector<T>& v, size_t n) {
  if (v.capacity() < v.size() + n) {
    v.reserve(std::max(v.size() + n, 2 * v.capacity()));
  }
}

class MemStorage::MemAppender : public Appender {
 public:
  explicit MemAppender(Impl* impl) : impl_(impl) {}

  void Append(const Labels& labels, int64_t t, double v) override {
    Pending& p = Slot(labels);
    Unshared(p.timestamps).push_back(t);
    p.values.push_back(v);
  }

  void AppendSamples(const Labels& labels, absl::Span<const int64_t> timestamps,
                     absl::Span<const double> values) override {
    Pending& p = Slot(labels);
    if (p.times().empty()) {
      // Shared while pending too: a load of many series sampled alike holds
      // their timestamps once.
      p.timestamps = columns_.Share(timestamps);
    } else {
      std::vector<int64_t>& times = Unshared(p.timestamps);
      times.insert(times.end(), timestamps.begin(), timestamps.end());
    }
    p.values.insert(p.values.end(), values.begin(), values.end());
  }

  absl::Status Commit() override {
    WriterLock lock(&impl_->mu);
    // Validate everything first: a failed commit changes nothing.
    std::vector<int64_t> ids(pending_.size());
    // Whether a series' samples repeat a timestamp (with the same value).
    std::vector<bool> repeats(pending_.size());
    for (size_t i = 0; i < pending_.size(); ++i) {
      const Pending& p = pending_[i];
      ids[i] = impl_->Find(p.labels);
      int64_t last_t = 0;
      double last_v = 0;
      bool have_last = false;
      if (ids[i] >= 0 && !impl_->series[ids[i]]->times().empty()) {
        last_t = impl_->series[ids[i]]->times().back();
        last_v = impl_->series[ids[i]]->values.back();
        have_last = true;
      }
      repeats[i] = false;
      const std::vector<int64_t>& times = p.times();
      for (size_t k = 0; k < times.size(); ++k) {
        const int64_t t = times[k];
        const double v = p.values[k];
        if (have_last && t < last_t) {
          return absl::InvalidArgumentError(
              absl::StrCat("out of order sample for series ",
                           p.labels.ToString(), " at timestamp ", t));
        }
        if (have_last && t == last_t) {
          if (Bits(v) != Bits(last_v)) {
            return absl::InvalidArgumentError(
                absl::StrCat("duplicate sample for timestamp ", t,
                             " of series ", p.labels.ToString()));
          }
          repeats[i] = true;
        }
        last_t = t;
        last_v = v;
        have_last = true;
      }
    }
    bool created = false;
    for (size_t i = 0; i < pending_.size(); ++i) {
      created = created || ids[i] < 0;
      uint32_t id = ids[i] >= 0 ? static_cast<uint32_t>(ids[i])
                                : impl_->Create(pending_[i].labels);
      MemSeries& s = *impl_->series[id];
      Pending& p = pending_[i];
      for (double v : p.values) {
        if (IsStaleNaN(v)) ++s.stale_markers;
      }
      const std::vector<int64_t>& added = p.times();
      if (s.times().empty() && !repeats[i]) {
        // A new series takes the appended columns as they are (its
        // timestamps shared with the series sampled at the same times).
        impl_->num_samples += static_cast<int64_t>(added.size());
        s.timestamps = impl_->columns.Share(std::move(p.timestamps));
        s.values = std::move(p.values);
        continue;
      }
      std::vector<int64_t>& times = Unshared(s.timestamps);
      Grow(times, added.size());
      Grow(s.values, p.values.size());
      for (size_t k = 0; k < added.size(); ++k) {
        if (!times.empty() && times.back() == added[k]) {
          // A repeat of the newest sample (validated to be the same value).
          if (IsStaleNaN(p.values[k])) --s.stale_markers;
          continue;
        }
        times.push_back(added[k]);
        s.values.push_back(p.values[k]);
        ++impl_->num_samples;
      }
    }
    if (created) impl_->UpdateRanks();
    pending_.clear();
    pending_index_.clear();
    columns_.Clear();
    return absl::OkStatus();
  }

 private:
  struct Pending {
    Labels labels;
    TimeColumn timestamps;  // Null while empty.
    std::vector<double> values;

    const std::vector<int64_t>& times() const {
      static const auto* const kEmpty = new std::vector<int64_t>();
      return timestamps == nullptr ? *kEmpty : *timestamps;
    }
  };

  Pending& Slot(const Labels& labels) {
    std::vector<size_t>& slots = pending_index_[labels.Hash()];
    for (size_t i : slots) {
      if (pending_[i].labels == labels) return pending_[i];
    }
    slots.push_back(pending_.size());
    pending_.push_back(Pending{labels, {}, {}});
    return pending_.back();
  }

  Impl* impl_;
  std::vector<Pending> pending_;
  absl::flat_hash_map<uint64_t, std::vector<size_t>> pending_index_;
  ColumnPool columns_;  // The pending series' timestamps.
};

MemStorage::MemStorage() : impl_(std::make_unique<Impl>()) {}
MemStorage::~MemStorage() = default;

absl::StatusOr<std::unique_ptr<Querier>> MemStorage::NewQuerier(
    int64_t /*mint*/, int64_t /*maxt*/) {
  return std::unique_ptr<Querier>(new MemQuerier(impl_.get()));
}

std::unique_ptr<Appender> MemStorage::NewAppender() {
  return std::make_unique<MemAppender>(impl_.get());
}

int64_t MemStorage::NumSeries() const {
  ReaderLock lock(&impl_->mu);
  return static_cast<int64_t>(impl_->series.size());
}

int64_t MemStorage::NumSamples() const {
  ReaderLock lock(&impl_->mu);
  return impl_->num_samples;
}

void MemStorage::Clear() {
  WriterLock lock(&impl_->mu);
  impl_->series.clear();
  impl_->by_hash.clear();
  impl_->postings.clear();
  impl_->rank.clear();
  impl_->columns.Clear();
  impl_->num_samples = 0;
}

}  // namespace promeval
