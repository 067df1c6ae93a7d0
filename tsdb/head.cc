// The head replay follows Prometheus's Head.Init (tsdb/head.go) and
// loadWAL / loadWBL (tsdb/head_wal.go), one series at a time instead of
// sharded across goroutines (the order within a series is the same):
//
//  * m-mapped chunks first (loadMmappedChunks): per series reference, in
//    file order; in-order chunks ending before the min valid time and chunks
//    of an unknown encoding are ignored. A corrupt chunk (or one this reader
//    cannot decode) drops its file and the later ones, an out-of-sequence
//    chunk all of them, as Prometheus's repair does: the WAL holds every
//    sample of the head, and replays those the chunks no longer cover.
//  * the checkpoint, then the WAL segments after it, record by record:
//    a series record creates the series, or, for labels already known, maps
//    its reference to the existing series (multiRef) and resets that
//    series to the m-mapped chunks of the new reference, dropping what was
//    replayed for it (resetSeriesWithMMappedChunks); a sample before the
//    min valid time, of an unknown reference, at or before the series' last
//    m-mapped chunk's maxt (mmMaxTime), or at or before its newest sample is
//    skipped (processWALSamples, memSeries.append); tombstones delete
//    intervals of known series, and a [MinInt64, MaxInt64] one deletes the
//    series (Prometheus 3.x's stale series).
//  * the WBL: out-of-order samples of known series, no min valid time.
//
// Then the output: a series' in-order samples (its m-mapped chunks, then
// the WAL's), its out-of-order ones (its out-of-order chunks, then the
// WBL's; where a timestamp repeats, the first one stays, as the in-order
// head and OOOChunk.Insert keep it; between in-order and out-of-order data
// Prometheus's queries merge with a chain iterator that keeps either, this
// keeps the in-order one), without tombstoned intervals.
#include "tsdb/head.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "promeval/status_macros.h"
#include "tsdb/decbuf.h"
#include "tsdb/head_chunks.h"
#include "tsdb/wal.h"
#include "tsdb/wal_records.h"
#include "tsdb/xor.h"

namespace promeval::tsdb {
namespace {

constexpr int64_t kMinTime = INT64_MIN;
constexpr int64_t kMaxTime = INT64_MAX;
constexpr int kMaxAttempts = 3;

std::string Join(absl::string_view dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

// A ULID: 26 characters of Crockford's base32.
bool IsBlockDirName(absl::string_view name) {
  if (name.size() != 26) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    c = absl::ascii_toupper(c);
    return absl::ascii_isdigit(c) || (c >= 'A' && c <= 'Z' && c != 'I' &&
                                      c != 'L' && c != 'O' && c != 'U');
  });
}

// DB.inOrderBlocksMaxTime over the blocks' meta.json: the newest maxTime of
// the blocks not compacted from out-of-order data (nor from Prometheus
// 3.x's stale or selected series). Unreadable blocks are left out, as
// Prometheus's openBlocks skips them.
absl::StatusOr<int64_t> InOrderBlocksMaxTime(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListEntries(dir, true);
  if (!names.ok()) return names.status();
  int64_t max_time = kMinTime;
  for (const std::string& name : *names) {
    if (!IsBlockDirName(name)) continue;
    absl::StatusOr<std::string> text =
        ReadWholeFile(Join(Join(dir, name), "meta.json"));
    if (!text.ok()) continue;
    const nlohmann::json meta = nlohmann::json::parse(
        *text, /*cb=*/nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object()) continue;
    auto max = meta.find("maxTime");
    if (max == meta.end() || !max->is_number_integer()) continue;
    bool in_order = true;
    auto compaction = meta.find("compaction");
    if (compaction != meta.end() && compaction->is_object()) {
      auto hints = compaction->find("hints");
      if (hints != compaction->end() && hints->is_array()) {
        for (const nlohmann::json& hint : *hints) {
          if (hint == "from-out-of-order" || hint == "from-stale-series" ||
              hint == "from-selected-series") {
            in_order = false;
          }
        }
      }
    }
    if (in_order) max_time = std::max(max_time, max->get<int64_t>());
  }
  return max_time;
}

// Identifies a series as Prometheus's head does: its labels as stored.
std::string LabelsKey(const std::vector<Label>& labels) {
  std::string key;
  for (const Label& l : labels) {
    for (const std::string* s : {&l.name, &l.value}) {
      const auto n = static_cast<uint32_t>(s->size());
      key.append(reinterpret_cast<const char*>(&n), sizeof(n));
      key.append(*s);
    }
  }
  return key;
}

bool IsValidChunkEncoding(uint8_t encoding) {
  return encoding >= static_cast<uint8_t>(ChunkEncoding::kXor) &&
         encoding <= static_cast<uint8_t>(ChunkEncoding::kFloatHistogramSt);
}

struct DeletedInterval {
  int64_t min_time;
  int64_t max_time;
};

// Prometheus's memSeries, as far as the replay needs it.
struct MemSeries {
  std::vector<Label> labels;
  uint64_t ref = 0;
  std::vector<const HeadChunk*> chunks;      // In-order, m-mapped.
  std::vector<const HeadChunk*> ooo_chunks;  // Out-of-order, m-mapped.
  int64_t mm_max_time = kMinTime;            // The last in-order chunk's maxt.
  int64_t last_time = kMinTime;              // The newest in-order sample.
  std::vector<int64_t> t;                    // In-order samples from the WAL.
  std::vector<double> v;
  std::vector<int64_t> ooo_t;  // From the WBL.
  std::vector<double> ooo_v;
  std::vector<DeletedInterval> deleted;
  bool histogram = false;
  bool removed = false;  // By a [MinInt64, MaxInt64] tombstone.
};

// One attempt at replaying the head.
class Replay {
 public:
  Replay(std::string dir, std::optional<int64_t> min_valid_time,
         bool last_attempt)
      : dir_(std::move(dir)),
        min_valid_time_option_(min_valid_time),
        last_attempt_(last_attempt) {}

  // Reads everything; raced() when a running Prometheus deleted a file
  // this attempt needed.
  absl::Status Run();
  bool raced() const { return raced_; }
  // Appends the result in one commit.
  absl::Status Output(Appendable& out);
  HeadStats& stats() { return stats_; }

 private:
  absl::Status LoadChunks();
  // Reads chunks_head/ file `name`; false when the later files are to be
  // left out too.
  absl::StatusOr<bool> LoadChunkFile(const NumberedEntry& file, bool last_file,
                                     std::vector<HeadChunk>& chunks);
  absl::Status ReplayWal();
  absl::Status ReplayWbl();
  // Replays one segment; `*vanished` when it no longer exists.
  absl::Status ReplaySegment(const std::string& path, bool last, bool wbl,
                             bool* vanished);
  absl::Status ApplyRecord(absl::string_view record,
                           const WalSegmentReader& reader, bool wbl);
  void ApplySeries();
  void ApplySamples();
  void ApplyTombstones();
  void ApplyHistograms(bool wbl);
  void ApplyOooSamples();
  void Reset(MemSeries& s, uint64_t wal_ref);
  // The series of a reference in a record (through multiRef), or null.
  MemSeries* Lookup(uint64_t ref);
  void Warn(std::string warning) {
    stats_.warnings.push_back(std::move(warning));
  }

  const std::string dir_;
  const std::optional<int64_t> min_valid_time_option_;
  const bool last_attempt_;
  int64_t min_valid_time_ = kMinTime;
  bool raced_ = false;
  HeadStats stats_;

  // chunks_head/: the files' contents (kept: the chunks view them).
  std::deque<std::string> chunk_files_;
  std::vector<HeadChunk> chunks_;
  absl::flat_hash_map<uint64_t, std::vector<const HeadChunk*>> mmc_;
  absl::flat_hash_map<uint64_t, std::vector<const HeadChunk*>> ooo_mmc_;

  std::deque<MemSeries> series_;  // In creation order.
  absl::flat_hash_map<std::string, MemSeries*> by_labels_;
  absl::flat_hash_map<uint64_t, MemSeries*> by_ref_;
  absl::flat_hash_map<uint64_t, uint64_t> multi_ref_;
  uint64_t last_series_id_ = 0;

  // Decoded records (reused).
  std::vector<WalSeries> rec_series_;
  std::vector<WalSample> rec_samples_;
  std::vector<WalTombstone> rec_tombstones_;
  std::vector<WalHistogramSample> rec_histograms_;
  std::vector<WalMmapMarker> rec_markers_;
};

absl::Status Replay::Run() {
  if (min_valid_time_option_.has_value()) {
    min_valid_time_ = *min_valid_time_option_;
  } else {
    PROMEVAL_ASSIGN_OR_RETURN(min_valid_time_, InOrderBlocksMaxTime(dir_));
  }
  stats_.min_valid_time = min_valid_time_;
  // Without a WAL, Prometheus's head starts empty (the m-mapped chunks are
  // not even read).
  absl::StatusOr<std::vector<std::string>> wal =
      ListEntries(Join(dir_, "wal"), false);
  if (absl::IsNotFound(wal.status())) return absl::OkStatus();
  if (!wal.ok()) return wal.status();
  PROMEVAL_RETURN_IF_ERROR(LoadChunks());
  PROMEVAL_RETURN_IF_ERROR(ReplayWal());
  if (raced_) return absl::OkStatus();
  return ReplayWbl();
}

absl::StatusOr<bool> Replay::LoadChunkFile(const NumberedEntry& file,
                                           bool last_file,
                                           std::vector<HeadChunk>& chunks) {
  const std::string path = Join(Join(dir_, "chunks_head"), file.name);
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (absl::IsNotFound(content.status())) {
    // Truncated by a running Prometheus: its chunks are in a block now.
    Warn(absl::StrCat(path, ": vanished while read (truncated)"));
    return true;
  }
  if (!content.ok()) return content.status();
  if (absl::Status header = CheckHeadChunkFileHeader(*content, path);
      !header.ok()) {
    // repairLastChunkFile: a last file too short for its magic number, or
    // with zeros there (created, not written yet) is deleted.
    if (last_file && (content->size() < 4 ||
                      std::all_of(content->begin(), content->begin() + 4,
                                  [](char c) { return c == 0; }))) {
      Warn(absl::StrCat(path, ": empty last head chunk file left out"));
      return false;
    }
    return header;
  }
  const std::string& kept = chunk_files_.emplace_back(std::move(*content));
  const size_t first = chunks.size();
  absl::Status parsed =
      ParseHeadChunkFile(kept, path, static_cast<uint64_t>(file.index), chunks);
  // Float chunks must decode: one that does not is corrupt (or XOR2, which
  // this reader does not decode), handled like a checksum mismatch.
  std::vector<int64_t> t;
  std::vector<double> v;
  for (size_t i = first; i < chunks.size() && parsed.ok(); ++i) {
    const HeadChunk& c = chunks[i];
    const uint64_t offset = c.ref & 0xffffffffu;
    if (c.encoding == static_cast<uint8_t>(ChunkEncoding::kXor)) {
      t.clear();
      v.clear();
      absl::StatusOr<int> n =
          DecodeXorChunk(c.data, kMinTime, kMaxTime, t, v,
                         absl::StrCat(path, ": offset ", offset, ": chunk"));
      if (!n.ok()) parsed = n.status();
    } else if (c.encoding == static_cast<uint8_t>(ChunkEncoding::kXor2)) {
      parsed =
          CorruptionError(path, offset, "XOR2 chunks are not supported yet");
    }
  }
  if (parsed.ok()) return true;
  // Prometheus's removeCorruptedMmappedChunks: this file and the later ones
  // are deleted; the WAL replays what they held.
  chunks.resize(first);
  Warn(absl::StrCat(parsed.message(),
                    ": this head chunk file and the later ones left out "
                    "(their samples come from the WAL)"));
  return false;
}

absl::Status Replay::LoadChunks() {
  const std::string chunks_dir = Join(dir_, "chunks_head");
  absl::StatusOr<std::vector<NumberedEntry>> files =
      ListNumberedEntries(chunks_dir, "", false);
  if (absl::IsNotFound(files.status())) return absl::OkStatus();
  if (!files.ok()) return files.status();
  if (files->empty()) return absl::OkStatus();
  // The consecutive files up to the newest one: older ones after a gap are
  // being truncated by a running Prometheus (which would refuse to start
  // with a gap).
  size_t start = files->size() - 1;
  while (start > 0 && (*files)[start - 1].index + 1 == (*files)[start].index) {
    --start;
  }
  if (start > 0) {
    Warn(absl::StrCat(chunks_dir, ": files up to ", (*files)[start - 1].name,
                      " left out: not followed by consecutive files"));
  }
  std::vector<HeadChunk> chunks;
  for (size_t i = start; i < files->size(); ++i) {
    PROMEVAL_ASSIGN_OR_RETURN(
        bool go_on, LoadChunkFile((*files)[i], i + 1 == files->size(), chunks));
    if (!go_on) break;
  }
  chunks_ = std::move(chunks);  // From here on the chunks do not move.
  for (const HeadChunk& c : chunks_) {
    if (!c.out_of_order && c.max_time < min_valid_time_) continue;
    if (!IsValidChunkEncoding(c.encoding)) continue;
    if (c.out_of_order) {
      ooo_mmc_[c.series_ref].push_back(&c);
      continue;
    }
    std::vector<const HeadChunk*>& list = mmc_[c.series_ref];
    if (!list.empty() && list.back()->max_time >= c.min_time) {
      // Not a corruption error for Prometheus: it deletes every file.
      Warn(absl::StrCat(chunks_dir,
                        ": out of sequence m-mapped chunk for "
                        "series ref ",
                        c.series_ref, " at offset ", c.ref & 0xffffffffu,
                        ": all head chunk files left out (their samples come "
                        "from the WAL)"));
      mmc_.clear();
      ooo_mmc_.clear();
      return absl::OkStatus();
    }
    list.push_back(&c);
  }
  for (const auto& [ref, list] : mmc_) stats_.mmapped_chunks += list.size();
  for (const auto& [ref, list] : ooo_mmc_) {
    stats_.mmapped_chunks += list.size();
  }
  return absl::OkStatus();
}

absl::Status Replay::ReplaySegment(const std::string& path, bool last, bool wbl,
                                   bool* vanished) {
  *vanished = false;
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (absl::IsNotFound(content.status())) {
    *vanished = true;
    return absl::OkStatus();
  }
  if (!content.ok()) return content.status();
  WalSegmentReader reader(*content, path, last);
  absl::string_view record;
  while (reader.Next(&record)) {
    PROMEVAL_RETURN_IF_ERROR(ApplyRecord(record, reader, wbl));
  }
  PROMEVAL_RETURN_IF_ERROR(reader.status());
  if (reader.torn()) {
    (wbl ? stats_.wbl_torn_tail : stats_.torn_tail) = true;
    Warn(absl::StrCat(path, ": offset ", reader.torn_offset(),
                      ": torn last record: the replay of the ",
                      wbl ? "WBL" : "WAL", " ends there"));
  }
  return absl::OkStatus();
}

absl::Status Replay::ReplayWal() {
  const std::string wal_dir = Join(dir_, "wal");
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<NumberedEntry> checkpoints,
                            ListNumberedEntries(wal_dir, "checkpoint.", true));
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<NumberedEntry> segments,
                            ListNumberedEntries(wal_dir, "", false));
  int64_t start = segments.empty() ? 0 : segments.front().index;
  if (!checkpoints.empty()) {
    const NumberedEntry& checkpoint = checkpoints.back();
    stats_.checkpoint = static_cast<int>(
        std::min<int64_t>(checkpoint.index, std::numeric_limits<int>::max()));
    const std::string checkpoint_dir = Join(wal_dir, checkpoint.name);
    absl::StatusOr<std::vector<NumberedEntry>> parts =
        ListNumberedEntries(checkpoint_dir, "", false);
    if (absl::IsNotFound(parts.status())) {
      // Replaced by a newer checkpoint meanwhile.
      raced_ = true;
      return absl::OkStatus();
    }
    if (!parts.ok()) return parts.status();
    for (size_t i = 0; i < parts->size(); ++i) {
      if (i > 0 && (*parts)[i].index != (*parts)[i - 1].index + 1) {
        return CorruptionError(checkpoint_dir, 0,
                               "segments are not sequential");
      }
      bool vanished;
      // A checkpoint is complete (written aside, then renamed): a torn
      // record there is corruption.
      PROMEVAL_RETURN_IF_ERROR(ReplaySegment(
          Join(checkpoint_dir, (*parts)[i].name), false, false, &vanished));
      if (vanished) {
        raced_ = true;
        return absl::OkStatus();
      }
    }
    start = checkpoint.index + 1;
  }
  std::vector<NumberedEntry> wanted;
  for (NumberedEntry& s : segments) {
    if (s.index >= start) wanted.push_back(std::move(s));
  }
  for (size_t i = 0; i < wanted.size(); ++i) {
    const int64_t expected = i == 0 ? start : wanted[i - 1].index + 1;
    bool vanished = false;
    if (wanted[i].index == expected) {
      PROMEVAL_RETURN_IF_ERROR(ReplaySegment(Join(wal_dir, wanted[i].name),
                                             i + 1 == wanted.size(), false,
                                             &vanished));
    } else if (!last_attempt_) {
      raced_ = true;  // Segments deleted by a newer checkpoint.
      return absl::OkStatus();
    } else {
      return CorruptionError(
          wal_dir, 0,
          absl::StrCat(
              "WAL segment ", expected, " is missing (",
              checkpoints.empty() ? "no checkpoint" : checkpoints.back().name,
              ", next segment ", wanted[i].name, ")"));
    }
    if (vanished) {
      if (!last_attempt_) {
        raced_ = true;
        return absl::OkStatus();
      }
      stats_.vanished = true;
      Warn(absl::StrCat(Join(wal_dir, wanted[i].name),
                        ": vanished while read: the replay of the WAL ends "
                        "there"));
      break;
    }
    ++stats_.wal_segments;
  }
  return absl::OkStatus();
}

absl::Status Replay::ReplayWbl() {
  const std::string wbl_dir = Join(dir_, "wbl");
  absl::StatusOr<std::vector<NumberedEntry>> segments =
      ListNumberedEntries(wbl_dir, "", false);
  if (absl::IsNotFound(segments.status())) return absl::OkStatus();
  if (!segments.ok()) return segments.status();
  for (size_t i = 0; i < segments->size(); ++i) {
    if (i > 0 && (*segments)[i].index != (*segments)[i - 1].index + 1) {
      return CorruptionError(
          wbl_dir, 0,
          absl::StrCat("segments are not sequential: ", (*segments)[i - 1].name,
                       ", ", (*segments)[i].name));
    }
    bool vanished;
    PROMEVAL_RETURN_IF_ERROR(ReplaySegment(Join(wbl_dir, (*segments)[i].name),
                                           i + 1 == segments->size(), true,
                                           &vanished));
    if (vanished) {
      // Truncated after an out-of-order compaction: its samples are in a
      // block now.
      Warn(absl::StrCat(Join(wbl_dir, (*segments)[i].name),
                        ": vanished while read (truncated)"));
      continue;
    }
    ++stats_.wbl_segments;
  }
  return absl::OkStatus();
}

absl::Status Replay::ApplyRecord(absl::string_view record,
                                 const WalSegmentReader& reader, bool wbl) {
  absl::Status status;
  absl::string_view what;
  switch (GetWalRecordType(record)) {
    case WalRecordType::kSeries:
      if (wbl) break;  // loadWBL reads no series records.
      what = "series";
      rec_series_.clear();
      status = DecodeSeriesRecord(record, rec_series_);
      if (status.ok()) ApplySeries();
      break;
    case WalRecordType::kSamples:
    case WalRecordType::kSamplesV2:
      what = "samples";
      rec_samples_.clear();
      status = DecodeSamplesRecord(record, rec_samples_);
      if (status.ok()) wbl ? ApplyOooSamples() : ApplySamples();
      break;
    case WalRecordType::kTombstones:
      if (wbl) break;
      what = "tombstones";
      rec_tombstones_.clear();
      status = DecodeTombstonesRecord(record, rec_tombstones_);
      if (status.ok()) ApplyTombstones();
      break;
    case WalRecordType::kExemplars:
    case WalRecordType::kMetadata:
      if (wbl) break;
      what = "exemplars or metadata";
      status = CheckSkippedRecord(record);
      break;
    case WalRecordType::kMmapMarkers:
      // The out-of-order samples before a marker are in the m-mapped chunk
      // it names, and Prometheus drops them from its out-of-order head
      // chunk; kept here, they are the same samples, counted once.
      if (!wbl) break;
      what = "mmap markers";
      rec_markers_.clear();
      status = DecodeMmapMarkersRecord(record, rec_markers_);
      break;
    case WalRecordType::kHistogramSamples:
    case WalRecordType::kFloatHistogramSamples:
    case WalRecordType::kCustomBucketsHistogramSamples:
    case WalRecordType::kCustomBucketsFloatHistogramSamples:
    case WalRecordType::kHistogramSamplesV2:
    case WalRecordType::kFloatHistogramSamplesV2:
      what = "histograms";
      rec_histograms_.clear();
      status = DecodeHistogramRecord(record, rec_histograms_);
      if (status.ok()) ApplyHistograms(wbl);
      break;
    case WalRecordType::kUnknown:
      break;
  }
  if (status.ok()) return status;
  return CorruptionError(reader.file(), reader.record_offset(),
                         absl::StrCat("decode ", what, ": ", status.message()));
}

MemSeries* Replay::Lookup(uint64_t ref) {
  if (auto m = multi_ref_.find(ref); m != multi_ref_.end()) ref = m->second;
  auto it = by_ref_.find(ref);
  return it == by_ref_.end() ? nullptr : it->second;
}

void Replay::Reset(MemSeries& s, uint64_t wal_ref) {
  auto chunks = mmc_.find(wal_ref);
  s.chunks.clear();
  if (chunks != mmc_.end()) s.chunks = chunks->second;
  auto ooo = ooo_mmc_.find(wal_ref);
  s.ooo_chunks.clear();
  if (ooo != ooo_mmc_.end()) s.ooo_chunks = ooo->second;
  s.mm_max_time = s.chunks.empty() ? kMinTime : s.chunks.back()->max_time;
  s.last_time = s.mm_max_time;
  s.t.clear();
  s.v.clear();
  s.histogram = false;
  for (const auto* list : {&s.chunks, &s.ooo_chunks}) {
    for (const HeadChunk* c : *list) {
      if (IsHistogramEncoding(c->encoding)) s.histogram = true;
    }
  }
}

void Replay::ApplySeries() {
  for (WalSeries& rec : rec_series_) {
    std::string key = LabelsKey(rec.labels);
    MemSeries* s;
    auto it = by_labels_.find(key);
    const bool created = it == by_labels_.end();
    if (created) {
      // getOrCreateWithOptionalID: reference 0 takes the next free one.
      const uint64_t id = rec.ref != 0 ? rec.ref : ++last_series_id_;
      s = &series_.emplace_back();
      s->labels = std::move(rec.labels);
      s->ref = id;
      by_labels_.emplace(std::move(key), s);
      by_ref_[id] = s;
    } else {
      s = it->second;
    }
    last_series_id_ = std::max(last_series_id_, rec.ref);
    if (!created) multi_ref_[rec.ref] = s->ref;
    Reset(*s, rec.ref);
  }
}

void Replay::ApplySamples() {
  for (const WalSample& sample : rec_samples_) {
    if (sample.t < min_valid_time_) {
      ++stats_.skipped_before_min_valid_time;
      continue;
    }
    MemSeries* s = Lookup(sample.ref);
    if (s == nullptr) {
      ++stats_.skipped_unknown_series;
      continue;
    }
    if (sample.t <= s->mm_max_time) {
      ++stats_.skipped_in_chunks;
      continue;
    }
    if (sample.t <= s->last_time) {
      ++stats_.skipped_out_of_order;
      continue;
    }
    s->t.push_back(sample.t);
    s->v.push_back(sample.v);
    s->last_time = sample.t;
  }
}

void Replay::ApplyOooSamples() {
  for (const WalSample& sample : rec_samples_) {
    MemSeries* s = Lookup(sample.ref);
    if (s == nullptr) {
      ++stats_.skipped_unknown_series;
      continue;
    }
    s->ooo_t.push_back(sample.t);
    s->ooo_v.push_back(sample.v);
  }
}

void Replay::ApplyHistograms(bool wbl) {
  for (const WalHistogramSample& h : rec_histograms_) {
    if (!wbl && h.t < min_valid_time_) continue;
    MemSeries* s = Lookup(h.ref);
    if (s == nullptr) continue;
    if (!wbl) {
      if (h.t <= s->last_time) continue;
      s->last_time = h.t;
    }
    s->histogram = true;
  }
}

void Replay::ApplyTombstones() {
  for (const WalTombstone& stone : rec_tombstones_) {
    last_series_id_ = std::max(last_series_id_, stone.ref);
    if (stone.min_time == kMinTime && stone.max_time == kMaxTime) {
      // The whole series is deleted; a later series record for its labels
      // creates a new one.
      MemSeries* s = Lookup(stone.ref);
      if (s == nullptr) continue;
      s->removed = true;
      auto it = by_labels_.find(LabelsKey(s->labels));
      if (it != by_labels_.end() && it->second == s) by_labels_.erase(it);
      if (auto r = by_ref_.find(s->ref); r != by_ref_.end() && r->second == s) {
        by_ref_.erase(r);
      }
      continue;
    }
    if (stone.max_time < min_valid_time_) continue;
    MemSeries* s = Lookup(stone.ref);
    if (s == nullptr) continue;
    s->deleted.push_back({stone.min_time, stone.max_time});
  }
}

// Sorts samples by time, stably, keeping the first of each timestamp;
// returns how many of those kept were at index `ooo_from` or later.
int64_t SortDedup(std::vector<int64_t>& t, std::vector<double>& v,
                  size_t ooo_from) {
  std::vector<uint32_t> order(t.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return t[a] < t[b]; });
  std::vector<int64_t> nt;
  std::vector<double> nv;
  nt.reserve(t.size());
  nv.reserve(v.size());
  int64_t ooo = 0;
  for (uint32_t i : order) {
    if (!nt.empty() && nt.back() == t[i]) continue;
    nt.push_back(t[i]);
    nv.push_back(v[i]);
    if (i >= ooo_from) ++ooo;
  }
  t = std::move(nt);
  v = std::move(nv);
  return ooo;
}

absl::Status Replay::Output(Appendable& out) {
  struct Result {
    Labels labels;
    std::vector<int64_t> t;
    std::vector<double> v;
  };
  std::vector<Result> results;
  absl::flat_hash_map<Labels, size_t> by_labels;
  std::vector<int64_t> t;
  std::vector<double> v;
  for (MemSeries& s : series_) {
    if (s.removed) continue;
    if (s.histogram) {
      ++stats_.histogram_series;
      continue;
    }
    t.clear();
    v.clear();
    for (const HeadChunk* c : s.chunks) {
      PROMEVAL_RETURN_IF_ERROR(
          DecodeXorChunk(c->data, kMinTime, kMaxTime, t, v, "head chunk")
              .status());
    }
    // Samples of a chunk that began before the min valid time are in a
    // block already.
    size_t keep = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] < min_valid_time_) continue;
      t[keep] = t[i];
      v[keep] = v[i];
      ++keep;
    }
    t.resize(keep);
    v.resize(keep);
    t.insert(t.end(), s.t.begin(), s.t.end());
    v.insert(v.end(), s.v.begin(), s.v.end());
    const size_t in_order = t.size();
    for (const HeadChunk* c : s.ooo_chunks) {
      PROMEVAL_RETURN_IF_ERROR(
          DecodeXorChunk(c->data, kMinTime, kMaxTime, t, v, "head chunk")
              .status());
    }
    t.insert(t.end(), s.ooo_t.begin(), s.ooo_t.end());
    v.insert(v.end(), s.ooo_v.begin(), s.ooo_v.end());
    int64_t ooo = 0;
    // (A chunk's timestamps may repeat or go back when its bytes say so.)
    if (t.size() > in_order ||
        std::adjacent_find(t.begin(), t.end(), std::greater_equal<>()) !=
            t.end()) {
      ooo = SortDedup(t, v, in_order);
    }
    if (!s.deleted.empty()) {
      keep = 0;
      for (size_t i = 0; i < t.size(); ++i) {
        const bool deleted = std::any_of(
            s.deleted.begin(), s.deleted.end(), [&](const DeletedInterval& d) {
              return t[i] >= d.min_time && t[i] <= d.max_time;
            });
        if (deleted) {
          ++stats_.deleted_samples;
          continue;
        }
        t[keep] = t[i];
        v[keep] = v[i];
        ++keep;
      }
      t.resize(keep);
      v.resize(keep);
    }
    if (t.empty()) continue;
    stats_.ooo_samples += ooo;
    Labels labels(s.labels);
    auto [it, inserted] = by_labels.try_emplace(labels, results.size());
    if (inserted) {
      results.push_back({std::move(labels), t, v});
      continue;
    }
    // Two series of the head whose labels differ only in what Labels
    // normalizes away (empty values, order, repeated names): one series.
    Result& r = results[it->second];
    const size_t first = r.t.size();
    r.t.insert(r.t.end(), t.begin(), t.end());
    r.v.insert(r.v.end(), v.begin(), v.end());
    SortDedup(r.t, r.v, first);
  }
  std::unique_ptr<Appender> appender = out.NewAppender();
  for (const Result& r : results) {
    appender->AppendSamples(r.labels, r.t, r.v);
    if (stats_.samples == 0) {
      stats_.min_time = r.t.front();
      stats_.max_time = r.t.back();
    }
    stats_.min_time = std::min(stats_.min_time, r.t.front());
    stats_.max_time = std::max(stats_.max_time, r.t.back());
    stats_.samples += static_cast<int64_t>(r.t.size());
    ++stats_.series;
  }
  return appender->Commit();
}

}  // namespace

absl::StatusOr<HeadStats> ReplayHead(const std::string& dir, Appendable& out,
                                     const HeadOptions& options) {
  absl::StatusOr<std::vector<std::string>> listing = ListEntries(dir, true);
  if (!listing.ok()) return listing.status();
  for (int attempt = 1;; ++attempt) {
    Replay replay(dir, options.min_valid_time, attempt == kMaxAttempts);
    PROMEVAL_RETURN_IF_ERROR(replay.Run());
    if (replay.raced() && attempt < kMaxAttempts) continue;
    replay.stats().attempts = attempt;
    PROMEVAL_RETURN_IF_ERROR(replay.Output(out));
    return std::move(replay.stats());
  }
}

}  // namespace promeval::tsdb
