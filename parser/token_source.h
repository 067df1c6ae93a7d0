// Tokenization of PromQL text for the generated parser.
//
// The lexer rules of grammar/PromQL.g4 recognise tokens context-free.
// ScanRawToken() is a hand-written scanner for those rules (the generated
// ANTLR lexer is several times slower; tests/token_source_test.cc and the
// parse fuzzer check that both agree). Tokenize() scans with it and then
// applies the context rules of Prometheus's own stateful lexer
// (promql/parser/lex.go): inside braces every word is an identifier; inside
// brackets only durations, numbers, operators, step(), range(), min_of() and
// max_of() may appear; `fill` is a keyword only when
// "(" follows; numbers, durations and strings are validated character by
// character. The first lexer error becomes a LEXER_ERROR token followed by
// EOF, so the parser reports it exactly when Prometheus's parser would reach
// it.
//
// Token start/stop indexes are byte offsets into the input (stop inclusive).
// Thread-safe: no shared state.
#ifndef PROMEVAL_PARSER_TOKEN_SOURCE_H_
#define PROMEVAL_PARSER_TOKEN_SOURCE_H_

#include <optional>
#include <string>
#include <vector>

#include "Token.h"
#include "absl/strings/string_view.h"
#include "promeval/parser.h"

namespace promeval::parser_internal {

// A token of the grammar's lexer rules: its type (a PromQLLexer token type,
// or antlr4::Token::EOF at the end of the input) and its byte range.
struct RawToken {
  size_t type;
  int start;
  int end;  // Exclusive.
};

// The longest token of the grammar's lexer rules at byte `pos` (earlier rules
// win ties). Numbers and durations (digit-led, or '.' then a digit) and
// quoted strings are only classified, not delimited: Tokenize() rescans them
// with Prometheus's own rules. They come back as NUMBER or STRING with `end`
// start + 1 (the grammar's MALFORMED_NUMBER, DURATION and UNTERMINATED_STRING
// variants are not told apart).
RawToken ScanRawToken(absl::string_view input, int pos);

// A token as the parser sees it: its type and its bytes of the input (which
// must outlive it). Lighter than antlr4::CommonToken: no copy of its text,
// no token source, one line (positions are byte offsets).
class Lexeme final : public antlr4::Token {
 public:
  Lexeme(absl::string_view input, size_t type, int start, int end)
      : input_(input), type_(type), start_(start), end_(end) {}

  std::string getText() const override;
  size_t getType() const override { return type_; }
  size_t getLine() const override { return 1; }
  size_t getCharPositionInLine() const override { return start_; }
  size_t getChannel() const override { return DEFAULT_CHANNEL; }
  size_t getTokenIndex() const override { return index_; }
  size_t getStartIndex() const override { return start_; }
  // One before the start for an empty token (EOF), as CommonToken's.
  size_t getStopIndex() const override { return static_cast<size_t>(end_) - 1; }
  antlr4::TokenSource* getTokenSource() const override { return nullptr; }
  antlr4::CharStream* getInputStream() const override { return nullptr; }
  std::string toString() const override { return getText(); }

  void set_index(size_t index) { index_ = index; }
  // The same token over another copy of its input.
  Lexeme Rebased(absl::string_view input) const {
    Lexeme copy = *this;
    copy.input_ = input;
    return copy;
  }

 private:
  absl::string_view input_;
  size_t type_;
  int start_, end_;  // Bytes [start_, end_) of input_.
  size_t index_ = 0;
};

struct LexedInput {
  // Parser-visible tokens (no whitespace or comments), ending with EOF, each
  // with its index.
  std::vector<Lexeme> tokens;
  // The lexer error carried by the LEXER_ERROR token, if there is one.
  std::optional<ParseError> error;
};

LexedInput Tokenize(absl::string_view input);

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_TOKEN_SOURCE_H_
