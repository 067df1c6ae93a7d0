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

#include <memory>
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

struct LexedInput {
  // Parser-visible tokens (no whitespace or comments), ending with EOF.
  std::vector<std::unique_ptr<antlr4::Token>> tokens;
  // The lexer error carried by the LEXER_ERROR token, if there is one.
  std::optional<ParseError> error;
};

LexedInput Tokenize(absl::string_view input);

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_TOKEN_SOURCE_H_
