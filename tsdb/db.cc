// TsdbQueryable: the blocks and the head of a data directory merged into
// one Queryable (Prometheus's fanout of block queriers and the head
// querier; the merge itself is FanoutQueryable's).
#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "promeval/status_macros.h"
#include "promeval/tsdb.h"
#include "tsdb/block.h"
#include "tsdb/head.h"

namespace promeval {
namespace {

namespace fs = std::filesystem;
using tsdb::Block;
using tsdb::BlockSeries;
using tsdb::SeriesSamples;

// Whether [a_min, a_max] and [b_min, b_max] (inclusive) overlap.
bool Overlaps(int64_t a_min, int64_t a_max, int64_t b_min, int64_t b_max) {
  return a_min <= b_max && b_min <= a_max;
}

// Whether `name` is a ULID: 26 characters of Crockford's base32 (the names
// Prometheus gives block directories).
bool IsUlid(absl::string_view name) {
  return name.size() == 26 && std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'A' && c <= 'Z' && c != 'I' &&
                                             c != 'L' && c != 'O' && c != 'U');
         });
}

}  // namespace

class TsdbQueryable::Impl {
 public:
  Impl(std::string dir, TsdbOptions options)
      : dir_(std::move(dir)), options_(options) {}

  absl::Status Load() {
    std::error_code ec;
    fs::file_status st = fs::status(dir_, ec);
    if (ec || !fs::exists(st)) {
      return absl::NotFoundError(
          absl::StrCat("open ", dir_, ": no such directory"));
    }
    if (!fs::is_directory(st)) {
      return absl::FailedPreconditionError(
          absl::StrCat("open ", dir_, ": not a directory"));
    }
    std::vector<std::string> block_dirs;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      // Blocks being written or deleted by a running Prometheus carry a
      // suffix (ULID.tmp-for-creation, .tmp-for-deletion).
      if (absl::StrContains(name, ".tmp")) continue;
      if (!it->is_directory(ec)) continue;
      if (fs::exists(it->path() / "meta.json", ec)) {
        block_dirs.push_back(it->path().string());
      } else if (IsUlid(name)) {
        // Prometheus renames a block into place with its meta.json written:
        // this one is damaged (Prometheus would skip it and log an error).
        return absl::DataLossError(absl::StrCat(
            it->path().string(), ": a block directory without meta.json"));
      }
    }
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("read ", dir_, ": ", ec.message()));
    }
    for (const std::string& d : block_dirs) {
      PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Block> b, Block::Open(d));
      blocks_.push_back(std::move(b));
    }
    std::sort(
        blocks_.begin(), blocks_.end(),
        [](const std::unique_ptr<Block>& a, const std::unique_ptr<Block>& b) {
          return a->meta().min_time < b->meta().min_time;
        });
    head_present_ = options_.head && fs::is_directory(dir_ + "/wal", ec);
    if (blocks_.empty() && !fs::is_directory(dir_ + "/wal", ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "open ", dir_,
          ": not a Prometheus data directory (no blocks and no wal/)"));
    }
    return absl::OkStatus();
  }

  // Replays the head once; later calls return the first outcome.
  absl::Status ReplayHead() {
    if (!head_present_) return absl::OkStatus();
    std::call_once(head_once_, [&] {
      absl::StatusOr<tsdb::HeadStats> stats = tsdb::ReplayHead(dir_, head_);
      if (!stats.ok()) {
        head_status_ = stats.status();
        return;
      }
      head_stats_ = *stats;
      head_replayed_ = true;
    });
    return head_status_;
  }

  TsdbInfo Info() const {
    TsdbInfo info;
    info.dir = dir_;
    for (const std::unique_ptr<Block>& b : blocks_) {
      const tsdb::BlockMeta& m = b->meta();
      info.blocks.push_back(TsdbBlockInfo{m.ulid, m.min_time, m.max_time,
                                          m.num_series, m.num_samples,
                                          m.num_chunks, m.compaction_level});
    }
    info.head.present = head_present_;
    if (head_replayed_) {
      const tsdb::HeadStats& h = head_stats_;
      info.head.replayed = true;
      info.head.min_time = h.min_time;
      info.head.max_time = h.max_time;
      info.head.series = h.series;
      info.head.samples = h.samples;
      info.head.checkpoint = h.checkpoint;
      info.head.wal_segments = h.wal_segments;
      info.head.mmapped_chunks = h.mmapped_chunks;
      info.head.ooo_samples = h.ooo_samples;
      info.head.histogram_series = h.histogram_series;
      info.head.torn_tail = h.torn_tail;
      info.head.warnings = h.warnings;
    }
    return info;
  }

  void CountSkipped(const Labels& labels) {
    absl::MutexLock lock(&skipped_mu_);
    skipped_.insert(labels.Hash());
  }
  int64_t skipped() const {
    absl::MutexLock lock(&skipped_mu_);
    return static_cast<int64_t>(skipped_.size()) +
           (head_replayed_ ? head_stats_.histogram_series : 0);
  }

  const std::vector<std::unique_ptr<Block>>& blocks() const { return blocks_; }
  int threads() const { return std::max(1, options_.threads); }
  int64_t parallel_min_samples() const { return options_.parallel_min_samples; }
  bool head_replayed() const { return head_replayed_; }
  const tsdb::HeadStats& head_stats() const { return head_stats_; }
  MemStorage& head() { return head_; }

 private:
  const std::string dir_;
  const TsdbOptions options_;
  std::vector<std::unique_ptr<Block>> blocks_;
  bool head_present_ = false;
  std::once_flag head_once_;
  absl::Status head_status_;
  bool head_replayed_ = false;
  tsdb::HeadStats head_stats_;
  MemStorage head_;
  mutable absl::Mutex skipped_mu_;
  absl::flat_hash_set<uint64_t> skipped_ ABSL_GUARDED_BY(skipped_mu_);
};

namespace {

// Appends `more` (in time order) to `acc` (in time order): concatenated
// when it starts after `acc`'s last sample (blocks of consecutive time
// ranges: the usual case), else merged, one sample per timestamp, `acc`'s
// where both have one (the earlier block's, as Prometheus's merge keeps
// the first source's).
void AppendMerged(SeriesSamples& acc, SeriesSamples& more) {
  if (more.t.empty()) return;
  acc.stale = acc.stale || more.stale;
  if (acc.t.empty() || more.t.front() > acc.t.back()) {
    acc.t.insert(acc.t.end(), more.t.begin(), more.t.end());
    acc.v.insert(acc.v.end(), more.v.begin(), more.v.end());
    return;
  }
  SeriesSamples out;
  out.t.reserve(acc.t.size() + more.t.size());
  out.v.reserve(acc.t.size() + more.t.size());
  size_t i = 0, j = 0;
  while (i < acc.t.size() || j < more.t.size()) {
    if (j == more.t.size() || (i < acc.t.size() && acc.t[i] <= more.t[j])) {
      if (j < more.t.size() && acc.t[i] == more.t[j]) ++j;
      out.t.push_back(acc.t[i]);
      out.v.push_back(acc.v[i++]);
    } else {
      out.t.push_back(more.t[j]);
      out.v.push_back(more.v[j++]);
    }
  }
  out.stale = acc.stale;
  acc = std::move(out);
}

// The blocks read as one source: each Select reads the blocks overlapping
// its range in time order, and appends each series' samples of every block
// to one buffer of that series (no copy of per-block parts to merge them);
// blocks overlapping in time are merged sample by sample (AppendMerged).
class BlocksQuerier : public Querier {
 public:
  explicit BlocksQuerier(TsdbQueryable::Impl& db) : db_(db) {}

  bool ConcurrentSelect() const override { return true; }

  absl::StatusOr<std::vector<SeriesData>> Select(
      absl::Span<const Matcher> matchers, int64_t mint, int64_t maxt) override {
    // First the series of every block overlapping the range, merged by
    // labels, each with its parts (block, series entry); then each series'
    // samples into room reserved once for them all.
    struct Part {
      const Block* block;
      const BlockSeries* series;
    };
    std::vector<std::unique_ptr<Owned>> acc;  // By labels.
    std::vector<std::vector<Part>> parts;     // Of acc[i].
    std::deque<std::vector<BlockSeries>> selected;
    for (const std::unique_ptr<Block>& block : db_.blocks()) {
      // A block covers [min_time, max_time).
      if (!Overlaps(block->meta().min_time, block->meta().max_time - 1, mint,
                    maxt)) {
        continue;
      }
      std::vector<BlockSeries>& series = selected.emplace_back();
      PROMEVAL_RETURN_IF_ERROR(block->Select(matchers, mint, maxt, series));
      // Both `acc` and `series` are sorted by labels: merged in one pass.
      std::vector<std::unique_ptr<Owned>> next_acc;
      std::vector<std::vector<Part>> next_parts;
      next_acc.reserve(std::max(acc.size(), series.size()));
      next_parts.reserve(next_acc.capacity());
      size_t a = 0;
      for (const BlockSeries& s : series) {
        while (a < acc.size() && CompareLabels(acc[a]->labels, s.labels) < 0) {
          next_acc.push_back(std::move(acc[a]));
          next_parts.push_back(std::move(parts[a++]));
        }
        if (a < acc.size() && acc[a]->labels == s.labels) {
          next_acc.push_back(std::move(acc[a]));
          next_parts.push_back(std::move(parts[a++]));
        } else {
          next_acc.push_back(std::make_unique<Owned>());
          next_acc.back()->labels = s.labels;
          next_parts.emplace_back();
        }
        next_parts.back().push_back(Part{block.get(), &s});
      }
      for (; a < acc.size(); ++a) {
        next_acc.push_back(std::move(acc[a]));
        next_parts.push_back(std::move(parts[a]));
      }
      acc = std::move(next_acc);
      parts = std::move(next_parts);
    }
    // Each series' room, reserved once for all its parts.
    std::vector<size_t> totals(acc.size(), 0);
    size_t total_all = 0;
    for (size_t i = 0; i < acc.size(); ++i) {
      for (const Part& p : parts[i]) {
        totals[i] += p.block->MaxSamples(*p.series, mint, maxt);
      }
      total_all += totals[i];
    }
    // Reads the series [from, to) of `acc`.
    auto read = [&](size_t from, size_t to) -> absl::Status {
      SeriesSamples part;
      for (size_t i = from; i < to; ++i) {
        Owned& o = *acc[i];
        o.samples.t.reserve(totals[i]);
        o.samples.v.reserve(totals[i]);
        for (const Part& p : parts[i]) {
          // Into the series' own buffer when it can only grow at the end.
          SeriesSamples& into =
              o.samples.t.empty() ||
                      p.block->meta().min_time > o.samples.t.back()
                  ? o.samples
                  : part;
          part.t.clear();
          part.v.clear();
          part.stale = false;
          const size_t before = into.t.size();
          PROMEVAL_ASSIGN_OR_RETURN(
              bool floats, p.block->ReadSamples(*p.series, mint, maxt, into));
          if (!floats) db_.CountSkipped(o.labels);
          if (&into != &part && before > 0 && into.t.size() > before &&
              into.t[before] <= into.t[before - 1]) {
            // The block's chunks reach before its meta.json's minTime (the
            // files disagree): merged after all.
            part.t.assign(into.t.begin() + before, into.t.end());
            part.v.assign(into.v.begin() + before, into.v.end());
            part.stale = into.stale;
            into.t.resize(before);
            into.v.resize(before);
            AppendMerged(o.samples, part);
          } else if (&into == &part) {
            AppendMerged(o.samples, part);
          }
        }
      }
      return absl::OkStatus();
    };
    const size_t threads = std::min<size_t>(db_.threads(), acc.size());
    if (threads <= 1 ||
        static_cast<int64_t>(total_all) < db_.parallel_min_samples()) {
      PROMEVAL_RETURN_IF_ERROR(read(0, acc.size()));
    } else {
      // Contiguous runs of series with about as many samples each; the
      // calling thread reads the first.
      std::vector<size_t> bounds = {0};
      size_t sum = 0;
      for (size_t i = 0; i < acc.size() && bounds.size() < threads; ++i) {
        sum += totals[i];
        if (sum >= total_all / threads * bounds.size()) bounds.push_back(i + 1);
      }
      bounds.push_back(acc.size());
      std::vector<absl::Status> status(bounds.size() - 1);
      std::vector<std::thread> workers;
      for (size_t k = 1; k + 1 < bounds.size(); ++k) {
        workers.emplace_back(
            [&, k] { status[k] = read(bounds[k], bounds[k + 1]); });
      }
      status[0] = read(bounds[0], bounds[1]);
      for (std::thread& w : workers) w.join();
      for (const absl::Status& s : status) PROMEVAL_RETURN_IF_ERROR(s);
    }
    std::vector<SeriesData> out;
    out.reserve(acc.size());
    for (const std::unique_ptr<Owned>& o : acc) {
      if (o->samples.t.empty()) continue;
      SeriesData data;
      data.labels = &o->labels;
      data.timestamps = o->samples.t;
      data.values = o->samples.v;
      data.no_stale_markers = !o->samples.stale;
      out.push_back(data);
    }
    absl::MutexLock lock(&mu_);
    for (std::unique_ptr<Owned>& o : acc) {
      if (!o->samples.t.empty()) owned_.push_back(std::move(o));
    }
    return out;
  }

 private:
  // What the returned spans point into, kept until the querier goes.
  struct Owned {
    Labels labels;
    SeriesSamples samples;
  };

  TsdbQueryable::Impl& db_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Owned>> owned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

TsdbQueryable::TsdbQueryable(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
TsdbQueryable::~TsdbQueryable() = default;

absl::StatusOr<std::unique_ptr<TsdbQueryable>> TsdbQueryable::Open(
    std::string dir, TsdbOptions options) {
  auto impl = std::make_unique<Impl>(std::move(dir), options);
  PROMEVAL_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<TsdbQueryable>(new TsdbQueryable(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Querier>> TsdbQueryable::NewQuerier(
    int64_t mint, int64_t maxt) {
  PROMEVAL_RETURN_IF_ERROR(impl_->ReplayHead());
  // The blocks (in time order), then the head: at equal timestamps the
  // merge keeps the earlier source's sample. Every block: the querier's
  // range is the query's, and its selectors may look further back (each
  // Select skips the blocks outside its own range).
  std::vector<std::unique_ptr<Querier>> sources;
  sources.push_back(std::make_unique<BlocksQuerier>(*impl_));
  if (impl_->head_replayed() && impl_->head_stats().samples > 0) {
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> head,
                              impl_->head().NewQuerier(mint, maxt));
    sources.push_back(std::move(head));
  }
  return NewFanoutQuerier(std::move(sources));
}

absl::StatusOr<TsdbInfo> TsdbQueryable::Info(bool replay_head) {
  if (replay_head) PROMEVAL_RETURN_IF_ERROR(impl_->ReplayHead());
  return impl_->Info();
}

int64_t TsdbQueryable::SkippedHistogramSeries() const {
  return impl_->skipped();
}

}  // namespace promeval
