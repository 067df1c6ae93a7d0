// Label names and label matchers.
//
// A Matcher is one `name op "value"` term of a vector selector. Regular
// expressions are RE2 (Go's syntax), fully anchored and dot-all, compiled
// once when the matcher is created, as Prometheus's labels.NewMatcher does;
// like its FastRegexMatcher, an alternation of plain strings ("api|web") is
// matched by comparing strings, without a regex engine.
//
// Thread-safety: Matcher is immutable after creation; copies share the
// compiled regex and may be used from any number of threads.
#ifndef PROMEVAL_LABELS_H_
#define PROMEVAL_LABELS_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace promeval {

class CompiledRegex;  // parser/labels.cc

inline constexpr absl::string_view kMetricName = "__name__";

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

// An immutable set of labels sorted by name, with its hash computed once. A
// label with an empty value is the same as an absent label and is never
// stored. Copies share the label storage (copying is a reference count
// increment), so label sets are built once and passed around freely.
class Labels {
 public:
  Labels() = default;
  // Sorts; later duplicates of a name win; empty values are dropped.
  explicit Labels(std::vector<Label> labels);
  Labels(std::initializer_list<std::pair<absl::string_view, absl::string_view>>
             labels);

  // The value of `name`, or "" if absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const { return !Get(name).empty(); }
  bool empty() const { return list().empty(); }
  size_t size() const { return list().size(); }
  const Label& operator[](size_t i) const { return list()[i]; }
  std::vector<Label>::const_iterator begin() const { return list().begin(); }
  std::vector<Label>::const_iterator end() const { return list().end(); }

  uint64_t Hash() const { return hash_; }

  // Prometheus's labels.String(): {a="b", c="d"} (names quoted when they are
  // not legacy label names).
  std::string ToString() const;

  // Without __name__ (and the other metadata labels __type__, __unit__).
  Labels WithoutMetricName() const;
  // Only the labels named in `names`.
  Labels Keep(absl::Span<const std::string> names) const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.hash_ == b.hash_ && (a.rep_ == b.rep_ || a.list() == b.list());
  }
  friend bool operator!=(const Labels& a, const Labels& b) { return !(a == b); }
  // For absl hash containers: the precomputed hash.
  template <typename H>
  friend H AbslHashValue(H h, const Labels& l) {
    return H::combine(std::move(h), l.hash_);
  }

 private:
  friend class LabelsBuilder;
  const std::vector<Label>& list() const;
  // Drops empty values, computes the hash and stores `labels` (sorted by
  // name, unique).
  void Finish(std::vector<Label> labels);

  std::shared_ptr<const std::vector<Label>> rep_;  // Null when empty.
  uint64_t hash_ = 0xef46db3751d8e999ULL;          // The hash of the empty set.
};

// Prometheus's labels.Compare: pairwise by name then value, byte-wise; a
// prefix sorts first.
int CompareLabels(const Labels& a, const Labels& b);

// Whether a name is one of Prometheus's metadata labels: __name__, __type__,
// __unit__.
bool IsMetadataLabel(absl::string_view name);

// Edits a label set.
class LabelsBuilder {
 public:
  explicit LabelsBuilder(const Labels& base) : labels_(base.list()) {}
  // An empty value deletes the label.
  LabelsBuilder& Set(absl::string_view name, absl::string_view value);
  LabelsBuilder& Del(absl::string_view name);
  LabelsBuilder& Del(absl::Span<const std::string> names);
  // Keeps only `names`.
  LabelsBuilder& Keep(absl::Span<const std::string> names);
  LabelsBuilder& DropMetadata();
  Labels Build() const;

 private:
  std::vector<Label> labels_;  // Sorted.
};

enum class MatchType { kEqual, kNotEqual, kRegexp, kNotRegexp };

// "=", "!=", "=~", "!~".
absl::string_view MatchTypeString(MatchType type);

class Matcher {
 public:
  // Fails (kInvalidArgument, Go's regexp error text) if a regex does not
  // compile.
  static absl::StatusOr<Matcher> Create(MatchType type, std::string name,
                                        std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether a label value matches; an absent label has the value "".
  bool Matches(absl::string_view label_value) const;

  // Prometheus's Matcher.String(): name (quoted when it is not a legacy label
  // name), the operator, the Go-quoted value.
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }

 private:
  Matcher(MatchType type, std::string name, std::string value,
          std::shared_ptr<const CompiledRegex> re)
      : type_(type),
        name_(std::move(name)),
        value_(std::move(value)),
        re_(std::move(re)) {}

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const CompiledRegex> re_;  // For the regex types only.
};

// [a-zA-Z_][a-zA-Z0-9_]*: names that need no quoting.
bool IsLegacyLabelName(absl::string_view name);

// [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsLegacyMetricName(absl::string_view name);

// Prometheus 3 (UTF-8 validation): any non-empty valid UTF-8 string.
bool IsValidLabelName(absl::string_view name);

}  // namespace promeval

#endif  // PROMEVAL_LABELS_H_
