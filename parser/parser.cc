// ParseExpr(): tokenize, parse with the generated parser, build the AST, and
// type-check it as Prometheus's checkAST does.
#include "promeval/parser.h"

#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "Exceptions.h"
#include "PromQLParser.h"
#include "absl/strings/str_cat.h"
#include "atn/ParserATNSimulator.h"
#include "atn/PredictionMode.h"
#include "parser/ast_builder.h"
#include "parser/error_listener.h"
#include "parser/token_source.h"
#include "parser/token_stream.h"
#include "promeval/text.h"
#include "tree/TerminalNodeImpl.h"

namespace promeval {
namespace {

using antlr::PromQLParser;

// Prometheus's checkAST: type checks after a successful parse.
class Checker {
 public:
  Checker(absl::string_view input, std::vector<ParseError>& errors)
      : input_(input), errors_(errors) {}

  // Checks `node` and returns its type. The type comes from the children's
  // results, so each level costs O(1) and the stack frame stays small (error
  // texts are built in separate functions).
  ValueType Check(Expr& node) {
    switch (node.kind()) {
      case NodeKind::kAggregateExpr:
        CheckAggregate(static_cast<AggregateExpr&>(node));
        return ValueType::kVector;
      case NodeKind::kBinaryExpr:
        return CheckBinary(static_cast<BinaryExpr&>(node));
      case NodeKind::kCall:
        CheckCall(static_cast<Call&>(node));
        return node.type();
      case NodeKind::kParenExpr:
        return Check(*static_cast<ParenExpr&>(node).expr);
      case NodeKind::kUnaryExpr: {
        ValueType t = Check(*static_cast<UnaryExpr&>(node).expr);
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          UnaryTypeError(node.pos, t);
        }
        return t;
      }
      case NodeKind::kSubqueryExpr: {
        ValueType t = Check(*static_cast<SubqueryExpr&>(node).expr);
        if (t != ValueType::kVector) SubqueryTypeError(node.pos, t);
        return ValueType::kMatrix;
      }
      case NodeKind::kMatrixSelector:
        Check(*static_cast<MatrixSelector&>(node).vector_selector);
        return ValueType::kMatrix;
      case NodeKind::kVectorSelector:
        CheckSelector(static_cast<VectorSelector&>(node));
        return ValueType::kVector;
      case NodeKind::kNumberLiteral:
      case NodeKind::kStringLiteral:
      case NodeKind::kDurationExpr:
        return node.type();
    }
    return ValueType::kNone;
  }

 private:
  void Error(PositionRange pos, std::string message) {
    errors_.push_back(ParseError{pos, std::move(message)});
  }

  [[gnu::noinline]] void UnaryTypeError(PositionRange pos, ValueType t) {
    Error(pos, absl::StrCat("unary expression only allowed on expressions of "
                            "type scalar or instant vector, got ",
                            GoQuote(DocumentedType(t))));
  }

  [[gnu::noinline]] void SubqueryTypeError(PositionRange pos, ValueType t) {
    Error(pos, absl::StrCat("subquery is only allowed on instant vector, got ",
                            ValueTypeName(t), " instead"));
  }

  void ExpectType(Expr& e, ValueType want, absl::string_view context) {
    ValueType t = Check(e);
    if (t != want) {
      Error(e.pos, absl::StrCat("expected type ", DocumentedType(want), " in ",
                                context, ", got ", DocumentedType(t)));
    }
  }

  void CheckAggregate(AggregateExpr& a) {
    ExpectType(*a.expr, ValueType::kVector, "aggregation expression");
    switch (a.op) {
      case AggregateOp::kTopk:
      case AggregateOp::kBottomk:
      case AggregateOp::kQuantile:
      case AggregateOp::kLimitk:
      case AggregateOp::kLimitRatio:
        ExpectType(*a.param, ValueType::kScalar, "aggregation parameter");
        break;
      case AggregateOp::kCountValues:
        ExpectType(*a.param, ValueType::kString, "aggregation parameter");
        break;
      default:
        break;
    }
  }

  // The operator's position: from the end of the left operand, skipping
  // whitespace.
  PositionRange OperatorRange(const BinaryExpr& b) const {
    int start = b.lhs->pos.end;
    while (static_cast<size_t>(start) < input_.size() &&
           (input_[start] == ' ' || input_[start] == '\t' ||
            input_[start] == '\n' || input_[start] == '\r')) {
      ++start;
    }
    return {start, b.rhs->pos.start};
  }

  // Iterates over a chain of left operands (`a or b or c ...`), innermost
  // first, as Prometheus's recursion would visit it.
  ValueType CheckBinary(BinaryExpr& root) {
    Expr* leftmost = nullptr;
    std::vector<BinaryExpr*> spine = LeftSpine(root, &leftmost);
    ValueType lt = Check(*leftmost);
    for (BinaryExpr* b : spine) {
      ValueType rt = Check(*b->rhs);
      CheckBinaryOperands(*b, lt, rt);
      lt = lt == ValueType::kScalar && rt == ValueType::kScalar
               ? ValueType::kScalar
               : ValueType::kVector;
    }
    return lt;
  }

  [[gnu::noinline]] void CheckBinaryOperands(BinaryExpr& b, ValueType lt,
                                             ValueType rt) {
    bool comparison = IsComparisonOp(b.op);
    bool set_op = IsSetOp(b.op);
    if (b.return_bool && !comparison) {
      Error(OperatorRange(b),
            "bool modifier can only be used on comparison operators");
    }
    if (comparison && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Error(OperatorRange(b),
            "comparisons between scalars must use BOOL modifier");
    }
    VectorMatching& vm = *b.matching;
    if (set_op && vm.card == VectorMatchCardinality::kOneToOne) {
      vm.card = VectorMatchCardinality::kManyToMany;
    }
    if (vm.on) {
      for (const std::string& l1 : vm.matching_labels) {
        for (const std::string& l2 : vm.include) {
          if (l1 == l2) {
            Error(
                OperatorRange(b),
                absl::StrCat("label ", GoQuote(l1),
                             " must not occur in ON and GROUP clause at once"));
          }
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      Error(b.lhs->pos,
            "binary expression must contain only scalar and instant vector "
            "types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      Error(b.rhs->pos,
            "binary expression must contain only scalar and instant vector "
            "types");
    }
    bool fill = vm.fill_lhs.has_value() || vm.fill_rhs.has_value();
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty()) {
        Error(b.pos, "vector matching only allowed between instant vectors");
      }
      if (fill) {
        Error(b.pos,
              "filling in missing series only allowed between instant vectors");
      }
      b.matching.reset();
    } else if (set_op) {
      if (vm.card == VectorMatchCardinality::kOneToMany ||
          vm.card == VectorMatchCardinality::kManyToOne) {
        Error(b.pos, absl::StrCat("no grouping allowed for ",
                                  GoQuote(BinaryOpString(b.op)), " operation"));
      }
      if (vm.card != VectorMatchCardinality::kManyToMany) {
        Error(b.pos, "set operations must always be many-to-many");
      }
      if (fill) {
        Error(b.pos, "filling in missing series not allowed for set operators");
      }
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && set_op) {
      Error(b.pos, absl::StrCat("set operator ", GoQuote(BinaryOpString(b.op)),
                                " not allowed in binary scalar expression"));
    }
  }

  void CheckCall(Call& c) {
    const FunctionSignature& f = *c.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int given = static_cast<int>(c.args.size());
    // Only the error messages need it.
    auto quoted_name = [&f] { return GoQuote(f.name); };
    if (f.variadic == 0) {
      if (nargs != given) {
        Error(c.pos,
              absl::StrCat("expected ", nargs, " argument(s) in call to ",
                           quoted_name(), ", got ", given));
      }
    } else {
      int required = nargs - 1;
      if (required > given) {
        Error(c.pos, absl::StrCat("expected at least ", required,
                                  " argument(s) in call to ", quoted_name(),
                                  ", got ", given));
      } else if (f.variadic > 0 && required + f.variadic < given) {
        Error(c.pos, absl::StrCat("expected at most ", required + f.variadic,
                                  " argument(s) in call to ", quoted_name(),
                                  ", got ", given));
      }
    }
    if (f.name == "info" && given > 1) {
      Expr& labels = *c.args[1];
      if (labels.type() != ValueType::kVector) {
        Error(c.pos, absl::StrCat("expected type instant vector in call to "
                                  "function \"info\", got ",
                                  DocumentedType(labels.type())));
      }
      if (auto* vs = As<VectorSelector>(&labels); vs && !vs->name.empty()) {
        Error(labels.pos,
              "expected label selectors only, got vector selector instead");
      } else if (vs != nullptr) {
        vs->bypass_empty_matcher_check = true;
      } else {
        Error(labels.pos, "expected label selectors only");
      }
    }
    for (int i = 0; i < given; ++i) {
      int type_index = i;
      if (i >= nargs) {
        if (f.variadic == 0) break;
        type_index = nargs - 1;
      }
      ValueType want = f.arg_types[type_index];
      ValueType t = Check(*c.args[i]);
      if (t != want) {
        Error(c.args[i]->pos,
              absl::StrCat("expected type ", DocumentedType(want),
                           " in call to function ", quoted_name(), ", got ",
                           DocumentedType(t)));
      }
    }
  }

  void CheckSelector(VectorSelector& vs) {
    if (!vs.name.empty()) {
      // The last matcher is the one for the name written outside braces.
      for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
        if (vs.matchers[i].name() == kMetricName) {
          Error(vs.pos, absl::StrCat("metric name must not be set twice: ",
                                     GoQuote(vs.name), " or ",
                                     GoQuote(vs.matchers[i].value())));
        }
      }
      return;
    }
    if (vs.bypass_empty_matcher_check) return;
    for (const Matcher& m : vs.matchers) {
      if (!m.Matches("")) return;
    }
    Error(vs.pos,
          "vector selector must contain at least one non-empty matcher");
  }

  absl::string_view input_;
  std::vector<ParseError>& errors_;
};

}  // namespace

ParseOptions ParseOptions::AllEnabled() {
  ParseOptions o;
  o.experimental_functions = true;
  o.duration_expressions = true;
  o.extended_range_selectors = true;
  o.binop_fill_modifiers = true;
  return o;
}

bool EnableParserFeature(absl::string_view flag, ParseOptions& options) {
  if (flag == "promql-experimental-functions") {
    options.experimental_functions = true;
  } else if (flag == "promql-duration-expr") {
    options.duration_expressions = true;
  } else if (flag == "promql-extended-range-selectors") {
    options.extended_range_selectors = true;
  } else if (flag == "promql-binop-fill-modifiers") {
    options.binop_fill_modifiers = true;
  } else {
    return false;
  }
  return true;
}

std::string ParseError::ToString(absl::string_view input) const {
  return absl::StrCat(LineColumn(input, pos.start), ": parse error: ", message);
}

namespace {

// The generated parser over tokens, with the error handling of Parse: it
// owns the parse tree it builds.
struct TreeParser {
  explicit TreeParser(std::vector<parser_internal::Lexeme>& tokens)
      : stream(tokens),
        parser(&stream),
        strategy(std::make_shared<parser_internal::ErrorStrategy>()) {
    parser.removeErrorListeners();
    parser.setErrorHandler(strategy);
  }

  parser_internal::LexemeStream stream;
  PromQLParser parser;
  std::shared_ptr<parser_internal::ErrorStrategy> strategy;
};

// Runs the generated parser: the tree, or null with the syntax error (the
// lexer's, if the parser reached its LEXER_ERROR token) in `errors`.
PromQLParser::ExpressionContext* ParseTree(
    TreeParser& p, std::vector<parser_internal::Lexeme>& tokens,
    const std::optional<ParseError>& lexer_error,
    std::vector<ParseError>& errors) {
  // Two-stage parsing: the fast SLL mode first, full LL only to confirm an
  // error (SLL can fail on input that LL accepts, never the reverse).
  auto* interpreter =
      p.parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
  interpreter->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  try {
    return p.parser.expression();
  } catch (const antlr4::ParseCancellationException&) {
    p.stream.seek(0);
    p.parser.reset();
    interpreter->setPredictionMode(antlr4::atn::PredictionMode::LL);
    try {
      return p.parser.expression();
    } catch (const antlr4::ParseCancellationException&) {
      size_t offending = p.strategy->offending_index();
      if (tokens[offending].getType() == PromQLParser::LEXER_ERROR) {
        errors.push_back(*lexer_error);
      } else {
        std::vector<const antlr4::Token*> seen;
        for (size_t i = 0; i <= offending; ++i) seen.push_back(&tokens[i]);
        errors.push_back(parser_internal::SyntaxError(seen, offending));
      }
      return nullptr;
    }
  }
}

// The AST of a tree that parsed, built and type-checked.
ParseOutcome BuildAndCheck(PromQLParser::ExpressionContext* tree,
                           absl::string_view input,
                           const ParseOptions& options) {
  ParseOutcome out;
  if (tree->expr() == nullptr) {
    out.errors.push_back(ParseError{{0, 0}, "no expression found in input"});
    return out;
  }
  ExprPtr expr =
      parser_internal::BuildAst(tree->expr(), input, options, out.errors);
  // Only type-check a tree without syntax errors.
  if (out.errors.empty()) Checker(input, out.errors).Check(*expr);
  if (out.errors.empty()) out.expr = std::move(expr);
  return out;
}

// Parses tokens that Tokenize() made of `input`.
ParseOutcome ParseLexed(parser_internal::LexedInput& lexed,
                        absl::string_view input, const ParseOptions& options) {
  TreeParser p(lexed.tokens);
  ParseOutcome out;
  PromQLParser::ExpressionContext* tree =
      ParseTree(p, lexed.tokens, lexed.error, out.errors);
  if (tree == nullptr) return out;
  return BuildAndCheck(tree, input, options);
}

ParseOutcome Parse(absl::string_view input, const ParseOptions& options) {
  parser_internal::LexedInput lexed = parser_internal::Tokenize(input);
  return ParseLexed(lexed, input, options);
}

// The ANTLR runtime reports internal failures with exceptions; none may
// leave the library.
template <typename F>
ParseOutcome Guarded(F parse) {
  try {
    return parse();
  } catch (const std::exception& e) {
    ParseOutcome out;
    out.errors.push_back(
        ParseError{{0, 0}, absl::StrCat("internal parser error: ", e.what())});
    return out;
  }
}

// The types of `tokens` in order, one byte each (the grammar has fewer than
// 256 token types).
std::string Shape(const std::vector<parser_internal::Lexeme>& tokens) {
  std::string shape(tokens.size(), '\0');
  for (size_t i = 0; i < tokens.size(); ++i) {
    shape[i] = static_cast<char>(tokens[i].getType());
  }
  return shape;
}

// Points every node of `tree` at the token of the same index in `tokens`.
void Repoint(antlr4::tree::ParseTree* tree,
             std::vector<parser_internal::Lexeme>& tokens) {
  auto same_index = [&tokens](antlr4::Token* t) -> antlr4::Token* {
    return t == nullptr ? nullptr : &tokens[t->getTokenIndex()];
  };
  std::vector<antlr4::tree::ParseTree*> stack{tree};
  while (!stack.empty()) {
    antlr4::tree::ParseTree* node = stack.back();
    stack.pop_back();
    // A successful parse has no error nodes: every node is a terminal or a
    // rule context.
    if (typeid(*node) == typeid(antlr4::tree::TerminalNodeImpl)) {
      auto* terminal = dynamic_cast<antlr4::tree::TerminalNodeImpl*>(node);
      terminal->symbol = same_index(terminal->symbol);
      continue;
    }
    auto* ctx = static_cast<antlr4::ParserRuleContext*>(node);
    ctx->start = same_index(ctx->start);
    ctx->stop = same_index(ctx->stop);
    stack.insert(stack.end(), ctx->children.begin(), ctx->children.end());
  }
}

}  // namespace

ParseOutcome ParseExprWithErrors(absl::string_view input,
                                 const ParseOptions& options) {
  return Guarded([&] { return Parse(input, options); });
}

// A parse tree kept for its shape, with the text and tokens it points into.
struct ExprParser::Tree {
  // Takes `tokens`, made of a text equal to `text`.
  Tree(absl::string_view text, parser_internal::LexedInput tokens)
      : input(text), lexed(std::move(tokens)), parser(lexed.tokens) {
    Rebase();
  }

  // Points the tokens into `input`.
  void Rebase() {
    for (parser_internal::Lexeme& token : lexed.tokens) {
      token = token.Rebased(input);
    }
  }

  std::string input;
  parser_internal::LexedInput lexed;
  TreeParser parser;
  PromQLParser::ExpressionContext* root = nullptr;
  uint64_t last_use = 0;
};

ExprParser::ExprParser(const ParseOptions& options) : options_(options) {}
ExprParser::~ExprParser() = default;

ParseOutcome ExprParser::Parse(absl::string_view input) {
  return Guarded([&] {
    parser_internal::LexedInput lexed = parser_internal::Tokenize(input);
    if (lexed.error.has_value()) {
      return ParseLexed(lexed, input, options_);
    }
    std::string shape = Shape(lexed.tokens);
    ++uses_;
    auto it = trees_.find(shape);
    if (it != trees_.end()) {
      // The same token types as a tree that parsed: the generated parser
      // would build the same tree, so that one takes these tokens.
      Tree& t = *it->second;
      t.last_use = uses_;
      t.input = std::string(input);
      // The tree still points at the old tokens (their indexes are read):
      // they go only after it points at the new ones.
      Repoint(t.root, lexed.tokens);
      t.lexed.tokens = std::move(lexed.tokens);
      t.Rebase();
      return BuildAndCheck(t.root, t.input, options_);
    }
    // A shape seen before gets a tree that is kept; one seen for the first
    // time is parsed as usual, so that expressions that all differ cost
    // neither memory nor time.
    if (seen_.insert(shape).second) return ParseLexed(lexed, input, options_);
    auto t = std::make_unique<Tree>(input, std::move(lexed));
    ParseOutcome out;
    t->root = ParseTree(t->parser, t->lexed.tokens, t->lexed.error, out.errors);
    if (t->root == nullptr) return out;
    out = BuildAndCheck(t->root, t->input, options_);
    if (trees_.size() == kMostTrees) {
      // The least recently used tree goes.
      auto oldest = trees_.begin();
      for (auto i = trees_.begin(); i != trees_.end(); ++i) {
        if (i->second->last_use < oldest->second->last_use) oldest = i;
      }
      trees_.erase(oldest);
    }
    t->last_use = uses_;
    trees_.emplace(std::move(shape), std::move(t));
    return out;
  });
}

absl::StatusOr<ExprPtr> ParseExpr(absl::string_view input,
                                  const ParseOptions& options) {
  ParseOutcome outcome = ParseExprWithErrors(input, options);
  if (!outcome.errors.empty()) {
    return absl::InvalidArgumentError(outcome.errors.front().ToString(input));
  }
  return std::move(outcome.expr);
}

}  // namespace promeval
