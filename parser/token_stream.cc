#include "parser/token_stream.h"

#include <algorithm>

#include "Exceptions.h"
#include "ParserRuleContext.h"
#include "misc/Interval.h"

namespace promeval::parser_internal {

antlr4::Token* LexemeStream::LT(ssize_t k) {
  if (k == 0) return nullptr;
  if (k < 0) {
    // The k-th token before the current one.
    const size_t back = static_cast<size_t>(-k);
    return back > p_ ? nullptr : &tokens_[p_ - back];
  }
  // Past the end, the EOF token repeats.
  return &tokens_[std::min(p_ + static_cast<size_t>(k) - 1,
                           tokens_.size() - 1)];
}

size_t LexemeStream::LA(ssize_t i) {
  antlr4::Token* t = LT(i);
  return t == nullptr ? antlr4::Token::INVALID_TYPE : t->getType();
}

void LexemeStream::consume() {
  if (tokens_[p_].getType() == antlr4::Token::EOF) {
    throw antlr4::IllegalStateException("cannot consume EOF");
  }
  ++p_;
}

void LexemeStream::seek(size_t index) {
  p_ = std::min(index, tokens_.size() - 1);
}

std::string LexemeStream::getText(const antlr4::misc::Interval& interval) {
  if (interval.a < 0 || interval.b < 0) return "";
  const size_t stop =
      std::min(static_cast<size_t>(interval.b), tokens_.size() - 1);
  std::string text;
  for (size_t i = static_cast<size_t>(interval.a); i <= stop; ++i) {
    if (tokens_[i].getType() == antlr4::Token::EOF) break;
    text += tokens_[i].getText();
  }
  return text;
}

std::string LexemeStream::getText() {
  return getText(antlr4::misc::Interval(0, static_cast<ssize_t>(size()) - 1));
}

std::string LexemeStream::getText(antlr4::RuleContext* ctx) {
  return getText(ctx->getSourceInterval());
}

std::string LexemeStream::getText(antlr4::Token* start, antlr4::Token* stop) {
  if (start == nullptr || stop == nullptr) return "";
  return getText(
      antlr4::misc::Interval(static_cast<ssize_t>(start->getTokenIndex()),
                             static_cast<ssize_t>(stop->getTokenIndex())));
}

}  // namespace promeval::parser_internal
