#include "parser/ast_builder.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "PromQLBaseVisitor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "promeval/text.h"
#include "promeval/value.h"

namespace promeval::parser_internal {
namespace {

using P = antlr::PromQLParser;

constexpr double kMaxDurationSeconds = 9223372036.854775807;  // 1<<63 ns.

PositionRange TokenRange(const antlr4::Token* t) {
  return {static_cast<int>(t->getStartIndex()),
          static_cast<int>(t->getStopIndex()) + 1};
}

PositionRange NodeRange(antlr4::tree::TerminalNode* n) {
  return TokenRange(n->getSymbol());
}

PositionRange CtxRange(antlr4::ParserRuleContext* ctx) {
  return {static_cast<int>(ctx->getStart()->getStartIndex()),
          static_cast<int>(ctx->getStop()->getStopIndex()) + 1};
}

int64_t SecondsToMs(double seconds) {
  // Go: time.Duration(math.Round(s * 1e9)), then truncated to milliseconds.
  return GoFloatToInt64(std::round(seconds * 1e9)) / 1000000;
}

// Children by position, without RTTI. The builder only sees trees that
// parsed without an error, so a rule's children are exactly what its
// grammar rule says; the generated accessors find them with a dynamic_cast
// per child (whose type_info comparisons are strcmp calls), which was most
// of the builder's time.
antlr4::ParserRuleContext* RuleAt(antlr4::ParserRuleContext* ctx, size_t i) {
  return static_cast<antlr4::ParserRuleContext*>(ctx->children[i]);
}

antlr4::Token* TokenAt(antlr4::ParserRuleContext* ctx, size_t i) {
  return static_cast<antlr4::tree::TerminalNode*>(ctx->children[i])
      ->getSymbol();
}

// The items of `( item (, item)* ,? )` (callArguments, groupingLabels,
// labelMatchers): the children at odd positions before the closing
// bracket; `trailing_comma` gets the comma after the last one, if any.
template <typename T>
std::vector<T*> ListItems(antlr4::ParserRuleContext* ctx,
                          antlr4::Token** trailing_comma = nullptr) {
  const size_t inner = ctx->children.size() - 2;
  std::vector<T*> items;
  items.reserve((inner + 1) / 2);
  for (size_t i = 1; i <= inner; i += 2) {
    items.push_back(static_cast<T*>(RuleAt(ctx, i)));
  }
  if (trailing_comma != nullptr) {
    *trailing_comma =
        inner >= 2 && inner % 2 == 0 ? TokenAt(ctx, inner) : nullptr;
  }
  return items;
}

// The token of a rule made of a single keyword or operator.
antlr4::Token* OnlyToken(antlr4::ParserRuleContext* ctx) {
  return ctx->getStart();
}

class Builder : public antlr::PromQLBaseVisitor {
 public:
  Builder(absl::string_view input, const ParseOptions& options,
          std::vector<ParseError>& errors)
      : input_(input), options_(options), errors_(errors) {}

  ExprPtr Build(P::ExprContext* ctx) {
    ctx->accept(this);
    return std::move(result_);
  }

  // The visitor only dispatches on the kind of `expr` alternative; every
  // visit stores its node in result_ (antlrcpp::Any cannot carry owning
  // pointers).
  antlrcpp::Any visitRangeOrSubqueryExpr(
      P::RangeOrSubqueryExprContext* ctx) override {
    result_ = RangeOrSubquery(ctx);
    return nullptr;
  }
  antlrcpp::Any visitOffsetExpr(P::OffsetExprContext* ctx) override {
    result_ = Offset(ctx);
    return nullptr;
  }
  antlrcpp::Any visitAtExpr(P::AtExprContext* ctx) override {
    result_ = At(ctx);
    return nullptr;
  }
  antlrcpp::Any visitExtendedRangeExpr(
      P::ExtendedRangeExprContext* ctx) override {
    result_ = ExtendedRange(ctx);
    return nullptr;
  }
  antlrcpp::Any visitBinaryExpr(P::BinaryExprContext* ctx) override {
    result_ = Binary(ctx);
    return nullptr;
  }
  antlrcpp::Any visitUnaryExpr(P::UnaryExprContext* ctx) override {
    result_ = Unary(ctx);
    return nullptr;
  }
  antlrcpp::Any visitAggregateExpr(P::AggregateExprContext* ctx) override {
    result_ = Aggregate(ctx);
    return nullptr;
  }
  antlrcpp::Any visitCallExpr(P::CallExprContext* ctx) override {
    result_ = CallNode(ctx);
    return nullptr;
  }
  antlrcpp::Any visitParenExpr(P::ParenExprContext* ctx) override {
    auto paren = std::make_unique<ParenExpr>(CtxRange(ctx));
    paren->expr = Build(ctx->expr());
    result_ = std::move(paren);
    return nullptr;
  }
  antlrcpp::Any visitSelectorExpr(P::SelectorExprContext* ctx) override {
    result_ = Selector(ctx->vectorSelector());
    return nullptr;
  }
  antlrcpp::Any visitNumberLiteral(P::NumberLiteralContext* ctx) override {
    result_ = Literal(ctx->getStart());
    return nullptr;
  }
  antlrcpp::Any visitStringLiteral(P::StringLiteralContext* ctx) override {
    result_ = std::make_unique<StringLiteral>(
        UnquoteToken(ctx->STRING()->getSymbol()), NodeRange(ctx->STRING()));
    return nullptr;
  }

 private:
  void Error(PositionRange pos, std::string message) {
    errors_.push_back(ParseError{pos, std::move(message)});
  }

  std::string TokenText(const antlr4::Token* t) const {
    PositionRange r = TokenRange(t);
    return std::string(input_.substr(r.start, r.end - r.start));
  }

  std::string UnquoteToken(const antlr4::Token* t) {
    std::string text = TokenText(t);
    absl::StatusOr<std::string> s = Unquote(text);
    if (!s.ok()) {
      Error(TokenRange(t),
            absl::StrCat("error unquoting string ", GoQuote(text), ": ",
                         s.status().message()));
      return "";
    }
    return *std::move(s);
  }

  // A NUMBER or DURATION token as a value in seconds.
  double TokenNumber(const antlr4::Token* t, bool& is_duration) {
    std::string text = TokenText(t);
    is_duration = t->getType() == P::DURATION;
    if (is_duration) {
      absl::StatusOr<int64_t> ms = ParseDuration(text);
      if (!ms.ok()) {
        Error(TokenRange(t), std::string(ms.status().message()));
        return 0;
      }
      return static_cast<double>(*ms) / 1000.0;
    }
    absl::StatusOr<double> v = ParseNumber(text);
    if (!v.ok()) {
      Error(TokenRange(t),
            absl::StrCat("error parsing number: ", v.status().message()));
      return 0;
    }
    return *v;
  }

  std::unique_ptr<NumberLiteral> Literal(const antlr4::Token* t) {
    bool is_duration = false;
    double v = TokenNumber(t, is_duration);
    auto lit = std::make_unique<NumberLiteral>(v, TokenRange(t));
    lit->duration = is_duration;
    return lit;
  }

  // -------------------------------------------------------------------------
  // Binary operators. Chains of left-associative operators are built
  // iteratively so that long `a or b or c ...` chains need no deep recursion.

  ExprPtr Binary(P::BinaryExprContext* ctx) {
    std::vector<P::BinaryExprContext*> chain;
    P::ExprContext* leftmost = ctx;
    while (auto* b = dynamic_cast<P::BinaryExprContext*>(leftmost)) {
      chain.push_back(b);
      leftmost = b->expr(0);
    }
    ExprPtr lhs = Build(leftmost);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      lhs = BinaryNode(*it, std::move(lhs));
    }
    return lhs;
  }

  ExprPtr BinaryNode(P::BinaryExprContext* ctx, ExprPtr lhs) {
    // expr op binModifier expr
    antlr4::Token* op_token = TokenAt(ctx, 1);
    ExprPtr rhs = Build(static_cast<P::ExprContext*>(RuleAt(ctx, 3)));
    auto node = std::make_unique<BinaryExpr>(
        BinaryOpFor(op_token->getType()),
        PositionRange{lhs->pos.start, rhs->pos.end});
    node->lhs = std::move(lhs);
    node->rhs = std::move(rhs);
    VectorMatching matching;
    // binModifier: BOOL? (matchingModifier groupModifier?)? fillModifier?
    // A BOOL child can only be the first one, and no rule child starts with
    // BOOL.
    auto* mod = static_cast<P::BinModifierContext*>(RuleAt(ctx, 2));
    size_t first_rule = 0;
    if (!mod->children.empty() && mod->getStart()->getType() == P::BOOL) {
      node->return_bool = true;
      first_rule = 1;
    }
    P::FillModifierContext* fill = nullptr;
    for (size_t i = first_rule; i < mod->children.size(); ++i) {
      antlr4::ParserRuleContext* part = RuleAt(mod, i);
      switch (part->getRuleIndex()) {
        case P::RuleMatchingModifier:  // (ON | IGNORING) groupingLabels
          matching.on = TokenAt(part, 0)->getType() == P::ON;
          matching.matching_labels = GroupingLabels(
              static_cast<P::GroupingLabelsContext*>(RuleAt(part, 1)));
          break;
        case P::RuleGroupModifier:  // (GROUP_LEFT | GROUP_RIGHT)
                                    // groupingLabels?
          matching.card = TokenAt(part, 0)->getType() == P::GROUP_LEFT
                              ? VectorMatchCardinality::kManyToOne
                              : VectorMatchCardinality::kOneToMany;
          if (part->children.size() == 2) {
            matching.include = GroupingLabels(
                static_cast<P::GroupingLabelsContext*>(RuleAt(part, 1)));
          }
          break;
        default:
          fill = static_cast<P::FillModifierContext*>(part);
          break;
      }
    }
    if (fill != nullptr) {
      Fill(fill, matching);
      if (!options_.binop_fill_modifiers) {
        Error(node->pos,
              "binop fill modifiers are experimental and not enabled");
      }
    }
    // Prometheus keeps the matching until the type check drops it for
    // scalar operands.
    node->matching = std::move(matching);
    return node;
  }

  static BinaryOp BinaryOpFor(size_t type) {
    switch (type) {
      case P::ADD:
        return BinaryOp::kAdd;
      case P::SUB:
        return BinaryOp::kSub;
      case P::MUL:
        return BinaryOp::kMul;
      case P::DIV:
        return BinaryOp::kDiv;
      case P::MOD:
        return BinaryOp::kMod;
      case P::POW:
        return BinaryOp::kPow;
      case P::ATAN2:
        return BinaryOp::kAtan2;
      case P::EQLC:
        return BinaryOp::kEqlc;
      case P::NEQ:
        return BinaryOp::kNeq;
      case P::LSS:
        return BinaryOp::kLss;
      case P::LTE:
        return BinaryOp::kLte;
      case P::GTR:
        return BinaryOp::kGtr;
      case P::GTE:
        return BinaryOp::kGte;
      case P::TRIM_UPPER:
        return BinaryOp::kTrimUpper;
      case P::TRIM_LOWER:
        return BinaryOp::kTrimLower;
      case P::LAND:
        return BinaryOp::kAnd;
      case P::LOR:
        return BinaryOp::kOr;
      default:
        return BinaryOp::kUnless;
    }
  }

  void Fill(P::FillModifierContext* ctx, VectorMatching& matching) {
    if (auto* both = ctx->fillClause()) {
      matching.fill_lhs = matching.fill_rhs =
          SignedNumber(both->signedNumber());
    }
    if (auto* left = ctx->fillLeftClause()) {
      matching.fill_lhs = SignedNumber(left->signedNumber());
    }
    if (auto* right = ctx->fillRightClause()) {
      matching.fill_rhs = SignedNumber(right->signedNumber());
    }
  }

  double SignedNumber(P::SignedNumberContext* ctx) {
    antlr4::Token* num = ctx->NUMBER() != nullptr
                             ? ctx->NUMBER()->getSymbol()
                             : ctx->DURATION()->getSymbol();
    bool is_duration = false;
    double v = TokenNumber(num, is_duration);
    return ctx->SUB() != nullptr ? -v : v;
  }

  std::vector<std::string> GroupingLabels(P::GroupingLabelsContext* ctx) {
    std::vector<std::string> labels;
    for (P::GroupingLabelContext* label :
         ListItems<P::GroupingLabelContext>(ctx)) {
      std::string name;
      if (label->getStart()->getType() == P::STRING) {
        name = UnquoteToken(label->getStart());
      } else {
        name = TokenText(label->getStart());
      }
      if (!IsValidLabelName(name)) {
        Error(CtxRange(label),
              absl::StrCat("invalid label name for grouping: ", GoQuote(name)));
      }
      labels.push_back(std::move(name));
    }
    return labels;
  }

  // -------------------------------------------------------------------------
  // Unary operators fold into number literals, as in Prometheus.

  ExprPtr Unary(P::UnaryExprContext* ctx) {
    antlr4::Token* op = OnlyToken(ctx->unaryOp());
    ExprPtr operand = Build(ctx->expr());
    bool negate = op->getType() == P::SUB;
    int start = static_cast<int>(op->getStartIndex());
    if (auto* lit = As<NumberLiteral>(operand.get())) {
      if (negate) lit->value = -lit->value;
      lit->pos.start = start;
      return operand;
    }
    auto node =
        std::make_unique<UnaryExpr>(negate ? UnaryOp::kSub : UnaryOp::kAdd,
                                    PositionRange{start, operand->pos.end});
    node->expr = std::move(operand);
    return node;
  }

  // -------------------------------------------------------------------------
  // Calls and aggregations.

  // Arguments of a call or aggregation; reports a trailing comma.
  std::vector<ExprPtr> Arguments(P::CallArgumentsContext* ctx) {
    antlr4::Token* trailing = nullptr;
    std::vector<ExprPtr> args;
    for (P::ExprContext* e : ListItems<P::ExprContext>(ctx, &trailing)) {
      args.push_back(Build(e));
    }
    if (trailing != nullptr) {
      Error(TokenRange(trailing),
            "trailing commas not allowed in function call args");
    }
    return args;
  }

  ExprPtr CallNode(P::CallExprContext* ctx) {
    // functionName callArguments
    antlr4::Token* name_token = RuleAt(ctx, 0)->getStart();
    std::string name = TokenText(name_token);
    // start(), end(), step() and range() are keywords, so any case.
    if (name_token->getType() != P::IDENTIFIER) {
      name = absl::AsciiStrToLower(name);
    }
    PositionRange pos = CtxRange(ctx);
    std::vector<ExprPtr> args =
        Arguments(static_cast<P::CallArgumentsContext*>(RuleAt(ctx, 1)));
    const FunctionSignature* fn = LookupFunction(name);
    if (fn == nullptr) {
      Error(TokenRange(name_token),
            absl::StrCat("unknown function with name ", GoQuote(name)));
      return std::make_unique<NumberLiteral>(0, pos);
    }
    if (fn->experimental && !options_.experimental_functions) {
      Error(TokenRange(name_token),
            absl::StrCat("function ", GoQuote(name), " is not enabled"));
    }
    auto call = std::make_unique<Call>(fn, pos);
    call->args = std::move(args);
    return call;
  }

  static AggregateOp AggregateOpFor(size_t type) {
    switch (type) {
      case P::SUM:
        return AggregateOp::kSum;
      case P::AVG:
        return AggregateOp::kAvg;
      case P::COUNT:
        return AggregateOp::kCount;
      case P::MIN:
        return AggregateOp::kMin;
      case P::MAX:
        return AggregateOp::kMax;
      case P::GROUP:
        return AggregateOp::kGroup;
      case P::STDDEV:
        return AggregateOp::kStddev;
      case P::STDVAR:
        return AggregateOp::kStdvar;
      case P::TOPK:
        return AggregateOp::kTopk;
      case P::BOTTOMK:
        return AggregateOp::kBottomk;
      case P::COUNT_VALUES:
        return AggregateOp::kCountValues;
      case P::QUANTILE:
        return AggregateOp::kQuantile;
      case P::LIMITK:
        return AggregateOp::kLimitk;
      default:
        return AggregateOp::kLimitRatio;
    }
  }

  ExprPtr Aggregate(P::AggregateExprContext* ctx) {
    // aggregateOp (groupingModifier callArguments |
    //              callArguments groupingModifier?)
    AggregateOp op = AggregateOpFor(RuleAt(ctx, 0)->getStart()->getType());
    auto agg = std::make_unique<AggregateExpr>(op, CtxRange(ctx));
    P::CallArgumentsContext* arguments = nullptr;
    for (size_t i = 1; i < ctx->children.size(); ++i) {
      antlr4::ParserRuleContext* part = RuleAt(ctx, i);
      if (part->getRuleIndex() == P::RuleCallArguments) {
        arguments = static_cast<P::CallArgumentsContext*>(part);
        continue;
      }
      // groupingModifier: (BY | WITHOUT) groupingLabels
      agg->without = TokenAt(part, 0)->getType() == P::WITHOUT;
      agg->grouping = GroupingLabels(
          static_cast<P::GroupingLabelsContext*>(RuleAt(part, 1)));
    }
    std::vector<ExprPtr> args = Arguments(arguments);
    if (args.empty()) {
      Error(agg->pos, "no arguments for aggregate expression provided");
      return agg;
    }
    size_t want = 1;
    if (AggregateOpHasParam(op)) {
      if ((op == AggregateOp::kLimitk || op == AggregateOp::kLimitRatio) &&
          !options_.experimental_functions) {
        Error(agg->pos,
              absl::StrCat(AggregateOpString(op),
                           "() is experimental and must be enabled with "
                           "--enable-feature=promql-experimental-functions"));
        return agg;
      }
      want = 2;
      agg->param = std::move(args[0]);
    }
    if (args.size() != want) {
      Error(agg->pos, absl::StrCat("wrong number of arguments for aggregate "
                                   "expression provided, expected ",
                                   want, ", got ", args.size()));
      return agg;
    }
    agg->expr = std::move(args[want - 1]);
    return agg;
  }

  // -------------------------------------------------------------------------
  // Selectors.

  ExprPtr Selector(P::VectorSelectorContext* ctx) {
    // metricIdentifier labelMatchers? | labelMatchers
    auto vs = std::make_unique<VectorSelector>(CtxRange(ctx));
    P::LabelMatchersContext* braces = nullptr;
    for (size_t i = 0; i < ctx->children.size(); ++i) {
      antlr4::ParserRuleContext* part = RuleAt(ctx, i);
      if (part->getRuleIndex() == P::RuleMetricIdentifier) {
        vs->name = TokenText(part->getStart());
      } else {
        braces = static_cast<P::LabelMatchersContext*>(part);
      }
    }
    if (braces != nullptr) {
      for (P::LabelMatcherContext* m :
           ListItems<P::LabelMatcherContext>(braces)) {
        if (m->children.size() == 1) {  // quotedMetricName: STRING
          std::string value = UnquoteToken(TokenAt(m, 0));
          AddMatcher(*vs, MatchType::kEqual, std::string(kMetricName),
                     std::move(value), CtxRange(m));
          continue;
        }
        // labelMatch: (IDENTIFIER | STRING) matchOp STRING
        antlr4::Token* name_token = TokenAt(m, 0);
        std::string label = name_token->getType() == P::IDENTIFIER
                                ? TokenText(name_token)
                                : UnquoteToken(name_token);
        std::string value = UnquoteToken(TokenAt(m, 2));
        AddMatcher(*vs, MatchTypeFor(RuleAt(m, 1)->getStart()->getType()),
                   std::move(label), std::move(value), CtxRange(m));
      }
    }
    if (!vs->name.empty()) {
      AddMatcher(*vs, MatchType::kEqual, std::string(kMetricName), vs->name,
                 vs->pos);
    }
    return vs;
  }

  static MatchType MatchTypeFor(size_t type) {
    switch (type) {
      case P::EQL:
        return MatchType::kEqual;
      case P::NEQ:
        return MatchType::kNotEqual;
      case P::EQL_REGEX:
        return MatchType::kRegexp;
      default:
        return MatchType::kNotRegexp;
    }
  }

  void AddMatcher(VectorSelector& vs, MatchType type, std::string name,
                  std::string value, PositionRange pos) {
    absl::StatusOr<Matcher> m =
        Matcher::Create(type, std::move(name), std::move(value));
    if (!m.ok()) {
      Error(pos, std::string(m.status().message()));
      return;
    }
    vs.matchers.push_back(*std::move(m));
  }

  // expr [ durationExpr (: durationExpr?)? ]
  ExprPtr RangeOrSubquery(P::RangeOrSubqueryExprContext* ctx) {
    const size_t n = ctx->children.size();
    ExprPtr inner = Build(static_cast<P::ExprContext*>(RuleAt(ctx, 0)));
    PositionRange brackets{
        static_cast<int>(TokenAt(ctx, 1)->getStartIndex()),
        static_cast<int>(TokenAt(ctx, n - 1)->getStopIndex()) + 1};
    PositionRange pos{inner->pos.start, brackets.end};
    ExprPtr range =
        PositiveDuration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 2)));
    if (n > 4) {  // A colon.
      auto sq = std::make_unique<SubqueryExpr>(pos);
      sq->expr = std::move(inner);
      SetDuration(std::move(range), sq->range_ms, sq->range_expr);
      if (n == 6) {
        SetDuration(PositiveDuration(
                        static_cast<P::DurationExprContext*>(RuleAt(ctx, 4))),
                    sq->step_ms, sq->step_expr);
      }
      return sq;
    }
    const auto* vs = As<VectorSelector>(inner.get());
    if (vs == nullptr) {
      Error(brackets, "ranges only allowed for vector selectors");
    } else if (vs->original_offset_ms != 0 || vs->offset_expr != nullptr) {
      Error(brackets, "no offset modifiers allowed before range");
    } else if (vs->at.is_set()) {
      Error(brackets, "no @ modifiers allowed before range");
    }
    auto ms = std::make_unique<MatrixSelector>(pos);
    ms->vector_selector = std::move(inner);
    SetDuration(std::move(range), ms->range_ms, ms->range_expr);
    return ms;
  }

  // A literal duration goes into `ms`, an expression into `expr`.
  static void SetDuration(ExprPtr d, int64_t& ms, ExprPtr& expr) {
    if (auto* lit = As<NumberLiteral>(d.get())) {
      ms = SecondsToMs(lit->value);
    } else {
      expr = std::move(d);
    }
  }

  // positive_duration_expr: literals must be > 0.
  ExprPtr PositiveDuration(P::DurationExprContext* ctx) {
    ExprPtr d = Duration(ctx);
    if (auto* lit = As<NumberLiteral>(d.get())) {
      if (lit->value <= 0) {
        Error(lit->pos, "duration must be greater than 0");
        lit->value = 0;
      }
    }
    return d;
  }

  // -------------------------------------------------------------------------
  // Duration expressions (experimental arithmetic inside [] and after
  // offset).

  void RequireDurationExprs(PositionRange pos) {
    if (!options_.duration_expressions) {
      Error(pos, "experimental duration expression is not enabled");
    }
  }

  ExprPtr CheckedLiteral(std::unique_ptr<NumberLiteral> lit,
                         PositionRange error_pos) {
    if (lit->value > kMaxDurationSeconds || lit->value < -kMaxDurationSeconds) {
      Error(error_pos, "duration out of range");
      return std::make_unique<NumberLiteral>(0, lit->pos);
    }
    return lit;
  }

  // The alternatives of durationExpr by their number of children: an atom,
  // a sign and an operand, or two operands around an operator.
  ExprPtr Duration(P::DurationExprContext* ctx) {
    if (ctx->children.size() == 1) {
      return DurationAtom(static_cast<P::DurationAtomContext*>(RuleAt(ctx, 0)));
    }
    if (ctx->children.size() == 2) {
      return ApplyUnary(
          TokenAt(ctx, 0),
          Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 1))));
    }
    antlr4::Token* op = TokenAt(ctx, 1);
    ExprPtr lhs =
        Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 0)));
    ExprPtr rhs =
        Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 2)));
    RequireDurationExprs(lhs->pos);
    DurationOp dop = DurationOp::kAdd;
    switch (op->getType()) {
      case P::SUB:
        dop = DurationOp::kSub;
        break;
      case P::MUL:
        dop = DurationOp::kMul;
        break;
      case P::DIV:
        dop = DurationOp::kDiv;
        break;
      case P::MOD:
        dop = DurationOp::kMod;
        break;
      case P::POW:
        dop = DurationOp::kPow;
        break;
      default:
        break;
    }
    if (dop == DurationOp::kDiv || dop == DurationOp::kMod) {
      if (auto* lit = As<NumberLiteral>(rhs.get()); lit && lit->value == 0) {
        Error(TokenRange(op),
              dop == DurationOp::kDiv ? "division by zero" : "modulo by zero");
        return std::make_unique<NumberLiteral>(0, CtxRange(ctx));
      }
    }
    auto d = std::make_unique<DurationExpr>(CtxRange(ctx));
    d->op = dop;
    d->lhs = std::move(lhs);
    d->rhs = std::move(rhs);
    return d;
  }

  // Unary + or - on a duration operand; folds into literals.
  ExprPtr ApplyUnary(antlr4::Token* op, ExprPtr operand) {
    bool negate = op->getType() == P::SUB;
    int start = static_cast<int>(op->getStartIndex());
    if (auto* lit = As<NumberLiteral>(operand.get())) {
      if (negate) lit->value = -lit->value;
      std::unique_ptr<NumberLiteral> owned(
          static_cast<NumberLiteral*>(operand.release()));
      owned->pos.start = start;
      return CheckedLiteral(std::move(owned), TokenRange(op));
    }
    if (!negate) return operand;
    auto d =
        std::make_unique<DurationExpr>(PositionRange{start, operand->pos.end});
    d->op = DurationOp::kSub;
    d->rhs = std::move(operand);
    return d;
  }

  // The alternatives of durationAtom by their children: a literal; step()
  // or range(); min_of / max_of ( d , d ); ( d ).
  ExprPtr DurationAtom(P::DurationAtomContext* ctx) {
    PositionRange pos = CtxRange(ctx);
    const size_t n = ctx->children.size();
    if (n == 1) {
      std::unique_ptr<NumberLiteral> lit = Literal(TokenAt(ctx, 0));
      PositionRange p = lit->pos;
      return CheckedLiteral(std::move(lit), p);
    }
    const size_t first = TokenAt(ctx, 0)->getType();
    if (n == 3 && first != P::LEFT_PAREN) {
      RequireDurationExprs(pos);
      auto d = std::make_unique<DurationExpr>(pos);
      d->op = first == P::STEP ? DurationOp::kStep : DurationOp::kRange;
      return d;
    }
    if (n == 6) {
      RequireDurationExprs(pos);
      auto d = std::make_unique<DurationExpr>(pos);
      d->op = first == P::MIN_OF ? DurationOp::kMinOf : DurationOp::kMaxOf;
      d->lhs = Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 2)));
      d->rhs = Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 4)));
      return d;
    }
    ExprPtr inner =
        Duration(static_cast<P::DurationExprContext*>(RuleAt(ctx, 1)));
    RequireDurationExprs(inner->pos);
    if (auto* d = As<DurationExpr>(inner.get())) {
      d->wrapped = true;
      d->pos = pos;
      return inner;
    }
    // A parenthesised literal stays a literal.
    return inner;
  }

  // -------------------------------------------------------------------------
  // Postfix modifiers.

  ExprPtr Offset(P::OffsetExprContext* ctx) {
    ExprPtr e = Build(ctx->expr());
    P::OffsetDurationContext* od = ctx->offsetDuration();
    ExprPtr d = DurationAtom(od->durationAtom());
    if (od->getStart()->getType() == P::ADD ||
        od->getStart()->getType() == P::SUB) {
      d = ApplyUnary(od->getStart(), std::move(d));
    }
    int end = CtxRange(od).end;
    int64_t* offset_ms = nullptr;
    ExprPtr* offset_expr = nullptr;
    if (auto* vs = As<VectorSelector>(e.get())) {
      offset_ms = &vs->original_offset_ms;
      offset_expr = &vs->offset_expr;
    } else if (auto* ms = As<MatrixSelector>(e.get())) {
      auto* inner = As<VectorSelector>(ms->vector_selector.get());
      if (inner == nullptr) {
        Error(e->pos, "ranges only allowed for vector selectors");
        return e;
      }
      offset_ms = &inner->original_offset_ms;
      offset_expr = &inner->offset_expr;
    } else if (auto* sq = As<SubqueryExpr>(e.get())) {
      offset_ms = &sq->original_offset_ms;
      offset_expr = &sq->offset_expr;
    } else {
      Error(e->pos,
            "offset modifier must be preceded by an instant vector selector "
            "or range vector selector or a subquery");
      return e;
    }
    if (*offset_ms != 0 || *offset_expr != nullptr) {
      Error(e->pos, "offset may not be set multiple times");
    } else if (auto* lit = As<NumberLiteral>(d.get())) {
      *offset_ms = SecondsToMs(lit->value);
    } else {
      *offset_expr = std::move(d);
    }
    e->pos.end = end;
    return e;
  }

  ExprPtr At(P::AtExprContext* ctx) {
    ExprPtr e = Build(ctx->expr());
    P::AtTimestampContext* at_ctx = ctx->atTimestamp();
    AtModifier at;
    if (at_ctx->signedNumber() != nullptr) {
      double ts = SignedNumber(at_ctx->signedNumber());
      if (std::isinf(ts) || std::isnan(ts) ||
          ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
          ts <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
        // Go's %f prints infinities as +Inf/-Inf.
        std::string text = std::isnan(ts)   ? "NaN"
                           : std::isinf(ts) ? (ts > 0 ? "+Inf" : "-Inf")
                                            : absl::StrFormat("%f", ts);
        Error(e->pos,
              absl::StrCat("timestamp out of bounds for @ modifier: ", text));
      }
      at.kind = AtModifier::Kind::kTimestamp;
      at.timestamp_ms = GoFloatToInt64(std::round(ts * 1000.0));
    } else {
      at.kind = at_ctx->START() != nullptr ? AtModifier::Kind::kStart
                                           : AtModifier::Kind::kEnd;
    }
    AtModifier* target = nullptr;
    if (auto* vs = As<VectorSelector>(e.get())) {
      target = &vs->at;
    } else if (auto* ms = As<MatrixSelector>(e.get())) {
      auto* inner = As<VectorSelector>(ms->vector_selector.get());
      if (inner == nullptr) {
        Error(e->pos, "ranges only allowed for vector selectors");
        return e;
      }
      target = &inner->at;
    } else if (auto* sq = As<SubqueryExpr>(e.get())) {
      target = &sq->at;
    } else {
      Error(e->pos,
            "@ modifier must be preceded by an instant vector selector or "
            "range vector selector or a subquery");
      return e;
    }
    if (target->is_set()) {
      Error(e->pos, "@ <timestamp> may not be set multiple times");
      return e;
    }
    *target = at;
    e->pos.end = CtxRange(at_ctx).end;
    return e;
  }

  ExprPtr ExtendedRange(P::ExtendedRangeExprContext* ctx) {
    ExprPtr e = Build(ctx->expr());
    bool anchored = ctx->ANCHORED() != nullptr;
    absl::string_view name = anchored ? "anchored" : "smoothed";
    if (!options_.extended_range_selectors) {
      Error(e->pos,
            absl::StrCat(name, " modifier is experimental and not enabled"));
      return e;
    }
    VectorSelector* vs = As<VectorSelector>(e.get());
    if (auto* ms = As<MatrixSelector>(e.get())) {
      vs = As<VectorSelector>(ms->vector_selector.get());
      if (vs == nullptr) return e;
    } else if (As<SubqueryExpr>(e.get()) != nullptr) {
      Error(e->pos,
            absl::StrCat(name, " modifier is not supported for subqueries"));
      return e;
    } else if (vs == nullptr) {
      // Prometheus's own text for the modifier after any other expression.
      Error(e->pos, absl::StrCat(name, " modifier not implemented"));
      return e;
    }
    (anchored ? vs->anchored : vs->smoothed) = true;
    if (vs->anchored && vs->smoothed) {
      Error(e->pos, "anchored and smoothed modifiers cannot be used together");
    }
    e->pos.end = static_cast<int>(ctx->getStop()->getStopIndex()) + 1;
    return e;
  }

  absl::string_view input_;
  const ParseOptions& options_;
  std::vector<ParseError>& errors_;
  ExprPtr result_;
};

}  // namespace

ExprPtr BuildAst(antlr::PromQLParser::ExprContext* tree,
                 absl::string_view input, const ParseOptions& options,
                 std::vector<ParseError>& errors) {
  return Builder(input, options, errors).Build(tree);
}

}  // namespace promeval::parser_internal
