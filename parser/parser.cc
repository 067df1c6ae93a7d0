// ParseExpr(): tokenize, parse with the generated parser, build the AST, and
// type-check it as Prometheus's checkAST does.
#include "promeval/parser.h"

#include <memory>
#include <string>
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
      case NodeKind::kStepInvariantExpr:
        return Check(*static_cast<StepInvariantExpr&>(node).expr);
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

ParseOutcome Parse(absl::string_view input, const ParseOptions& options) {
  ParseOutcome out;
  parser_internal::LexedInput lexed = parser_internal::Tokenize(input);
  std::optional<ParseError> lexer_error = std::move(lexed.error);
  parser_internal::LexemeStream stream(lexed.tokens);
  PromQLParser parser(&stream);
  parser.removeErrorListeners();
  auto strategy = std::make_shared<parser_internal::ErrorStrategy>();
  parser.setErrorHandler(strategy);

  // Two-stage parsing: the fast SLL mode first, full LL only to confirm an
  // error (SLL can fail on input that LL accepts, never the reverse).
  auto* interpreter = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
  interpreter->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  PromQLParser::ExpressionContext* tree = nullptr;
  try {
    tree = parser.expression();
  } catch (const antlr4::ParseCancellationException&) {
    stream.seek(0);
    parser.reset();
    interpreter->setPredictionMode(antlr4::atn::PredictionMode::LL);
    try {
      tree = parser.expression();
    } catch (const antlr4::ParseCancellationException&) {
      size_t offending = strategy->offending_index();
      if (lexed.tokens[offending].getType() == PromQLParser::LEXER_ERROR) {
        out.errors.push_back(*lexer_error);
      } else {
        std::vector<const antlr4::Token*> tokens;
        for (size_t i = 0; i <= offending; ++i) {
          tokens.push_back(&lexed.tokens[i]);
        }
        out.errors.push_back(parser_internal::SyntaxError(tokens, offending));
      }
      return out;
    }
  }
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

}  // namespace

ParseOutcome ParseExprWithErrors(absl::string_view input,
                                 const ParseOptions& options) {
  // The ANTLR runtime reports internal failures with exceptions; none may
  // leave the library.
  try {
    return Parse(input, options);
  } catch (const std::exception& e) {
    ParseOutcome out;
    out.errors.push_back(
        ParseError{{0, 0}, absl::StrCat("internal parser error: ", e.what())});
    return out;
  }
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
