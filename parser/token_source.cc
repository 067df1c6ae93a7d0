#include "parser/token_source.h"

#include <string>
#include <vector>

#include "PromQLLexer.h"
#include "PromQLParser.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "promeval/text.h"

namespace promeval::parser_internal {
namespace {

using antlr::PromQLLexer;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAlphaNumeric(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsKeywordType(size_t type) {
  return type >= PromQLLexer::LAND && type <= PromQLLexer::MAX_OF;
}

// The keyword rules of the grammar, lower case; a word matching none of them
// is an IDENTIFIER (or a NUMBER for Inf and NaN).
struct Keyword {
  absl::string_view word;
  size_t type;
};
constexpr Keyword kKeywords[] = {
    {"and", PromQLLexer::LAND},
    {"or", PromQLLexer::LOR},
    {"unless", PromQLLexer::LUNLESS},
    {"atan2", PromQLLexer::ATAN2},
    {"sum", PromQLLexer::SUM},
    {"avg", PromQLLexer::AVG},
    {"count", PromQLLexer::COUNT},
    {"min", PromQLLexer::MIN},
    {"max", PromQLLexer::MAX},
    {"group", PromQLLexer::GROUP},
    {"stddev", PromQLLexer::STDDEV},
    {"stdvar", PromQLLexer::STDVAR},
    {"topk", PromQLLexer::TOPK},
    {"bottomk", PromQLLexer::BOTTOMK},
    {"count_values", PromQLLexer::COUNT_VALUES},
    {"quantile", PromQLLexer::QUANTILE},
    {"limitk", PromQLLexer::LIMITK},
    {"limit_ratio", PromQLLexer::LIMIT_RATIO},
    {"offset", PromQLLexer::OFFSET},
    {"smoothed", PromQLLexer::SMOOTHED},
    {"anchored", PromQLLexer::ANCHORED},
    {"by", PromQLLexer::BY},
    {"without", PromQLLexer::WITHOUT},
    {"on", PromQLLexer::ON},
    {"ignoring", PromQLLexer::IGNORING},
    {"group_left", PromQLLexer::GROUP_LEFT},
    {"group_right", PromQLLexer::GROUP_RIGHT},
    {"fill", PromQLLexer::FILL},
    {"fill_left", PromQLLexer::FILL_LEFT},
    {"fill_right", PromQLLexer::FILL_RIGHT},
    {"bool", PromQLLexer::BOOL},
    {"start", PromQLLexer::START},
    {"end", PromQLLexer::END},
    {"step", PromQLLexer::STEP},
    {"range", PromQLLexer::RANGE},
    {"min_of", PromQLLexer::MIN_OF},
    {"max_of", PromQLLexer::MAX_OF},
    {"inf", PromQLLexer::NUMBER},
    {"nan", PromQLLexer::NUMBER},
};

size_t WordType(absl::string_view word) {
  constexpr size_t kLongest = 12;  // count_values
  if (word.size() > kLongest) return PromQLLexer::IDENTIFIER;
  // The keywords by length: a word is compared with those of its length.
  static const auto* const kByLength = [] {
    auto* by_length = new std::vector<const Keyword*>[kLongest + 1];
    for (const Keyword& k : kKeywords) by_length[k.word.size()].push_back(&k);
    return by_length;
  }();
  char lower[kLongest];
  for (size_t i = 0; i < word.size(); ++i) {
    lower[i] = absl::ascii_tolower(static_cast<unsigned char>(word[i]));
  }
  absl::string_view w(lower, word.size());
  for (const Keyword* k : kByLength[word.size()]) {
    if (k->word == w) return k->type;
  }
  return PromQLLexer::IDENTIFIER;
}

bool IsMetricNameChar(char c) { return IsAlphaNumeric(c) || c == ':'; }

class Tokenizer {
 public:
  explicit Tokenizer(absl::string_view input) : input_(input) {
    frames_.push_back(0);
    // Tokens average several bytes; most expressions need no regrowth.
    out_.tokens.reserve(input.size() / 3 + 4);
  }

  LexedInput Run() {
    int pos = 0;
    while (!done_) pos = Step(pos);
    for (size_t i = 0; i < out_.tokens.size(); ++i) {
      out_.tokens[i].set_index(i);
    }
    return std::move(out_);
  }

 private:
  char32_t RuneAt(int pos) const {
    if (static_cast<size_t>(pos) >= input_.size()) return kRuneError;
    int width = 0;
    return DecodeUtf8(input_.substr(pos), width);
  }

  char CharAt(int pos) const {
    return static_cast<size_t>(pos) < input_.size() ? input_[pos] : '\0';
  }

  void Emit(size_t type, int start, int end) {
    UpdateDepth(type, start);
    out_.tokens.emplace_back(input_, type, start, end);
  }

  // Records the lexer error; the parser sees LEXER_ERROR, then EOF.
  void Fail(int pos, std::string message) {
    if (done_) return;
    out_.error =
        ParseError{{pos, static_cast<int>(input_.size())}, std::move(message)};
    out_.tokens.emplace_back(input_, antlr::PromQLParser::LEXER_ERROR, pos,
                             pos);
    EmitEof(static_cast<int>(input_.size()));
  }

  void EmitEof(int pos) {
    out_.tokens.emplace_back(input_, antlr4::Token::EOF, pos, pos);
    done_ = true;
  }

  // Keeps an upper bound of how deeply the parser will recurse: one level
  // per open bracket, plus the current run of prefix operators, `^`
  // operators (right-associative) and postfix modifiers at that bracket
  // level. Chains of left-associative operators do not nest in the parser
  // and are handled iteratively on the tree, so they do not count.
  void UpdateDepth(size_t type, int pos) {
    size_t previous = last_type_;
    last_type_ = type;
    switch (type) {
      case PromQLLexer::LEFT_PAREN:
      case PromQLLexer::LEFT_BRACE:
        frames_.push_back(0);
        break;
      case PromQLLexer::LEFT_BRACKET:
        ++frames_.back();
        frames_.push_back(0);
        break;
      case PromQLLexer::RIGHT_PAREN:
      case PromQLLexer::RIGHT_BRACE:
      case PromQLLexer::RIGHT_BRACKET:
        if (frames_.size() > 1) frames_.pop_back();
        return;
      case PromQLLexer::POW:
      case PromQLLexer::OFFSET:
      case PromQLLexer::AT:
      case PromQLLexer::ANCHORED:
      case PromQLLexer::SMOOTHED:
        ++frames_.back();
        break;
      case PromQLLexer::ADD:
      case PromQLLexer::SUB:
        if (!IsOperand(previous)) {  // Unary.
          ++frames_.back();
          break;
        }
        frames_.back() = 0;
        return;
      case PromQLLexer::COMMA:
      case PromQLLexer::MUL:
      case PromQLLexer::DIV:
      case PromQLLexer::MOD:
      case PromQLLexer::ATAN2:
      case PromQLLexer::EQLC:
      case PromQLLexer::NEQ:
      case PromQLLexer::LTE:
      case PromQLLexer::LSS:
      case PromQLLexer::GTE:
      case PromQLLexer::GTR:
      case PromQLLexer::TRIM_UPPER:
      case PromQLLexer::TRIM_LOWER:
      case PromQLLexer::LAND:
      case PromQLLexer::LOR:
      case PromQLLexer::LUNLESS:
        frames_.back() = 0;
        return;
      default:
        return;
    }
    int depth = static_cast<int>(frames_.size()) - 1;
    for (int c : frames_) depth += c;
    if (depth > kMaxParseDepth) depth_exceeded_at_ = pos;
  }

  // Whether a token of this type ends an operand, making a following + or -
  // binary.
  static bool IsOperand(size_t type) {
    switch (type) {
      case PromQLLexer::NUMBER:
      case PromQLLexer::DURATION:
      case PromQLLexer::STRING:
      case PromQLLexer::IDENTIFIER:
      case PromQLLexer::METRIC_IDENTIFIER:
      case PromQLLexer::RIGHT_PAREN:
      case PromQLLexer::RIGHT_BRACE:
      case PromQLLexer::RIGHT_BRACKET:
      case PromQLLexer::ANCHORED:
      case PromQLLexer::SMOOTHED:
        return true;
      default:
        // Keywords used as metric names (`sum + 1`) count as operands too,
        // which only makes the estimate smaller for such rare input.
        return type >= PromQLLexer::LAND && type <= PromQLLexer::MAX_OF &&
               type != PromQLLexer::OFFSET && type != PromQLLexer::BOOL;
    }
  }

  // One step of the state machine at byte `pos`; returns the next position.
  int Step(int pos) {
    RawToken t = ScanRawToken(input_, pos);
    int next = DispatchToken(t);
    if (!done_ && depth_exceeded_at_ >= 0) {
      // Drop the token that went too deep and stop there.
      out_.tokens.pop_back();
      Fail(depth_exceeded_at_,
           absl::StrCat("expression nests too deeply (more than ",
                        kMaxParseDepth, " levels)"));
    }
    return next;
  }

  int DispatchToken(const RawToken& t) {
    if (brace_open_) return InsideBraces(t);
    // Prometheus lexes the inside of brackets with lexDurationExpr until the
    // first number or duration; lexNumberOrDuration then returns to
    // lexStatements with the bracket still open.
    if (bracket_open_ && duration_mode_) return InsideBrackets(t);
    return Statement(t);
  }

  // lexStatements.
  int Statement(const RawToken& t) {
    switch (t.type) {
      case antlr4::Token::EOF:
        if (paren_depth_ != 0) {
          Fail(t.start, "unclosed left parenthesis");
        } else if (bracket_open_) {
          Fail(t.start, "unclosed left bracket");
        } else {
          EmitEof(t.start);
        }
        return t.end;
      case PromQLLexer::WS:
      case PromQLLexer::COMMENT:
        return t.end;
      case PromQLLexer::EQL_REGEX:
        Fail(t.start, "unexpected character after '=': '~'");
        return t.end;
      case PromQLLexer::NEQ_REGEX:
        Fail(t.start, "unexpected character after '!': '~'");
        return t.end;
      case PromQLLexer::BANG:
        Fail(t.start, absl::StrCat("unexpected character after '!': ",
                                   GoQuoteRune(RuneAt(t.start + 1))));
        return t.end;
      case PromQLLexer::NUMBER:
      case PromQLLexer::DURATION:
      case PromQLLexer::MALFORMED_NUMBER:
        if (IsDigit(CharAt(t.start)) || CharAt(t.start) == '.') {
          return NumberOrDuration(t.start);
        }
        if (bracket_open_) return BracketWord(t.start);
        Emit(PromQLLexer::NUMBER, t.start, t.end);  // Inf, NaN.
        return t.end;
      case PromQLLexer::STRING:
      case PromQLLexer::UNTERMINATED_STRING:
        return String(t.start);
      case PromQLLexer::FILL:
      case PromQLLexer::FILL_LEFT:
      case PromQLLexer::FILL_RIGHT:
        if (bracket_open_) return BracketWord(t.start);
        // Keywords only before "(", so that fill can be a metric name.
        Emit(FollowedByLeftParen(t.end) ? t.type
                                        : size_t{PromQLLexer::IDENTIFIER},
             t.start, t.end);
        return t.end;
      case PromQLLexer::COLON:
        if (bracket_open_) return BracketColon(t.start);
        Emit(PromQLLexer::METRIC_IDENTIFIER, t.start, t.end);
        return t.end;
      case PromQLLexer::METRIC_IDENTIFIER:
        if (!bracket_open_) {
          Emit(t.type, t.start, t.end);
          return t.end;
        }
        if (CharAt(t.start) == ':') return BracketColon(t.start);
        return BracketWord(t.start);
      case PromQLLexer::IDENTIFIER:
        if (bracket_open_) return BracketWord(t.start);
        Emit(t.type, t.start, t.end);
        return t.end;
      case PromQLLexer::LEFT_PAREN:
        ++paren_depth_;
        Emit(t.type, t.start, t.end);
        return t.end;
      case PromQLLexer::RIGHT_PAREN:
        if (--paren_depth_ < 0) {
          Fail(t.end, "unexpected right parenthesis ')'");
        } else {
          Emit(t.type, t.start, t.end);
        }
        return t.end;
      case PromQLLexer::LEFT_BRACE:
        Emit(t.type, t.start, t.end);
        brace_open_ = true;
        return t.end;
      case PromQLLexer::LEFT_BRACKET:
        if (bracket_open_) {
          Fail(t.start, "unexpected left bracket '['");
          return t.end;
        }
        got_colon_ = false;
        Emit(t.type, t.start, t.end);
        bracket_open_ = true;
        duration_mode_ = true;
        return t.end;
      case PromQLLexer::RIGHT_BRACKET:
        if (!bracket_open_) {
          Fail(t.start, "unexpected right bracket ']'");
          return t.end;
        }
        Emit(t.type, t.start, t.end);
        bracket_open_ = false;
        return t.end;
      case PromQLLexer::RIGHT_BRACE:
      case PromQLLexer::UNEXPECTED_CHAR:
        Fail(t.start, absl::StrCat("unexpected character: ",
                                   GoQuoteRune(RuneAt(t.start))));
        return t.end;
      default:
        // Operators and keywords.
        if (bracket_open_ && IsKeywordType(t.type)) return BracketWord(t.start);
        Emit(t.type, t.start, t.end);
        return t.end;
    }
  }

  // A colon in lexStatements while a bracket is open.
  int BracketColon(int pos) {
    if (got_colon_) {
      Fail(pos, "unexpected colon ':'");
      return pos + 1;
    }
    got_colon_ = true;
    if (CharAt(pos + 1) == ':') {
      Emit(antlr::PromQLParser::DOUBLE_COLON, pos, pos + 2);
      return pos + 2;
    }
    Emit(PromQLLexer::COLON, pos, pos + 1);
    return pos + 1;
  }

  // A letter in lexStatements while a bracket is open: only the duration
  // keywords are accepted there.
  int BracketWord(int pos) {
    int end = DurationKeywordEnd(pos);
    if (end > pos) return end;
    Fail(pos, absl::StrCat("unexpected character: ", GoQuoteRune(RuneAt(pos)),
                           ", expected ':'"));
    return pos + 1;
  }

  // lexInsideBraces: keywords are identifiers.
  int InsideBraces(const RawToken& t) {
    switch (t.type) {
      case antlr4::Token::EOF:
        Fail(t.start, "unexpected end of input inside braces");
        return t.end;
      case PromQLLexer::WS:
      case PromQLLexer::COMMENT:
        return t.end;
      case PromQLLexer::IDENTIFIER:
        Emit(PromQLLexer::IDENTIFIER, t.start, t.end);
        return t.end;
      case PromQLLexer::METRIC_IDENTIFIER: {
        int colon = t.start;
        while (CharAt(colon) != ':') ++colon;
        if (colon > t.start) Emit(PromQLLexer::IDENTIFIER, t.start, colon);
        Fail(colon, "unexpected character inside braces: ':'");
        return t.end;
      }
      case PromQLLexer::STRING:
      case PromQLLexer::UNTERMINATED_STRING:
        return String(t.start);
      case PromQLLexer::COMMA:
      case PromQLLexer::EQL:
      case PromQLLexer::EQL_REGEX:
      case PromQLLexer::NEQ:
      case PromQLLexer::NEQ_REGEX:
        Emit(t.type, t.start, t.end);
        return t.end;
      case PromQLLexer::EQLC:  // "==" is two "=".
        Emit(PromQLLexer::EQL, t.start, t.start + 1);
        return t.start + 1;
      case PromQLLexer::BANG:
        Fail(t.start,
             absl::StrCat("unexpected character after '!' inside braces: ",
                          GoQuoteRune(RuneAt(t.start + 1))));
        return t.end;
      case PromQLLexer::LEFT_BRACE:
        Fail(t.start, "unexpected left brace '{'");
        return t.end;
      case PromQLLexer::RIGHT_BRACE:
        Emit(t.type, t.start, t.end);
        brace_open_ = false;
        return t.end;
      default:
        if (IsKeywordType(t.type) ||
            (t.type == PromQLLexer::NUMBER && IsAlpha(CharAt(t.start)))) {
          Emit(PromQLLexer::IDENTIFIER, t.start, t.end);
          return t.end;
        }
        Fail(t.start, absl::StrCat("unexpected character inside braces: ",
                                   GoQuoteRune(RuneAt(t.start))));
        return t.end;
    }
  }

  // lexDurationExpr.
  int InsideBrackets(const RawToken& t) {
    switch (t.type) {
      case antlr4::Token::EOF:
        Fail(t.start, "unexpected end of input in duration expression");
        return t.end;
      case PromQLLexer::WS:
        return t.end;
      case PromQLLexer::RIGHT_BRACKET:
        Emit(t.type, t.start, t.end);
        bracket_open_ = false;
        got_colon_ = false;
        return t.end;
      case PromQLLexer::COLON:
        Colon(t.start);
        return t.start + 1;
      case PromQLLexer::LEFT_PAREN:
        ++paren_depth_;
        Emit(t.type, t.start, t.end);
        return t.end;
      case PromQLLexer::RIGHT_PAREN:
        if (--paren_depth_ < 0) {
          Fail(t.end, "unexpected right parenthesis ')'");
        } else {
          Emit(t.type, t.start, t.end);
        }
        return t.end;
      case PromQLLexer::ADD:
      case PromQLLexer::SUB:
      case PromQLLexer::MUL:
      case PromQLLexer::DIV:
      case PromQLLexer::MOD:
      case PromQLLexer::POW:
      case PromQLLexer::COMMA:
        Emit(t.type, t.start, t.end);
        return t.end;
      case PromQLLexer::METRIC_IDENTIFIER:
        if (CharAt(t.start) == ':') {
          Colon(t.start);
          return t.start + 1;
        }
        return DurationKeyword(t.start);
      case PromQLLexer::NUMBER:
      case PromQLLexer::DURATION:
      case PromQLLexer::MALFORMED_NUMBER:
        if (IsDigit(CharAt(t.start)) || CharAt(t.start) == '.') {
          got_duration_ = true;
          duration_mode_ = false;
          return NumberOrDuration(t.start);
        }
        return DurationKeyword(t.start);
      default:
        if (IsKeywordType(t.type) || t.type == PromQLLexer::IDENTIFIER) {
          return DurationKeyword(t.start);
        }
        Fail(t.start, absl::StrCat("unexpected character in duration "
                                   "expression: ",
                                   GoQuoteRune(RuneAt(t.start))));
        return t.end;
    }
  }

  void Colon(int pos) {
    if (!got_duration_) {
      Fail(pos + 1, "unexpected colon before duration in duration expression");
    } else if (got_colon_) {
      Fail(pos + 1, "unexpected repeated colon in duration expression");
    } else {
      Emit(PromQLLexer::COLON, pos, pos + 1);
      got_colon_ = true;
    }
  }

  // lexDurationExpr's letters: step, range, min_of or max_of.
  int DurationKeyword(int pos) {
    int end = DurationKeywordEnd(pos);
    if (end > pos) return end;
    Fail(pos, absl::StrCat("unexpected character in duration expression: ",
                           GoQuoteRune(RuneAt(pos))));
    return pos + 1;
  }

  // scanDurationKeyword: emits the keyword if the run of letters at `pos` is
  // one and returns its end, else returns `pos`.
  int DurationKeywordEnd(int pos) {
    int end = pos;
    while (IsAlpha(CharAt(end))) ++end;
    std::string word = absl::AsciiStrToLower(input_.substr(pos, end - pos));
    size_t type = 0;
    if (word == "step") {
      type = PromQLLexer::STEP;
    } else if (word == "range") {
      type = PromQLLexer::RANGE;
    } else if (word == "min_of") {
      type = PromQLLexer::MIN_OF;
    } else if (word == "max_of") {
      type = PromQLLexer::MAX_OF;
    }
    if (type == 0) return pos;
    Emit(type, pos, end);
    return end;
  }

  bool FollowedByLeftParen(int pos) const {
    while (static_cast<size_t>(pos) < input_.size() && IsSpace(input_[pos])) {
      ++pos;
    }
    return CharAt(pos) == '(';
  }

  // Prometheus's lexNumberOrDuration (scanNumber + acceptRemainingDuration),
  // byte for byte, including where it stops and its error text.
  int NumberOrDuration(int start) {
    int p = start;
    auto peek = [&] { return CharAt(p); };
    auto accept = [&](absl::string_view valid) {
      char c = peek();
      if (c != '\0' && valid.find(c) != absl::string_view::npos) {
        ++p;
        return true;
      }
      return false;
    };
    auto is = [&](absl::string_view valid) {
      char c = peek();
      return c != '\0' && valid.find(c) != absl::string_view::npos;
    };
    auto at_end = [&] { return static_cast<size_t>(p) >= input_.size(); };

    auto scan_number = [&]() -> bool {
      absl::string_view digits = "0123456789";
      absl::string_view pattern = "0123456789._eE";  // Digits and "._eE".
      if (accept("0") && accept("xX")) {
        accept("_");
        digits = "0123456789abcdefABCDEF";
        pattern = "0123456789abcdefABCDEF._eE";
      }
      accept(".");
      accept(digits);
      bool dot = false;
      bool exponent = false;
      while (is(pattern)) {
        if (is(".") && dot) {
          accept(".");
          return false;
        }
        if (is("eE") && exponent) {
          accept("eE");
          return false;
        }
        if (accept(".")) {
          dot = true;
          if (accept("_.")) return false;
          if (digits.size() > 10) return false;  // No hex fractions.
          continue;
        }
        if (accept("eE")) {
          exponent = true;
          accept("+-");
          if (accept("._eE") || at_end()) return false;
          continue;
        }
        if (accept("_")) {
          if (accept("._eE") || at_end()) return false;
          continue;
        }
        while (accept(digits)) {
        }
      }
      if (p == start) return false;
      return !IsAlphaNumeric(peek());
    };

    if (scan_number()) {
      Emit(PromQLLexer::NUMBER, start, p);
      return p;
    }
    int last_width = 0;
    auto remaining_duration = [&]() -> bool {
      if (!accept("smhdwy")) return false;
      accept("s");
      while (accept("0123456789")) {
        while (accept("0123456789")) {
        }
        if (!accept("smhdw")) return false;
        accept("s");
      }
      // Go's l.next(): consumes one rune (nothing at the end of the input).
      char c = peek();
      last_width = 0;
      if (!at_end()) DecodeUtf8(input_.substr(p), last_width);
      p += last_width;
      return !IsAlphaNumeric(c);
    };
    if (remaining_duration()) {
      p -= last_width;  // l.backup()
      Emit(PromQLLexer::DURATION, start, p);
      return p;
    }
    Fail(start, absl::StrCat("bad number or duration syntax: ",
                             GoQuote(input_.substr(start, p - start))));
    return p;
  }

  // lexString / lexEscape / lexRawString from the opening quote at `start`.
  int String(int start) {
    char quote = input_[start];
    int p = start + 1;
    auto next = [&](int& width) -> char32_t {
      if (static_cast<size_t>(p) >= input_.size()) {
        width = 0;
        return static_cast<char32_t>(-1);
      }
      char32_t r = DecodeUtf8(input_.substr(p), width);
      p += width;
      return r;
    };
    constexpr char32_t kEof = static_cast<char32_t>(-1);
    int width = 0;
    if (quote == '`') {
      while (true) {
        char32_t r = next(width);
        if (r == kRuneError) {
          Fail(start, "invalid UTF-8 rune");
          return p;
        }
        if (r == kEof) {
          Fail(start, "unterminated raw string");
          return p;
        }
        if (r == '`') break;
      }
      Emit(PromQLLexer::STRING, start, p);
      return p;
    }
    while (true) {
      char32_t r = next(width);
      if (r == '\\') {
        if (!Escape(start, quote, next)) return p;
        continue;
      }
      if (r == kRuneError) {
        Fail(start, "invalid UTF-8 rune");
        return p;
      }
      if (r == kEof || r == '\n') {
        Fail(start, "unterminated quoted string");
        return p;
      }
      if (r == static_cast<char32_t>(quote)) break;
    }
    Emit(PromQLLexer::STRING, start, p);
    return p;
  }

  template <typename Next>
  bool Escape(int start, char quote, Next& next) {
    constexpr char32_t kEof = static_cast<char32_t>(-1);
    int width = 0;
    char32_t ch = next(width);
    int n = 0;
    uint32_t base = 0, max = 0;
    switch (ch) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        return true;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        n = 3;
        base = 8;
        max = 255;
        break;
      case 'x':
        ch = next(width);
        n = 2;
        base = 16;
        max = 255;
        break;
      case 'u':
        ch = next(width);
        n = 4;
        base = 16;
        max = 0x10FFFF;
        break;
      case 'U':
        ch = next(width);
        n = 8;
        base = 16;
        max = 0x10FFFF;
        break;
      default:
        if (ch == static_cast<char32_t>(quote)) return true;
        if (ch == kEof) {
          Fail(start, "escape sequence not terminated");
        } else {
          Fail(start,
               absl::StrCat("unknown escape sequence ", GoFormatRuneU(ch)));
        }
        return false;
    }
    uint32_t x = 0;
    while (n > 0) {
      uint32_t d = 16;
      if (ch >= '0' && ch <= '9') {
        d = ch - '0';
      } else if (ch >= 'a' && ch <= 'f') {
        d = ch - 'a' + 10;
      } else if (ch >= 'A' && ch <= 'F') {
        d = ch - 'A' + 10;
      }
      if (d >= base) {
        if (ch == kEof) {
          Fail(start, "escape sequence not terminated");
        } else {
          Fail(start, absl::StrCat("illegal character ", GoFormatRuneU(ch),
                                   " in escape sequence"));
        }
        return false;
      }
      x = x * base + d;
      if (--n > 0) ch = next(width);
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
      Fail(start, "escape sequence is an invalid Unicode code point");
      return false;
    }
    return true;
  }

  absl::string_view input_;
  LexedInput out_;
  bool done_ = false;

  // Prometheus's lexer state.
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool got_duration_ = false;
  bool duration_mode_ = false;  // In lexDurationExpr (inside brackets).

  std::vector<int> frames_;
  size_t last_type_ = 0;  // For telling unary from binary + and -.
  int depth_exceeded_at_ = -1;
};

}  // namespace

RawToken ScanRawToken(absl::string_view input, int pos) {
  const int size = static_cast<int>(input.size());
  if (pos >= size) return {antlr4::Token::EOF, size, size};
  auto at = [&](int i) { return i < size ? input[i] : '\0'; };
  auto token = [&](size_t type, int end) { return RawToken{type, pos, end}; };
  const char c = input[pos];
  if (IsAlpha(c)) {
    int end = pos + 1;
    while (IsAlphaNumeric(at(end))) ++end;
    if (at(end) != ':') {
      return token(WordType(input.substr(pos, end - pos)), end);
    }
    while (IsMetricNameChar(at(end))) ++end;
    return token(PromQLLexer::METRIC_IDENTIFIER, end);
  }
  if (IsDigit(c) || (c == '.' && IsDigit(at(pos + 1)))) {
    return token(PromQLLexer::NUMBER, pos + 1);
  }
  auto two = [&](char next, size_t if_next, size_t otherwise) {
    return at(pos + 1) == next ? token(if_next, pos + 2)
                               : token(otherwise, pos + 1);
  };
  switch (c) {
    case '"':
    case '\'':
    case '`':
      return token(PromQLLexer::STRING, pos + 1);
    case ':': {
      int end = pos + 1;
      while (IsMetricNameChar(at(end))) ++end;
      return token(end > pos + 1 ? size_t{PromQLLexer::METRIC_IDENTIFIER}
                                 : size_t{PromQLLexer::COLON},
                   end);
    }
    case ' ':
    case '\t':
    case '\r':
    case '\n': {
      int end = pos + 1;
      while (IsSpace(at(end))) ++end;
      return token(PromQLLexer::WS, end);
    }
    case '#': {
      int end = pos + 1;
      while (end < size && input[end] != '\r' && input[end] != '\n') ++end;
      return token(PromQLLexer::COMMENT, end);
    }
    case '(':
      return token(PromQLLexer::LEFT_PAREN, pos + 1);
    case ')':
      return token(PromQLLexer::RIGHT_PAREN, pos + 1);
    case '{':
      return token(PromQLLexer::LEFT_BRACE, pos + 1);
    case '}':
      return token(PromQLLexer::RIGHT_BRACE, pos + 1);
    case '[':
      return token(PromQLLexer::LEFT_BRACKET, pos + 1);
    case ']':
      return token(PromQLLexer::RIGHT_BRACKET, pos + 1);
    case ',':
      return token(PromQLLexer::COMMA, pos + 1);
    case '@':
      return token(PromQLLexer::AT, pos + 1);
    case '+':
      return token(PromQLLexer::ADD, pos + 1);
    case '-':
      return token(PromQLLexer::SUB, pos + 1);
    case '*':
      return token(PromQLLexer::MUL, pos + 1);
    case '/':
      return token(PromQLLexer::DIV, pos + 1);
    case '%':
      return token(PromQLLexer::MOD, pos + 1);
    case '^':
      return token(PromQLLexer::POW, pos + 1);
    case '=':
      if (at(pos + 1) == '~') return token(PromQLLexer::EQL_REGEX, pos + 2);
      return two('=', PromQLLexer::EQLC, PromQLLexer::EQL);
    case '!':
      if (at(pos + 1) == '~') return token(PromQLLexer::NEQ_REGEX, pos + 2);
      return two('=', PromQLLexer::NEQ, PromQLLexer::BANG);
    case '<':
      if (at(pos + 1) == '/') return token(PromQLLexer::TRIM_UPPER, pos + 2);
      return two('=', PromQLLexer::LTE, PromQLLexer::LSS);
    case '>':
      if (at(pos + 1) == '/') return token(PromQLLexer::TRIM_LOWER, pos + 2);
      return two('=', PromQLLexer::GTE, PromQLLexer::GTR);
    default: {
      int width = 0;
      DecodeUtf8(input.substr(pos), width);
      return token(PromQLLexer::UNEXPECTED_CHAR, pos + width);
    }
  }
}

std::string Lexeme::getText() const {
  if (type_ == antlr4::Token::EOF) return "<EOF>";
  return std::string(input_.substr(start_, end_ - start_));
}

LexedInput Tokenize(absl::string_view input) { return Tokenizer(input).Run(); }

}  // namespace promeval::parser_internal
