#include "promeval/labels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/go_regexp.h"
#include "base/utf8.h"
#include "base/xxhash.h"
#include "promeval/text.h"
#include "re2/re2.h"

namespace promeval {

absl::string_view GoRegexpErrorCode(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "unexpected error";
  }
}

absl::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexp:
      return "=~";
    case MatchType::kNotRegexp:
      return "!~";
  }
  return "";
}

// A fully anchored, dot-all regex. An alternation of plain strings is kept
// as the sorted strings instead of an RE2 program.
class CompiledRegex {
 public:
  // Fails with Go's regexp error text.
  static absl::StatusOr<std::shared_ptr<const CompiledRegex>> Compile(
      absl::string_view pattern) {
    auto out = std::make_shared<CompiledRegex>();
    if (IsLiteralAlternation(pattern)) {
      for (absl::string_view s : absl::StrSplit(pattern, '|')) {
        out->literals_.emplace_back(s);
      }
      std::sort(out->literals_.begin(), out->literals_.end());
      return out;
    }
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(64 << 20);
    // "." matches newlines; Matches() anchors both ends. Compiling the
    // pattern on its own (not inside "^(?s:...)$") keeps "a)(b" an error,
    // as it is in Prometheus.
    options.set_dot_nl(true);
    out->re_ = std::make_unique<RE2>(
        re2::StringPiece(pattern.data(), pattern.size()), options);
    if (!out->re_->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "error parsing regexp: ", GoRegexpErrorCode(out->re_->error_code()),
          ": `", out->re_->error_arg(), "`"));
    }
    return out;
  }

  bool Matches(absl::string_view s) const {
    if (re_ == nullptr) {
      return std::binary_search(literals_.begin(), literals_.end(), s);
    }
    return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *re_);
  }

 private:
  // Valid UTF-8 without any regex syntax but '|'.
  static bool IsLiteralAlternation(absl::string_view pattern) {
    for (char c : pattern) {
      if (absl::string_view("\\.+*?()[]{}^$").find(c) !=
          absl::string_view::npos) {
        return false;
      }
    }
    return IsValidUtf8(pattern);
  }

  std::unique_ptr<RE2> re_;            // Null for a literal alternation,
  std::vector<std::string> literals_;  // which matches one of these.
};

absl::StatusOr<Matcher> Matcher::Create(MatchType type, std::string name,
                                        std::string value) {
  std::shared_ptr<const CompiledRegex> re;
  if (type == MatchType::kRegexp || type == MatchType::kNotRegexp) {
    absl::StatusOr<std::shared_ptr<const CompiledRegex>> compiled =
        CompiledRegex::Compile(value);
    if (!compiled.ok()) return compiled.status();
    re = *std::move(compiled);
  }
  return Matcher(type, std::move(name), std::move(value), std::move(re));
}

bool Matcher::Matches(absl::string_view label_value) const {
  switch (type_) {
    case MatchType::kEqual:
      return label_value == value_;
    case MatchType::kNotEqual:
      return label_value != value_;
    case MatchType::kRegexp:
      return re_->Matches(label_value);
    case MatchType::kNotRegexp:
      return !re_->Matches(label_value);
  }
  return false;
}

std::string Matcher::ToString() const {
  std::string out = IsLegacyLabelName(name_) ? name_ : GoQuote(name_);
  absl::StrAppend(&out, MatchTypeString(type_), GoQuote(value_));
  return out;
}

bool IsLegacyLabelName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLegacyMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = c == '_' || c == ':' || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsValidLabelName(absl::string_view name) {
  return !name.empty() && IsValidUtf8(name);
}

namespace {

// Prometheus's stringlabels encoding of a length: one byte below 255, else
// 0xFF and three bytes little-endian.
void AppendSize(std::string& out, size_t n) {
  if (n < 255) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(0xFF);
    out += static_cast<char>(n & 0xFF);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>((n >> 16) & 0xFF);
  }
}

}  // namespace

Labels::Labels(std::vector<Label> labels) {
  std::stable_sort(
      labels.begin(), labels.end(),
      [](const Label& a, const Label& b) { return a.name < b.name; });
  // Later duplicates win.
  std::vector<Label> unique;
  unique.reserve(labels.size());
  for (Label& l : labels) {
    if (!unique.empty() && unique.back().name == l.name) {
      unique.back() = std::move(l);
    } else {
      unique.push_back(std::move(l));
    }
  }
  Finish(std::move(unique));
}

Labels::Labels(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>
        labels) {
  std::vector<Label> v;
  for (const auto& [name, value] : labels) {
    v.push_back(Label{std::string(name), std::string(value)});
  }
  *this = Labels(std::move(v));
}

const std::vector<Label>& Labels::list() const {
  static const auto* const kEmpty = new std::vector<Label>();
  return rep_ != nullptr ? *rep_ : *kEmpty;
}

void Labels::Finish(std::vector<Label> labels) {
  labels.erase(std::remove_if(labels.begin(), labels.end(),
                              [](const Label& l) { return l.value.empty(); }),
               labels.end());
  // The hash Prometheus computes: xxhash64 of the stringlabels encoding
  // (built in a buffer each thread reuses).
  thread_local std::string encoded;
  encoded.clear();
  for (const Label& l : labels) {
    AppendSize(encoded, l.name.size());
    encoded += l.name;
    AppendSize(encoded, l.value.size());
    encoded += l.value;
  }
  hash_ = XXHash64(encoded);
  if (labels.empty()) {
    rep_.reset();
  } else {
    rep_ = std::make_shared<const std::vector<Label>>(std::move(labels));
  }
}

absl::string_view Labels::Get(absl::string_view name) const {
  for (const Label& l : list()) {
    if (l.name == name) return l.value;
  }
  return "";
}

std::string Labels::ToString() const {
  std::string out = "{";
  const std::vector<Label>& labels = list();
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ", ";
    const Label& l = labels[i];
    absl::StrAppend(&out, IsLegacyLabelName(l.name) ? l.name : GoQuote(l.name),
                    "=", GoQuote(l.value));
  }
  out += "}";
  return out;
}

Labels Labels::WithoutMetricName() const {
  if (std::none_of(begin(), end(),
                   [](const Label& l) { return IsMetadataLabel(l.name); })) {
    return *this;
  }
  std::vector<Label> kept;
  kept.reserve(size());
  for (const Label& l : list()) {
    if (!IsMetadataLabel(l.name)) kept.push_back(l);
  }
  Labels out;
  out.Finish(std::move(kept));
  return out;
}

Labels Labels::Keep(absl::Span<const std::string> names) const {
  std::vector<Label> kept;
  for (const Label& l : list()) {
    if (std::find(names.begin(), names.end(), l.name) != names.end()) {
      kept.push_back(l);
    }
  }
  Labels out;
  out.Finish(std::move(kept));
  return out;
}

int CompareLabels(const Labels& a, const Labels& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].name != b[i].name) return a[i].name < b[i].name ? -1 : 1;
    if (a[i].value != b[i].value) return a[i].value < b[i].value ? -1 : 1;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool IsMetadataLabel(absl::string_view name) {
  return name == kMetricName || name == "__type__" || name == "__unit__";
}

LabelsBuilder& LabelsBuilder::Set(absl::string_view name,
                                  absl::string_view value) {
  auto it = std::lower_bound(
      labels_.begin(), labels_.end(), name,
      [](const Label& l, absl::string_view n) { return l.name < n; });
  if (it != labels_.end() && it->name == name) {
    if (value.empty()) {
      labels_.erase(it);
    } else {
      it->value = std::string(value);
    }
  } else if (!value.empty()) {
    labels_.insert(it, Label{std::string(name), std::string(value)});
  }
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(absl::string_view name) {
  return Set(name, "");
}

LabelsBuilder& LabelsBuilder::Del(absl::Span<const std::string> names) {
  for (const std::string& n : names) Del(n);
  return *this;
}

LabelsBuilder& LabelsBuilder::Keep(absl::Span<const std::string> names) {
  labels_.erase(std::remove_if(labels_.begin(), labels_.end(),
                               [&](const Label& l) {
                                 return std::find(names.begin(), names.end(),
                                                  l.name) == names.end();
                               }),
                labels_.end());
  return *this;
}

LabelsBuilder& LabelsBuilder::DropMetadata() {
  labels_.erase(
      std::remove_if(labels_.begin(), labels_.end(),
                     [](const Label& l) { return IsMetadataLabel(l.name); }),
      labels_.end());
  return *this;
}

Labels LabelsBuilder::Build() const {
  Labels out;
  out.Finish(labels_);
  return out;
}

}  // namespace promeval
