// The lexer of Go's text/template (text/template/parse/lex.go): template
// text into items (text, delimiters, and the words of actions).
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_LEXER_H_
#define PROMEVAL_TEMPLATE_LEXER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace promeval::tmpl {

// Go's itemType.
enum class It {
  kError,
  kBool,
  kChar,
  kCharConstant,
  kComment,
  kAssign,
  kDeclare,
  kEOF,
  kField,
  kIdentifier,
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,
  kKeyword,  // Marker: keywords follow.
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

// Go's item: a token, its byte offset in the input and its line.
struct Item {
  It typ;
  int pos;
  std::string val;
  int line;
};

// Lexes `input` with the delimiters {{ and }}. The items end with an EOF
// item, or with an error item (its `val` the message) where lexing stopped.
std::vector<Item> Lex(absl::string_view input);

// Approximates Go's unicode.IsLetter: ASCII letters, and non-ASCII runes that
// are printable and outside the common punctuation and symbol blocks.
bool IsLetterRune(char32_t r);

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_LEXER_H_
