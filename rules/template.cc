// Alert templates: a reimplementation of the parts of Go's text/template
// (lexer, parser, executor and builtins) that Prometheus alert templates use,
// with Prometheus's template functions (template/template.go). Error texts
// follow Go's so expanded annotations read as Prometheus's do.
//
// Parse and execution errors travel as a file-local exception (mirroring Go's
// panic/recover in text/template) and are turned into absl::Status at the
// API boundary; nothing escapes this file.
#include "rules/template.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/go_regexp.h"
#include "base/utf8.h"
#include "promeval/text.h"
#include "re2/re2.h"

namespace promeval::rules {
namespace {

// Limits that keep hostile templates from exhausting the stack, memory or
// time. Go has no equivalent for the last three (it would run on).
constexpr int kMaxParseDepth = 200;      // Nested parens / control blocks.
constexpr int kMaxExecDepth = 200;       // Nested {{template}} calls.
constexpr int64_t kMaxSteps = 10000000;  // Nodes walked + range iterations.
constexpr size_t kMaxOutput = 16 << 20;  // Bytes of output.

constexpr absl::string_view kPrefix =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

// Thrown by the parser and executor; caught at the API boundary.
struct TemplateError {
  std::string message;
};

// ---------------------------------------------------------------------------
// Lexer (Go's text/template/parse/lex.go).

enum class It {
  kError,
  kBool,
  kChar,
  kCharConstant,
  kComment,
  kAssign,
  kDeclare,
  kEOF,
  kField,
  kIdentifier,
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,
  kKeyword,  // Marker: keywords follow.
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Item {
  It typ;
  int pos;
  std::string val;
  int line;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Approximates Go's unicode.IsLetter for non-ASCII runes: printable runes
// outside the common punctuation and symbol blocks.
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

bool IsAlphaNumeric(char32_t r) {
  return r == '_' || IsLetterRune(r) || (r >= '0' && r <= '9');
}

std::string FormatRuneU(char32_t r) { return GoFormatRuneU(r); }

enum class St {
  kText,
  kLeftDelim,
  kComment,
  kRightDelim,
  kInside,
  kSpace,
  kIdentifier,
  kField,
  kVariable,
  kChar,
  kQuote,
  kRawQuote,
  kNumber,
  kDone,
};

class Lexer {
 public:
  explicit Lexer(absl::string_view input) : in_(input) {}

  std::vector<Item> Run() {
    St st = St::kText;
    while (st != St::kDone) {
      switch (st) {
        case St::kText:
          st = LexText();
          break;
        case St::kLeftDelim:
          st = LexLeftDelim();
          break;
        case St::kComment:
          st = LexComment();
          break;
        case St::kRightDelim:
          st = LexRightDelim();
          break;
        case St::kInside:
          st = LexInsideAction();
          break;
        case St::kSpace:
          st = LexSpace();
          break;
        case St::kIdentifier:
          st = LexIdentifier();
          break;
        case St::kField:
          st = LexFieldOrVariable(It::kField);
          break;
        case St::kVariable:
          st = LexFieldOrVariable(It::kVariable);
          break;
        case St::kChar:
          st = LexQuoted('\'', "unterminated character constant",
                         It::kCharConstant);
          break;
        case St::kQuote:
          st = LexQuoted('"', "unterminated quoted string", It::kString);
          break;
        case St::kRawQuote:
          st = LexRawQuote();
          break;
        case St::kNumber:
          st = LexNumber();
          break;
        case St::kDone:
          break;
      }
    }
    return std::move(items_);
  }

 private:
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
  St Emit(It typ) {
    items_.push_back(Item{typ, start_,
                          std::string(in_.substr(start_, pos_ - start_)),
                          LineAt(start_)});
    start_ = pos_;
    return typ == It::kEOF ? St::kDone : St::kInside;
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
  St Errorf(std::string msg) {
    items_.push_back(Item{It::kError, start_, std::move(msg), LineAt(start_)});
    return St::kDone;
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

  St LexText() {
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
      return St::kLeftDelim;
    }
    pos_ = static_cast<int>(in_.size());
    if (pos_ > start_) {
      Emit(It::kText);
      return St::kText;
    }
    return Emit(It::kEOF);
  }

  St LexLeftDelim() {
    pos_ += 2;
    bool trim = HasLeftTrimMarker(in_.substr(pos_));
    int after = trim ? 2 : 0;
    if (absl::StartsWith(in_.substr(pos_ + after), "/*")) {
      pos_ += after;
      Ignore();
      return St::kComment;
    }
    Emit(It::kLeftDelim);
    pos_ += after;
    Ignore();
    paren_depth_ = 0;
    return St::kInside;
  }

  St LexComment() {
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
    return St::kText;
  }

  St LexRightDelim() {
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
    return St::kText;
  }

  St LexInsideAction() {
    auto [delim, trim] = AtRightDelim();
    (void)trim;
    if (delim) {
      if (paren_depth_ == 0) return St::kRightDelim;
      return Errorf("unclosed left paren");
    }
    char32_t r = Next();
    if (r == kEof) return Errorf("unclosed action");
    if (IsSpaceRune(r)) {
      Backup();
      return St::kSpace;
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
        return St::kQuote;
      case '`':
        return St::kRawQuote;
      case '$':
        return St::kVariable;
      case '\'':
        return St::kChar;
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
        if (c < '0' || c > '9') return St::kField;
      }
      Backup();
      return St::kNumber;
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
      Backup();
      return St::kNumber;
    }
    if (IsAlphaNumeric(r)) {
      Backup();
      return St::kIdentifier;
    }
    if (r < 0x80 && r >= 0x20 && r != 0x7F) return Emit(It::kChar);
    return Errorf("unrecognized character in action: " + FormatRuneU(r));
  }

  St LexSpace() {
    int num = 0;
    while (IsSpaceRune(Peek())) {
      Next();
      ++num;
    }
    // A trim-marked closing delimiter starts with a space.
    if (HasRightTrimMarker(in_.substr(pos_ - 1)) &&
        absl::StartsWith(in_.substr(pos_ - 1 + 2), "}}")) {
      --pos_;
      if (num == 1) return St::kInside;
    }
    return Emit(It::kSpace);
  }

  St LexIdentifier() {
    char32_t r;
    while (true) {
      r = Next();
      if (!IsAlphaNumeric(r)) {
        Backup();
        break;
      }
    }
    if (!AtTerminator()) return Errorf("bad character " + FormatRuneU(r));
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

  St LexFieldOrVariable(It typ) {
    if (AtTerminator()) {
      return Emit(typ == It::kVariable ? It::kVariable : It::kDot);
    }
    char32_t r;
    while (true) {
      r = Next();
      if (!IsAlphaNumeric(r)) {
        Backup();
        break;
      }
    }
    if (!AtTerminator()) return Errorf("bad character " + FormatRuneU(r));
    return Emit(typ);
  }

  St LexQuoted(char32_t quote, const char* unterminated, It typ) {
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

  St LexRawQuote() {
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

  St LexNumber() {
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

// ---------------------------------------------------------------------------
// Parse tree (Go's text/template/parse/node.go).

enum class NT {
  kText,
  kAction,
  kIf,
  kWith,
  kRange,
  kTemplate,
  kBreak,
  kContinue,
  kList,
  kPipe,
  kCommand,
  kIdentifier,
  kDot,
  kNil,
  kField,
  kVariable,
  kChain,
  kBool,
  kNumber,
  kString,
  kEnd,
  kElse,
};

struct Node {
  NT type;
  int pos = 0;
  // kText: text. kString: unquoted text, `quoted` the source. kNumber: the
  // source in `quoted`. kIdentifier / kTemplate: name in `text`.
  std::string text;
  std::string quoted;
  std::vector<std::string> idents;  // kField (without dots), kVariable, kChain.
  std::vector<std::unique_ptr<Node>> nodes;  // kList items, kCommand args,
                                             // kPipe commands.
  std::vector<std::unique_ptr<Node>> decls;  // kPipe: declared variables.
  bool is_assign = false;                    // kPipe.
  std::unique_ptr<Node> pipe;  // kAction, kIf, kWith, kRange, kTemplate.
  std::unique_ptr<Node> list;  // kIf, kWith, kRange.
  std::unique_ptr<Node> else_list;
  std::unique_ptr<Node> chain;  // kChain: the term.
  bool truth = false;           // kBool.
  // kNumber.
  bool is_int = false, is_uint = false, is_float = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
};

std::string NodeString(const Node& n);

std::string PipeString(const Node& n) {
  std::string s;
  if (!n.decls.empty()) {
    for (size_t k = 0; k < n.decls.size(); ++k) {
      if (k > 0) s += ", ";
      s += NodeString(*n.decls[k]);
    }
    s += n.is_assign ? " = " : " := ";
  }
  for (size_t k = 0; k < n.nodes.size(); ++k) {
    if (k > 0) s += " | ";
    s += NodeString(*n.nodes[k]);
  }
  return s;
}

std::string NodeString(const Node& n) {
  switch (n.type) {
    case NT::kText:
      return GoQuote(n.text);
    case NT::kAction:
      return "{{" + PipeString(*n.pipe) + "}}";
    case NT::kIf:
    case NT::kWith:
    case NT::kRange: {
      std::string name = n.type == NT::kIf     ? "if"
                         : n.type == NT::kWith ? "with"
                                               : "range";
      std::string s =
          "{{" + name + " " + PipeString(*n.pipe) + "}}" + NodeString(*n.list);
      if (n.else_list) s += "{{else}}" + NodeString(*n.else_list);
      return s + "{{end}}";
    }
    case NT::kTemplate:
      if (n.pipe) {
        return "{{template " + GoQuote(n.text) + " " + PipeString(*n.pipe) +
               "}}";
      }
      return "{{template " + GoQuote(n.text) + "}}";
    case NT::kBreak:
      return "{{break}}";
    case NT::kContinue:
      return "{{continue}}";
    case NT::kList: {
      std::string s;
      for (const auto& c : n.nodes) s += NodeString(*c);
      return s;
    }
    case NT::kPipe:
      return PipeString(n);
    case NT::kCommand: {
      std::string s;
      for (size_t k = 0; k < n.nodes.size(); ++k) {
        if (k > 0) s += " ";
        if (n.nodes[k]->type == NT::kPipe) {
          s += "(" + NodeString(*n.nodes[k]) + ")";
        } else {
          s += NodeString(*n.nodes[k]);
        }
      }
      return s;
    }
    case NT::kIdentifier:
      return n.text;
    case NT::kDot:
      return ".";
    case NT::kNil:
      return "nil";
    case NT::kField: {
      std::string s;
      for (const auto& id : n.idents) s += "." + id;
      return s;
    }
    case NT::kVariable:
      return absl::StrJoin(n.idents, ".");
    case NT::kChain: {
      std::string s = n.chain->type == NT::kPipe
                          ? "(" + NodeString(*n.chain) + ")"
                          : NodeString(*n.chain);
      for (const auto& id : n.idents) s += "." + id;
      return s;
    }
    case NT::kBool:
      return n.truth ? "true" : "false";
    case NT::kNumber:
    case NT::kString:
      return n.quoted;
    case NT::kEnd:
      return "{{end}}";
    case NT::kElse:
      return "{{else}}";
  }
  return "";
}

std::unique_ptr<Node> NewNode(NT type, int pos) {
  auto n = std::make_unique<Node>();
  n->type = type;
  n->pos = pos;
  return n;
}

// ---------------------------------------------------------------------------
// Parser (Go's text/template/parse/parse.go).

bool IsBuiltinOrPromFunction(absl::string_view name);

struct Trees {
  std::unique_ptr<Node> root;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> defined;
};

std::string ItemString(const Item& i) {
  if (i.typ == It::kEOF) return "EOF";
  if (i.typ == It::kError) return i.val;
  if (i.typ > It::kKeyword) return "<" + i.val + ">";
  if (i.val.size() > 10) {
    // %.10q: the first 10 runes, quoted.
    absl::string_view v = i.val;
    size_t end = 0;
    for (int k = 0; k < 10 && end < v.size(); ++k) {
      int w = 0;
      DecodeUtf8(v.substr(end), w);
      end += w;
    }
    return GoQuote(v.substr(0, end)) + "...";
  }
  return GoQuote(i.val);
}

class Parser {
 public:
  Parser(std::string name, std::vector<Item> items)
      : name_(std::move(name)), items_(std::move(items)) {}

  Trees Parse() {
    Trees trees;
    vars_ = {"$"};
    trees.root = NewNode(NT::kList, Peek().pos);
    while (Peek().typ != It::kEOF) {
      if (Peek().typ == It::kLeftDelim) {
        size_t save = idx_;
        Next();
        if (NextNonSpace().typ == It::kDefine) {
          ParseDefinition(trees);
          continue;
        }
        idx_ = save;
      }
      auto n = TextOrAction(trees);
      if (n->type == NT::kEnd || n->type == NT::kElse) {
        Errorf("unexpected " + NodeString(*n));
      }
      trees.root->nodes.push_back(std::move(n));
    }
    return trees;
  }

 private:
  [[noreturn]] void Errorf(const std::string& msg) {
    throw TemplateError{
        absl::StrCat("template: ", name_, ":", last_line_, ": ", msg)};
  }
  [[noreturn]] void Unexpected(const Item& token, absl::string_view context) {
    if (token.typ == It::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != token.line) {
        extra =
            absl::StrCat(" in action started at ", name_, ":", action_line_);
        if (absl::EndsWith(token.val, " action")) {
          extra = extra.substr(std::string(" in action").size());
        }
      }
      Errorf(token.val + extra);
    }
    Errorf(absl::StrCat("unexpected ", ItemString(token), " in ", context));
  }

  // Go reports parse errors at the line of the furthest token lexed.
  void See(size_t i) {
    if (i >= furthest_) {
      furthest_ = i;
      last_line_ = items_[i].line;
    }
  }
  const Item& Next() {
    size_t i = std::min(idx_, items_.size() - 1);
    See(i);
    if (idx_ < items_.size()) ++idx_;
    return items_[i];
  }
  void Backup() { --idx_; }
  const Item& Peek() {
    size_t i = std::min(idx_, items_.size() - 1);
    See(i);
    return items_[i];
  }
  const Item& NextNonSpace() {
    while (true) {
      const Item& it = Next();
      if (it.typ != It::kSpace) return it;
    }
  }
  const Item& PeekNonSpace() {
    const Item& it = NextNonSpace();
    Backup();
    return it;
  }
  const Item& Expect(It expected, absl::string_view context) {
    const Item& token = NextNonSpace();
    if (token.typ != expected) Unexpected(token, context);
    return token;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p(p) {
      if (++p->depth_ > kMaxParseDepth) {
        p->Errorf("max expression depth exceeded");
      }
    }
    ~DepthGuard() { --p->depth_; }
    Parser* p;
  };

  void ParseDefinition(Trees& trees) {
    const Item& name = NextNonSpace();
    if (name.typ != It::kString && name.typ != It::kRawString) {
      Unexpected(name, "define clause");
    }
    auto unq = Unquote(name.val);
    if (!unq.ok()) Errorf("invalid syntax");
    Expect(It::kRightDelim, "define clause");
    std::vector<std::string> saved_vars = vars_;
    vars_ = {"$"};
    auto [list, end] = ItemList(trees);
    if (end->type != NT::kEnd) {
      Errorf("unexpected " + NodeString(*end) + " in define clause");
    }
    vars_ = std::move(saved_vars);
    auto it = trees.defined.find(*unq);
    if (it != trees.defined.end() && !it->second->nodes.empty() &&
        !list->nodes.empty()) {
      Errorf(absl::StrCat("template: multiple definition of template ",
                          GoQuote(*unq)));
    }
    if (it == trees.defined.end() || it->second->nodes.empty()) {
      trees.defined[*unq] = std::move(list);
    }
  }

  std::pair<std::unique_ptr<Node>, std::unique_ptr<Node>> ItemList(
      Trees& trees) {
    auto list = NewNode(NT::kList, PeekNonSpace().pos);
    while (PeekNonSpace().typ != It::kEOF) {
      auto n = TextOrAction(trees);
      if (n->type == NT::kEnd || n->type == NT::kElse) {
        return {std::move(list), std::move(n)};
      }
      list->nodes.push_back(std::move(n));
    }
    Errorf("unexpected EOF");
  }

  std::unique_ptr<Node> TextOrAction(Trees& trees) {
    const Item& token = NextNonSpace();
    switch (token.typ) {
      case It::kText: {
        auto n = NewNode(NT::kText, token.pos);
        n->text = token.val;
        return n;
      }
      case It::kLeftDelim: {
        action_line_ = token.line;
        auto n = Action(trees);
        action_line_ = 0;
        return n;
      }
      default:
        Unexpected(token, "input");
    }
  }

  std::unique_ptr<Node> Action(Trees& trees) {
    const Item& token = NextNonSpace();
    switch (token.typ) {
      case It::kBlock:
        return BlockControl(trees);
      case It::kBreak:
      case It::kContinue: {
        bool is_break = token.typ == It::kBreak;
        int pos = token.pos;
        const Item& t = NextNonSpace();
        if (t.typ != It::kRightDelim) {
          Unexpected(t, is_break ? "{{break}}" : "{{continue}}");
        }
        if (range_depth_ == 0) {
          Errorf(is_break ? "{{break}} outside {{range}}"
                          : "{{continue}} outside {{range}}");
        }
        return NewNode(is_break ? NT::kBreak : NT::kContinue, pos);
      }
      case It::kElse:
        return ElseControl();
      case It::kEnd:
        return NewNode(NT::kEnd, Expect(It::kRightDelim, "end").pos);
      case It::kIf:
        return Control(NT::kIf, "if", trees);
      case It::kRange:
        return Control(NT::kRange, "range", trees);
      case It::kTemplate:
        return TemplateControl();
      case It::kWith:
        return Control(NT::kWith, "with", trees);
      default:
        break;
    }
    Backup();
    const Item& t = Peek();
    auto n = NewNode(NT::kAction, t.pos);
    n->pipe = Pipeline("command", It::kRightDelim);
    return n;
  }

  std::unique_ptr<Node> ElseControl() {
    const Item& peek = PeekNonSpace();
    if (peek.typ == It::kIf || peek.typ == It::kWith) {
      return NewNode(NT::kElse, peek.pos);
    }
    return NewNode(NT::kElse, Expect(It::kRightDelim, "else").pos);
  }

  std::unique_ptr<Node> Control(NT type, absl::string_view context,
                                Trees& trees) {
    DepthGuard guard(this);
    size_t mark = vars_.size();
    auto n = NewNode(type, 0);
    n->pipe = Pipeline(context, It::kRightDelim);
    n->pos = n->pipe->pos;
    if (type == NT::kRange) ++range_depth_;
    auto [list, next] = ItemList(trees);
    if (type == NT::kRange) --range_depth_;
    n->list = std::move(list);
    if (next->type == NT::kElse) {
      if (type == NT::kIf && Peek().typ == It::kIf) {
        Next();
        n->else_list = NewNode(NT::kList, next->pos);
        n->else_list->nodes.push_back(Control(NT::kIf, "if", trees));
      } else if (type == NT::kWith && Peek().typ == It::kWith) {
        Next();
        n->else_list = NewNode(NT::kList, next->pos);
        n->else_list->nodes.push_back(Control(NT::kWith, "with", trees));
      } else {
        auto [else_list, end] = ItemList(trees);
        if (end->type != NT::kEnd) {
          Errorf("expected end; found " + NodeString(*end));
        }
        n->else_list = std::move(else_list);
      }
    }
    vars_.resize(mark);
    return n;
  }

  std::unique_ptr<Node> BlockControl(Trees& trees) {
    const Item& token = NextNonSpace();
    if (token.typ != It::kString && token.typ != It::kRawString) {
      Unexpected(token, "block clause");
    }
    auto name = Unquote(token.val);
    if (!name.ok()) Errorf("invalid syntax");
    auto n = NewNode(NT::kTemplate, token.pos);
    n->text = *name;
    n->pipe = Pipeline("block clause", It::kRightDelim);
    std::vector<std::string> saved_vars = vars_;
    vars_ = {"$"};
    auto [list, end] = ItemList(trees);
    if (end->type != NT::kEnd) {
      Errorf("unexpected " + NodeString(*end) + " in block clause");
    }
    vars_ = std::move(saved_vars);
    trees.defined[*name] = std::move(list);
    return n;
  }

  std::unique_ptr<Node> TemplateControl() {
    const Item& token = NextNonSpace();
    if (token.typ != It::kString && token.typ != It::kRawString) {
      Unexpected(token, "template clause");
    }
    auto name = Unquote(token.val);
    if (!name.ok()) Errorf("invalid syntax");
    auto n = NewNode(NT::kTemplate, token.pos);
    n->text = *name;
    if (NextNonSpace().typ != It::kRightDelim) {
      Backup();
      n->pipe = Pipeline("template clause", It::kRightDelim);
    }
    return n;
  }

  std::unique_ptr<Node> Pipeline(absl::string_view context, It end) {
    auto pipe = NewNode(NT::kPipe, PeekNonSpace().pos);
    while (true) {  // "decls:" in Go.
      const Item& v = PeekNonSpace();
      if (v.typ != It::kVariable) break;
      size_t var_idx = idx_;
      NextNonSpace();
      const Item& token_after = Peek();
      const Item& next = PeekNonSpace();
      if (next.typ == It::kAssign || next.typ == It::kDeclare) {
        pipe->is_assign = next.typ == It::kAssign;
        NextNonSpace();
        auto var = NewNode(NT::kVariable, v.pos);
        var->idents = {v.val};
        pipe->decls.push_back(std::move(var));
        vars_.push_back(v.val);
        break;
      }
      if (next.typ == It::kChar && next.val == ",") {
        NextNonSpace();
        auto var = NewNode(NT::kVariable, v.pos);
        var->idents = {v.val};
        pipe->decls.push_back(std::move(var));
        vars_.push_back(v.val);
        if (context == "range" && pipe->decls.size() < 2) {
          It t = PeekNonSpace().typ;
          if (t == It::kVariable || t == It::kRightDelim ||
              t == It::kRightParen) {
            continue;
          }
          Errorf("range can only initialize variables");
        }
        Errorf(absl::StrCat("too many declarations in ", context));
      }
      (void)token_after;
      idx_ = var_idx;
      break;
    }
    while (true) {
      const Item& token = NextNonSpace();
      if (token.typ == end) {
        CheckPipeline(*pipe, context);
        return pipe;
      }
      switch (token.typ) {
        case It::kBool:
        case It::kCharConstant:
        case It::kDot:
        case It::kField:
        case It::kIdentifier:
        case It::kNumber:
        case It::kNil:
        case It::kRawString:
        case It::kString:
        case It::kVariable:
        case It::kLeftParen:
          Backup();
          pipe->nodes.push_back(Command());
          break;
        default:
          Unexpected(token, context);
      }
    }
  }

  void CheckPipeline(const Node& pipe, absl::string_view context) {
    if (pipe.nodes.empty()) Errorf(absl::StrCat("missing value for ", context));
    for (size_t k = 1; k < pipe.nodes.size(); ++k) {
      switch (pipe.nodes[k]->nodes[0]->type) {
        case NT::kBool:
        case NT::kDot:
        case NT::kNil:
        case NT::kNumber:
        case NT::kString:
          Errorf(
              absl::StrCat("non executable command in pipeline stage ", k + 1));
        default:
          break;
      }
    }
  }

  std::unique_ptr<Node> Command() {
    auto cmd = NewNode(NT::kCommand, PeekNonSpace().pos);
    while (true) {
      PeekNonSpace();
      auto operand = Operand();
      if (operand) cmd->nodes.push_back(std::move(operand));
      const Item& token = Next();
      if (token.typ == It::kSpace) continue;
      if (token.typ == It::kRightDelim || token.typ == It::kRightParen) {
        Backup();
      } else if (token.typ != It::kPipe) {
        Unexpected(token, "operand");
      }
      break;
    }
    if (cmd->nodes.empty()) Errorf("empty command");
    return cmd;
  }

  std::unique_ptr<Node> Operand() {
    auto node = Term();
    if (!node) return node;
    if (Peek().typ == It::kField) {
      auto chain = NewNode(NT::kChain, Peek().pos);
      while (Peek().typ == It::kField) {
        // Field items include their leading dot: ".a" or ".a.b" is lexed as
        // one field per dot.
        absl::string_view f = Next().val;
        chain->idents.push_back(std::string(f.substr(1)));
      }
      switch (node->type) {
        case NT::kField: {
          auto n = NewNode(NT::kField, chain->pos);
          n->idents = node->idents;
          for (auto& id : chain->idents) n->idents.push_back(id);
          return n;
        }
        case NT::kVariable: {
          auto n = NewNode(NT::kVariable, chain->pos);
          n->idents = node->idents;
          for (auto& id : chain->idents) n->idents.push_back(id);
          return n;
        }
        case NT::kBool:
        case NT::kString:
        case NT::kNumber:
        case NT::kNil:
        case NT::kDot:
          Errorf("unexpected . after term " + GoQuote(NodeString(*node)));
        default:
          chain->chain = std::move(node);
          return chain;
      }
    }
    return node;
  }

  std::unique_ptr<Node> Term() {
    const Item& token = NextNonSpace();
    switch (token.typ) {
      case It::kIdentifier: {
        if (!IsBuiltinOrPromFunction(token.val)) {
          Errorf("function " + GoQuote(token.val) + " not defined");
        }
        auto n = NewNode(NT::kIdentifier, token.pos);
        n->text = token.val;
        return n;
      }
      case It::kDot:
        return NewNode(NT::kDot, token.pos);
      case It::kNil:
        return NewNode(NT::kNil, token.pos);
      case It::kVariable: {
        auto n = NewNode(NT::kVariable, token.pos);
        // "$x.a.b" arrives as one variable item "$x" followed by fields;
        // the lexer stops a variable at '.'.
        n->idents = {token.val};
        if (std::find(vars_.begin(), vars_.end(), token.val) == vars_.end()) {
          Errorf("undefined variable " + GoQuote(token.val));
        }
        return n;
      }
      case It::kField: {
        auto n = NewNode(NT::kField, token.pos);
        n->idents = {token.val.substr(1)};
        return n;
      }
      case It::kBool: {
        auto n = NewNode(NT::kBool, token.pos);
        n->truth = token.val == "true";
        return n;
      }
      case It::kCharConstant:
      case It::kNumber:
        return NewNumber(token);
      case It::kLeftParen: {
        DepthGuard guard(this);
        return Pipeline("parenthesized pipeline", It::kRightParen);
      }
      case It::kString:
      case It::kRawString: {
        auto s = Unquote(token.val);
        if (!s.ok()) Errorf("invalid syntax");
        auto n = NewNode(NT::kString, token.pos);
        n->quoted = token.val;
        n->text = *std::move(s);
        return n;
      }
      default:
        Backup();
        return nullptr;
    }
  }

  std::unique_ptr<Node> NewNumber(const Item& token);

  std::string name_;
  std::vector<Item> items_;
  size_t idx_ = 0;
  size_t furthest_ = 0;
  int last_line_ = 1;
  int action_line_ = 0;
  int range_depth_ = 0;
  int depth_ = 0;
  std::vector<std::string> vars_;
};

// strconv.ParseInt / ParseUint with base 0 (prefixes 0x 0o 0b and a leading
// 0 for octal; underscores only after a prefix).
bool GoParseInteger(absl::string_view s, bool allow_sign, bool& neg,
                    uint64_t& out) {
  neg = false;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  int base = 10;
  bool prefixed = false;
  if (s[0] == '0') {
    if (s.size() >= 2 && (s[1] == 'x' || s[1] == 'X')) {
      base = 16;
      s.remove_prefix(2);
    } else if (s.size() >= 2 && (s[1] == 'o' || s[1] == 'O')) {
      base = 8;
      s.remove_prefix(2);
    } else if (s.size() >= 2 && (s[1] == 'b' || s[1] == 'B')) {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
    prefixed = true;
  }
  uint64_t v = 0;
  bool any = base == 8 && prefixed;  // "0" alone is valid.
  char last = prefixed ? '_' : ' ';
  for (char c : s) {
    if (c == '_') {
      if (!prefixed || last == '_') return false;
      last = c;
      continue;
    }
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'Z') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    if (d >= base) return false;
    if (v > (std::numeric_limits<uint64_t>::max() - d) / base) return false;
    v = v * base + d;
    any = true;
    last = c;
  }
  if (last == '_' && !s.empty()) return false;
  if (!any) return false;
  out = v;
  return true;
}

// strconv.ParseFloat for the forms the lexer accepts (no underscores in
// decimal forms).
bool GoParseFloat(absl::string_view s, double& out) {
  if (s.empty() || s.find('_') != absl::string_view::npos) return false;
  std::string str(s);
  // Go rejects hex mantissas without a 'p' exponent.
  absl::string_view body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-'))
    body.remove_prefix(1);
  if (absl::StartsWithIgnoreCase(body, "0x") &&
      body.find_first_of("pP") == absl::string_view::npos) {
    return false;
  }
  for (char c : body) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == '+' ||
          c == '-')) {
      return false;
    }
  }
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  out = v;
  return true;
}

std::unique_ptr<Node> Parser::NewNumber(const Item& token) {
  auto n = NewNode(NT::kNumber, token.pos);
  n->quoted = token.val;
  const std::string& text = token.val;
  if (token.typ == It::kCharConstant) {
    absl::string_view body = absl::string_view(text).substr(1, text.size() - 2);
    char32_t r = 0;
    if (!body.empty() && body[0] == '\\') {
      auto unq = Unquote("\"" + std::string(body) + "\"");
      if (!unq.ok()) Errorf("invalid syntax");
      int w = 0;
      r = DecodeUtf8(*unq, w);
      if (static_cast<size_t>(w) != unq->size()) {
        r = static_cast<unsigned char>((*unq)[0]);
        if (unq->size() != 1) Errorf("invalid syntax");
      }
    } else {
      int w = 0;
      r = DecodeUtf8(body, w);
      if (static_cast<size_t>(w) != body.size() || body.empty()) {
        Errorf("malformed character constant: " + text);
      }
    }
    n->is_int = n->is_uint = n->is_float = true;
    n->i = r;
    n->u = r;
    n->f = r;
    return n;
  }
  if (!text.empty() && text.back() == 'i') {
    Errorf("illegal number syntax: " + GoQuote(text));
  }
  bool neg = false;
  uint64_t mag = 0;
  if (GoParseInteger(text, false, neg, mag)) {
    n->is_uint = true;
    n->u = mag;
  }
  if (GoParseInteger(text, true, neg, mag)) {
    if (!neg && mag <= static_cast<uint64_t>(INT64_MAX)) {
      n->is_int = true;
      n->i = static_cast<int64_t>(mag);
    } else if (neg && mag <= static_cast<uint64_t>(INT64_MAX) + 1) {
      n->is_int = true;
      n->i = static_cast<int64_t>(0 - mag);
    }
  }
  if (n->is_int) {
    n->is_float = true;
    n->f = static_cast<double>(n->i);
  } else if (n->is_uint) {
    n->is_float = true;
    n->f = static_cast<double>(n->u);
  } else {
    double f;
    if (GoParseFloat(text, f)) {
      if (text.find_first_of(".eEpP") == std::string::npos) {
        Errorf("integer overflow: " + GoQuote(text));
      }
      n->is_float = true;
      n->f = f;
      if (!n->is_int && std::abs(f) < 9.2e18 &&
          static_cast<double>(static_cast<int64_t>(f)) == f) {
        n->is_int = true;
        n->i = static_cast<int64_t>(f);
      }
      if (!n->is_uint && f >= 0 && f < 1.8e19 &&
          static_cast<double>(static_cast<uint64_t>(f)) == f) {
        n->is_uint = true;
        n->u = static_cast<uint64_t>(f);
      }
    }
  }
  if (!n->is_int && !n->is_uint && !n->is_float) {
    Errorf("illegal number syntax: " + GoQuote(text));
  }
  return n;
}

// ---------------------------------------------------------------------------
// Values: the Go types an alert template can hold.

struct TSample {
  std::vector<std::pair<std::string, std::string>> labels;  // Sorted.
  double value = 0;
};
using SampleList = std::vector<std::shared_ptr<TSample>>;
using StrMap = std::vector<std::pair<std::string, std::string>>;  // Sorted.

struct Value;
using AnyMap = std::vector<std::pair<std::string, Value>>;  // Sorted.

enum class VK {
  kInvalid,  // No value (reflect.Value{}): prints "<no value>".
  kNil,      // A nil interface{} argument: prints "<nil>".
  kBool,
  kInt,    // int (and the int64 results of methods).
  kUint8,  // A byte from indexing a string.
  kFloat,  // float64.
  kString,
  kHtml,      // html/template.HTML (safeHtml).
  kStrMap,    // map[string]string (labels).
  kAnyMap,    // map[string]interface {} (args).
  kSample,    // *template.sample.
  kSamples,   // template.queryResult.
  kTime,      // *time.Time.
  kDuration,  // *time.Duration.
  kData,      // The alert template data struct.
};

struct DataStruct {
  std::shared_ptr<const StrMap> labels;
  std::shared_ptr<const StrMap> external_labels;
  std::string external_url;
  double value = 0;
};

struct Value {
  VK kind = VK::kInvalid;
  bool b = false;
  int64_t i = 0;  // kInt, kUint8, kTime and kDuration (nanoseconds).
  double f = 0;
  std::string s;
  std::shared_ptr<const StrMap> strmap;
  std::shared_ptr<const AnyMap> anymap;
  std::shared_ptr<TSample> sample;
  std::shared_ptr<SampleList> samples;
  std::shared_ptr<const DataStruct> data;

  static Value Bool(bool v) {
    Value x;
    x.kind = VK::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = VK::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.kind = VK::kFloat;
    x.f = v;
    return x;
  }
  static Value String(std::string v, VK kind = VK::kString) {
    Value x;
    x.kind = kind;
    x.s = std::move(v);
    return x;
  }
  static Value Nil() {
    Value x;
    x.kind = VK::kNil;
    return x;
  }
  bool valid() const { return kind != VK::kInvalid; }
};

std::string TypeName(const Value& v) {
  switch (v.kind) {
    case VK::kInvalid:
    case VK::kNil:
      return "<nil>";
    case VK::kBool:
      return "bool";
    case VK::kInt:
      return "int";
    case VK::kUint8:
      return "uint8";
    case VK::kFloat:
      return "float64";
    case VK::kString:
      return "string";
    case VK::kHtml:
      return "template.HTML";
    case VK::kStrMap:
      return "map[string]string";
    case VK::kAnyMap:
      return "map[string]interface {}";
    case VK::kSample:
      return "*template.sample";
    case VK::kSamples:
      return "template.queryResult";
    case VK::kTime:
      return "*time.Time";
    case VK::kDuration:
      return "*time.Duration";
    case VK::kData:
      return "struct { Labels map[string]string; ExternalLabels "
             "map[string]string; ExternalURL string; Value interface {} }";
  }
  return "";
}

// --- Time and duration formatting (Go's time package, UTC only). ---

// Go's time.Time fields of a Unix time in ns, UTC.
struct GoTime {
  CivilTime civil;
  int nanos;
};

GoTime ToGoTime(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  int64_t ns = unix_nanos % 1000000000;
  if (ns < 0) {
    ns += 1000000000;
    --secs;
  }
  return GoTime{ToCivilTime(secs), static_cast<int>(ns)};
}

constexpr const char* kMonths[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

std::string Pad(int64_t v, int width, char fill = '0') {
  std::string s = std::to_string(v < 0 ? -v : v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
  if (v < 0) s.insert(s.begin(), '-');
  return s;
}

// Go's time.Time.Format for a UTC time: the common layout elements.
std::string FormatTime(int64_t unix_nanos, absl::string_view layout) {
  const GoTime g = ToGoTime(unix_nanos);
  const CivilTime& c = g.civil;
  std::string out;
  size_t k = 0;
  auto starts = [&](absl::string_view p) {
    return absl::StartsWith(layout.substr(k), p);
  };
  while (k < layout.size()) {
    if (starts("January")) {
      out += kMonths[c.month - 1];
      k += 7;
    } else if (starts("Jan")) {
      out += std::string(kMonths[c.month - 1]).substr(0, 3);
      k += 3;
    } else if (starts("Monday")) {
      out += kDays[c.wday];
      k += 6;
    } else if (starts("Mon")) {
      out += std::string(kDays[c.wday]).substr(0, 3);
      k += 3;
    } else if (starts("MST")) {
      out += "UTC";
      k += 3;
    } else if (starts("2006")) {
      out += Pad(c.year, 4);
      k += 4;
    } else if (starts("2")) {
      if (starts("2")) {
        out += std::to_string(c.day);
        k += 1;
      }
    } else if (starts("01")) {
      out += Pad(c.month, 2);
      k += 2;
    } else if (starts("02")) {
      out += Pad(c.day, 2);
      k += 2;
    } else if (starts("06")) {
      out += Pad(c.year % 100, 2);
      k += 2;
    } else if (starts("_2")) {
      out += Pad(c.day, 2, ' ');
      k += 2;
    } else if (starts("002")) {
      out += Pad(c.yday, 3);
      k += 3;
    } else if (starts("15")) {
      out += Pad(c.hour, 2);
      k += 2;
    } else if (starts("03")) {
      out += Pad(c.hour % 12 == 0 ? 12 : c.hour % 12, 2);
      k += 2;
    } else if (starts("04")) {
      out += Pad(c.minute, 2);
      k += 2;
    } else if (starts("05")) {
      out += Pad(c.second, 2);
      k += 2;
    } else if (starts("1")) {
      out += std::to_string(c.month);
      k += 1;
    } else if (starts("3")) {
      out += std::to_string(c.hour % 12 == 0 ? 12 : c.hour % 12);
      k += 1;
    } else if (starts("4")) {
      out += std::to_string(c.minute);
      k += 1;
    } else if (starts("5")) {
      out += std::to_string(c.second);
      k += 1;
    } else if (starts("PM")) {
      out += c.hour >= 12 ? "PM" : "AM";
      k += 2;
    } else if (starts("pm")) {
      out += c.hour >= 12 ? "pm" : "am";
      k += 2;
    } else if (starts("Z07:00") || starts("Z0700") || starts("Z07")) {
      out += "Z";
      k += starts("Z07:00") ? 6 : starts("Z0700") ? 5 : 3;
    } else if (starts("-07:00")) {
      out += "+00:00";
      k += 6;
    } else if (starts("-0700")) {
      out += "+0000";
      k += 5;
    } else if (starts("-07")) {
      out += "+00";
      k += 3;
    } else if ((starts(".0") || starts(".9") || starts(",0") || starts(",9")) &&
               k + 1 < layout.size()) {
      char digit = layout[k + 1];
      size_t j = k + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      // Only a fractional second if not followed by another digit.
      if (j < layout.size() && layout[j] >= '0' && layout[j] <= '9') {
        out += layout[k];
        ++k;
        continue;
      }
      int n = static_cast<int>(j - k - 1);
      std::string frac = Pad(g.nanos, 9).substr(0, std::min(n, 9));
      if (digit == '9') {
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (!frac.empty()) out += layout[k] + frac;
      } else {
        out += layout[k] + frac;
      }
      k = j;
    } else {
      out += layout[k];
      ++k;
    }
  }
  return out;
}

// time.Time.String() for a UTC time.
std::string TimeString(int64_t unix_nanos) {
  return FormatTime(unix_nanos, "2006-01-02 15:04:05.999999999 -0700 MST");
}

// Go's time.Duration.String().
std::string DurationString(int64_t d) {
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  auto frac = [](uint64_t v, int prec, std::string& s) {
    // Fraction digits of v / 10^prec without trailing zeros.
    std::string digits;
    bool print = false;
    for (int k = 0; k < prec; ++k) {
      int digit = static_cast<int>(v % 10);
      print = print || digit != 0;
      if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) s += "." + digits;
    return v;
  };
  std::string s;
  if (u < 1000000000) {
    int prec;
    std::string unit;
    if (u < 1000) {
      return (neg ? "-" : "") + std::to_string(u) + "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f;
    uint64_t whole = frac(u, prec, f);
    s = std::to_string(whole) + f + unit;
  } else {
    std::string f;
    uint64_t secs = frac(u, 9, f);
    s = std::to_string(secs % 60) + f + "s";
    uint64_t mins = secs / 60;
    if (mins > 0) {
      s = std::to_string(mins % 60) + "m" + s;
      uint64_t hours = mins / 60;
      if (hours > 0) s = std::to_string(hours) + "h" + s;
    }
  }
  return (neg ? "-" : "") + s;
}

// --- fmt's %v and friends. ---

std::string FormatValue(const Value& v, int depth = 0);

std::string FormatStrMap(const StrMap& m) {
  std::string s = "map[";
  for (size_t k = 0; k < m.size(); ++k) {
    if (k > 0) s += " ";
    s += m[k].first + ":" + m[k].second;
  }
  return s + "]";
}

std::string FormatValue(const Value& v, int depth) {
  switch (v.kind) {
    case VK::kInvalid:
      return depth == 0 ? "<no value>" : "<nil>";
    case VK::kNil:
      return "<nil>";
    case VK::kBool:
      return v.b ? "true" : "false";
    case VK::kInt:
    case VK::kUint8:
      return std::to_string(v.i);
    case VK::kFloat:
      return FormatFloatGo(v.f);
    case VK::kString:
    case VK::kHtml:
      return v.s;
    case VK::kStrMap:
      return FormatStrMap(*v.strmap);
    case VK::kAnyMap: {
      std::string s = "map[";
      for (size_t k = 0; k < v.anymap->size(); ++k) {
        if (k > 0) s += " ";
        s += (*v.anymap)[k].first + ":" +
             FormatValue((*v.anymap)[k].second, depth + 1);
      }
      return s + "]";
    }
    case VK::kSample:
      if (!v.sample) return "<nil>";
      // An action prints the pointee ({...}); fmt prints "&{...}" for a
      // top-level operand and an address when nested (promeval prints
      // "&{...}" there too: addresses are not reproducible).
      return (depth == 0 ? "{" : "&{") + FormatStrMap(v.sample->labels) + " " +
             FormatFloatGo(v.sample->value) + "}";
    case VK::kSamples: {
      std::string s = "[";
      if (v.samples) {
        for (size_t k = 0; k < v.samples->size(); ++k) {
          if (k > 0) s += " ";
          Value e;
          e.kind = VK::kSample;
          e.sample = (*v.samples)[k];
          s += FormatValue(e, depth + 1);
        }
      }
      return s + "]";
    }
    case VK::kTime:
      return TimeString(v.i);
    case VK::kDuration:
      return DurationString(v.i);
    case VK::kData:
      return "{" + FormatStrMap(*v.data->labels) + " " +
             FormatStrMap(*v.data->external_labels) + " " +
             v.data->external_url + " " + FormatFloatGo(v.data->value) + "}";
  }
  return "";
}

// fmt.Sprint: spaces between operands when neither side is a string.
std::string GoSprint(const std::vector<Value>& args) {
  std::string s;
  for (size_t k = 0; k < args.size(); ++k) {
    bool is_string = args[k].kind == VK::kString || args[k].kind == VK::kHtml;
    if (k > 0 && !is_string &&
        !(args[k - 1].kind == VK::kString || args[k - 1].kind == VK::kHtml)) {
      s += " ";
    }
    s += FormatValue(args[k], 1);
  }
  return s;
}

std::string GoSprintln(const std::vector<Value>& args) {
  std::string s;
  for (size_t k = 0; k < args.size(); ++k) {
    if (k > 0) s += " ";
    s += FormatValue(args[k], 1);
  }
  return s + "\n";
}

struct FmtFlags {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1;
  int prec = -1;
};

void PadTo(std::string& out, absl::string_view s, const FmtFlags& fl,
           bool zero_ok) {
  int len = 0;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    DecodeUtf8(s.substr(k), w);
    k += std::max(w, 1);
    ++len;
  }
  int pad = fl.width > len ? fl.width - len : 0;
  if (fl.minus) {
    absl::StrAppend(&out, s);
    out.append(pad, ' ');
  } else if (fl.zero && zero_ok) {
    // Zero padding goes after a sign.
    size_t sign =
        (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    absl::StrAppend(&out, s.substr(0, sign));
    out.append(pad, '0');
    absl::StrAppend(&out, s.substr(sign));
  } else {
    out.append(pad, ' ');
    absl::StrAppend(&out, s);
  }
}

std::string FormatIntVerb(int64_t v, char verb, const FmtFlags& fl) {
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  int base = 10;
  const char* set = "0123456789abcdefx";
  switch (verb) {
    case 'b':
      base = 2;
      break;
    case 'o':
    case 'O':
      base = 8;
      break;
    case 'x':
      base = 16;
      break;
    case 'X':
      base = 16;
      set = "0123456789ABCDEFX";
      break;
    default:
      break;
  }
  if (u == 0) digits = "0";
  while (u > 0) {
    digits.insert(digits.begin(), set[u % base]);
    u /= base;
  }
  if (fl.prec >= 0) {
    if (fl.prec == 0 && v == 0) digits.clear();
    if (static_cast<int>(digits.size()) < fl.prec) {
      digits.insert(0, fl.prec - digits.size(), '0');
    }
  }
  if (fl.sharp) {
    if (base == 16) digits = std::string("0") + set[16] + digits;
    if (base == 8 && (digits.empty() || digits[0] != '0')) {
      digits = "0" + digits;
    }
    if (base == 2) digits = "0b" + digits;
  }
  if (verb == 'O') digits = "0o" + digits;
  if (neg) {
    digits = "-" + digits;
  } else if (fl.plus) {
    digits = "+" + digits;
  } else if (fl.space) {
    digits = " " + digits;
  }
  return digits;
}

// Go's %e %f %g with a precision (-1: shortest for %g/%v).
std::string FormatFloatVerb(double v, char verb, int prec, const FmtFlags& fl) {
  std::string s;
  if (std::isnan(v)) {
    s = "NaN";
  } else if (std::isinf(v)) {
    s = v > 0 ? "+Inf" : "-Inf";
  } else {
    char lower = static_cast<char>(std::tolower(verb));
    if (lower == 'g' && prec < 0) {
      s = FormatFloatGo(v);
      if (verb == 'G') {
        for (char& c : s) c = static_cast<char>(std::toupper(c));
      }
    } else {
      if (prec < 0) prec = 6;
      if (lower == 'g' && prec == 0) prec = 1;
      std::string spec = std::string("%") + (fl.sharp ? "#" : "") + ".*" +
                         (verb == 'F' ? 'f' : verb);
      char buf[512];
      int n =
          std::snprintf(buf, sizeof(buf), spec.c_str(), std::min(prec, 400), v);
      if (n < 0 || n >= static_cast<int>(sizeof(buf))) {
        // Huge %f: fall back to the shortest form.
        s = FormatFloatGo(v);
      } else {
        s.assign(buf, n);
      }
    }
    if (s[0] != '-' && s[0] != '+') {
      if (fl.plus) {
        s = "+" + s;
      } else if (fl.space) {
        s = " " + s;
      }
    }
    return s;
  }
  // Infinities and NaN: the '+' sign is kept only with the plus flag.
  if (s == "+Inf" && !fl.plus) s = fl.space ? " Inf" : "+Inf";
  if (s == "NaN" && (fl.plus || fl.space)) s = (fl.plus ? "+" : " ") + s;
  return s;
}

std::string BadVerb(char verb, const Value& v) {
  if (v.kind == VK::kInvalid || v.kind == VK::kNil) {
    return std::string("%!") + verb + "(<nil>)";
  }
  return std::string("%!") + verb + "(" + TypeName(v) + "=" +
         FormatValue(v, 1) + ")";
}

// fmt.Sprintf for the verbs templates use.
std::string GoSprintf(absl::string_view format,
                      const std::vector<Value>& args) {
  std::string out;
  size_t argi = 0;
  size_t k = 0;
  while (k < format.size()) {
    char c = format[k];
    if (c != '%') {
      out += c;
      ++k;
      continue;
    }
    ++k;
    FmtFlags fl;
    for (; k < format.size(); ++k) {
      char f = format[k];
      if (f == '-') {
        fl.minus = true;
        fl.zero = false;
      } else if (f == '+') {
        fl.plus = true;
      } else if (f == '#') {
        fl.sharp = true;
      } else if (f == ' ') {
        fl.space = true;
      } else if (f == '0') {
        fl.zero = !fl.minus;
      } else {
        break;
      }
    }
    auto parse_num = [&](int& dst) {
      if (k < format.size() && format[k] == '*') {
        ++k;
        if (argi < args.size() && args[argi].kind == VK::kInt) {
          dst = static_cast<int>(
              std::clamp<int64_t>(args[argi].i, -1000000, 1000000));
          ++argi;
          return true;
        }
        ++argi;
        return false;
      }
      if (k < format.size() && format[k] >= '0' && format[k] <= '9') {
        int n = 0;
        while (k < format.size() && format[k] >= '0' && format[k] <= '9') {
          if (n > 1000000) {
            // Go's parsenum: a crazy long number ends the format (the
            // verb is then missing).
            k = format.size();
            n = 0;
            break;
          }
          n = n * 10 + (format[k] - '0');
          ++k;
        }
        dst = n;
      }
      return true;
    };
    bool bad_width = !parse_num(fl.width);
    if (fl.width < -1) {
      fl.minus = true;
      fl.width = -fl.width;
    }
    bool bad_prec = false;
    if (k < format.size() && format[k] == '.') {
      ++k;
      fl.prec = 0;
      bad_prec = !parse_num(fl.prec);
      if (fl.prec < 0) fl.prec = -1;
    }
    if (bad_width) out += "%!(BADWIDTH)";
    if (bad_prec) out += "%!(BADPREC)";
    if (k >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    int w = 0;
    char32_t verb32 = DecodeUtf8(format.substr(k), w);
    k += std::max(w, 1);
    if (verb32 == '%') {
      out += '%';
      continue;
    }
    char verb = verb32 < 0x80 ? static_cast<char>(verb32) : '?';
    if (argi >= args.size()) {
      std::string v;
      AppendUtf8(v, verb32);
      out += "%!" + v + "(MISSING)";
      continue;
    }
    const Value& a = args[argi++];
    std::string s;
    bool zero_ok = true;
    switch (verb) {
      case 'v':
      case 's':
      case 'q':
      case 'x':
      case 'X':
        if (a.kind == VK::kString || a.kind == VK::kHtml ||
            a.kind == VK::kTime || a.kind == VK::kDuration ||
            (verb == 'v' && a.kind != VK::kInt && a.kind != VK::kUint8 &&
             a.kind != VK::kFloat && a.kind != VK::kBool)) {
          std::string str = a.kind == VK::kTime       ? TimeString(a.i)
                            : a.kind == VK::kDuration ? DurationString(a.i)
                                                      : FormatValue(a, 1);
          if (verb == 'v' || verb == 's') {
            if (fl.prec >= 0) {
              size_t end = 0;
              for (int r = 0; r < fl.prec && end < str.size(); ++r) {
                int rw = 0;
                DecodeUtf8(absl::string_view(str).substr(end), rw);
                end += std::max(rw, 1);
              }
              str.resize(end);
            }
            s = str;
          } else if (verb == 'q') {
            s = fl.sharp && str.find('`') == std::string::npos ? "`" + str + "`"
                                                               : GoQuote(str);
          } else {
            const char* hex =
                verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
            size_t n = str.size();
            if (fl.prec >= 0) n = std::min(n, static_cast<size_t>(fl.prec));
            for (size_t b = 0; b < n; ++b) {
              if (fl.space && b > 0) s += ' ';
              if (fl.sharp && (b == 0 || fl.space)) {
                s += verb == 'x' ? "0x" : "0X";
              }
              unsigned char ch = static_cast<unsigned char>(str[b]);
              s += hex[ch >> 4];
              s += hex[ch & 15];
            }
          }
          zero_ok = verb != 'v' && verb != 's' ? false : true;
          break;
        }
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          if (verb == 'q') {
            s = GoQuoteRune(static_cast<char32_t>(a.i));
          } else {
            s = FormatIntVerb(a.i, verb == 'v' || verb == 's' ? 'd' : verb, fl);
            if (verb == 's') s = BadVerb(verb, a);
          }
          break;
        }
        if (a.kind == VK::kFloat) {
          if (verb == 'v') {
            s = FormatFloatVerb(a.f, 'g', fl.prec, fl);
          } else if (verb == 'x' || verb == 'X') {
            char buf[64];
            std::snprintf(buf, sizeof(buf), verb == 'x' ? "%a" : "%A", a.f);
            s = buf;
          } else {
            s = BadVerb(verb, a);
          }
          break;
        }
        if (a.kind == VK::kBool && verb == 'v') {
          s = a.b ? "true" : "false";
          break;
        }
        s = BadVerb(verb, a);
        break;
      case 'd':
      case 'b':
      case 'o':
      case 'O':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          s = FormatIntVerb(a.i, verb, fl);
          zero_ok = fl.prec < 0;
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'c':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          AppendUtf8(s, static_cast<char32_t>(a.i));
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'U':
        if (a.kind == VK::kInt || a.kind == VK::kUint8) {
          char buf[32];
          std::snprintf(buf, sizeof(buf), "U+%04llX",
                        static_cast<unsigned long long>(a.i));
          s = buf;
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        if (a.kind == VK::kFloat) {
          s = FormatFloatVerb(a.f, verb, fl.prec, fl);
          zero_ok = std::isfinite(a.f);
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 't':
        if (a.kind == VK::kBool) {
          s = a.b ? "true" : "false";
        } else {
          s = BadVerb(verb, a);
        }
        break;
      case 'T':
        s = a.kind == VK::kInvalid ? "<nil>" : TypeName(a);
        break;
      default: {
        std::string vs;
        AppendUtf8(vs, verb32);
        if (a.kind == VK::kInvalid || a.kind == VK::kNil) {
          s = "%!" + vs + "(<nil>)";
        } else {
          s = "%!" + vs + "(" + TypeName(a) + "=" + FormatValue(a, 1) + ")";
        }
        break;
      }
    }
    if (absl::StartsWith(s, "%!")) {
      out += s;
    } else {
      PadTo(out, s, fl, zero_ok);
    }
  }
  if (argi < args.size()) {
    out += "%!(EXTRA ";
    for (size_t j = argi; j < args.size(); ++j) {
      if (j > argi) out += ", ";
      if (args[j].kind == VK::kInvalid || args[j].kind == VK::kNil) {
        out += "<nil>";
      } else {
        out += TypeName(args[j]) + "=" + FormatValue(args[j], 1);
      }
    }
    out += ")";
  }
  return out;
}

// ---------------------------------------------------------------------------
// Helpers for Prometheus's functions.

// Compiles a Go regexp (unanchored); on failure returns Go's error text.
std::unique_ptr<RE2> CompileGoRegexp(absl::string_view pattern,
                                     std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(
      re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    error = absl::StrCat(
        "error parsing regexp: ", GoRegexpErrorCode(re->error_code()), ": `",
        re->error_arg(), "`");
    return nullptr;
  }
  return re;
}

// Go's Regexp.ReplaceAllString: `$1`, `${1}`, `$name`, `${name}`, `$$`.
std::string ReplaceAllGo(const RE2& re, absl::string_view src,
                         absl::string_view repl) {
  int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> m(ngroups);
  const auto& names = re.NamedCapturingGroups();
  std::string out;
  size_t pos = 0;
  size_t last_match_end = std::string::npos;
  re2::StringPiece text(src.data(), src.size());
  while (pos <= src.size()) {
    if (!re.Match(text, pos, src.size(), RE2::UNANCHORED, m.data(), ngroups)) {
      break;
    }
    size_t start = m[0].data() - src.data();
    size_t end = start + m[0].size();
    // Go skips an empty match right after the previous match.
    if (m[0].empty() && start == last_match_end) {
      if (start >= src.size()) break;
      int w = 0;
      DecodeUtf8(src.substr(start), w);
      absl::StrAppend(&out, src.substr(pos, start + w - pos));
      pos = start + std::max(w, 1);
      continue;
    }
    absl::StrAppend(&out, src.substr(pos, start - pos));
    // Expand the template.
    for (size_t k = 0; k < repl.size();) {
      if (repl[k] != '$' || k + 1 >= repl.size()) {
        out += repl[k++];
        continue;
      }
      if (repl[k + 1] == '$') {
        out += '$';
        k += 2;
        continue;
      }
      std::string name;
      size_t next;
      if (repl[k + 1] == '{') {
        size_t close = repl.find('}', k + 2);
        name = close == absl::string_view::npos
                   ? ""
                   : std::string(repl.substr(k + 2, close - k - 2));
        bool ok = !name.empty();
        for (char ch : name) {
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) {
            ok = false;
          }
        }
        if (!ok) {
          out += repl[k++];
          continue;
        }
        next = close + 1;
      } else {
        size_t j = k + 1;
        while (j < repl.size() &&
               (std::isalnum(static_cast<unsigned char>(repl[j])) ||
                repl[j] == '_')) {
          ++j;
        }
        name = std::string(repl.substr(k + 1, j - k - 1));
        if (name.empty()) {
          out += repl[k++];
          continue;
        }
        next = j;
      }
      int idx = -1;
      bool numeric = std::all_of(name.begin(), name.end(), [](char ch) {
        return ch >= '0' && ch <= '9';
      });
      if (numeric) {
        idx = name.size() > 8 ? -1 : std::stoi(name);
      } else {
        auto it = names.find(name);
        if (it != names.end()) idx = it->second;
      }
      if (idx >= 0 && idx < ngroups && m[idx].data() != nullptr) {
        out.append(m[idx].data(), m[idx].size());
      }
      k = next;
    }
    last_match_end = end;
    if (end == start) {
      if (start >= src.size()) {
        pos = src.size() + 1;
        break;
      }
      int w = 0;
      DecodeUtf8(src.substr(start), w);
      absl::StrAppend(&out, src.substr(start, std::max(w, 1)));
      pos = start + std::max(w, 1);
    } else {
      pos = end;
    }
  }
  if (pos < src.size()) absl::StrAppend(&out, src.substr(pos));
  return out;
}

// url.QueryEscape.
std::string QueryEscape(absl::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// net.SplitHostPort.
bool SplitHostPort(absl::string_view hp, std::string& host, std::string& port) {
  size_t i = hp.rfind(':');
  if (i == absl::string_view::npos) return false;
  size_t j = 0, k = 0;
  if (!hp.empty() && hp[0] == '[') {
    size_t end = hp.find(']');
    if (end == absl::string_view::npos) return false;
    if (end + 1 == hp.size()) return false;
    if (end + 1 != i) return false;
    host = std::string(hp.substr(1, end - 1));
    j = 1;
    k = end + 1;
  } else {
    host = std::string(hp.substr(0, i));
    if (host.find(':') != std::string::npos) return false;
  }
  if (hp.substr(j).find('[') != absl::string_view::npos) return false;
  if (hp.substr(k).find(']') != absl::string_view::npos) return false;
  port = std::string(hp.substr(i + 1));
  return true;
}

// net.ParseIP succeeds.
bool IsIP(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

char32_t SimpleUpper(char32_t r) {
  if (r >= 'a' && r <= 'z') return r - 32;
  if (r < 0x80) return r;
  if ((r >= 0xE0 && r <= 0xFE && r != 0xF7)) return r - 32;
  if (r == 0xFF) return 0x178;
  if (r >= 0x100 && r <= 0x17F && r != 0x131 && r != 0x138 && r != 0x149) {
    bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
    if (odd_upper ? (r % 2 == 0) : (r % 2 == 1)) return r - 1;
    return r;
  }
  if (r >= 0x3B1 && r <= 0x3C9 && r != 0x3C2) return r - 32;
  if (r == 0x3C2) return 0x3A3;
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  return r;
}

char32_t SimpleLower(char32_t r) {
  if (r >= 'A' && r <= 'Z') return r + 32;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r == 0x178) return 0xFF;
  if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x138 && r != 0x149) {
    bool odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
    if (odd_upper ? (r % 2 == 1) : (r % 2 == 0)) return r + 1;
    return r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  return r;
}

template <typename F>
std::string MapRunes(absl::string_view s, F f) {
  std::string out;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    if (r == kRuneError && w <= 1) {
      out += "\xEF\xBF\xBD";  // Go maps invalid bytes to U+FFFD.
      k += std::max(w, 1);
      continue;
    }
    AppendUtf8(out, f(r));
    k += w;
  }
  return out;
}

// cases.Title(language.AmericanEnglish, cases.NoLower): the first letter of
// each word upper-cased, the rest kept. Words are runs of letters, digits,
// marks and the in-word punctuation ' . : _ (an approximation of Unicode
// word breaking).
std::string TitleCase(absl::string_view s) {
  std::string out;
  bool in_word = false;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    w = std::max(w, 1);
    bool letter = IsLetterRune(r);
    bool word_char = letter || (r >= '0' && r <= '9') || r == '\'' ||
                     r == '.' || r == ':' || r == '_' || r == 0x2019;
    if (letter && !in_word) {
      AppendUtf8(out, SimpleUpper(r));
    } else {
      absl::StrAppend(&out, s.substr(k, w));
    }
    in_word = word_char;
    k += w;
  }
  return out;
}

// Go's html/template-free text/template HTMLEscapeString.
// text/template's JSEscapeString.
std::string JsEscape(absl::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t k = 0; k < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[k]);
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '<':
          out += "\\u003C";
          break;
        case '>':
          out += "\\u003E";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '=':
          out += "\\u003D";
          break;
        default:
          if (c < ' ') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      ++k;
      continue;
    }
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    w = std::max(w, 1);
    if (IsGoPrint(r) && !(r == kRuneError && w == 1)) {
      absl::StrAppend(&out, s.substr(k, w));
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(r));
      out += buf;
    }
    k += w;
  }
  return out;
}

// The %.4g humanize formats.
std::string Fmt4g(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// strconv.ParseFloat with Go's error text.
bool ParseFloatGo(const std::string& s, double& out, std::string& error) {
  absl::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (absl::EqualsIgnoreCase(body, "inf") ||
      absl::EqualsIgnoreCase(body, "infinity")) {
    out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (absl::EqualsIgnoreCase(body, "nan") && s.size() == 3) {
    out = std::nan("");
    return true;
  }
  // Underscores are allowed only with a base prefix; strip them then.
  std::string clean(s);
  bool hex = absl::StartsWithIgnoreCase(body, "0x");
  if (hex) {
    clean.erase(std::remove(clean.begin(), clean.end(), '_'), clean.end());
  }
  bool ok = !body.empty() && !absl::EqualsIgnoreCase(body, "nan");
  for (char c : hex ? absl::string_view(clean) : body) {
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == '+' ||
          c == '-' || c == 'e' || c == 'E')) {
      ok = false;
    }
    if (!hex && std::isxdigit(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != 'e' && c != 'E') {
      ok = false;
    }
  }
  if (hex && clean.find_first_of("pP") == std::string::npos) ok = false;
  if (ok) {
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(clean.c_str(), &end);
    if (end == clean.c_str() + clean.size()) {
      if (errno == ERANGE && std::isinf(v)) {
        error = "strconv.ParseFloat: parsing " + GoQuote(s) +
                ": value out of range";
        return false;
      }
      out = v;
      return true;
    }
  }
  error = "strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax";
  return false;
}

// ---------------------------------------------------------------------------
// Executor (Go's text/template/exec.go).

// Parameter types of the functions (Go types, for conversions and errors).
enum class PT { kString, kAny, kRV, kSample, kSamples };

const char* PTName(PT t) {
  switch (t) {
    case PT::kString:
      return "string";
    case PT::kAny:
      return "interface {}";
    case PT::kRV:
      return "reflect.Value";
    case PT::kSample:
      return "*template.sample";
    case PT::kSamples:
      return "template.queryResult";
  }
  return "";
}

// An error returned by a function: "error calling NAME: MESSAGE".
struct FuncError {
  std::string message;
};
struct BreakSignal {};
struct ContinueSignal {};

class Exec;
using FuncImpl = Value (*)(Exec& ex, std::vector<Value>& args);

struct FuncSpec {
  std::vector<PT> params;  // With variadic, the last is the element type.
  bool variadic = false;
  FuncImpl impl = nullptr;
};

const std::map<std::string, FuncSpec, std::less<>>& Functions();

const FuncSpec* FindMethod(VK kind, absl::string_view name);

const char* kNilDeref =
    "runtime error: invalid memory address or nil pointer dereference";

class Exec {
 public:
  Exec(const Trees& trees, std::string name, absl::string_view text,
       const TemplateEnv& env)
      : trees_(trees), name_(std::move(name)), text_(text), env_(env) {}

  std::string Run(const Value& dot) {
    vars_.push_back({"$", dot});
    Walk(dot, *trees_.root);
    return std::move(out_);
  }

  const TemplateEnv& env() const { return env_; }

  [[noreturn]] void Errorf(const std::string& msg) {
    if (node_ == nullptr) {
      throw TemplateError{absl::StrCat("template: ", name_, ": ", msg)};
    }
    // Go's Tree.ErrorContext.
    int pos = std::min(node_->pos, static_cast<int>(text_.size()));
    absl::string_view before = text_.substr(0, pos);
    size_t nl = before.rfind('\n');
    int byte_num =
        nl == absl::string_view::npos ? pos : pos - static_cast<int>(nl + 1);
    int line =
        1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    std::string context = NodeString(*node_);
    // %.20s...: the first 20 runes.
    size_t end = 0;
    int runes = 0;
    while (end < context.size() && runes < 20) {
      int w = 0;
      DecodeUtf8(absl::string_view(context).substr(end), w);
      end += std::max(w, 1);
      ++runes;
    }
    if (end < context.size()) context = context.substr(0, end) + "...";
    throw TemplateError{absl::StrCat(
        "template: ", parse_name(), ":", line, ":", byte_num, ": executing ",
        GoQuote(tmpl_name_.empty() ? name_ : tmpl_name_), " at <", context,
        ">: ", msg)};
  }

 private:
  absl::string_view parse_name() const { return name_; }

  void At(const Node& n) { node_ = &n; }

  void Step() {
    if (++steps_ > kMaxSteps) {
      Errorf("template execution exceeded the step limit");
    }
  }

  void Walk(const Value& dot, const Node& node) {
    At(node);
    Step();
    switch (node.type) {
      case NT::kAction: {
        Value v = EvalPipeline(dot, *node.pipe);
        if (node.pipe->decls.empty()) {
          At(node);
          out_ += FormatValue(v, 0);
          if (out_.size() > kMaxOutput) Errorf("template output too large");
        }
        break;
      }
      case NT::kBreak:
        throw BreakSignal{};
      case NT::kContinue:
        throw ContinueSignal{};
      case NT::kIf:
      case NT::kWith:
        WalkIfOrWith(dot, node);
        break;
      case NT::kList:
        for (const auto& n : node.nodes) Walk(dot, *n);
        break;
      case NT::kRange:
        WalkRange(dot, node);
        break;
      case NT::kTemplate:
        WalkTemplate(dot, node);
        break;
      case NT::kText:
        out_ += node.text;
        if (out_.size() > kMaxOutput) Errorf("template output too large");
        break;
      default:
        Errorf("unknown node: " + NodeString(node));
    }
  }

  static bool IsTrue(const Value& v, bool& ok) {
    ok = true;
    switch (v.kind) {
      case VK::kInvalid:
      case VK::kNil:
        return false;
      case VK::kBool:
        return v.b;
      case VK::kInt:
      case VK::kUint8:
        return v.i != 0;
      case VK::kFloat:
        return v.f != 0;
      case VK::kString:
      case VK::kHtml:
        return !v.s.empty();
      case VK::kStrMap:
        return !v.strmap->empty();
      case VK::kAnyMap:
        return !v.anymap->empty();
      case VK::kSample:
        return v.sample != nullptr;
      case VK::kSamples:
        return v.samples != nullptr && !v.samples->empty();
      case VK::kTime:
      case VK::kDuration:
      case VK::kData:
        return true;
    }
    return false;
  }
  static bool Truth(const Value& v) {
    bool ok;
    return IsTrue(v, ok);
  }

  size_t Mark() const { return vars_.size(); }
  void Pop(size_t mark) { vars_.resize(mark); }

  struct VarScope {
    VarScope(Exec* ex) : ex(ex), mark(ex->Mark()) {}
    ~VarScope() { ex->Pop(mark); }
    Exec* ex;
    size_t mark;
  };

  void WalkIfOrWith(const Value& dot, const Node& node) {
    VarScope scope(this);
    Value val = EvalPipeline(dot, *node.pipe);
    bool ok;
    bool truth = IsTrue(val, ok);
    if (truth) {
      if (node.type == NT::kWith) {
        Walk(val, *node.list);
      } else {
        Walk(dot, *node.list);
      }
    } else if (node.else_list) {
      Walk(dot, *node.else_list);
    }
  }

  void SetTopVar(size_t n, const Value& v) {
    vars_[vars_.size() - n].second = v;
  }

  void SetVar(const std::string& name, const Value& v) {
    for (size_t k = vars_.size(); k-- > 0;) {
      if (vars_[k].first == name) {
        vars_[k].second = v;
        return;
      }
    }
    Errorf("undefined variable: " + name);
  }

  const Value& VarValue(const std::string& name) {
    for (size_t k = vars_.size(); k-- > 0;) {
      if (vars_[k].first == name) return vars_[k].second;
    }
    Errorf("undefined variable: " + name);
  }

  // One iteration of a range body; returns false on {{break}}.
  bool OneIteration(const Node& r, size_t mark, const Value& index,
                    const Value& elem) {
    Step();
    const Node& pipe = *r.pipe;
    if (!pipe.decls.empty()) {
      if (pipe.is_assign) {
        if (pipe.decls.size() > 1) {
          SetVar(pipe.decls[0]->idents[0], index);
        } else {
          SetVar(pipe.decls[0]->idents[0], elem);
        }
      } else {
        SetTopVar(1, elem);
      }
    }
    if (pipe.decls.size() > 1) {
      if (pipe.is_assign) {
        SetVar(pipe.decls[1]->idents[0], elem);
      } else {
        SetTopVar(2, index);
      }
    }
    bool keep_going = true;
    try {
      Walk(elem, *r.list);
    } catch (const ContinueSignal&) {
    } catch (const BreakSignal&) {
      keep_going = false;
    }
    Pop(mark);
    return keep_going;
  }

  void WalkRange(const Value& dot, const Node& r) {
    At(r);
    VarScope scope(this);
    Value val = EvalPipeline(dot, *r.pipe);
    size_t mark = Mark();
    bool ran = false;
    switch (val.kind) {
      case VK::kSamples:
        if (val.samples && !val.samples->empty()) {
          ran = true;
          // Iterate over a snapshot: the body may sort the shared list.
          SampleList list = *val.samples;
          for (size_t k = 0; k < list.size(); ++k) {
            Value e;
            e.kind = VK::kSample;
            e.sample = list[k];
            if (!OneIteration(r, mark, Value::Int(static_cast<int64_t>(k)),
                              e)) {
              break;
            }
          }
        }
        break;
      case VK::kStrMap:
        if (!val.strmap->empty()) {
          ran = true;
          for (const auto& [k, v] : *val.strmap) {
            if (!OneIteration(r, mark, Value::String(k), Value::String(v))) {
              break;
            }
          }
        }
        break;
      case VK::kAnyMap:
        if (!val.anymap->empty()) {
          ran = true;
          for (const auto& [k, v] : *val.anymap) {
            if (!OneIteration(r, mark, Value::String(k), v)) break;
          }
        }
        break;
      case VK::kInt:
        if (r.pipe->decls.size() > 1) {
          Errorf("can't use " + FormatValue(val, 1) +
                 " to iterate over more than one variable");
        }
        for (int64_t k = 0; k < val.i; ++k) {
          ran = true;
          if (!OneIteration(r, mark, Value(), Value::Int(k))) break;
        }
        break;
      case VK::kInvalid:
        break;
      default:
        Errorf("range can't iterate over " + FormatValue(val, 1));
    }
    if (!ran && r.else_list) Walk(dot, *r.else_list);
  }

  void WalkTemplate(const Value& dot, const Node& t) {
    At(t);
    auto it = trees_.defined.find(t.text);
    if (it == trees_.defined.end()) {
      Errorf("template " + GoQuote(t.text) + " not defined");
    }
    if (depth_ >= kMaxExecDepth) {
      Errorf(absl::StrCat("exceeded maximum template depth (", kMaxExecDepth,
                          ")"));
    }
    Value new_dot = t.pipe ? EvalPipeline(dot, *t.pipe) : Value();
    std::vector<std::pair<std::string, Value>> saved_vars;
    saved_vars.swap(vars_);
    std::string saved_name = tmpl_name_;
    vars_.push_back({"$", new_dot});
    tmpl_name_ = t.text;
    ++depth_;
    struct Restore {
      Exec* ex;
      std::vector<std::pair<std::string, Value>>* vars;
      std::string* name;
      ~Restore() {
        ex->vars_.swap(*vars);
        ex->tmpl_name_ = *name;
        --ex->depth_;
      }
    } restore{this, &saved_vars, &saved_name};
    Walk(new_dot, *it->second);
  }

  Value EvalPipeline(const Value& dot, const Node& pipe) {
    At(pipe);
    Value value;
    bool have = false;
    for (const auto& cmd : pipe.nodes) {
      value = EvalCommand(dot, *cmd, have ? &value : nullptr);
      have = true;
    }
    for (const auto& var : pipe.decls) {
      if (pipe.is_assign) {
        SetVar(var->idents[0], value);
      } else {
        vars_.push_back({var->idents[0], value});
      }
    }
    return value;
  }

  void NotAFunction(const std::vector<const Node*>& args, const Value* final) {
    if (args.size() > 1 || final != nullptr) {
      Errorf("can't give argument to non-function " + NodeString(*args[0]));
    }
  }

  static std::vector<const Node*> Ptrs(const Node& cmd) {
    std::vector<const Node*> v;
    for (const auto& n : cmd.nodes) v.push_back(n.get());
    return v;
  }

  Value EvalCommand(const Value& dot, const Node& cmd, const Value* final) {
    const Node& first = *cmd.nodes[0];
    std::vector<const Node*> args = Ptrs(cmd);
    switch (first.type) {
      case NT::kField:
        return EvalFieldNode(dot, first, args, final);
      case NT::kChain:
        return EvalChainNode(dot, first, args, final);
      case NT::kIdentifier:
        return EvalFunction(dot, first, cmd, args, final);
      case NT::kPipe:
        NotAFunction(args, final);
        return EvalPipeline(dot, first);
      case NT::kVariable:
        return EvalVariableNode(dot, first, args, final);
      default:
        break;
    }
    At(first);
    NotAFunction(args, final);
    switch (first.type) {
      case NT::kBool:
        return Value::Bool(first.truth);
      case NT::kDot:
        return dot;
      case NT::kNil:
        Errorf("nil is not a command");
      case NT::kNumber:
        return IdealConstant(first);
      case NT::kString:
        return Value::String(first.text);
      default:
        Errorf("can't evaluate command " + GoQuote(NodeString(first)));
    }
  }

  Value IdealConstant(const Node& c) {
    At(c);
    absl::string_view t = c.quoted;
    bool hex_int = (absl::StartsWithIgnoreCase(t, "0x") ||
                    absl::StartsWithIgnoreCase(t, "-0x") ||
                    absl::StartsWithIgnoreCase(t, "+0x")) &&
                   t.find_first_of("pP") == absl::string_view::npos;
    bool rune = !t.empty() && t[0] == '\'';
    if (c.is_float && !hex_int && !rune &&
        t.find_first_of(".eEpP") != absl::string_view::npos) {
      return Value::Float(c.f);
    }
    if (c.is_int) return Value::Int(c.i);
    if (c.is_uint) Errorf(c.quoted + " overflows int");
    return Value();
  }

  Value EvalFieldNode(const Value& dot, const Node& field,
                      const std::vector<const Node*>& args,
                      const Value* final) {
    At(field);
    return EvalFieldChain(dot, dot, field, field.idents, 0, args, final);
  }

  Value EvalChainNode(const Value& dot, const Node& chain,
                      const std::vector<const Node*>& args,
                      const Value* final) {
    At(chain);
    if (chain.chain->type == NT::kNil) {
      Errorf("indirection through explicit nil in " + NodeString(chain));
    }
    Value pipe = EvalArgAny(dot, *chain.chain);
    return EvalFieldChain(dot, pipe, chain, chain.idents, 0, args, final);
  }

  Value EvalVariableNode(const Value& dot, const Node& var,
                         const std::vector<const Node*>& args,
                         const Value* final) {
    At(var);
    Value value = VarValue(var.idents[0]);
    if (var.idents.size() == 1) {
      NotAFunction(args, final);
      return value;
    }
    return EvalFieldChain(dot, value, var, var.idents, 1, args, final);
  }

  Value EvalFieldChain(const Value& dot, Value receiver, const Node& node,
                       const std::vector<std::string>& idents, size_t from,
                       const std::vector<const Node*>& args,
                       const Value* final) {
    size_t n = idents.size();
    for (size_t k = from; k + 1 < n; ++k) {
      receiver = EvalField(dot, idents[k], node, {}, nullptr, receiver);
    }
    return EvalField(dot, idents[n - 1], node, args, final, receiver);
  }

  static Value StrMapValue(const std::shared_ptr<const StrMap>& m) {
    Value v;
    v.kind = VK::kStrMap;
    v.strmap = m;
    return v;
  }

  Value EvalField(const Value& dot, const std::string& name, const Node& node,
                  const std::vector<const Node*>& args, const Value* final,
                  const Value& receiver) {
    if (!receiver.valid()) return Value();
    if (receiver.kind == VK::kNil) {
      Errorf("nil pointer evaluating interface {}." + name);
    }
    if (const FuncSpec* m = FindMethod(receiver.kind, name)) {
      return EvalCall(dot, *m, false, node, name, args, final, &receiver);
    }
    bool has_args = args.size() > 1 || final != nullptr;
    switch (receiver.kind) {
      case VK::kData: {
        Value field;
        if (name == "Labels") {
          field = StrMapValue(receiver.data->labels);
        } else if (name == "ExternalLabels") {
          field = StrMapValue(receiver.data->external_labels);
        } else if (name == "ExternalURL") {
          field = Value::String(receiver.data->external_url);
        } else if (name == "Value") {
          field = Value::Float(receiver.data->value);
        } else {
          break;
        }
        if (has_args) {
          Errorf(name + " has arguments but cannot be invoked as function");
        }
        return field;
      }
      case VK::kSample: {
        if (name != "Labels" && name != "Value") break;
        if (!receiver.sample) {
          Errorf("nil pointer evaluating *template.sample." + name);
        }
        if (has_args) {
          Errorf(name + " has arguments but cannot be invoked as function");
        }
        if (name == "Value") return Value::Float(receiver.sample->value);
        return StrMapValue(
            std::make_shared<const StrMap>(receiver.sample->labels));
      }
      case VK::kStrMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        auto it = std::lower_bound(
            receiver.strmap->begin(), receiver.strmap->end(), name,
            [](const auto& p, const std::string& k) { return p.first < k; });
        if (it != receiver.strmap->end() && it->first == name) {
          return Value::String(it->second);
        }
        return Value::String("");  // missingkey=zero.
      }
      case VK::kAnyMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        for (const auto& [k, v] : *receiver.anymap) {
          if (k == name) return v;
        }
        return Value();
      }
      default:
        break;
    }
    Errorf("can't evaluate field " + name + " in type " + TypeName(receiver));
  }

  Value EvalFunction(const Value& dot, const Node& ident, const Node& cmd,
                     const std::vector<const Node*>& args, const Value* final) {
    At(ident);
    const auto& funcs = Functions();
    auto it = funcs.find(ident.text);
    if (it == funcs.end()) {
      Errorf(GoQuote(ident.text) + " is not a defined function");
    }
    return EvalCall(dot, it->second, true, cmd, ident.text, args, final,
                    nullptr);
  }

  // Literal arguments for a parameter type (Go's evalArg after the node
  // switch).
  Value EvalArg(const Value& dot, PT typ, const Node& n) {
    At(n);
    switch (n.type) {
      case NT::kDot:
        return ValidateType(dot, typ);
      case NT::kNil:
        switch (typ) {
          case PT::kAny:
            return Value::Nil();
          case PT::kSample: {
            Value v;
            v.kind = VK::kSample;
            return v;
          }
          case PT::kSamples: {
            Value v;
            v.kind = VK::kSamples;
            v.samples = std::make_shared<SampleList>();
            return v;
          }
          default:
            Errorf(std::string("cannot assign nil to ") + PTName(typ));
        }
      case NT::kField:
        return ValidateType(EvalFieldNode(dot, n, {&n}, nullptr), typ);
      case NT::kVariable:
        return ValidateType(EvalVariableNode(dot, n, {}, nullptr), typ);
      case NT::kPipe:
        return ValidateType(EvalPipeline(dot, n), typ);
      case NT::kIdentifier: {
        const auto& funcs = Functions();
        auto it = funcs.find(n.text);
        if (it == funcs.end()) {
          Errorf(GoQuote(n.text) + " is not a defined function");
        }
        return ValidateType(
            EvalCall(dot, it->second, true, n, n.text, {}, nullptr, nullptr),
            typ);
      }
      case NT::kChain:
        return ValidateType(EvalChainNode(dot, n, {}, nullptr), typ);
      default:
        break;
    }
    switch (typ) {
      case PT::kString:
        if (n.type == NT::kString) return Value::String(n.text);
        Errorf("expected string; found " + NodeString(n));
      case PT::kAny:
      case PT::kRV:
        switch (n.type) {
          case NT::kBool:
            return Value::Bool(n.truth);
          case NT::kNumber:
            return IdealConstant(n);
          case NT::kString:
            return Value::String(n.text);
          default:
            break;
        }
        break;
      default:
        break;
    }
    Errorf("can't handle " + NodeString(n) + " for arg of type " + PTName(typ));
  }

  // The chain node's operand (evalArg with a nil type).
  Value EvalArgAny(const Value& dot, const Node& n) {
    At(n);
    switch (n.type) {
      case NT::kPipe:
        return EvalPipeline(dot, n);
      case NT::kIdentifier:
        return EvalArg(dot, PT::kRV, n);
      default:
        return EvalArg(dot, PT::kRV, n);
    }
  }

  Value ValidateType(const Value& v, PT typ) {
    if (!v.valid()) {
      switch (typ) {
        case PT::kAny:
          return Value::Nil();
        case PT::kSample: {
          Value x;
          x.kind = VK::kSample;
          return x;
        }
        case PT::kSamples: {
          Value x;
          x.kind = VK::kSamples;
          x.samples = std::make_shared<SampleList>();
          return x;
        }
        default:
          Errorf(std::string("invalid value; expected ") + PTName(typ));
      }
    }
    bool ok = true;
    switch (typ) {
      case PT::kAny:
      case PT::kRV:
        break;
      case PT::kString:
        ok = v.kind == VK::kString;
        break;
      case PT::kSample:
        ok = v.kind == VK::kSample;
        break;
      case PT::kSamples:
        ok = v.kind == VK::kSamples;
        break;
    }
    if (!ok) {
      Errorf(std::string("wrong type for value; expected ") + PTName(typ) +
             "; got " + TypeName(v));
    }
    return v;
  }

  Value EvalCall(const Value& dot, const FuncSpec& fn, bool builtin,
                 const Node& node, const std::string& name,
                 const std::vector<const Node*>& all_args, const Value* final,
                 const Value* receiver) {
    // The zeroth arg is the function name (or the field node of a method).
    std::vector<const Node*> args;
    if (all_args.size() > 1) {
      args.assign(all_args.begin() + 1, all_args.end());
    }
    size_t num_in = args.size() + (final ? 1 : 0);
    size_t nparams = fn.params.size();
    size_t num_fixed = args.size();
    if (fn.variadic) {
      num_fixed = nparams - 1;
      if (num_in < num_fixed) {
        Errorf(absl::StrCat("wrong number of args for ", name,
                            ": want at least ", nparams - 1, " got ",
                            args.size()));
      }
    } else if (num_in != nparams) {
      Errorf(absl::StrCat("wrong number of args for ", name, ": want ", nparams,
                          " got ", num_in));
    }
    if (builtin && (name == "and" || name == "or")) {
      Value v;
      for (const Node* arg : args) {
        v = EvalArg(dot, PT::kRV, *arg);
        if (Truth(v) == (name == "or")) return v;
      }
      if (final) v = ValidateType(*final, PT::kRV);
      return v;
    }
    std::vector<Value> argv;
    size_t k = 0;
    for (; k < num_fixed && k < args.size(); ++k) {
      argv.push_back(EvalArg(dot, fn.params[k], *args[k]));
    }
    if (fn.variadic) {
      for (; k < args.size(); ++k) {
        argv.push_back(EvalArg(dot, fn.params.back(), *args[k]));
      }
    }
    if (final) {
      PT t = fn.params.back();
      if (fn.variadic && num_in - 1 < num_fixed) t = fn.params[num_in - 1];
      argv.push_back(ValidateType(*final, t));
    }
    if (builtin && name == "call") {
      // Go names the callee by its node, or by reflect's String() of a piped
      // value ({{ "f" | call }}): a string's text, "<T Value>" otherwise.
      std::string callee;
      if (!args.empty()) {
        callee = NodeString(*args[0]);
      } else if (final->kind == VK::kString || final->kind == VK::kHtml) {
        callee = final->s;
      } else {
        callee = "<" + TypeName(*final) + " Value>";
      }
      At(node);
      Errorf("error calling call: non-function " + callee + " of type " +
             TypeName(argv[0]));
    }
    if (receiver) argv.insert(argv.begin(), *receiver);
    try {
      return fn.impl(*this, argv);
    } catch (const FuncError& e) {
      At(node);
      Errorf("error calling " + name + ": " + e.message);
    }
  }

  const Trees& trees_;
  std::string name_;
  std::string tmpl_name_;  // The {{template}} being executed, if any.
  absl::string_view text_;
  const TemplateEnv& env_;
  std::vector<std::pair<std::string, Value>> vars_;
  const Node* node_ = nullptr;
  int depth_ = 0;
  int64_t steps_ = 0;
  std::string out_;
};

// ---------------------------------------------------------------------------
// Builtin and Prometheus functions.

enum class BasicKind { kInvalid, kBool, kInt, kUint, kFloat, kString };

BasicKind KindOf(const Value& v) {
  switch (v.kind) {
    case VK::kBool:
      return BasicKind::kBool;
    case VK::kInt:
      return BasicKind::kInt;
    case VK::kUint8:
      return BasicKind::kUint;
    case VK::kFloat:
      return BasicKind::kFloat;
    case VK::kString:
    case VK::kHtml:
      return BasicKind::kString;
    default:
      return BasicKind::kInvalid;
  }
}

constexpr const char* kBadComparisonType = "invalid type for comparison";
constexpr const char* kBadComparison = "incompatible types for comparison";

bool Eq(const Value& a, const std::vector<Value>& others) {
  BasicKind k1 = KindOf(a);
  for (const Value& b : others) {
    BasicKind k2 = KindOf(b);
    bool truth = false;
    if (k1 != k2) {
      if ((k1 == BasicKind::kInt && k2 == BasicKind::kUint) ||
          (k1 == BasicKind::kUint && k2 == BasicKind::kInt)) {
        truth = a.i == b.i;
      } else if (a.valid() && b.valid()) {
        throw FuncError{kBadComparison};
      }
    } else {
      switch (k1) {
        case BasicKind::kBool:
          truth = a.b == b.b;
          break;
        case BasicKind::kFloat:
          truth = a.f == b.f;
          break;
        case BasicKind::kInt:
        case BasicKind::kUint:
          truth = a.i == b.i;
          break;
        case BasicKind::kString:
          truth = a.s == b.s;
          break;
        case BasicKind::kInvalid:
          if (a.kind != b.kind) throw FuncError{kBadComparison};
          if (a.kind == VK::kSample) {
            truth = a.sample == b.sample;
          } else if (a.kind == VK::kNil || a.kind == VK::kInvalid) {
            truth = true;
          } else if (a.kind == VK::kTime || a.kind == VK::kDuration) {
            truth = false;  // Distinct pointers.
          } else {
            throw FuncError{"non-comparable type " + FormatValue(b, 1) + ": " +
                            TypeName(b)};
          }
          break;
      }
    }
    if (truth) return true;
  }
  return false;
}

bool Lt(const Value& a, const Value& b) {
  BasicKind k1 = KindOf(a);
  if (k1 == BasicKind::kInvalid) throw FuncError{kBadComparisonType};
  BasicKind k2 = KindOf(b);
  if (k2 == BasicKind::kInvalid) throw FuncError{kBadComparisonType};
  if (k1 != k2) {
    if ((k1 == BasicKind::kInt && k2 == BasicKind::kUint) ||
        (k1 == BasicKind::kUint && k2 == BasicKind::kInt)) {
      return a.i < b.i;
    }
    throw FuncError{kBadComparison};
  }
  switch (k1) {
    case BasicKind::kBool:
    case BasicKind::kInvalid:
      throw FuncError{kBadComparisonType};
    case BasicKind::kFloat:
      return a.f < b.f;
    case BasicKind::kInt:
    case BasicKind::kUint:
      return a.i < b.i;
    case BasicKind::kString:
      return a.s < b.s;
  }
  return false;
}

bool Le(const Value& a, const Value& b) {
  if (Lt(a, b)) return true;
  return Eq(a, {b});
}

// text/template's evalArgs: one string as is, otherwise fmt.Sprint of the
// printable values (pointers dereferenced).
std::string EvalArgsString(const std::vector<Value>& args) {
  if (args.size() == 1 && args[0].kind == VK::kString) return args[0].s;
  std::string s;
  for (size_t k = 0; k < args.size(); ++k) {
    bool is_string = args[k].kind == VK::kString || args[k].kind == VK::kHtml;
    if (k > 0 && !is_string &&
        !(args[k - 1].kind == VK::kString || args[k - 1].kind == VK::kHtml)) {
      s += " ";
    }
    s += FormatValue(args[k], args[k].kind == VK::kSample ? 0 : 1);
  }
  return s;
}

double ConvertToFloat(const Value& v) {
  switch (v.kind) {
    case VK::kFloat:
      return v.f;
    case VK::kInt:
      return static_cast<double>(v.i);
    case VK::kString: {
      double f;
      std::string err;
      if (!ParseFloatGo(v.s, f, err)) throw FuncError{err};
      return f;
    }
    default:
      throw FuncError{"can't convert " + TypeName(v) + " to float"};
  }
}

// Go's fmt %v of a float64 in an error message.
std::string FloatV(double v) { return FormatFloatGo(v); }

// Seconds as int64 nanoseconds, failing as Prometheus's floatToTime and
// toDuration do when they overflow (`what`: "timestamp" or "duration").
int64_t SecondsToNanos(double v, absl::string_view what) {
  const double ns = v * 1e9;
  if (ns > 9223372036854775807.0 || ns < -9223372036854775808.0) {
    throw FuncError{absl::StrCat(FloatV(v),
                                 " cannot be represented as a nanoseconds ",
                                 what, " since it overflows int64")};
  }
  return static_cast<int64_t>(ns);
}

int64_t IndexArg(const Value& index, size_t cap) {
  int64_t x;
  switch (index.kind) {
    case VK::kInt:
    case VK::kUint8:
      x = index.i;
      break;
    case VK::kInvalid:
    case VK::kNil:
      throw FuncError{"cannot index slice/array with nil"};
    default:
      throw FuncError{"cannot index slice/array with type " + TypeName(index)};
  }
  if (x < 0 || static_cast<uint64_t>(x) > cap) {
    throw FuncError{absl::StrCat("index out of range: ", x)};
  }
  return x;
}

Value SampleValue(std::shared_ptr<TSample> s) {
  Value v;
  v.kind = VK::kSample;
  v.sample = std::move(s);
  return v;
}

Value SamplesValue(std::shared_ptr<SampleList> s) {
  Value v;
  v.kind = VK::kSamples;
  v.samples = std::move(s);
  return v;
}

Value FnIndex(Exec&, std::vector<Value>& args) {
  Value item = args[0];
  if (!item.valid() || item.kind == VK::kNil) {
    throw FuncError{"index of untyped nil"};
  }
  for (size_t k = 1; k < args.size(); ++k) {
    const Value& index = args[k];
    switch (item.kind) {
      case VK::kString:
      case VK::kHtml: {
        int64_t x = IndexArg(index, item.s.size());
        if (static_cast<size_t>(x) == item.s.size()) {
          throw FuncError{"reflect: string index out of range"};
        }
        Value b;
        b.kind = VK::kUint8;
        b.i = static_cast<unsigned char>(item.s[x]);
        item = b;
        break;
      }
      case VK::kSamples: {
        size_t n = item.samples ? item.samples->size() : 0;
        int64_t x = IndexArg(index, n);
        if (static_cast<size_t>(x) == n) {
          throw FuncError{"reflect: slice index out of range"};
        }
        item = SampleValue((*item.samples)[x]);
        break;
      }
      case VK::kStrMap:
      case VK::kAnyMap: {
        if (!index.valid() || index.kind == VK::kNil) {
          throw FuncError{"value is nil; should be of type string"};
        }
        if (index.kind != VK::kString) {
          throw FuncError{"value has type " + TypeName(index) +
                          "; should be string"};
        }
        if (item.kind == VK::kStrMap) {
          std::string found;
          for (const auto& [key, val] : *item.strmap) {
            if (key == index.s) found = val;
          }
          item = Value::String(found);
        } else {
          Value found;
          found.kind = VK::kNil;
          for (const auto& [key, val] : *item.anymap) {
            if (key == index.s) found = val;
          }
          item = found;
        }
        break;
      }
      case VK::kSample:
        if (!item.sample) throw FuncError{"index of nil pointer"};
        throw FuncError{"can't index item of type template.sample"};
      case VK::kTime:
        throw FuncError{"can't index item of type time.Time"};
      case VK::kDuration:
        throw FuncError{"can't index item of type time.Duration"};
      default:
        throw FuncError{"can't index item of type " + TypeName(item)};
    }
  }
  if (item.kind == VK::kNil) return Value();
  return item;
}

Value FnSlice(Exec&, std::vector<Value>& args) {
  const Value& item = args[0];
  if (!item.valid() || item.kind == VK::kNil) {
    throw FuncError{"slice of untyped nil"};
  }
  size_t nidx = args.size() - 1;
  if (nidx > 3) {
    throw FuncError{absl::StrCat("too many slice indexes: ", nidx)};
  }
  size_t len;
  if (item.kind == VK::kString || item.kind == VK::kHtml) {
    if (nidx == 3) throw FuncError{"cannot 3-index slice a string"};
    len = item.s.size();
  } else if (item.kind == VK::kSamples) {
    len = item.samples ? item.samples->size() : 0;
  } else {
    throw FuncError{"can't slice item of type " + TypeName(item)};
  }
  int64_t idx[3] = {0, static_cast<int64_t>(len), static_cast<int64_t>(len)};
  for (size_t k = 0; k < nidx; ++k) idx[k] = IndexArg(args[k + 1], len);
  if (idx[0] > idx[1]) {
    throw FuncError{
        absl::StrCat("invalid slice index: ", idx[0], " > ", idx[1])};
  }
  if (nidx == 3 && idx[1] > idx[2]) {
    throw FuncError{
        absl::StrCat("invalid slice index: ", idx[1], " > ", idx[2])};
  }
  if (item.kind == VK::kSamples) {
    auto list = std::make_shared<SampleList>();
    if (item.samples) {
      list->assign(item.samples->begin() + idx[0],
                   item.samples->begin() + idx[1]);
    }
    return SamplesValue(list);
  }
  return Value::String(item.s.substr(idx[0], idx[1] - idx[0]), item.kind);
}

Value FnLen(Exec&, std::vector<Value>& args) {
  const Value& v = args[0];
  switch (v.kind) {
    case VK::kString:
    case VK::kHtml:
      return Value::Int(static_cast<int64_t>(v.s.size()));
    case VK::kStrMap:
      return Value::Int(static_cast<int64_t>(v.strmap->size()));
    case VK::kAnyMap:
      return Value::Int(static_cast<int64_t>(v.anymap->size()));
    case VK::kSamples:
      return Value::Int(
          static_cast<int64_t>(v.samples ? v.samples->size() : 0));
    case VK::kSample:
      if (!v.sample) throw FuncError{"len of nil pointer"};
      throw FuncError{"len of type template.sample"};
    case VK::kTime:
      throw FuncError{"len of type time.Time"};
    case VK::kDuration:
      throw FuncError{"len of type time.Duration"};
    default:
      throw FuncError{"len of type " + TypeName(v)};
  }
}

const std::string& Str(const Value& v) { return v.s; }

const TSample& Deref(const Value& v) {
  if (!v.sample) throw FuncError{kNilDeref};
  return *v.sample;
}

std::string LabelOf(const TSample& s, absl::string_view name) {
  for (const auto& [k, v] : s.labels) {
    if (k == name) return v;
  }
  return "";
}

// strconv.CanBackquote.
bool CanBackquote(absl::string_view s) {
  if (!IsValidUtf8(s)) return false;
  for (size_t k = 0; k < s.size();) {
    int w = 0;
    char32_t r = DecodeUtf8(s.substr(k), w);
    if (r == '`' || r == 0xFEFF) return false;
    if (r < ' ' && r != '\t') return false;
    if (r == 0x7F) return false;
    k += std::max(w, 1);
  }
  return true;
}

Value FnQuery(Exec& ex, std::vector<Value>& args) {
  if (!ex.env().query) throw FuncError{kNilDeref};
  absl::StatusOr<Vector> result = ex.env().query(Str(args[0]));
  if (!result.ok()) throw FuncError{std::string(result.status().message())};
  auto list = std::make_shared<SampleList>();
  for (const Sample& s : *result) {
    auto ts = std::make_shared<TSample>();
    for (const Label& l : s.labels) ts->labels.push_back({l.name, l.value});
    ts->value = s.v;
    list->push_back(std::move(ts));
  }
  return SamplesValue(list);
}

// The function map (Go's builtins plus Prometheus's funcMap).
const std::map<std::string, FuncSpec, std::less<>>& Functions() {
  using V = std::vector<Value>;
  static const auto* kFuncs = new std::map<std::string, FuncSpec, std::less<>>{
      // Go builtins.
      {"and", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"or", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"call", {{PT::kRV, PT::kRV}, true, nullptr}},
      {"not",
       {{PT::kRV},
        false,
        [](Exec&, V& a) {
          bool ok;
          (void)ok;
          bool t = false;
          switch (a[0].kind) {
            case VK::kInvalid:
            case VK::kNil:
              t = false;
              break;
            case VK::kBool:
              t = a[0].b;
              break;
            case VK::kInt:
            case VK::kUint8:
              t = a[0].i != 0;
              break;
            case VK::kFloat:
              t = a[0].f != 0;
              break;
            case VK::kString:
            case VK::kHtml:
              t = !a[0].s.empty();
              break;
            case VK::kStrMap:
              t = !a[0].strmap->empty();
              break;
            case VK::kAnyMap:
              t = !a[0].anymap->empty();
              break;
            case VK::kSample:
              t = a[0].sample != nullptr;
              break;
            case VK::kSamples:
              t = a[0].samples && !a[0].samples->empty();
              break;
            default:
              t = true;
          }
          return Value::Bool(!t);
        }}},
      {"len", {{PT::kRV}, false, FnLen}},
      {"index", {{PT::kRV, PT::kRV}, true, FnIndex}},
      {"slice", {{PT::kRV, PT::kRV}, true, FnSlice}},
      {"print",
       {{PT::kAny},
        true,
        [](Exec&, V& a) { return Value::String(GoSprint(a)); }}},
      {"println",
       {{PT::kAny},
        true,
        [](Exec&, V& a) { return Value::String(GoSprintln(a)); }}},
      {"printf",
       {{PT::kString, PT::kAny},
        true,
        [](Exec&, V& a) {
          std::vector<Value> rest(a.begin() + 1, a.end());
          return Value::String(GoSprintf(a[0].s, rest));
        }}},
      {"html",
       {{PT::kAny},
        true,
        [](Exec&, V& a) {
          return Value::String(HtmlEscape(EvalArgsString(a)));
        }}},
      {"js",
       {{PT::kAny},
        true,
        [](Exec&, V& a) {
          return Value::String(JsEscape(EvalArgsString(a)));
        }}},
      {"urlquery",
       {{PT::kAny},
        true,
        [](Exec&, V& a) {
          return Value::String(QueryEscape(EvalArgsString(a)));
        }}},
      {"eq",
       {{PT::kRV, PT::kRV},
        true,
        [](Exec&, V& a) {
          if (a.size() < 2) throw FuncError{"missing argument for comparison"};
          return Value::Bool(Eq(a[0], V(a.begin() + 1, a.end())));
        }}},
      {"ne",
       {{PT::kRV, PT::kRV},
        false,
        [](Exec&, V& a) { return Value::Bool(!Eq(a[0], {a[1]})); }}},
      {"lt",
       {{PT::kRV, PT::kRV},
        false,
        [](Exec&, V& a) { return Value::Bool(Lt(a[0], a[1])); }}},
      {"le",
       {{PT::kRV, PT::kRV},
        false,
        [](Exec&, V& a) { return Value::Bool(Le(a[0], a[1])); }}},
      {"gt",
       {{PT::kRV, PT::kRV},
        false,
        [](Exec&, V& a) { return Value::Bool(!Le(a[0], a[1])); }}},
      {"ge",
       {{PT::kRV, PT::kRV},
        false,
        [](Exec&, V& a) { return Value::Bool(!Lt(a[0], a[1])); }}},
      // Prometheus (template/template.go).
      {"query", {{PT::kString}, false, FnQuery}},
      {"first",
       {{PT::kSamples},
        false,
        [](Exec&, V& a) {
          if (!a[0].samples || a[0].samples->empty()) {
            throw FuncError{"first() called on vector with no elements"};
          }
          return SampleValue((*a[0].samples)[0]);
        }}},
      {"label",
       {{PT::kString, PT::kSample},
        false,
        [](Exec&, V& a) {
          return Value::String(LabelOf(Deref(a[1]), a[0].s));
        }}},
      {"value",
       {{PT::kSample},
        false,
        [](Exec&, V& a) { return Value::Float(Deref(a[0]).value); }}},
      {"strvalue",
       {{PT::kSample},
        false,
        [](Exec&, V& a) {
          return Value::String(LabelOf(Deref(a[0]), "__value__"));
        }}},
      {"args",
       {{PT::kAny},
        true,
        [](Exec&, V& a) {
          auto m = std::make_shared<AnyMap>();
          for (size_t k = 0; k < a.size(); ++k) {
            m->push_back({absl::StrCat("arg", k), a[k]});
          }
          std::sort(m->begin(), m->end(), [](const auto& x, const auto& y) {
            return x.first < y.first;
          });
          Value v;
          v.kind = VK::kAnyMap;
          v.anymap = m;
          return v;
        }}},
      {"reReplaceAll",
       {{PT::kString, PT::kString, PT::kString},
        false,
        [](Exec&, V& a) {
          std::string err;
          auto re = CompileGoRegexp(a[0].s, err);
          if (!re) {
            std::string q =
                CanBackquote(a[0].s) ? "`" + a[0].s + "`" : GoQuote(a[0].s);
            throw FuncError{"regexp: Compile(" + q + "): " + err};
          }
          return Value::String(ReplaceAllGo(*re, a[2].s, a[1].s));
        }}},
      {"safeHtml",
       {{PT::kString},
        false,
        [](Exec&, V& a) { return Value::String(a[0].s, VK::kHtml); }}},
      {"match",
       {{PT::kString, PT::kString},
        false,
        [](Exec&, V& a) {
          std::string err;
          auto re = CompileGoRegexp(a[0].s, err);
          if (!re) throw FuncError{err};
          return Value::Bool(RE2::PartialMatch(
              re2::StringPiece(a[1].s.data(), a[1].s.size()), *re));
        }}},
      {"title",
       {{PT::kString},
        false,
        [](Exec&, V& a) { return Value::String(TitleCase(a[0].s)); }}},
      {"toUpper",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          return Value::String(MapRunes(a[0].s, SimpleUpper));
        }}},
      {"toLower",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          return Value::String(MapRunes(a[0].s, SimpleLower));
        }}},
      {"graphLink",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          return Value::String("/graph?g0.expr=" + QueryEscape(a[0].s) +
                               "&g0.tab=0");
        }}},
      {"tableLink",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          return Value::String("/graph?g0.expr=" + QueryEscape(a[0].s) +
                               "&g0.tab=1");
        }}},
      {"sortByLabel",
       {{PT::kString, PT::kSamples},
        false,
        [](Exec&, V& a) {
          if (a[1].samples) {
            const std::string& by = a[0].s;
            std::stable_sort(a[1].samples->begin(), a[1].samples->end(),
                             [&](const auto& x, const auto& y) {
                               return LabelOf(*x, by) < LabelOf(*y, by);
                             });
          }
          return a[1];
        }}},
      {"stripPort",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          std::string host, port;
          if (!SplitHostPort(a[0].s, host, port)) return a[0];
          return Value::String(host);
        }}},
      {"stripDomain",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          std::string host, port;
          if (!SplitHostPort(a[0].s, host, port)) {
            host = a[0].s;
            port.clear();
          }
          if (IsIP(host)) return a[0];
          host = host.substr(0, host.find('.'));
          if (!port.empty()) {
            if (host.find(':') != std::string::npos) {
              return Value::String("[" + host + "]:" + port);
            }
            return Value::String(host + ":" + port);
          }
          return Value::String(host);
        }}},
      {"humanize",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (v == 0 || std::isnan(v) || std::isinf(v)) {
            return Value::String(Fmt4g(v));
          }
          static const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
          static const char* kSmall[] = {"m", "u", "n", "p",
                                         "f", "a", "z", "y"};
          std::string prefix;
          if (std::abs(v) >= 1) {
            for (const char* p : kBig) {
              if (std::abs(v) < 1000) break;
              prefix = p;
              v /= 1000;
            }
          } else {
            for (const char* p : kSmall) {
              if (std::abs(v) >= 1) break;
              prefix = p;
              v *= 1000;
            }
          }
          return Value::String(Fmt4g(v) + prefix);
        }}},
      {"humanize1024",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::abs(v) <= 1 || std::isnan(v) || std::isinf(v)) {
            return Value::String(Fmt4g(v));
          }
          static const char* kBig[] = {"ki", "Mi", "Gi", "Ti",
                                       "Pi", "Ei", "Zi", "Yi"};
          std::string prefix;
          for (const char* p : kBig) {
            if (std::abs(v) < 1024) break;
            prefix = p;
            v /= 1024;
          }
          return Value::String(Fmt4g(v) + prefix);
        }}},
      {"humanizeDuration",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) return Value::String(Fmt4g(v));
          if (v == 0) return Value::String(Fmt4g(v) + "s");
          if (std::abs(v) >= 1) {
            std::string sign;
            if (v < 0) {
              sign = "-";
              v = -v;
            }
            // Go's int64(v) saturates differently on overflow; clamp.
            int64_t d = v >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(v);
            int64_t seconds = d % 60;
            int64_t minutes = (d / 60) % 60;
            int64_t hours = (d / 60 / 60) % 24;
            int64_t days = d / 60 / 60 / 24;
            if (days != 0) {
              return Value::String(absl::StrCat(sign, days, "d ", hours, "h ",
                                                minutes, "m ", seconds, "s"));
            }
            if (hours != 0) {
              return Value::String(
                  absl::StrCat(sign, hours, "h ", minutes, "m ", seconds, "s"));
            }
            if (minutes != 0) {
              return Value::String(
                  absl::StrCat(sign, minutes, "m ", seconds, "s"));
            }
            return Value::String(sign + Fmt4g(v) + "s");
          }
          std::string prefix;
          static const char* kSmall[] = {"m", "u", "n", "p",
                                         "f", "a", "z", "y"};
          for (const char* p : kSmall) {
            if (std::abs(v) >= 1) break;
            prefix = p;
            v *= 1000;
          }
          return Value::String(Fmt4g(v) + prefix + "s");
        }}},
      {"humanizePercentage",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          return Value::String(Fmt4g(ConvertToFloat(a[0]) * 100) + "%");
        }}},
      {"humanizeTimestamp",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) return Value::String(Fmt4g(v));
          const int64_t ts = SecondsToNanos(v, "timestamp");
          return Value::String(TimeString(ts));
        }}},
      {"toTime",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) {
            throw FuncError{"value is NaN or Inf"};
          }
          const int64_t ts = SecondsToNanos(v, "timestamp");
          Value t;
          t.kind = VK::kTime;
          t.i = ts;
          return t;
        }}},
      {"toDuration",
       {{PT::kAny},
        false,
        [](Exec&, V& a) {
          double v = ConvertToFloat(a[0]);
          if (std::isnan(v) || std::isinf(v)) {
            throw FuncError{"value is NaN or Inf"};
          }
          const int64_t ns = SecondsToNanos(v, "duration");
          Value d;
          d.kind = VK::kDuration;
          d.i = ns;
          return d;
        }}},
      {"now",
       {{},
        false,
        [](Exec& ex, V&) {
          return Value::Float(static_cast<double>(ex.env().eval_time_ms) /
                              1000.0);
        }}},
      {"pathPrefix",
       {{},
        false,
        [](Exec& ex, V&) {
          const std::string& u = ex.env().external_url;
          if (u.empty()) throw FuncError{kNilDeref};
          size_t start = 0;
          size_t scheme = u.find("://");
          if (scheme != std::string::npos) {
            start = u.find('/', scheme + 3);
            if (start == std::string::npos) return Value::String("");
          }
          size_t end = u.find_first_of("?#", start);
          return Value::String(u.substr(start, end == std::string::npos
                                                   ? std::string::npos
                                                   : end - start));
        }}},
      {"externalURL",
       {{},
        false,
        [](Exec& ex, V&) {
          if (ex.env().external_url.empty()) throw FuncError{kNilDeref};
          return Value::String(ex.env().external_url);
        }}},
      {"parseDuration",
       {{PT::kString},
        false,
        [](Exec&, V& a) {
          absl::StatusOr<int64_t> ms = ParseDuration(a[0].s);
          if (!ms.ok()) throw FuncError{std::string(ms.status().message())};
          // float64(time.Duration) / float64(time.Second).
          return Value::Float(static_cast<double>(*ms * 1000000) / 1e9);
        }}},
      {"urlQueryEscape",
       {{PT::kString},
        false,
        [](Exec&, V& a) { return Value::String(QueryEscape(a[0].s)); }}},
  };
  return *kFuncs;
}

bool IsBuiltinOrPromFunction(absl::string_view name) {
  return Functions().count(name) > 0;
}

// Methods of *time.Time and *time.Duration (the receiver is args[0]).
const FuncSpec* FindMethod(VK kind, absl::string_view name) {
  using V = std::vector<Value>;
  static const auto* kTimeMethods = new std::map<std::string, FuncSpec,
                                                 std::less<>>{
      {"Unix",
       {{},
        false,
        [](Exec&, V& a) {
          int64_t ns = a[0].i;
          return Value::Int(ns / 1000000000 - (ns % 1000000000 < 0 ? 1 : 0));
        }}},
      {"UnixMilli",
       {{},
        false,
        [](Exec&, V& a) {
          int64_t ns = a[0].i;
          return Value::Int(ns / 1000000 - (ns % 1000000 < 0 ? 1 : 0));
        }}},
      {"UnixNano", {{}, false, [](Exec&, V& a) { return Value::Int(a[0].i); }}},
      {"Year",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.year); }}},
      {"YearDay",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.yday); }}},
      {"Day",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.day); }}},
      {"Hour",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.hour); }}},
      {"Minute",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.minute); }}},
      {"Second",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).civil.second); }}},
      {"Nanosecond",
       {{},
        false,
        [](Exec&, V& a) { return Value::Int(ToGoTime(a[0].i).nanos); }}},
      {"Month",
       {{},
        false,
        [](Exec&, V& a) {
          return Value::String(kMonths[ToGoTime(a[0].i).civil.month - 1]);
        }}},
      {"Weekday",
       {{},
        false,
        [](Exec&, V& a) {
          return Value::String(kDays[ToGoTime(a[0].i).civil.wday]);
        }}},
      {"Format",
       {{PT::kString},
        false,
        [](Exec&, V& a) { return Value::String(FormatTime(a[0].i, a[1].s)); }}},
      {"String",
       {{},
        false,
        [](Exec&, V& a) { return Value::String(TimeString(a[0].i)); }}},
      {"UTC", {{}, false, [](Exec&, V& a) { return a[0]; }}},
  };
  static const auto* kDurationMethods =
      new std::map<std::string, FuncSpec, std::less<>>{
          {"Seconds",
           {{},
            false,
            [](Exec&, V& a) {
              int64_t d = a[0].i;
              return Value::Float(static_cast<double>(d / 1000000000) +
                                  static_cast<double>(d % 1000000000) / 1e9);
            }}},
          {"Minutes",
           {{},
            false,
            [](Exec&, V& a) {
              int64_t d = a[0].i;
              int64_t m = 60 * int64_t{1000000000};
              return Value::Float(static_cast<double>(d / m) +
                                  static_cast<double>(d % m) / (60 * 1e9));
            }}},
          {"Hours",
           {{},
            false,
            [](Exec&, V& a) {
              int64_t d = a[0].i;
              int64_t h = 3600 * int64_t{1000000000};
              return Value::Float(static_cast<double>(d / h) +
                                  static_cast<double>(d % h) / (3600 * 1e9));
            }}},
          {"Milliseconds",
           {{},
            false,
            [](Exec&, V& a) { return Value::Int(a[0].i / 1000000); }}},
          {"Microseconds",
           {{}, false, [](Exec&, V& a) { return Value::Int(a[0].i / 1000); }}},
          {"Nanoseconds",
           {{}, false, [](Exec&, V& a) { return Value::Int(a[0].i); }}},
          {"String",
           {{},
            false,
            [](Exec&, V& a) { return Value::String(DurationString(a[0].i)); }}},
      };
  const std::map<std::string, FuncSpec, std::less<>>* table = nullptr;
  if (kind == VK::kTime) table = kTimeMethods;
  if (kind == VK::kDuration) table = kDurationMethods;
  if (table == nullptr) return nullptr;
  auto it = table->find(name);
  return it == table->end() ? nullptr : &it->second;
}

std::shared_ptr<const StrMap> ToStrMap(const Labels& labels) {
  auto m = std::make_shared<StrMap>();
  for (const Label& l : labels) m->push_back({l.name, l.value});
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------
// API.

struct Template::Impl {
  std::string name;
  std::string text;  // With the prefix.
  Trees trees;
};

Template::Template(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

// The items of Prometheus's prefix followed by those of `text`. The prefix
// is lexed once: it ends after an action, in the state the lexer starts in,
// so lexing prefix and text together gives the prefix's items (without its
// EOF) and then the text's, shifted by the prefix's length.
std::vector<Item> LexWithPrefix(absl::string_view text) {
  static const std::vector<Item>* const kPrefixItems = [] {
    auto* items = new std::vector<Item>(Lexer(kPrefix).Run());
    items->pop_back();  // EOF
    return items;
  }();
  std::vector<Item> rest = Lexer(text).Run();
  std::vector<Item> items;
  items.reserve(kPrefixItems->size() + rest.size());
  items = *kPrefixItems;
  for (Item& item : rest) {
    item.pos += static_cast<int>(kPrefix.size());
    items.push_back(std::move(item));
  }
  return items;
}

absl::StatusOr<Template> Template::Parse(absl::string_view name,
                                         absl::string_view text) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::string(name);
  impl->text = absl::StrCat(kPrefix, text);
  try {
    Parser parser(impl->name, LexWithPrefix(text));
    impl->trees = parser.Parse();
  } catch (const TemplateError& e) {
    return absl::InvalidArgumentError(e.message);
  }
  return Template(std::move(impl));
}

absl::StatusOr<std::string> Template::Execute(const TemplateData& data,
                                              const TemplateEnv& env) const {
  auto ds = std::make_shared<DataStruct>();
  ds->labels = ToStrMap(data.labels);
  ds->external_labels = ToStrMap(data.external_labels);
  ds->external_url = data.external_url;
  ds->value = data.value;
  Value dot;
  dot.kind = VK::kData;
  dot.data = ds;
  try {
    Exec exec(impl_->trees, impl_->name, impl_->text, env);
    return exec.Run(dot);
  } catch (const TemplateError& e) {
    return absl::FailedPreconditionError(e.message);
  } catch (const BreakSignal&) {
    return absl::InternalError("template: {{break}} outside {{range}}");
  } catch (const ContinueSignal&) {
    return absl::InternalError("template: {{continue}} outside {{range}}");
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("template: out of memory");
  }
}

AlertTemplate::AlertTemplate(absl::string_view name, absl::string_view text)
    : name_(name),
      text_(text),
      plain_(!absl::StrContains(text, "{{")),
      template_(plain_ ? absl::StatusOr<Template>(absl::UnknownError(""))
                       : Template::Parse(name, text)) {}

std::string AlertTemplate::Expand(const TemplateData& data,
                                  const TemplateEnv& env) const {
  if (plain_) return text_;
  if (!template_.ok()) {
    return absl::StrCat("<error expanding template: error parsing template ",
                        name_, ": ", template_.status().message(), ">");
  }
  absl::StatusOr<std::string> out = template_->Execute(data, env);
  if (!out.ok()) {
    return absl::StrCat("<error expanding template: error executing template ",
                        name_, ": ", out.status().message(), ">");
  }
  return *std::move(out);
}

std::string ExpandAlertTemplate(absl::string_view name, absl::string_view text,
                                const TemplateData& data,
                                const TemplateEnv& env) {
  return AlertTemplate(name, text).Expand(data, env);
}

}  // namespace promeval::rules
