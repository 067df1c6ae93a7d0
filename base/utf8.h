// UTF-8 decoding with Go's rules, and Go's unicode.IsPrint.
//
// Internal to promeval; pure functions, thread-safe.
#ifndef PROMEVAL_BASE_UTF8_H_
#define PROMEVAL_BASE_UTF8_H_

#include <string>

#include "absl/strings/string_view.h"

namespace promeval {

inline constexpr char32_t kRuneError = 0xFFFD;

// Decodes the first rune of `s` as Go's utf8.DecodeRuneInString: an invalid
// or truncated sequence (overlong forms, surrogates, > U+10FFFF) yields
// kRuneError with width 1; an empty string yields kRuneError with width 0.
char32_t DecodeUtf8(absl::string_view s, int& width);

// Appends the UTF-8 encoding of `r` (kRuneError if `r` is not valid).
void AppendUtf8(std::string& out, char32_t r);

// A Unicode scalar value: <= U+10FFFF and not a surrogate.
bool IsValidRune(char32_t r);

// Whether the whole string is valid UTF-8.
bool IsValidUtf8(absl::string_view s);

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space. Non-printable: controls, format characters, separators other
// than ' ', private use and non-characters. (Unassigned code points, which Go
// also treats as non-printable, are considered printable here.)
bool IsGoPrint(char32_t r);

}  // namespace promeval

#endif  // PROMEVAL_BASE_UTF8_H_
