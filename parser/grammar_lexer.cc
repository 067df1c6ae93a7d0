#include "parser/grammar_lexer.h"

#include <algorithm>
#include <string>

#include "ANTLRInputStream.h"
#include "PromQLLexer.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"

namespace promeval::parser_internal {

using antlr::PromQLLexer;

// An input stream over already-decoded code points, so that invalid UTF-8
// never reaches ANTLR's converter (which throws on it).
class CodePointStream : public antlr4::ANTLRInputStream {
 public:
  explicit CodePointStream(std::u32string data) { _data = std::move(data); }
};

struct GrammarLexer::Antlr {
  explicit Antlr(std::u32string chars)
      : stream(std::move(chars)), lexer(&stream) {
    lexer.removeErrorListeners();
  }
  CodePointStream stream;
  PromQLLexer lexer;
};

GrammarLexer::GrammarLexer(absl::string_view input) : input_(input) {
  std::u32string chars;
  size_t i = 0;
  while (i < input.size()) {
    int width = 1;
    char32_t r = static_cast<unsigned char>(input[i]);
    if (r >= 0x80) r = DecodeUtf8(input.substr(i), width);
    offsets_.push_back(static_cast<int>(i));
    chars.push_back(r);
    i += width;
  }
  offsets_.push_back(static_cast<int>(input.size()));
  antlr_ = std::make_unique<Antlr>(std::move(chars));
}

GrammarLexer::~GrammarLexer() = default;

RawToken GrammarLexer::TokenAt(int pos) {
  auto it = std::lower_bound(offsets_.begin(), offsets_.end(), pos);
  antlr_->lexer.reset();
  antlr_->stream.seek(static_cast<size_t>(it - offsets_.begin()));
  std::unique_ptr<antlr4::Token> t = antlr_->lexer.nextToken();
  if (t->getType() == antlr4::Token::EOF) {
    int end = static_cast<int>(input_.size());
    return {antlr4::Token::EOF, end, end};
  }
  return {t->getType(), offsets_[t->getStartIndex()],
          offsets_[t->getStopIndex() + 1]};
}

bool SameRawToken(const RawToken& fast, const RawToken& grammar,
                  absl::string_view input, std::string* why) {
  size_t type = grammar.type;
  bool delimited = true;
  switch (type) {
    case PromQLLexer::NUMBER:
    case PromQLLexer::DURATION:
    case PromQLLexer::MALFORMED_NUMBER: {
      // Inf and NaN are words, delimited like identifiers.
      char c = input[grammar.start];
      if ((c >= '0' && c <= '9') || c == '.') {
        type = PromQLLexer::NUMBER;
        delimited = false;
      }
      break;
    }
    case PromQLLexer::STRING:
    case PromQLLexer::UNTERMINATED_STRING:
      type = PromQLLexer::STRING;
      delimited = false;
      break;
    default:
      break;
  }
  if (fast.type == type && fast.start == grammar.start &&
      (!delimited || fast.end == grammar.end)) {
    return true;
  }
  *why = absl::StrCat("scanner: type ", fast.type, " [", fast.start, ", ",
                      fast.end, "), grammar: type ", grammar.type, " [",
                      grammar.start, ", ", grammar.end, ")");
  return false;
}

}  // namespace promeval::parser_internal
