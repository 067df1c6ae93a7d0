#include "base/utf8.h"

namespace promeval {

char32_t DecodeUtf8(absl::string_view s, int& width) {
  if (s.empty()) {
    width = 0;
    return kRuneError;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char c0 = p[0];
  width = 1;
  if (c0 < 0x80) return c0;
  int n;
  char32_t r;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    n = 2;
    r = c0 & 0x1F;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    n = 3;
    r = c0 & 0x0F;
    if (c0 == 0xE0) lo = 0xA0;
    if (c0 == 0xED) hi = 0x9F;  // No surrogates.
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    n = 4;
    r = c0 & 0x07;
    if (c0 == 0xF0) lo = 0x90;
    if (c0 == 0xF4) hi = 0x8F;  // <= U+10FFFF.
  } else {
    return kRuneError;
  }
  if (s.size() < static_cast<size_t>(n)) return kRuneError;
  for (int i = 1; i < n; ++i) {
    unsigned char c = p[i];
    unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (c < l || c > h) return kRuneError;
    r = (r << 6) | (c & 0x3F);
  }
  width = n;
  return r;
}

bool IsValidRune(char32_t r) {
  return r <= 0x10FFFF && !(r >= 0xD800 && r <= 0xDFFF);
}

void AppendUtf8(std::string& out, char32_t r) {
  if (!IsValidRune(r)) r = kRuneError;
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int width = 0;
    char32_t r = DecodeUtf8(s.substr(i), width);
    if (r == kRuneError && width == 1) return false;
    i += width;
  }
  return true;
}

bool IsGoPrint(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  struct Range {
    char32_t lo, hi;
  };
  // Code points outside the letter/mark/number/punctuation/symbol categories:
  // C1 controls and non-ASCII spaces, format characters, line and paragraph
  // separators, private use.
  static constexpr Range kNonPrint[] = {
      {0x80, 0xA0},       {0xAD, 0xAD},        {0x600, 0x605},
      {0x61C, 0x61C},     {0x6DD, 0x6DD},      {0x70F, 0x70F},
      {0x890, 0x891},     {0x8E2, 0x8E2},      {0x1680, 0x1680},
      {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},
      {0x205F, 0x206F},   {0x3000, 0x3000},    {0xD800, 0xF8FF},
      {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},    {0xFFF9, 0xFFFB},
      {0x110BD, 0x110BD}, {0x110CD, 0x110CD},  {0x13430, 0x1343F},
      {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},  {0xE0001, 0xE0001},
      {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
  };
  if ((r & 0xFFFE) == 0xFFFE) return false;  // Non-characters.
  for (const Range& range : kNonPrint) {
    if (r >= range.lo && r <= range.hi) return false;
  }
  return r <= 0x10FFFF;
}

}  // namespace promeval
