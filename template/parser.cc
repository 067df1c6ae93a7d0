// The parser of Go's text/template (text/template/parse/parse.go) and the
// printing of its nodes (node.go's String methods), over the lexer's items.
//
// Parse errors travel as a file-local exception (Go's parser panics and
// recovers) and become an absl::Status in Parse.
#include "template/parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/utf8.h"
#include "promeval/text.h"

namespace promeval::tmpl {
namespace {

// Nested parens and control blocks: a limit that keeps hostile templates
// from exhausting the stack.
constexpr int kMaxParseDepth = 200;

// Thrown by the parser; caught in Parse.
struct ParseError {
  std::string message;
};

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

}  // namespace

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

namespace {

std::unique_ptr<Node> NewNode(NT type, int pos) {
  auto n = std::make_unique<Node>();
  n->type = type;
  n->pos = pos;
  return n;
}

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
  Parser(std::string name, std::vector<Item> items,
         absl::FunctionRef<bool(absl::string_view)> has_function)
      : name_(std::move(name)),
        items_(std::move(items)),
        has_function_(has_function) {}

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
    throw ParseError{
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

  // The name of a {{define}}, {{block}} or {{template}} (Go's
  // parseTemplateName).
  std::string TemplateName(const Item& token, absl::string_view context) {
    if (token.typ != It::kString && token.typ != It::kRawString) {
      Unexpected(token, context);
    }
    absl::StatusOr<std::string> name = Unquote(token.val);
    if (!name.ok()) Errorf("invalid syntax");
    return *std::move(name);
  }

  // The body of a {{define}} or {{block}} up to its {{end}}, with its own
  // variables (only $).
  std::unique_ptr<Node> DefinitionBody(Trees& trees,
                                       absl::string_view context) {
    std::vector<std::string> saved_vars = vars_;
    vars_ = {"$"};
    auto [list, end] = ItemList(trees);
    if (end->type != NT::kEnd) {
      Errorf(absl::StrCat("unexpected ", NodeString(*end), " in ", context));
    }
    vars_ = std::move(saved_vars);
    return std::move(list);
  }

  void ParseDefinition(Trees& trees) {
    std::string name = TemplateName(NextNonSpace(), "define clause");
    Expect(It::kRightDelim, "define clause");
    std::unique_ptr<Node> list = DefinitionBody(trees, "define clause");
    auto it = trees.defined.find(name);
    if (it != trees.defined.end() && !it->second->nodes.empty() &&
        !list->nodes.empty()) {
      Errorf(absl::StrCat("template: multiple definition of template ",
                          GoQuote(name)));
    }
    if (it == trees.defined.end() || it->second->nodes.empty()) {
      trees.defined[name] = std::move(list);
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
    auto n = NewNode(NT::kTemplate, token.pos);
    n->text = TemplateName(token, "block clause");
    n->pipe = Pipeline("block clause", It::kRightDelim);
    std::unique_ptr<Node> list = DefinitionBody(trees, "block clause");
    trees.defined[n->text] = std::move(list);
    return n;
  }

  std::unique_ptr<Node> TemplateControl() {
    const Item& token = NextNonSpace();
    auto n = NewNode(NT::kTemplate, token.pos);
    n->text = TemplateName(token, "template clause");
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
        if (!has_function_(token.val)) {
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
  absl::FunctionRef<bool(absl::string_view)> has_function_;
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

}  // namespace

absl::StatusOr<Trees> Parse(
    absl::string_view name, std::vector<Item> items,
    absl::FunctionRef<bool(absl::string_view)> has_function) {
  try {
    return Parser(std::string(name), std::move(items), has_function).Parse();
  } catch (const ParseError& e) {
    return absl::InvalidArgumentError(e.message);
  }
}

}  // namespace promeval::tmpl
