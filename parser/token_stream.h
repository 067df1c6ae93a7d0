// The generated parser's token stream over the tokens Tokenize() made.
//
// antlr4::CommonTokenStream pulls tokens one at a time from a token source,
// checks each one's channel and casts it to set its index; all PromQL tokens
// are lexed before parsing, on the default channel and with their indexes,
// so this stream only walks an array. Not thread-safe; one per parse.
#ifndef PROMEVAL_PARSER_TOKEN_STREAM_H_
#define PROMEVAL_PARSER_TOKEN_STREAM_H_

#include <string>
#include <vector>

#include "TokenStream.h"
#include "parser/token_source.h"

namespace promeval::parser_internal {

class LexemeStream final : public antlr4::TokenStream {
 public:
  // REQUIRES: `tokens` end with EOF, carry their indexes, and outlive the
  // stream.
  explicit LexemeStream(std::vector<Lexeme>& tokens) : tokens_(tokens) {}

  antlr4::Token* LT(ssize_t k) override;
  size_t LA(ssize_t i) override;
  void consume() override;
  ssize_t mark() override { return 0; }
  void release(ssize_t /*marker*/) override {}
  size_t index() override { return p_; }
  void seek(size_t index) override;
  size_t size() override { return tokens_.size(); }
  std::string getSourceName() const override { return "promql"; }
  antlr4::Token* get(size_t index) const override { return &tokens_[index]; }
  antlr4::TokenSource* getTokenSource() const override { return nullptr; }
  std::string getText(const antlr4::misc::Interval& interval) override;
  std::string getText() override;
  std::string getText(antlr4::RuleContext* ctx) override;
  std::string getText(antlr4::Token* start, antlr4::Token* stop) override;

 private:
  std::vector<Lexeme>& tokens_;
  size_t p_ = 0;  // The current token.
};

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_TOKEN_STREAM_H_
