// The lexer of Go's text/template (text/template/parse/lex.go), as a state
// machine over the input: one state function per Go state function, run
// until the EOF or the first error item.
#include "template/lexer.h"

#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "base/utf8.h"
#include "promeval/text.h"

namespace promeval::tmpl {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsAlphaNumeric(char32_t r) {
  return r == '_' || IsLetterRune(r) || (r >= '0' && r <= '9');
}

class Lexer {
 public:
  explicit Lexer(absl::string_view input) : in_(input) {}

  std::vector<Item> Run() {
    for (State state{&Lexer::LexText}; state.fn != nullptr;) {
      state = (this->*state.fn)();
    }
    return std::move(items_);
  }

 private:
  // Go's stateFn: a state lexes some input and returns the next state; the
  // null state ends lexing.
  struct State {
    State (Lexer::*fn)();
  };

  static constexpr char32_t kEof = 0xFFFFFFFF;

  char32_t Next() {
    if (pos_ >= static_cast<int>(in_.size())) {
      width_ = 0;
      return kEof;
    }
    int w = 0;
    char32_t r = DecodeUtf8(in_.substr(pos_), w);
    width_ = w;
    pos_ += w;
    return r;
  }
  void Backup() { pos_ -= width_; }
  char32_t Peek() {
    char32_t r = Next();
    Backup();
    return r;
  }
  int LineAt(int pos) {
    // Incremental: positions only grow.
    while (line_pos_ < pos) {
      if (in_[line_pos_] == '\n') ++line_;
      ++line_pos_;
    }
    while (line_pos_ > pos) {
      --line_pos_;
      if (in_[line_pos_] == '\n') --line_;
    }
    return line_;
  }
  State Emit(It typ) {
    items_.push_back(Item{typ, start_,
                          std::string(in_.substr(start_, pos_ - start_)),
                          LineAt(start_)});
    start_ = pos_;
    return {typ == It::kEOF ? nullptr : &Lexer::LexInsideAction};
  }
  void Ignore() { start_ = pos_; }
  bool Accept(absl::string_view valid) {
    char32_t r = Next();
    if (r != kEof && r < 0x80 &&
        valid.find(static_cast<char>(r)) != absl::string_view::npos) {
      return true;
    }
    Backup();
    return false;
  }
  void AcceptRun(absl::string_view valid) {
    while (Accept(valid)) {
    }
  }
  State Errorf(std::string msg) {
    items_.push_back(Item{It::kError, start_, std::move(msg), LineAt(start_)});
    return {nullptr};
  }

  static bool IsSpaceRune(char32_t r) {
    return r < 0x80 && IsSpace(static_cast<char>(r));
  }
  static bool HasLeftTrimMarker(absl::string_view s) {
    return s.size() >= 2 && s[0] == '-' && IsSpace(s[1]);
  }
  static bool HasRightTrimMarker(absl::string_view s) {
    return s.size() >= 2 && IsSpace(s[0]) && s[1] == '-';
  }
  // Whether the input is at "}}" (first) or " -}}" (both).
  std::pair<bool, bool> AtRightDelim() const {
    absl::string_view rest = in_.substr(pos_);
    if (HasRightTrimMarker(rest) && absl::StartsWith(rest.substr(2), "}}")) {
      return {true, true};
    }
    if (absl::StartsWith(rest, "}}")) return {true, false};
    return {false, false};
  }
  bool AtTerminator() {
    char32_t r = Peek();
    if (IsSpaceRune(r)) return true;
    switch (r) {
      case kEof:
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
      default:
        break;
    }
    return absl::StartsWith(in_.substr(pos_), "}}");
  }
  static int LeftTrimLength(absl::string_view s) {
    int n = 0;
    while (n < static_cast<int>(s.size()) && IsSpace(s[n])) ++n;
    return n;
  }
  static int RightTrimLength(absl::string_view s) {
    int n = 0;
    while (n < static_cast<int>(s.size()) && IsSpace(s[s.size() - 1 - n])) {
      ++n;
    }
    return n;
  }

  State LexText() {
    size_t x = in_.find("{{", pos_);
    if (x != absl::string_view::npos) {
      if (static_cast<int>(x) > pos_) {
        pos_ = static_cast<int>(x);
        int trim = 0;
        if (HasLeftTrimMarker(in_.substr(pos_ + 2))) {
          trim = RightTrimLength(in_.substr(start_, pos_ - start_));
        }
        pos_ -= trim;
        if (pos_ > start_) {
          Emit(It::kText);
        }
        pos_ += trim;
        Ignore();
      }
      return {&Lexer::LexLeftDelim};
    }
    pos_ = static_cast<int>(in_.size());
    if (pos_ > start_) {
      Emit(It::kText);
      return {&Lexer::LexText};
    }
    return Emit(It::kEOF);
  }

  State LexLeftDelim() {
    pos_ += 2;
    bool trim = HasLeftTrimMarker(in_.substr(pos_));
    int after = trim ? 2 : 0;
    if (absl::StartsWith(in_.substr(pos_ + after), "/*")) {
      pos_ += after;
      Ignore();
      return {&Lexer::LexComment};
    }
    Emit(It::kLeftDelim);
    pos_ += after;
    Ignore();
    paren_depth_ = 0;
    return {&Lexer::LexInsideAction};
  }

  State LexComment() {
    pos_ += 2;
    size_t x = in_.find("*/", pos_);
    if (x == absl::string_view::npos) return Errorf("unclosed comment");
    pos_ = static_cast<int>(x) + 2;
    auto [delim, trim] = AtRightDelim();
    if (!delim) return Errorf("comment ends before closing delimiter");
    if (trim) pos_ += 2;
    pos_ += 2;
    if (trim) pos_ += LeftTrimLength(in_.substr(pos_));
    Ignore();
    return {&Lexer::LexText};
  }

  State LexRightDelim() {
    auto [delim, trim] = AtRightDelim();
    (void)delim;
    if (trim) {
      pos_ += 2;
      Ignore();
    }
    pos_ += 2;
    Emit(It::kRightDelim);
    if (trim) {
      pos_ += LeftTrimLength(in_.substr(pos_));
      Ignore();
    }
    return {&Lexer::LexText};
  }

  State LexInsideAction() {
    auto [delim, trim] = AtRightDelim();
    (void)trim;
    if (delim) {
      if (paren_depth_ == 0) return {&Lexer::LexRightDelim};
      return Errorf("unclosed left paren");
    }
    char32_t r = Next();
    if (r == kEof) return Errorf("unclosed action");
    if (IsSpaceRune(r)) {
      Backup();
      return {&Lexer::LexSpace};
    }
    switch (r) {
      case '=':
        return Emit(It::kAssign);
      case ':':
        if (Next() != '=') return Errorf("expected :=");
        return Emit(It::kDeclare);
      case '|':
        return Emit(It::kPipe);
      case '"':
        return {&Lexer::LexQuote};
      case '`':
        return {&Lexer::LexRawQuote};
      case '$':
        return {&Lexer::LexVariable};
      case '\'':
        return {&Lexer::LexChar};
      case '(':
        ++paren_depth_;
        return Emit(It::kLeftParen);
      case ')':
        --paren_depth_;
        if (paren_depth_ < 0) return Errorf("unexpected right paren");
        return Emit(It::kRightParen);
      default:
        break;
    }
    if (r == '.') {
      if (pos_ < static_cast<int>(in_.size())) {
        char c = in_[pos_];
        if (c < '0' || c > '9') return {&Lexer::LexField};
      }
      Backup();
      return {&Lexer::LexNumber};
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
      Backup();
      return {&Lexer::LexNumber};
    }
    if (IsAlphaNumeric(r)) {
      Backup();
      return {&Lexer::LexIdentifier};
    }
    if (r < 0x80 && r >= 0x20 && r != 0x7F) return Emit(It::kChar);
    return Errorf("unrecognized character in action: " + GoFormatRuneU(r));
  }

  State LexSpace() {
    int num = 0;
    while (IsSpaceRune(Peek())) {
      Next();
      ++num;
    }
    // A trim-marked closing delimiter starts with a space.
    if (HasRightTrimMarker(in_.substr(pos_ - 1)) &&
        absl::StartsWith(in_.substr(pos_ - 1 + 2), "}}")) {
      --pos_;
      if (num == 1) return {&Lexer::LexInsideAction};
    }
    return Emit(It::kSpace);
  }

  // Consumes alphanumerics up to a terminator; false after an error item
  // if something else ends them.
  bool ScanWord() {
    char32_t r;
    while (true) {
      r = Next();
      if (!IsAlphaNumeric(r)) {
        Backup();
        break;
      }
    }
    if (AtTerminator()) return true;
    Errorf("bad character " + GoFormatRuneU(r));
    return false;
  }

  State LexIdentifier() {
    if (!ScanWord()) return {nullptr};
    absl::string_view word = in_.substr(start_, pos_ - start_);
    static const auto* kKeywords =
        new std::map<absl::string_view, It>{{".", It::kDot},
                                            {"block", It::kBlock},
                                            {"break", It::kBreak},
                                            {"continue", It::kContinue},
                                            {"define", It::kDefine},
                                            {"else", It::kElse},
                                            {"end", It::kEnd},
                                            {"if", It::kIf},
                                            {"range", It::kRange},
                                            {"nil", It::kNil},
                                            {"template", It::kTemplate},
                                            {"with", It::kWith}};
    auto it = kKeywords->find(word);
    if (it != kKeywords->end()) return Emit(it->second);
    if (word[0] == '.') return Emit(It::kField);
    if (word == "true" || word == "false") return Emit(It::kBool);
    return Emit(It::kIdentifier);
  }

  State LexField() { return LexFieldOrVariable(It::kField); }
  State LexVariable() { return LexFieldOrVariable(It::kVariable); }

  State LexFieldOrVariable(It typ) {
    if (AtTerminator()) {
      return Emit(typ == It::kVariable ? It::kVariable : It::kDot);
    }
    if (!ScanWord()) return {nullptr};
    return Emit(typ);
  }

  State LexChar() {
    return LexQuoted('\'', "unterminated character constant",
                     It::kCharConstant);
  }
  State LexQuote() {
    return LexQuoted('"', "unterminated quoted string", It::kString);
  }

  State LexQuoted(char32_t quote, const char* unterminated, It typ) {
    while (true) {
      char32_t r = Next();
      if (r == '\\') {
        r = Next();
        if (r != kEof && r != '\n') continue;
        return Errorf(unterminated);
      }
      if (r == kEof || r == '\n') return Errorf(unterminated);
      if (r == quote) break;
    }
    return Emit(typ);
  }

  State LexRawQuote() {
    while (true) {
      char32_t r = Next();
      if (r == kEof) return Errorf("unterminated raw quoted string");
      if (r == '`') break;
    }
    return Emit(It::kRawString);
  }

  bool ScanNumber() {
    Accept("+-");
    absl::string_view digits = "0123456789_";
    if (Accept("0")) {
      if (Accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (Accept("oO")) {
        digits = "01234567_";
      } else if (Accept("bB")) {
        digits = "01_";
      }
    }
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (digits.size() == 11 && Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    if (digits.size() == 23 && Accept("pP")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    Accept("i");
    if (IsAlphaNumeric(Peek())) {
      Next();
      return false;
    }
    return true;
  }

  State LexNumber() {
    if (!ScanNumber()) {
      return Errorf("bad number syntax: " +
                    GoQuote(in_.substr(start_, pos_ - start_)));
    }
    char32_t sign = Peek();
    if (sign == '+' || sign == '-') {
      // Complex constants (1+2i) are not supported values here; report them
      // as Go would report an unparsable number.
      ScanNumber();
      return Errorf("bad number syntax: " +
                    GoQuote(in_.substr(start_, pos_ - start_)));
    }
    return Emit(It::kNumber);
  }

  absl::string_view in_;
  int pos_ = 0;
  int start_ = 0;
  int width_ = 0;
  int paren_depth_ = 0;
  int line_ = 1;
  int line_pos_ = 0;
  std::vector<Item> items_;
};

}  // namespace

bool IsLetterRune(char32_t r) {
  if (r < 0x80) {
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  }
  if (r < 0xC0) return r == 0xAA || r == 0xB5 || r == 0xBA;
  if (r == 0xD7 || r == 0xF7) return false;
  if (r >= 0x2000 && r <= 0x2BFF) return false;  // Punctuation, symbols.
  if (r >= 0x3000 && r <= 0x303F) return false;  // CJK punctuation.
  if (r >= 0xFF00 && r <= 0xFF0F) return false;
  return IsGoPrint(r);
}

std::vector<Item> Lex(absl::string_view input) { return Lexer(input).Run(); }

}  // namespace promeval::tmpl
