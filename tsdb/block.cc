#include "tsdb/block.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "promeval/status_macros.h"
#include "tsdb/chunks.h"
#include "tsdb/decbuf.h"
#include "tsdb/index.h"
#include "tsdb/mmap_file.h"
#include "tsdb/tombstones.h"
#include "tsdb/xor.h"

namespace promeval::tsdb {
namespace {

using Json = nlohmann::json;

// A SAX handler that accepts everything and records where parsing failed:
// nlohmann's DOM parser without exceptions says only that it failed.
struct JsonErrorFinder {
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(Json::number_integer_t) { return true; }
  bool number_unsigned(Json::number_unsigned_t) { return true; }
  bool number_float(Json::number_float_t, const std::string&) { return true; }
  bool string(std::string&) { return true; }
  bool binary(Json::binary_t&) { return true; }
  bool start_object(std::size_t) { return true; }
  bool key(std::string&) { return true; }
  bool end_object() { return true; }
  bool start_array(std::size_t) { return true; }
  bool end_array() { return true; }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& e) {
    // `pos` counts the bytes read, the bad one included.
    position = pos > 0 ? pos - 1 : 0;
    // "[json.exception.parse_error.101] parse error at line 1, column 28:
    // syntax error while ..." without what the offset says.
    message = e.what();
    const size_t column = message.find("column ");
    const size_t colon = message.find(": ", column);
    if (column != std::string::npos && colon != std::string::npos) {
      message.erase(0, colon + 2);
    }
    return false;
  }
  std::size_t position = 0;
  std::string message = "invalid JSON";
};

// Reads an integer member `key` of `object` into `out`; a missing member
// leaves `out` alone unless `required`. An error message or "".
std::string GetInt(const Json& object, const char* key, bool required,
                   int64_t& out) {
  auto it = object.find(key);
  if (it == object.end()) {
    return required ? absl::StrCat("no \"", key, "\"") : "";
  }
  if (it->is_number_unsigned()) {
    const auto u = it->get<Json::number_unsigned_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::StrCat("\"", key, "\" out of range");
    }
    out = static_cast<int64_t>(u);
  } else if (it->is_number_integer()) {
    out = it->get<Json::number_integer_t>();
  } else {
    return absl::StrCat("\"", key, "\" is not an integer");
  }
  return "";
}

absl::StatusOr<BlockMeta> ParseMeta(absl::string_view text,
                                    const std::string& path) {
  Json j = Json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    JsonErrorFinder finder;
    Json::sax_parse(text.begin(), text.end(), &finder);
    return CorruptionError(path, finder.position, finder.message);
  }
  auto invalid = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": ", what));
  };
  if (!j.is_object()) return invalid("not a JSON object");
  BlockMeta meta;
  auto ulid = j.find("ulid");
  if (ulid == j.end() || !ulid->is_string()) {
    return invalid("no \"ulid\" string");
  }
  meta.ulid = ulid->get<std::string>();
  int64_t version = 0;
  for (std::string error : {GetInt(j, "minTime", true, meta.min_time),
                            GetInt(j, "maxTime", true, meta.max_time),
                            GetInt(j, "version", true, version)}) {
    if (!error.empty()) return invalid(error);
  }
  if (version != 1) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": unsupported meta.json version ", version));
  }
  meta.version = 1;
  if (auto stats = j.find("stats"); stats != j.end()) {
    if (!stats->is_object()) return invalid("\"stats\" is not an object");
    for (std::string error :
         {GetInt(*stats, "numSamples", false, meta.num_samples),
          GetInt(*stats, "numSeries", false, meta.num_series),
          GetInt(*stats, "numChunks", false, meta.num_chunks),
          GetInt(*stats, "numTombstones", false, meta.num_tombstones)}) {
      if (!error.empty()) return invalid(absl::StrCat("stats: ", error));
    }
  }
  if (auto compaction = j.find("compaction"); compaction != j.end()) {
    if (!compaction->is_object()) {
      return invalid("\"compaction\" is not an object");
    }
    int64_t level = 0;
    std::string error = GetInt(*compaction, "level", false, level);
    if (!error.empty()) return invalid(absl::StrCat("compaction: ", error));
    if (level < 0 || level > std::numeric_limits<int>::max()) {
      return invalid("compaction: \"level\" out of range");
    }
    meta.compaction_level = static_cast<int>(level);
  }
  return meta;
}

// a := a ∩ b (both ascending).
void IntersectInto(std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  size_t out = 0;
  if (b.size() / 16 > a.size()) {
    // Few against many: binary-search the long list.
    auto from = b.begin();
    for (uint32_t x : a) {
      from = std::lower_bound(from, b.end(), x);
      if (from == b.end()) break;
      if (*from == x) a[out++] = x;
    }
  } else {
    size_t j = 0;
    for (size_t i = 0; i < a.size() && j < b.size();) {
      if (a[i] < b[j]) {
        ++i;
      } else if (b[j] < a[i]) {
        ++j;
      } else {
        a[out++] = a[i];
        ++i;
        ++j;
      }
    }
  }
  a.resize(out);
}

// a := a \ b (both ascending).
void SubtractFrom(std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  size_t out = 0, j = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    while (j < b.size() && b[j] < a[i]) ++j;
    if (j < b.size() && b[j] == a[i]) continue;
    a[out++] = a[i];
  }
  a.resize(out);
}

class BlockImpl : public Block {
 public:
  BlockImpl(std::string dir, BlockMeta meta, std::unique_ptr<IndexReader> index,
            std::unique_ptr<ChunkReader> chunks, Tombstones tombstones)
      : dir_(std::move(dir)),
        meta_(std::move(meta)),
        index_(std::move(index)),
        chunks_(std::move(chunks)),
        tombstones_(std::move(tombstones)) {}

  const BlockMeta& meta() const override { return meta_; }
  const std::string& dir() const override { return dir_; }

  absl::Status Select(absl::Span<const Matcher> matchers, int64_t mint,
                      int64_t maxt,
                      std::vector<BlockSeries>& out) const override;

  absl::StatusOr<bool> ReadSamples(const BlockSeries& series, int64_t mint,
                                   int64_t maxt,
                                   SeriesSamples& out) const override;

  size_t MaxSamples(const BlockSeries& series, int64_t mint,
                    int64_t maxt) const override;

 private:
  // The XOR chunks of `series` that ReadSamples decodes (overlapping
  // [mint, maxt], not wholly deleted), their checksums checked if
  // `verify`, with whether each lies inside the range by its index entry,
  // and their samples in all; false if one holds native histograms.
  absl::StatusOr<bool> ChunksToRead(const BlockSeries& series, int64_t mint,
                                    int64_t maxt, bool verify,
                                    absl::InlinedVector<RawChunk, 8>& raw,
                                    absl::InlinedVector<bool, 8>& inside,
                                    size_t& total) const;

  // The series whose value of m's label does (`matching`) or does not
  // match `m`, among those that have the label, ascending.
  absl::Status Postings(const Matcher& m, bool matching,
                        std::vector<uint32_t>& out) const;
  // Select, which may leave some series in `out` when it fails.
  absl::Status SelectInto(absl::Span<const Matcher> matchers, int64_t mint,
                          int64_t maxt, std::vector<BlockSeries>& out) const;
  // The series selected by `matchers` (all series if there are none),
  // ascending.
  absl::Status PostingsForMatchers(absl::Span<const Matcher> matchers,
                                   std::vector<uint32_t>& ids) const;

  std::string dir_;
  BlockMeta meta_;
  std::unique_ptr<IndexReader> index_;
  std::unique_ptr<ChunkReader> chunks_;
  Tombstones tombstones_;
};

absl::Status BlockImpl::Postings(const Matcher& m, bool matching,
                                 std::vector<uint32_t>& out) const {
  out.clear();
  // l="v" selects one value, and so does the inverse of l!="v".
  if ((m.type() == MatchType::kEqual && matching) ||
      (m.type() == MatchType::kNotEqual && !matching)) {
    const IndexReader::PostingsEntry* e = index_->Find(m.name(), m.value());
    if (e == nullptr) return absl::OkStatus();
    return index_->ReadPostings(e->offset, out);
  }
  int lists = 0;
  for (const IndexReader::PostingsEntry& e : index_->LabelValues(m.name())) {
    if (m.Matches(e.value) != matching) continue;
    PROMEVAL_RETURN_IF_ERROR(index_->ReadPostings(e.offset, out));
    ++lists;
  }
  if (lists > 1) {
    // A series has one value per label, so the lists are disjoint: a sort
    // merges them (unique only guards against corrupt lists).
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return absl::OkStatus();
}

absl::Status BlockImpl::PostingsForMatchers(absl::Span<const Matcher> matchers,
                                            std::vector<uint32_t>& ids) const {
  ids.clear();
  // As Prometheus's PostingsForMatchers: a matcher that does not match the
  // empty value selects the series whose value matches; one that does
  // selects every series but those whose value does not match (series
  // without the label included). The first are intersected, smallest
  // first, then the second are subtracted.
  std::vector<std::vector<uint32_t>> include, exclude;
  for (const Matcher& m : matchers) {
    std::vector<uint32_t> list;
    if (!m.Matches("")) {
      PROMEVAL_RETURN_IF_ERROR(Postings(m, /*matching=*/true, list));
      if (list.empty()) return absl::OkStatus();
      include.push_back(std::move(list));
    } else if (m.type() != MatchType::kRegexp || m.value() != ".*") {
      PROMEVAL_RETURN_IF_ERROR(Postings(m, /*matching=*/false, list));
      if (!list.empty()) exclude.push_back(std::move(list));
    }
  }
  if (include.empty()) {
    // Every series: the postings list of the empty label name and value.
    const IndexReader::PostingsEntry* all = index_->Find("", "");
    if (all == nullptr) return absl::OkStatus();
    PROMEVAL_RETURN_IF_ERROR(index_->ReadPostings(all->offset, ids));
  } else {
    std::sort(
        include.begin(), include.end(),
        [](const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
          return a.size() < b.size();
        });
    ids = std::move(include[0]);
    for (size_t i = 1; i < include.size() && !ids.empty(); ++i) {
      IntersectInto(ids, include[i]);
    }
  }
  for (const std::vector<uint32_t>& list : exclude) {
    if (ids.empty()) break;
    SubtractFrom(ids, list);
  }
  return absl::OkStatus();
}

absl::Status BlockImpl::Select(absl::Span<const Matcher> matchers, int64_t mint,
                               int64_t maxt,
                               std::vector<BlockSeries>& out) const {
  const size_t start = out.size();
  absl::Status status = SelectInto(matchers, mint, maxt, out);
  if (!status.ok()) out.erase(out.begin() + start, out.end());
  return status;
}

absl::Status BlockImpl::SelectInto(absl::Span<const Matcher> matchers,
                                   int64_t mint, int64_t maxt,
                                   std::vector<BlockSeries>& out) const {
  std::vector<uint32_t> ids;
  PROMEVAL_RETURN_IF_ERROR(PostingsForMatchers(matchers, ids));
  std::vector<uint32_t> refs, previous_refs;
  std::vector<ChunkMeta> chunks;
  for (uint32_t id : ids) {
    PROMEVAL_RETURN_IF_ERROR(index_->ReadSeries(id, refs, chunks));
    // Label names strictly increasing within the series, and series in
    // label order. Symbols are sorted (IndexReader checks), so references
    // compare as their strings do, and the flat (name, value, ...) lists
    // compare as CompareLabels compares label sets.
    for (size_t i = 2; i < refs.size(); i += 2) {
      if (refs[i] <= refs[i - 2]) {
        return CorruptionError(
            index_->path(), uint64_t{id} * 16,
            absl::StrCat("series ", id, ": label names not sorted"));
      }
    }
    if (id != ids.front() && !std::lexicographical_compare(
                                 previous_refs.begin(), previous_refs.end(),
                                 refs.begin(), refs.end())) {
      return CorruptionError(
          index_->path(), uint64_t{id} * 16,
          absl::StrCat("series ", id,
                       " does not sort after the series before it"));
    }
    std::swap(previous_refs, refs);
    const absl::Span<const Interval> deleted = tombstones_.Get(id);
    size_t kept = 0;
    for (const ChunkMeta& c : chunks) {
      if (c.max_time < mint || c.min_time > maxt) continue;
      if (!deleted.empty() && IsSubrange(c.min_time, c.max_time, deleted)) {
        continue;
      }
      chunks[kept++] = c;
    }
    if (kept == 0) continue;
    chunks.resize(kept);
    std::vector<Label> labels;
    labels.reserve(previous_refs.size() / 2);
    for (size_t i = 0; i < previous_refs.size(); i += 2) {
      labels.push_back(
          Label{std::string(index_->Symbol(previous_refs[i])),
                std::string(index_->Symbol(previous_refs[i + 1]))});
    }
    BlockSeries& s = out.emplace_back();
    s.labels = Labels(std::move(labels));
    s.id = id;
    s.chunks = chunks;
  }
  return absl::OkStatus();
}

size_t BlockImpl::MaxSamples(const BlockSeries& series, int64_t mint,
                             int64_t maxt) const {
  absl::InlinedVector<RawChunk, 8> raw;
  absl::InlinedVector<bool, 8> inside;
  size_t total = 0;
  absl::StatusOr<bool> floats =
      ChunksToRead(series, mint, maxt, /*verify=*/false, raw, inside, total);
  return floats.ok() && *floats ? total : 0;
}

absl::StatusOr<bool> BlockImpl::ChunksToRead(
    const BlockSeries& series, int64_t mint, int64_t maxt, bool verify,
    absl::InlinedVector<RawChunk, 8>& raw, absl::InlinedVector<bool, 8>& inside,
    size_t& total) const {
  const absl::Span<const Interval> deleted = tombstones_.Get(series.id);
  for (const ChunkMeta& c : series.chunks) {
    if (c.max_time < mint || c.min_time > maxt) continue;
    if (!deleted.empty() && IsSubrange(c.min_time, c.max_time, deleted)) {
      continue;
    }
    PROMEVAL_ASSIGN_OR_RETURN(RawChunk chunk, chunks_->Chunk(c.ref, verify));
    switch (static_cast<ChunkEncoding>(chunk.encoding)) {
      case ChunkEncoding::kXor: {
        PROMEVAL_ASSIGN_OR_RETURN(int n,
                                  XorChunkSamples(chunk.data, *chunk.file));
        // A sample takes two bits at least: a header (checksum unchecked
        // with `verify` off) claiming more reserves no more than that.
        total += std::min(static_cast<size_t>(n), chunk.data.size() * 4 + 2);
        break;
      }
      case ChunkEncoding::kXor2:
        return absl::UnimplementedError(absl::StrCat(
            *chunk.file, ": offset ", chunk.offset,
            ": XOR2 chunks (storage.tsdb.chunk_encoding.floats) are not "
            "supported"));
      default:
        if (IsHistogramEncoding(chunk.encoding)) return false;
        return CorruptionError(*chunk.file, chunk.offset,
                               absl::StrCat("unknown chunk encoding ",
                                            static_cast<int>(chunk.encoding)));
    }
    raw.push_back(chunk);
    // Inside the range by the index: decoded without comparing each sample
    // with it (checked all the same, the index could lie).
    inside.push_back(c.min_time >= mint && c.max_time <= maxt);
  }
  return true;
}

absl::StatusOr<bool> BlockImpl::ReadSamples(const BlockSeries& series,
                                            int64_t mint, int64_t maxt,
                                            SeriesSamples& out) const {
  const absl::Span<const Interval> deleted = tombstones_.Get(series.id);
  // Find and check the chunks first: a histogram chunk anywhere means
  // nothing is appended.
  absl::InlinedVector<RawChunk, 8> raw;
  absl::InlinedVector<bool, 8> inside;
  size_t total = 0;
  PROMEVAL_ASSIGN_OR_RETURN(
      bool floats,
      ChunksToRead(series, mint, maxt, /*verify=*/true, raw, inside, total));
  if (!floats) return false;
  const size_t start = out.t.size();
  auto fail = [&](absl::Status status) {
    out.t.resize(start);
    out.v.resize(start);
    return status;
  };
  const size_t want = start + total;
  if (out.t.capacity() < want) {
    out.t.reserve(std::max(want, 2 * out.t.capacity()));
  }
  if (out.v.capacity() < want) {
    out.v.reserve(std::max(want, 2 * out.v.capacity()));
  }
  bool stale = false;
  for (size_t k = 0; k < raw.size(); ++k) {
    const RawChunk& chunk = raw[k];
    const size_t before = out.t.size();
    const int64_t from = inside[k] ? std::numeric_limits<int64_t>::min() : mint;
    const int64_t to = inside[k] ? std::numeric_limits<int64_t>::max() : maxt;
    absl::StatusOr<int> n =
        DecodeXorChunk(chunk.data, from, to, out.t, out.v, *chunk.file, &stale);
    if (!n.ok()) {
      // Decoded again for the message naming the chunk (errors are rare).
      return fail(DecodeXorChunk(chunk.data, from, to, out.t, out.v,
                                 absl::StrCat(*chunk.file, " (chunk at offset ",
                                              chunk.offset, ")"))
                      .status());
    }
    // Corrupt chunks can hold anything: the samples must go forward in
    // time, within and across chunks.
    for (size_t i = std::max(before, start + 1); i < out.t.size(); ++i) {
      if (out.t[i] <= out.t[i - 1]) {
        return fail(CorruptionError(
            *chunk.file, chunk.offset,
            absl::StrCat("chunk sample at ", out.t[i],
                         " is not after the sample before it at ",
                         out.t[i - 1])));
      }
    }
    if (inside[k] && out.t.size() > before &&
        (out.t[before] < mint || out.t.back() > maxt)) {
      // The chunk went outside the times its index entry gives: keep what
      // the range asks for (the samples are in order).
      const auto first =
          std::lower_bound(out.t.begin() + before, out.t.end(), mint);
      const auto last = std::upper_bound(first, out.t.end(), maxt);
      const size_t a = first - out.t.begin(), b = last - out.t.begin();
      out.t.erase(out.t.begin() + b, out.t.end());
      out.v.erase(out.v.begin() + b, out.v.end());
      out.t.erase(out.t.begin() + before, out.t.begin() + a);
      out.v.erase(out.v.begin() + before, out.v.begin() + a);
    }
  }
  if (!deleted.empty()) {
    size_t w = start, k = 0;
    for (size_t i = start; i < out.t.size(); ++i) {
      const int64_t t = out.t[i];
      while (k < deleted.size() && deleted[k].max_time < t) ++k;
      if (k < deleted.size() && t >= deleted[k].min_time) continue;
      out.t[w] = t;
      out.v[w] = out.v[i];
      ++w;
    }
    out.t.resize(w);
    out.v.resize(w);
  }
  // (Possibly among the samples left out since: then a reader looks.)
  if (stale) out.stale = true;
  return true;
}

std::string Join(const std::string& dir, absl::string_view name) {
  if (!dir.empty() && dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Block>> Block::Open(std::string dir) {
  PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<MmapFile> meta_file,
                            MmapFile::Open(Join(dir, "meta.json")));
  PROMEVAL_ASSIGN_OR_RETURN(BlockMeta meta,
                            ParseMeta(meta_file->data(), meta_file->path()));
  meta_file.reset();
  PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<IndexReader> index,
                            IndexReader::Open(Join(dir, "index")));
  PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<ChunkReader> chunks,
                            ChunkReader::Open(Join(dir, "chunks")));
  PROMEVAL_ASSIGN_OR_RETURN(Tombstones tombstones,
                            Tombstones::Read(Join(dir, "tombstones")));
  return std::unique_ptr<Block>(
      new BlockImpl(std::move(dir), std::move(meta), std::move(index),
                    std::move(chunks), std::move(tombstones)));
}

}  // namespace promeval::tsdb
