#include "promeval/labels.h"

#include "absl/strings/str_cat.h"
#include "parser/utf8.h"
#include "promeval/text.h"
#include "re2/re2.h"

namespace promeval {
namespace {

// Go's regexp/syntax ErrorCode text for an RE2 error.
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

}  // namespace

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

absl::StatusOr<Matcher> Matcher::Create(MatchType type, std::string name,
                                        std::string value) {
  std::shared_ptr<const RE2> re;
  if (type == MatchType::kRegexp || type == MatchType::kNotRegexp) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(64 << 20);
    // Prometheus checks the expression on its own (so "a)(b" is an error
    // even though the anchored form would compile), then anchors it and lets
    // "." match newlines.
    RE2 plain(re2::StringPiece(value.data(), value.size()), options);
    if (!plain.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "error parsing regexp: ", GoRegexpErrorCode(plain.error_code()),
          ": `", plain.error_arg(), "`"));
    }
    auto anchored =
        std::make_shared<RE2>(absl::StrCat("^(?s:", value, ")$"), options);
    if (!anchored->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "error parsing regexp: ", GoRegexpErrorCode(anchored->error_code())));
    }
    re = std::move(anchored);
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
      return RE2::PartialMatch(
          re2::StringPiece(label_value.data(), label_value.size()), *re_);
    case MatchType::kNotRegexp:
      return !RE2::PartialMatch(
          re2::StringPiece(label_value.data(), label_value.size()), *re_);
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

}  // namespace promeval
