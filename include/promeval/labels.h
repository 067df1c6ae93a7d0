// Label names and label matchers.
//
// A Matcher is one `name op "value"` term of a vector selector. Regular
// expressions are RE2 (Go's syntax), fully anchored and dot-all, compiled
// once when the matcher is created, as Prometheus's labels.NewMatcher does.
//
// Thread-safety: Matcher is immutable after creation; copies share the
// compiled regex and may be used from any number of threads.
#ifndef PROMEVAL_LABELS_H_
#define PROMEVAL_LABELS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace promeval {

inline constexpr absl::string_view kMetricName = "__name__";

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
          std::shared_ptr<const re2::RE2> re)
      : type_(type),
        name_(std::move(name)),
        value_(std::move(value)),
        re_(std::move(re)) {}

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // Set for the regex types only.
};

// [a-zA-Z_][a-zA-Z0-9_]*: names that need no quoting.
bool IsLegacyLabelName(absl::string_view name);

// [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsLegacyMetricName(absl::string_view name);

// Prometheus 3 (UTF-8 validation): any non-empty valid UTF-8 string.
bool IsValidLabelName(absl::string_view name);

}  // namespace promeval

#endif  // PROMEVAL_LABELS_H_
