// Syntax errors with Prometheus's messages.
//
// Prometheus's yacc grammar reports "unexpected <token>" plus, where an error
// production applies, the construct being parsed and what was expected:
// `unexpected identifier "b" in label matching, expected "," or "}"`.
// ErrorStrategy stops the generated parser at the first syntax error and
// remembers the offending token; SyntaxErrorMessage() then derives the
// construct from the tokens before it (the innermost open aggregation,
// grouping list, label matcher list, range/subquery brackets, offset or @
// modifier) and formats the message.
#ifndef PROMEVAL_PARSER_ERROR_LISTENER_H_
#define PROMEVAL_PARSER_ERROR_LISTENER_H_

#include <vector>

#include "DefaultErrorStrategy.h"
#include "Token.h"
#include "absl/strings/string_view.h"
#include "promeval/parser.h"

namespace promeval::parser_internal {

// Throws antlr4::ParseCancellationException at the first syntax error (no
// recovery: Prometheus reports the first one) after recording the offending
// token.
class ErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  void reportError(antlr4::Parser* recognizer,
                   const antlr4::RecognitionException& e) override;
  void recover(antlr4::Parser* recognizer, std::exception_ptr e) override;
  antlr4::Token* recoverInline(antlr4::Parser* recognizer) override;
  void sync(antlr4::Parser* recognizer) override;

  // Index of the offending token in the token stream.
  size_t offending_index() const { return offending_index_; }

 private:
  size_t offending_index_ = 0;
};

// The error for a syntax error at tokens[offending] (not a LEXER_ERROR).
ParseError SyntaxError(const std::vector<const antlr4::Token*>& tokens,
                       size_t offending);

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_ERROR_LISTENER_H_
