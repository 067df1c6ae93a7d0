#include "parser/error_listener.h"

#include "Exceptions.h"
#include "Parser.h"
#include "PromQLLexer.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "promeval/text.h"

namespace promeval::parser_internal {
namespace {

using L = antlr::PromQLLexer;

bool IsAggregator(size_t t) { return t >= L::SUM && t <= L::LIMIT_RATIO; }

bool IsOperatorToken(size_t t) {
  switch (t) {
    case L::ADD:
    case L::DIV:
    case L::EQLC:
    case L::EQL_REGEX:
    case L::GTE:
    case L::GTR:
    case L::TRIM_UPPER:
    case L::TRIM_LOWER:
    case L::LAND:
    case L::LOR:
    case L::LSS:
    case L::LTE:
    case L::LUNLESS:
    case L::MOD:
    case L::MUL:
    case L::NEQ:
    case L::NEQ_REGEX:
    case L::POW:
    case L::SUB:
    case L::AT:
    case L::ATAN2:
      return true;
    default:
      return false;
  }
}

bool IsKeyword(size_t t) {
  switch (t) {
    case L::BOOL:
    case L::BY:
    case L::GROUP_LEFT:
    case L::GROUP_RIGHT:
    case L::IGNORING:
    case L::OFFSET:
    case L::SMOOTHED:
    case L::ANCHORED:
    case L::ON:
    case L::WITHOUT:
    case L::FILL:
    case L::FILL_LEFT:
    case L::FILL_RIGHT:
      return true;
    default:
      return false;
  }
}

// Go's "%.10q": at most 10 runes, quoted.
std::string QuoteTruncated(absl::string_view s) {
  size_t i = 0;
  for (int runes = 0; runes < 10 && i < s.size(); ++runes) {
    int width = 0;
    DecodeUtf8(s.substr(i), width);
    i += width;
  }
  return GoQuote(s.substr(0, i));
}

// Prometheus's Item.desc().
std::string Describe(const antlr4::Token* t) {
  size_t type = t->getType();
  if (type == antlr4::Token::EOF) return "end of input";
  std::string val = t->getText();
  if (type == L::IDENTIFIER) return absl::StrCat("identifier ", GoQuote(val));
  if (type == L::METRIC_IDENTIFIER) {
    return absl::StrCat("metric identifier ", GoQuote(val));
  }
  if (IsKeyword(type)) return absl::StrCat("<", val, ">");
  if (IsOperatorToken(type)) return absl::StrCat("<op:", val, ">");
  if (IsAggregator(type)) return absl::StrCat("<aggr:", val, ">");
  std::string quoted =
      val.size() > 10 ? absl::StrCat(QuoteTruncated(val), "...") : GoQuote(val);
  switch (type) {
    case L::STRING:
      return absl::StrCat("string ", quoted);
    case L::NUMBER:
      return absl::StrCat("number ", quoted);
    case L::DURATION:
      return absl::StrCat("duration ", quoted);
    default:
      return quoted;  // Punctuation and start/end/step/range.
  }
}

// The constructs of Prometheus's grammar that have error productions, and
// plain parentheses (which have none).
enum class Frame {
  kParen,
  kAggregation,
  kGrouping,
  kBraces,
  kBrackets,
  kOffset,
  kAt,
};

enum class State {
  kNone,
  // Aggregation.
  kAfterOp,
  kInArgs,
  kAfterArgs,
  // Grouping list.
  kExpectParen,
  kExpectLabel,
  kAfterLabel,
  // Label matchers.
  kExpectName,
  kAfterName,
  kAfterQuotedName,
  kAfterMatchOp,
  kAfterMatcher,
  // Brackets: before/after the colon, the duration complete or not.
  kRangeIncomplete,
  kRangeComplete,
  kStepIncomplete,
  kStepComplete,
  // Offset and @.
  kModifier,
};

struct Open {
  Frame frame;
  State state = State::kNone;
  int parens = 0;        // Parentheses open inside brackets, offset, @.
  bool grouped = false;  // An aggregation whose grouping preceded its args.
};

// Replays the tokens before the error with the structure of Prometheus's
// grammar to find the innermost open construct.
class Tracker {
 public:
  explicit Tracker(const std::vector<const antlr4::Token*>& tokens)
      : tokens_(tokens) {}

  void Run(size_t offending) {
    for (size_t i = 0; i < offending; ++i) {
      size_t next = tokens_[i + 1]->getType();
      while (!Consume(tokens_[i]->getType(), next)) {
      }
    }
  }

  std::string Context() const {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      switch (it->frame) {
        case Frame::kParen:
          continue;
        case Frame::kAggregation:
          // Once its arguments are closed the aggregation is complete unless
          // a grouping clause follows, and Prometheus reduces it.
          if (it->state == State::kAfterArgs) continue;
          return " in aggregation";
        case Frame::kGrouping:
          if (it->state == State::kExpectParen) {
            return " in grouping opts, expected \"(\"";
          }
          if (it->state == State::kAfterLabel) {
            return " in grouping opts, expected \",\" or \")\"";
          }
          return " in grouping opts, expected label";
        case Frame::kBraces:
          switch (it->state) {
            case State::kAfterName:
              return " in label matching, expected label matching operator";
            case State::kAfterMatchOp:
              return " in label matching, expected string";
            case State::kAfterMatcher:
            case State::kAfterQuotedName:
              return " in label matching, expected \",\" or \"}\"";
            default:
              return " in label matching, expected identifier or \"}\"";
          }
        case Frame::kBrackets:
          switch (it->state) {
            case State::kRangeComplete:
              return " in subquery or range, expected \":\" or \"]\"";
            case State::kStepIncomplete:
              return " in subquery selector, expected number, duration, "
                     "step(), range(), or \"]\"";
            case State::kStepComplete:
              return " in subquery selector, expected \"]\"";
            default:
              return " in subquery or range selector, expected number, "
                     "duration, step(), or range()";
          }
        case Frame::kOffset:
          return " in offset, expected number, duration, step(), or range()";
        case Frame::kAt:
          return " in @, expected timestamp";
      }
    }
    return "";
  }

 private:
  // Applies token `t` (followed by `next`); returns false if it must be
  // applied again because it closed the innermost construct.
  bool Consume(size_t t, size_t next) {
    if (!stack_.empty()) {
      Open& top = stack_.back();
      switch (top.frame) {
        case Frame::kGrouping:
          Grouping(top, t);
          return true;
        case Frame::kBraces:
          Braces(top, t);
          return true;
        case Frame::kBrackets:
          Brackets(top, t);
          return true;
        case Frame::kOffset:
        case Frame::kAt:
          Modifier(top, t);
          return true;
        case Frame::kAggregation:
          if (top.state == State::kAfterOp) {
            if (t == L::BY || t == L::WITHOUT) {
              top.grouped = true;
              stack_.push_back({Frame::kGrouping, State::kExpectParen});
            } else {
              top.state = State::kInArgs;
              stack_.push_back({Frame::kParen});
            }
            return true;
          }
          if (top.state == State::kAfterArgs) {
            stack_.pop_back();
            if (t == L::BY || t == L::WITHOUT) {
              // The trailing grouping completes the aggregation.
              stack_.push_back({Frame::kGrouping, State::kExpectParen});
              return true;
            }
            return false;
          }
          break;
        case Frame::kParen:
          break;
      }
    }
    Statement(t, next);
    return true;
  }

  void Statement(size_t t, size_t next) {
    if (IsAggregator(t) &&
        (next == L::LEFT_PAREN || next == L::BY || next == L::WITHOUT)) {
      stack_.push_back({Frame::kAggregation, State::kAfterOp});
      return;
    }
    switch (t) {
      case L::LEFT_PAREN:
        stack_.push_back({Frame::kParen});
        return;
      case L::RIGHT_PAREN:
        if (!stack_.empty()) stack_.pop_back();
        if (!stack_.empty() && stack_.back().frame == Frame::kAggregation &&
            stack_.back().state == State::kInArgs) {
          if (stack_.back().grouped) {
            stack_.pop_back();
          } else {
            // A grouping clause may still follow the arguments.
            stack_.back().state = State::kAfterArgs;
          }
        }
        return;
      case L::LEFT_BRACE:
        stack_.push_back({Frame::kBraces, State::kExpectName});
        return;
      case L::LEFT_BRACKET:
        stack_.push_back({Frame::kBrackets, State::kRangeIncomplete});
        return;
      case L::OFFSET:
        stack_.push_back({Frame::kOffset, State::kModifier});
        return;
      case L::AT:
        stack_.push_back({Frame::kAt, State::kModifier});
        return;
      case L::ON:
      case L::IGNORING:
        stack_.push_back({Frame::kGrouping, State::kExpectParen});
        return;
      case L::GROUP_LEFT:
      case L::GROUP_RIGHT:
        if (next == L::LEFT_PAREN) {
          stack_.push_back({Frame::kGrouping, State::kExpectParen});
        }
        return;
      default:
        return;
    }
  }

  void Grouping(Open& g, size_t t) {
    switch (g.state) {
      case State::kExpectParen:
        g.state = State::kExpectLabel;
        return;
      case State::kAfterLabel:
        if (t == L::COMMA) {
          g.state = State::kExpectLabel;
          return;
        }
        break;
      default:
        if (t != L::RIGHT_PAREN) {
          g.state = State::kAfterLabel;
          return;
        }
    }
    stack_.pop_back();  // ")"
    if (!stack_.empty() && stack_.back().frame == Frame::kAggregation &&
        stack_.back().state == State::kAfterArgs) {
      stack_.pop_back();  // A trailing grouping ends the aggregation.
    }
  }

  void Braces(Open& b, size_t t) {
    switch (t) {
      case L::RIGHT_BRACE:
        stack_.pop_back();
        return;
      case L::COMMA:
        b.state = State::kExpectName;
        return;
      case L::IDENTIFIER:
        b.state = State::kAfterName;
        return;
      case L::STRING:
        b.state = b.state == State::kAfterMatchOp ? State::kAfterMatcher
                                                  : State::kAfterQuotedName;
        return;
      default:
        b.state = State::kAfterMatchOp;
        return;
    }
  }

  void Brackets(Open& b, size_t t) {
    bool after_colon =
        b.state == State::kStepIncomplete || b.state == State::kStepComplete;
    switch (t) {
      case L::RIGHT_BRACKET:
        stack_.pop_back();
        return;
      case L::COLON:
        b.state = State::kStepIncomplete;
        return;
      case L::LEFT_PAREN:
        ++b.parens;
        break;
      case L::RIGHT_PAREN:
        --b.parens;
        break;
      default:
        break;
    }
    bool complete = b.parens == 0 &&
                    (t == L::NUMBER || t == L::DURATION || t == L::RIGHT_PAREN);
    if (after_colon) {
      b.state = complete ? State::kStepComplete : State::kStepIncomplete;
    } else {
      b.state = complete ? State::kRangeComplete : State::kRangeIncomplete;
    }
  }

  // The duration after `offset`, or the timestamp after `@`.
  void Modifier(Open& m, size_t t) {
    if (t == L::LEFT_PAREN) {
      ++m.parens;
      return;
    }
    if (t == L::RIGHT_PAREN) --m.parens;
    bool atom_end = t == L::NUMBER || t == L::DURATION || t == L::RIGHT_PAREN;
    if (atom_end && m.parens == 0) stack_.pop_back();
  }

  const std::vector<const antlr4::Token*>& tokens_;
  std::vector<Open> stack_;
};

}  // namespace

void ErrorStrategy::reportError(antlr4::Parser* /*recognizer*/,
                                const antlr4::RecognitionException& e) {
  offending_index_ = e.getOffendingToken()->getTokenIndex();
}

void ErrorStrategy::recover(antlr4::Parser* /*recognizer*/,
                            std::exception_ptr /*e*/) {
  throw antlr4::ParseCancellationException();
}

antlr4::Token* ErrorStrategy::recoverInline(antlr4::Parser* recognizer) {
  offending_index_ = recognizer->getCurrentToken()->getTokenIndex();
  throw antlr4::ParseCancellationException();
}

void ErrorStrategy::sync(antlr4::Parser* /*recognizer*/) {}

ParseError SyntaxError(const std::vector<const antlr4::Token*>& tokens,
                       size_t offending) {
  const antlr4::Token* t = tokens[offending];
  Tracker tracker(tokens);
  tracker.Run(offending);
  int pos = static_cast<int>(t->getStartIndex());
  return ParseError{
      {pos, static_cast<int>(t->getStopIndex()) + 1},
      absl::StrCat("unexpected ", Describe(t), tracker.Context())};
}

}  // namespace promeval::parser_internal
