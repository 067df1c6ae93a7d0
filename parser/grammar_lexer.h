// The generated ANTLR lexer of grammar/PromQL.g4, as the reference for the
// hand-written ScanRawToken() (parser/token_source.h). Only the tests and
// the parse fuzzer link it (target promeval_grammar_lexer): they check that
// the fast scanner and the grammar's lexer rules agree.
#ifndef PROMEVAL_PARSER_GRAMMAR_LEXER_H_
#define PROMEVAL_PARSER_GRAMMAR_LEXER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "parser/token_source.h"

namespace promeval::parser_internal {

class GrammarLexer {
 public:
  explicit GrammarLexer(absl::string_view input);
  ~GrammarLexer();

  // The generated lexer's token at byte `pos` (a code point boundary).
  RawToken TokenAt(int pos);

  // Byte offsets of the code points of the input.
  const std::vector<int>& code_points() const { return offsets_; }

 private:
  struct Antlr;
  absl::string_view input_;
  std::vector<int> offsets_;  // Byte offset of each code point, plus end.
  std::unique_ptr<Antlr> antlr_;
};

// Whether ScanRawToken()'s token agrees with the grammar's: the same type
// and range, except for numbers and strings, whose grammar variants
// (NUMBER, DURATION, MALFORMED_NUMBER; STRING, UNTERMINATED_STRING) the fast
// scanner reports as NUMBER or STRING without their end. Sets `why`
// otherwise.
bool SameRawToken(const RawToken& fast, const RawToken& grammar,
                  absl::string_view input, std::string* why);

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_GRAMMAR_LEXER_H_
