// The index file of a persistent block, format version 2 (Prometheus's
// tsdb/index Reader; format in ../shared/prometheus/specs/tsdb/
// format_index.md): the TOC, the symbol table, the postings offset table,
// postings lists and series entries.
//
// Open checks the header and the TOC, and reads (CRC-checked) the symbol
// table's offsets and the whole postings offset table into memory as views
// of the mapped file: memory proportional to those tables, no string copied.
// It also checks that symbols and postings offset entries are strictly
// increasing, so lookups may binary-search them and symbol references
// compare as their strings do. Postings lists and series entries are read,
// and CRC-checked, when asked for; postings must be strictly increasing.
// Corrupt bytes give kDataLoss "FILE: offset N: what", never a crash.
//
// Internal to promeval (tsdb/). Thread-safe after Open (read-only).
#ifndef PROMEVAL_TSDB_INDEX_H_
#define PROMEVAL_TSDB_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tsdb/block.h"
#include "tsdb/mmap_file.h"

namespace promeval::tsdb {

class IndexReader {
 public:
  // The postings list of one label name and value: where it is in the file.
  struct PostingsEntry {
    absl::string_view value;  // A view of the mapped file.
    uint64_t offset;
  };

  // Maps and checks the index file at `path`. Format version 1 (and the
  // announced version 3) give kUnimplemented naming the file.
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(std::string path);

  const std::string& path() const { return file_->path(); }

  // The values of label `name` with their postings, sorted by value; empty
  // if no series has the label. Views of the mapped file.
  absl::Span<const PostingsEntry> LabelValues(absl::string_view name) const;

  // The postings entry of `name`=`value`, or null.
  const PostingsEntry* Find(absl::string_view name,
                            absl::string_view value) const;

  // Appends the series references of the postings list at `offset` (from a
  // PostingsEntry) to `out` (ascending).
  absl::Status ReadPostings(uint64_t offset, std::vector<uint32_t>& out) const;

  // The label set of series `id` as pairs of symbol references (name,
  // value, name, value, ...) and its chunks, replacing what `label_refs`
  // and `chunks` held. Symbol references are checked to exist, label
  // values to be non-empty (as Prometheus writes them), chunks to go
  // forward in time and in the segment files.
  absl::Status ReadSeries(uint32_t id, std::vector<uint32_t>& label_refs,
                          std::vector<ChunkMeta>& chunks) const;

  // The symbol `ref`. REQUIRES: ref < num_symbols() (ReadSeries checks).
  absl::string_view Symbol(uint32_t ref) const;
  uint32_t num_symbols() const {
    return static_cast<uint32_t>(symbol_offsets_.size());
  }

 private:
  struct NameEntry {
    absl::string_view name;
    uint32_t begin;  // The name's values: entries_[begin, end).
    uint32_t end;
  };

  IndexReader() = default;
  absl::Status ReadToc();
  absl::Status ReadSymbols();
  absl::Status ReadPostingsOffsetTable();
  absl::Status Corrupt(uint64_t offset, absl::string_view what) const;

  std::unique_ptr<MmapFile> file_;
  absl::string_view data_;
  uint64_t toc_symbols_ = 0;
  uint64_t toc_postings_table_ = 0;

  // The symbol table's body and the offset of each symbol (its uvarint
  // length) in it.
  absl::string_view symbols_;
  std::vector<uint32_t> symbol_offsets_;
  uint32_t empty_symbol_ = UINT32_MAX;  // The reference of "", if any.

  // The postings offset table, sorted by name, then value.
  std::vector<PostingsEntry> entries_;
  std::vector<NameEntry> names_;
};

}  // namespace promeval::tsdb

#endif  // PROMEVAL_TSDB_INDEX_H_
