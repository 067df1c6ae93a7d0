#include "tsdb/index.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "promeval/status_macros.h"
#include "tsdb/decbuf.h"

namespace promeval::tsdb {
namespace {

constexpr uint32_t kIndexMagic = 0xBAAAD700;
constexpr size_t kHeaderLen = 5;
constexpr int kFormatV2 = 2;
constexpr size_t kTocLen = 6 * 8 + 4;
constexpr uint64_t kSeriesAlign = 16;

// Go's binary.Uvarint over bytes known to hold a complete varint.
inline uint64_t ValidUvarint(const unsigned char*& p) {
  uint64_t x = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = *p++;
    if (b < 0x80) return x | (uint64_t{b} << shift);
    x |= uint64_t{b & 0x7fu} << shift;
  }
}

}  // namespace

absl::Status IndexReader::Corrupt(uint64_t offset,
                                  absl::string_view what) const {
  return CorruptionError(path(), offset, what);
}

absl::StatusOr<std::unique_ptr<IndexReader>> IndexReader::Open(
    std::string path) {
  std::unique_ptr<IndexReader> r(new IndexReader());
  PROMEVAL_ASSIGN_OR_RETURN(r->file_, MmapFile::Open(std::move(path)));
  r->data_ = r->file_->data();
  Decbuf header(r->data_, r->path());
  const uint32_t magic = header.Be32();
  const uint8_t version = header.Byte();
  if (!header.ok()) return header.status();
  if (magic != kIndexMagic) {
    return r->Corrupt(0, absl::StrCat("invalid index magic number 0x",
                                      absl::Hex(magic, absl::kZeroPad8)));
  }
  if (version != kFormatV2) {
    if (version == 1 || version == 3) {
      return absl::UnimplementedError(
          absl::StrCat(r->path(), ": unsupported index format version ",
                       static_cast<int>(version), " (only version 2 is read)"));
    }
    return r->Corrupt(4, absl::StrCat("unknown index format version ",
                                      static_cast<int>(version)));
  }
  PROMEVAL_RETURN_IF_ERROR(r->ReadToc());
  PROMEVAL_RETURN_IF_ERROR(r->ReadSymbols());
  PROMEVAL_RETURN_IF_ERROR(r->ReadPostingsOffsetTable());
  return r;
}

absl::Status IndexReader::ReadToc() {
  if (data_.size() < kHeaderLen + kTocLen) {
    return Corrupt(data_.size(), absl::StrCat("index of ", data_.size(),
                                              " bytes has no room for a TOC"));
  }
  const uint64_t toc_offset = data_.size() - kTocLen;
  Decbuf d(data_.substr(toc_offset), path(), toc_offset);
  const absl::string_view body = data_.substr(toc_offset, kTocLen - 4);
  uint64_t refs[6];
  for (uint64_t& ref : refs) ref = d.Be64();
  const uint32_t want = d.Be32();
  if (!d.ok()) return d.status();
  const uint32_t got = Crc32c(body);
  if (got != want) {
    return Corrupt(toc_offset, absl::StrCat("TOC checksum mismatch: stored ",
                                            want, ", computed ", got));
  }
  // Only the symbol table and the postings offset table are read from the
  // TOC: series are found by their references, postings through the
  // postings offset table, and the label indices are no longer used.
  for (int i : {0, 5}) {
    if (refs[i] != 0 && (refs[i] < kHeaderLen || refs[i] >= toc_offset)) {
      return Corrupt(
          toc_offset + 8 * i,
          absl::StrCat("TOC: ", i == 0 ? "symbol table" : "postings table",
                       " at offset ", refs[i],
                       " outside the index's sections"));
    }
  }
  toc_symbols_ = refs[0];
  toc_postings_table_ = refs[5];
  return absl::OkStatus();
}

absl::Status IndexReader::ReadSymbols() {
  if (toc_symbols_ == 0) return absl::OkStatus();
  absl::string_view body;
  PROMEVAL_RETURN_IF_ERROR(ReadCheckedSection(data_, path(), toc_symbols_,
                                              LengthKind::kBe32, &body));
  const uint64_t base = toc_symbols_ + 4;
  Decbuf d(body, path(), base);
  const uint32_t count = d.Be32();
  if (!d.ok()) return d.status();
  // Every symbol takes at least one byte.
  if (count > d.remaining()) {
    return Corrupt(base, absl::StrCat("symbol table claims ", count,
                                      " symbols in ", d.remaining(), " bytes"));
  }
  symbols_ = body;
  symbol_offsets_.reserve(count);
  absl::string_view previous;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = d.offset();
    absl::string_view s = d.UvarintString();
    if (!d.ok()) return d.status();
    if (i > 0 && s <= previous) {
      return Corrupt(at, absl::StrCat("symbol ", i, " is not after symbol ",
                                      i - 1, " in sort order"));
    }
    previous = s;
    if (s.empty()) empty_symbol_ = i;
    symbol_offsets_.push_back(static_cast<uint32_t>(at - base));
  }
  return absl::OkStatus();
}

absl::Status IndexReader::ReadPostingsOffsetTable() {
  if (toc_postings_table_ == 0) return absl::OkStatus();
  absl::string_view body;
  PROMEVAL_RETURN_IF_ERROR(ReadCheckedSection(
      data_, path(), toc_postings_table_, LengthKind::kBe32, &body));
  Decbuf d(body, path(), toc_postings_table_ + 4);
  uint32_t count = d.Be32();
  if (!d.ok()) return d.status();
  // An entry takes at least four bytes.
  entries_.reserve(std::min<size_t>(count, d.remaining() / 4));
  absl::string_view last_name, last_value;
  while (d.remaining() > 0 && count > 0) {
    const uint64_t at = d.offset();
    const uint64_t keys = d.Uvarint();
    if (d.ok() && keys != 2) {
      return Corrupt(at, absl::StrCat("postings offset table entry with ", keys,
                                      " keys, want 2"));
    }
    const absl::string_view name = d.UvarintString();
    const absl::string_view value = d.UvarintString();
    const uint64_t offset = d.Uvarint();
    if (!d.ok()) return d.status();
    const bool new_name = names_.empty() || name != last_name;
    if (!names_.empty() &&
        (name < last_name || (!new_name && value <= last_value))) {
      return Corrupt(at, "postings offset table entries out of order");
    }
    if (offset >= data_.size()) {
      return Corrupt(at, absl::StrCat("postings list offset ", offset,
                                      " past the end of the index"));
    }
    if (new_name) {
      if (!names_.empty()) names_.back().end = entries_.size();
      names_.push_back(NameEntry{name, static_cast<uint32_t>(entries_.size()),
                                 static_cast<uint32_t>(entries_.size())});
    }
    entries_.push_back(PostingsEntry{value, offset});
    last_name = name;
    last_value = value;
    --count;
  }
  if (count > 0) {
    return Corrupt(d.offset(), absl::StrCat("postings offset table ends ",
                                            count, " entries early"));
  }
  if (!names_.empty()) names_.back().end = entries_.size();
  return absl::OkStatus();
}

absl::Span<const IndexReader::PostingsEntry> IndexReader::LabelValues(
    absl::string_view name) const {
  auto it = std::lower_bound(
      names_.begin(), names_.end(), name,
      [](const NameEntry& e, absl::string_view n) { return e.name < n; });
  if (it == names_.end() || it->name != name) return {};
  return absl::MakeConstSpan(entries_.data() + it->begin, it->end - it->begin);
}

const IndexReader::PostingsEntry* IndexReader::Find(
    absl::string_view name, absl::string_view value) const {
  absl::Span<const PostingsEntry> values = LabelValues(name);
  auto it = std::lower_bound(
      values.begin(), values.end(), value,
      [](const PostingsEntry& e, absl::string_view v) { return e.value < v; });
  if (it == values.end() || it->value != value) return nullptr;
  return &*it;
}

absl::Status IndexReader::ReadPostings(uint64_t offset,
                                       std::vector<uint32_t>& out) const {
  absl::string_view body;
  PROMEVAL_RETURN_IF_ERROR(
      ReadCheckedSection(data_, path(), offset, LengthKind::kBe32, &body));
  Decbuf d(body, path(), offset + 4);
  const uint32_t n = d.Be32();
  if (!d.ok()) return d.status();
  if (d.remaining() / 4 != n || d.remaining() % 4 != 0) {
    return Corrupt(offset, absl::StrCat("postings list of ", n, " entries in ",
                                        d.remaining(), " bytes"));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(body.data()) + 4;
  const size_t start = out.size();
  out.resize(start + n);
  uint32_t* dst = out.data() + start;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t be;
    std::memcpy(&be, p + 4 * static_cast<size_t>(i), 4);
    dst[i] = __builtin_bswap32(be);
  }
  for (uint32_t i = 1; i < n; ++i) {
    if (dst[i] <= dst[i - 1]) {
      out.resize(start);
      return Corrupt(offset + 8 + 4 * static_cast<uint64_t>(i),
                     "postings list not strictly increasing");
    }
  }
  return absl::OkStatus();
}

absl::string_view IndexReader::Symbol(uint32_t ref) const {
  const auto* p = reinterpret_cast<const unsigned char*>(symbols_.data()) +
                  symbol_offsets_[ref];
  const uint64_t len = ValidUvarint(p);
  return absl::string_view(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(len));
}

absl::Status IndexReader::ReadSeries(uint32_t id,
                                     std::vector<uint32_t>& label_refs,
                                     std::vector<ChunkMeta>& chunks) const {
  label_refs.clear();
  chunks.clear();
  const uint64_t offset = uint64_t{id} * kSeriesAlign;
  absl::string_view body;
  PROMEVAL_RETURN_IF_ERROR(
      ReadCheckedSection(data_, path(), offset, LengthKind::kUvarint, &body));
  const uint64_t base = static_cast<uint64_t>(body.data() - data_.data());
  Decbuf d(body, path(), base);
  const uint64_t num_labels = d.Uvarint();
  if (!d.ok()) return d.status();
  if (num_labels > d.remaining() / 2) {
    return Corrupt(base, absl::StrCat("series ", id, " claims ", num_labels,
                                      " labels in ", d.remaining(), " bytes"));
  }
  label_refs.resize(2 * num_labels);
  const uint32_t symbols = num_symbols();
  for (size_t i = 0; i < label_refs.size(); ++i) {
    const uint64_t at = d.offset();
    const uint32_t ref = d.Uvarint32();
    if (!d.ok()) return d.status();
    if (ref >= symbols) {
      return Corrupt(at, absl::StrCat("series ", id, " refers to symbol ", ref,
                                      " of ", symbols));
    }
    // Prometheus's head drops labels with empty values (Labels.WithoutEmpty)
    // before they reach a block; with one, label sets would not sort as
    // their symbol references do.
    if (i % 2 == 1 && ref == empty_symbol_) {
      return Corrupt(
          at, absl::StrCat("series ", id, ": label ", Symbol(label_refs[i - 1]),
                           " has an empty value"));
    }
    label_refs[i] = ref;
  }
  const uint64_t num_chunks = d.Uvarint();
  if (!d.ok()) return d.status();
  if (num_chunks > d.remaining() / 3) {
    return Corrupt(base, absl::StrCat("series ", id, " claims ", num_chunks,
                                      " chunks in ", d.remaining(), " bytes"));
  }
  chunks.resize(num_chunks);
  // Deltas are added as unsigned numbers: corrupt ones wrap around instead
  // of overflowing.
  uint64_t t = 0, ref = 0;
  for (uint64_t i = 0; i < num_chunks; ++i) {
    const uint64_t at = d.offset();
    ChunkMeta& c = chunks[i];
    const uint64_t mint =
        i == 0 ? static_cast<uint64_t>(d.Varint()) : t + d.Uvarint();
    const uint64_t maxt = mint + d.Uvarint();
    ref = i == 0 ? d.Uvarint() : ref + static_cast<uint64_t>(d.Varint());
    if (!d.ok()) return d.status();
    c.min_time = static_cast<int64_t>(mint);
    c.max_time = static_cast<int64_t>(maxt);
    c.ref = ref;
    if (c.max_time < c.min_time ||
        (i > 0 && c.min_time < static_cast<int64_t>(t))) {
      return Corrupt(at, absl::StrCat("series ", id, ": chunk ", i,
                                      "'s time range wraps around"));
    }
    if (i > 0 && c.ref <= chunks[i - 1].ref) {
      return Corrupt(at, absl::StrCat("series ", id, ": chunk ", i,
                                      "'s reference is not increasing"));
    }
    t = maxt;
  }
  return absl::OkStatus();
}

}  // namespace promeval::tsdb
