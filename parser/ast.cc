// AST helpers: result types, names, the canonical printer (Prometheus's
// String() methods), the tree printer and structural equality.
#include "promeval/ast.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "promeval/parser.h"
#include "promeval/text.h"

namespace promeval {

absl::string_view DocumentedType(ValueType type) {
  switch (type) {
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    default:
      return ValueTypeName(type);
  }
}

absl::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "vector";
    case ValueType::kMatrix:
      return "matrix";
    case ValueType::kString:
      return "string";
  }
  return "none";
}

std::string LineColumn(absl::string_view input, int pos) {
  if (pos < 0 || static_cast<size_t>(pos) > input.size()) {
    return "invalid position:";
  }
  int line = 1;
  int last_break = -1;
  for (int i = 0; i < pos; ++i) {
    if (input[i] == '\n') {
      last_break = i;
      ++line;
    }
  }
  return absl::StrCat(line, ":", pos - last_break);
}

absl::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEqlc:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kTrimUpper:
      return "</";
    case BinaryOp::kTrimLower:
      return ">/";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "";
}

bool IsComparisonOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEqlc:
    case BinaryOp::kNeq:
    case BinaryOp::kLss:
    case BinaryOp::kLte:
    case BinaryOp::kGtr:
    case BinaryOp::kGte:
      return true;
    default:
      return false;
  }
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

absl::string_view AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
    case AggregateOp::kLimitk:
      return "limitk";
    case AggregateOp::kLimitRatio:
      return "limit_ratio";
  }
  return "";
}

bool AggregateOpHasParam(AggregateOp op) {
  switch (op) {
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kCountValues:
    case AggregateOp::kQuantile:
    case AggregateOp::kLimitk:
    case AggregateOp::kLimitRatio:
      return true;
    default:
      return false;
  }
}

absl::string_view NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kAggregateExpr:
      return "AggregateExpr";
    case NodeKind::kBinaryExpr:
      return "BinaryExpr";
    case NodeKind::kCall:
      return "Call";
    case NodeKind::kMatrixSelector:
      return "MatrixSelector";
    case NodeKind::kSubqueryExpr:
      return "SubqueryExpr";
    case NodeKind::kNumberLiteral:
      return "NumberLiteral";
    case NodeKind::kStringLiteral:
      return "StringLiteral";
    case NodeKind::kParenExpr:
      return "ParenExpr";
    case NodeKind::kUnaryExpr:
      return "UnaryExpr";
    case NodeKind::kVectorSelector:
      return "VectorSelector";
    case NodeKind::kDurationExpr:
      return "DurationExpr";
  }
  return "";
}

ValueType Expr::type() const {
  // Iterative over left operands and wrappers, so that long operator chains
  // need no deep recursion: a binary expression is a scalar only if both
  // operands are.
  const Expr* e = this;
  bool in_binary = false;
  while (true) {
    switch (e->kind_) {
      case NodeKind::kBinaryExpr: {
        const auto* b = static_cast<const BinaryExpr*>(e);
        if (b->rhs->type() != ValueType::kScalar) return ValueType::kVector;
        in_binary = true;
        e = b->lhs.get();
        continue;
      }
      case NodeKind::kParenExpr:
        e = static_cast<const ParenExpr*>(e)->expr.get();
        continue;
      case NodeKind::kUnaryExpr:
        e = static_cast<const UnaryExpr*>(e)->expr.get();
        continue;
      default:
        break;
    }
    ValueType leaf = ValueType::kNone;
    switch (e->kind_) {
      case NodeKind::kAggregateExpr:
      case NodeKind::kVectorSelector:
        leaf = ValueType::kVector;
        break;
      case NodeKind::kCall:
        leaf = static_cast<const Call*>(e)->func->return_type;
        break;
      case NodeKind::kMatrixSelector:
      case NodeKind::kSubqueryExpr:
        leaf = ValueType::kMatrix;
        break;
      case NodeKind::kNumberLiteral:
      case NodeKind::kDurationExpr:
        leaf = ValueType::kScalar;
        break;
      case NodeKind::kStringLiteral:
        leaf = ValueType::kString;
        break;
      default:
        break;
    }
    if (in_binary) {
      return leaf == ValueType::kScalar ? ValueType::kScalar
                                        : ValueType::kVector;
    }
    return leaf;
  }
}

BinaryExpr::~BinaryExpr() {
  ExprPtr cur = std::move(lhs);
  while (cur != nullptr && cur->kind() == NodeKind::kBinaryExpr) {
    ExprPtr next = std::move(static_cast<BinaryExpr*>(cur.get())->lhs);
    cur = std::move(next);  // Frees a node whose lhs is already empty.
  }
}

std::vector<BinaryExpr*> LeftSpine(Expr& e, Expr** leftmost) {
  std::vector<BinaryExpr*> spine;
  Expr* cur = &e;
  while (auto* b = As<BinaryExpr>(cur)) {
    spine.push_back(b);
    cur = b->lhs.get();
  }
  std::reverse(spine.begin(), spine.end());
  *leftmost = cur;
  return spine;
}

std::vector<const BinaryExpr*> LeftSpine(const Expr& e, const Expr** leftmost) {
  Expr* mutable_leftmost = nullptr;
  std::vector<BinaryExpr*> spine =
      LeftSpine(const_cast<Expr&>(e), &mutable_leftmost);
  *leftmost = mutable_leftmost;
  return {spine.begin(), spine.end()};
}

void Inspect(const Expr& e, absl::FunctionRef<void(const Expr&)> visit) {
  switch (e.kind()) {
    case NodeKind::kBinaryExpr: {
      const Expr* leftmost = nullptr;
      std::vector<const BinaryExpr*> spine = LeftSpine(e, &leftmost);
      for (auto it = spine.rbegin(); it != spine.rend(); ++it) visit(**it);
      Inspect(*leftmost, visit);
      for (const BinaryExpr* b : spine) Inspect(*b->rhs, visit);
      return;
    }
    case NodeKind::kMatrixSelector:
      visit(e);
      Inspect(*static_cast<const MatrixSelector&>(e).vector_selector, visit);
      return;
    case NodeKind::kSubqueryExpr:
      visit(e);
      Inspect(*static_cast<const SubqueryExpr&>(e).expr, visit);
      return;
    case NodeKind::kCall:
      visit(e);
      for (const ExprPtr& a : static_cast<const Call&>(e).args) {
        Inspect(*a, visit);
      }
      return;
    case NodeKind::kAggregateExpr: {
      visit(e);
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param != nullptr) Inspect(*a.param, visit);
      Inspect(*a.expr, visit);
      return;
    }
    case NodeKind::kParenExpr:
      visit(e);
      Inspect(*static_cast<const ParenExpr&>(e).expr, visit);
      return;
    case NodeKind::kUnaryExpr:
      visit(e);
      Inspect(*static_cast<const UnaryExpr&>(e).expr, visit);
      return;
    case NodeKind::kVectorSelector:
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kDurationExpr:
      visit(e);
      return;
  }
}

namespace {

void WriteExpr(std::string& out, const Expr& e);

std::string LabelList(const std::vector<std::string>& labels) {
  return absl::StrJoin(labels, ", ",
                       [](std::string* out, const std::string& l) {
                         out->append(IsLegacyLabelName(l) ? l : GoQuote(l));
                       });
}

void WriteAt(std::string& out, const AtModifier& at) {
  switch (at.kind) {
    case AtModifier::Kind::kNone:
      break;
    case AtModifier::Kind::kTimestamp:
      absl::StrAppendFormat(&out, " @ %.3f",
                            static_cast<double>(at.timestamp_ms) / 1000.0);
      break;
    case AtModifier::Kind::kStart:
      out += " @ start()";
      break;
    case AtModifier::Kind::kEnd:
      out += " @ end()";
      break;
  }
}

void WriteOffset(std::string& out, int64_t offset_ms, const Expr* expr) {
  if (expr != nullptr) {
    out += " offset ";
    WriteExpr(out, *expr);
  } else if (offset_ms > 0) {
    absl::StrAppend(&out, " offset ", FormatDuration(offset_ms));
  } else if (offset_ms < 0) {
    absl::StrAppend(&out, " offset -", FormatDuration(-offset_ms));
  }
}

void WriteRange(std::string& out, int64_t ms, const Expr* expr) {
  if (expr != nullptr) {
    WriteExpr(out, *expr);
  } else {
    out += FormatDuration(ms);
  }
}

// The selector's name and matchers, without modifiers.
void WriteSelectorBody(std::string& out, const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const Matcher& m : vs.matchers) {
    if (m.name() == kMetricName && m.type() == MatchType::kEqual &&
        m.value() == vs.name && !m.value().empty()) {
      continue;
    }
    parts.push_back(m.ToString());
  }
  out += vs.name;
  if (!parts.empty()) {
    std::sort(parts.begin(), parts.end());
    absl::StrAppend(&out, "{", absl::StrJoin(parts, ","), "}");
  } else if (vs.name.empty()) {
    // `{}` (allowed as info()'s second argument): Prometheus prints nothing,
    // which does not parse back; `{}` does.
    out += "{}";
  }
}

void WriteExtended(std::string& out, bool anchored, bool smoothed) {
  if (anchored) {
    out += " anchored";
  } else if (smoothed) {
    out += " smoothed";
  }
}

void WriteMatching(std::string& out, const VectorMatching& vm) {
  bool grouped = vm.card == VectorMatchCardinality::kManyToOne ||
                 vm.card == VectorMatchCardinality::kOneToMany;
  if (!vm.matching_labels.empty() || vm.on || grouped) {
    absl::StrAppend(&out, vm.on ? " on (" : " ignoring (",
                    LabelList(vm.matching_labels), ")");
  }
  if (grouped) {
    absl::StrAppend(&out,
                    vm.card == VectorMatchCardinality::kManyToOne
                        ? " group_left ("
                        : " group_right (",
                    LabelList(vm.include), ")");
  }
  if (vm.fill_lhs && vm.fill_rhs &&
      std::memcmp(&*vm.fill_lhs, &*vm.fill_rhs, sizeof(double)) == 0) {
    absl::StrAppend(&out, " fill (", FormatFloatGo(*vm.fill_lhs), ")");
    return;
  }
  if (vm.fill_lhs) {
    absl::StrAppend(&out, " fill_left (", FormatFloatGo(*vm.fill_lhs), ")");
  }
  if (vm.fill_rhs) {
    absl::StrAppend(&out, " fill_right (", FormatFloatGo(*vm.fill_rhs), ")");
  }
}

void WriteDurationExpr(std::string& out, const DurationExpr& d) {
  if (d.wrapped) out += '(';
  switch (d.op) {
    case DurationOp::kStep:
      out += "step()";
      break;
    case DurationOp::kRange:
      out += "range()";
      break;
    case DurationOp::kMinOf:
    case DurationOp::kMaxOf:
      out += d.op == DurationOp::kMinOf ? "min_of(" : "max_of(";
      WriteExpr(out, *d.lhs);
      out += ", ";
      WriteExpr(out, *d.rhs);
      out += ')';
      break;
    default: {
      static constexpr absl::string_view kOps[] = {"+", "-", "*",
                                                   "/", "%", "^"};
      absl::string_view op = kOps[static_cast<int>(d.op)];
      if (d.lhs == nullptr) {
        if (d.op == DurationOp::kSub) out += '-';
      } else {
        WriteExpr(out, *d.lhs);
        absl::StrAppend(&out, " ", op, " ");
      }
      WriteExpr(out, *d.rhs);
    }
  }
  if (d.wrapped) out += ')';
}

void WriteExpr(std::string& out, const Expr& e) {
  switch (e.kind()) {
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      absl::StrAppend(&out, AggregateOpString(a.op));
      if (a.without) {
        absl::StrAppend(&out, " without (", LabelList(a.grouping), ") ");
      } else if (!a.grouping.empty()) {
        absl::StrAppend(&out, " by (", LabelList(a.grouping), ") ");
      }
      out += '(';
      if (a.param != nullptr) {
        WriteExpr(out, *a.param);
        out += ", ";
      }
      WriteExpr(out, *a.expr);
      out += ')';
      return;
    }
    case NodeKind::kBinaryExpr: {
      const Expr* leftmost = nullptr;
      std::vector<const BinaryExpr*> spine = LeftSpine(e, &leftmost);
      WriteExpr(out, *leftmost);
      for (const BinaryExpr* b : spine) {
        absl::StrAppend(&out, " ", BinaryOpString(b->op));
        if (b->return_bool) out += " bool";
        if (b->matching) WriteMatching(out, *b->matching);
        out += ' ';
        WriteExpr(out, *b->rhs);
      }
      return;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      absl::StrAppend(&out, c.func->name, "(");
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) out += ", ";
        WriteExpr(out, *c.args[i]);
      }
      out += ')';
      return;
    }
    case NodeKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(e);
      const auto* vs = As<VectorSelector>(m.vector_selector.get());
      if (vs == nullptr) {
        WriteExpr(out, *m.vector_selector);
        out += '[';
        WriteRange(out, m.range_ms, m.range_expr.get());
        out += ']';
        return;
      }
      WriteSelectorBody(out, *vs);
      out += '[';
      WriteRange(out, m.range_ms, m.range_expr.get());
      out += ']';
      WriteExtended(out, vs->anchored, vs->smoothed);
      WriteAt(out, vs->at);
      WriteOffset(out, vs->original_offset_ms, vs->offset_expr.get());
      return;
    }
    case NodeKind::kSubqueryExpr: {
      const auto& s = static_cast<const SubqueryExpr&>(e);
      WriteExpr(out, *s.expr);
      out += '[';
      WriteRange(out, s.range_ms, s.range_expr.get());
      out += ':';
      if (s.step_ms != 0 || s.step_expr != nullptr) {
        WriteRange(out, s.step_ms, s.step_expr.get());
      }
      out += ']';
      WriteAt(out, s.at);
      WriteOffset(out, s.original_offset_ms, s.offset_expr.get());
      return;
    }
    case NodeKind::kNumberLiteral: {
      const auto& n = static_cast<const NumberLiteral&>(e);
      if (n.duration) {
        // Go converts seconds to a time.Duration (truncating nanoseconds).
        if (n.value < 0) {
          absl::StrAppend(
              &out, "-",
              FormatDuration(static_cast<int64_t>(-n.value * 1e9) / 1000000));
        } else {
          out += FormatDuration(static_cast<int64_t>(n.value * 1e9) / 1000000);
        }
      } else {
        out += FormatFloat(n.value);
      }
      return;
    }
    case NodeKind::kStringLiteral:
      out += GoQuote(static_cast<const StringLiteral&>(e).value);
      return;
    case NodeKind::kParenExpr:
      out += '(';
      WriteExpr(out, *static_cast<const ParenExpr&>(e).expr);
      out += ')';
      return;
    case NodeKind::kUnaryExpr: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      out += u.op == UnaryOp::kSub ? '-' : '+';
      WriteExpr(out, *u.expr);
      return;
    }
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      WriteSelectorBody(out, vs);
      WriteAt(out, vs.at);
      WriteExtended(out, vs.anchored, vs.smoothed);
      WriteOffset(out, vs.original_offset_ms, vs.offset_expr.get());
      return;
    }
    case NodeKind::kDurationExpr:
      WriteDurationExpr(out, static_cast<const DurationExpr&>(e));
      return;
  }
}

// The children Prometheus's Tree() shows.
std::vector<const Expr*> Children(const Expr& e) {
  switch (e.kind()) {
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param != nullptr) return {a.param.get(), a.expr.get()};
      return {a.expr.get()};
    }
    case NodeKind::kBinaryExpr: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return {b.lhs.get(), b.rhs.get()};
    }
    case NodeKind::kCall: {
      std::vector<const Expr*> out;
      for (const auto& a : static_cast<const Call&>(e).args) {
        out.push_back(a.get());
      }
      return out;
    }
    case NodeKind::kMatrixSelector:
      return {static_cast<const MatrixSelector&>(e).vector_selector.get()};
    case NodeKind::kSubqueryExpr:
      return {static_cast<const SubqueryExpr&>(e).expr.get()};
    case NodeKind::kParenExpr:
      return {static_cast<const ParenExpr&>(e).expr.get()};
    case NodeKind::kUnaryExpr:
      return {static_cast<const UnaryExpr&>(e).expr.get()};
    default:
      return {};
  }
}

void WriteTree(std::string& out, const Expr& root) {
  // Depth-first with an explicit stack: (node, depth).
  std::vector<std::pair<const Expr*, int>> stack = {{&root, 0}};
  while (!stack.empty()) {
    auto [e, depth] = stack.back();
    stack.pop_back();
    for (int i = 0; i < depth; ++i) out += " · · ·";
    absl::StrAppend(&out, " |---- ", NodeKindName(e->kind()), " <",
                    e->pos.start, ":", e->pos.end, "> :: ", ExprToString(*e),
                    "\n");
    std::vector<const Expr*> children = Children(*e);
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      stack.emplace_back(*it, depth + 1);
    }
  }
}

bool SameNumber(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

bool SameExpr(const Expr* a, const Expr* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return ExprEqual(*a, *b);
}

bool SameAt(const AtModifier& a, const AtModifier& b) {
  return a.kind == b.kind && a.timestamp_ms == b.timestamp_ms;
}

// Matchers compare as sets: the printer sorts them.
bool SameMatchers(const std::vector<Matcher>& a,
                  const std::vector<Matcher>& b) {
  if (a.size() != b.size()) return false;
  for (const Matcher& m : a) {
    if (std::find(b.begin(), b.end(), m) == b.end()) return false;
  }
  return true;
}

bool SameFill(const std::optional<double>& a, const std::optional<double>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  return SameNumber(*a, *b);
}

// A binary node's own attributes (not its operands).
bool SameBinaryNode(const BinaryExpr& x, const BinaryExpr& y) {
  if (x.op != y.op || x.return_bool != y.return_bool ||
      x.matching.has_value() != y.matching.has_value()) {
    return false;
  }
  if (!x.matching) return true;
  const VectorMatching& m = *x.matching;
  const VectorMatching& n = *y.matching;
  return m.card == n.card && m.on == n.on &&
         m.matching_labels == n.matching_labels && m.include == n.include &&
         SameFill(m.fill_lhs, n.fill_lhs) && SameFill(m.fill_rhs, n.fill_rhs);
}

}  // namespace

std::string ExprToString(const Expr& expr) {
  std::string out;
  WriteExpr(out, expr);
  return out;
}

std::string ExprTreeString(const Expr& expr) {
  std::string out;
  WriteTree(out, expr);
  return out;
}

bool ExprEqual(const Expr& a, const Expr& b) {
  if (a.kind() != b.kind()) return false;
  if (a.kind() == NodeKind::kBinaryExpr) {
    const Expr* a_leftmost = nullptr;
    const Expr* b_leftmost = nullptr;
    std::vector<const BinaryExpr*> x = LeftSpine(a, &a_leftmost);
    std::vector<const BinaryExpr*> y = LeftSpine(b, &b_leftmost);
    if (x.size() != y.size() || !ExprEqual(*a_leftmost, *b_leftmost)) {
      return false;
    }
    for (size_t i = 0; i < x.size(); ++i) {
      if (!SameBinaryNode(*x[i], *y[i]) || !ExprEqual(*x[i]->rhs, *y[i]->rhs)) {
        return false;
      }
    }
    return true;
  }
  switch (a.kind()) {
    case NodeKind::kAggregateExpr: {
      const auto& x = static_cast<const AggregateExpr&>(a);
      const auto& y = static_cast<const AggregateExpr&>(b);
      return x.op == y.op && x.without == y.without &&
             x.grouping == y.grouping &&
             SameExpr(x.param.get(), y.param.get()) &&
             SameExpr(x.expr.get(), y.expr.get());
    }
    case NodeKind::kBinaryExpr:  // Handled above.
      return false;
    case NodeKind::kCall: {
      const auto& x = static_cast<const Call&>(a);
      const auto& y = static_cast<const Call&>(b);
      if (x.func != y.func || x.args.size() != y.args.size()) return false;
      for (size_t i = 0; i < x.args.size(); ++i) {
        if (!ExprEqual(*x.args[i], *y.args[i])) return false;
      }
      return true;
    }
    case NodeKind::kMatrixSelector: {
      const auto& x = static_cast<const MatrixSelector&>(a);
      const auto& y = static_cast<const MatrixSelector&>(b);
      return x.range_ms == y.range_ms &&
             SameExpr(x.range_expr.get(), y.range_expr.get()) &&
             ExprEqual(*x.vector_selector, *y.vector_selector);
    }
    case NodeKind::kSubqueryExpr: {
      const auto& x = static_cast<const SubqueryExpr&>(a);
      const auto& y = static_cast<const SubqueryExpr&>(b);
      return x.range_ms == y.range_ms && x.step_ms == y.step_ms &&
             x.original_offset_ms == y.original_offset_ms &&
             SameAt(x.at, y.at) &&
             SameExpr(x.range_expr.get(), y.range_expr.get()) &&
             SameExpr(x.step_expr.get(), y.step_expr.get()) &&
             SameExpr(x.offset_expr.get(), y.offset_expr.get()) &&
             ExprEqual(*x.expr, *y.expr);
    }
    case NodeKind::kNumberLiteral: {
      const auto& x = static_cast<const NumberLiteral&>(a);
      const auto& y = static_cast<const NumberLiteral&>(b);
      return x.duration == y.duration && SameNumber(x.value, y.value);
    }
    case NodeKind::kStringLiteral:
      return static_cast<const StringLiteral&>(a).value ==
             static_cast<const StringLiteral&>(b).value;
    case NodeKind::kParenExpr:
      return ExprEqual(*static_cast<const ParenExpr&>(a).expr,
                       *static_cast<const ParenExpr&>(b).expr);
    case NodeKind::kUnaryExpr: {
      const auto& x = static_cast<const UnaryExpr&>(a);
      const auto& y = static_cast<const UnaryExpr&>(b);
      return x.op == y.op && ExprEqual(*x.expr, *y.expr);
    }
    case NodeKind::kVectorSelector: {
      const auto& x = static_cast<const VectorSelector&>(a);
      const auto& y = static_cast<const VectorSelector&>(b);
      return x.name == y.name && SameMatchers(x.matchers, y.matchers) &&
             x.original_offset_ms == y.original_offset_ms &&
             SameExpr(x.offset_expr.get(), y.offset_expr.get()) &&
             SameAt(x.at, y.at) && x.anchored == y.anchored &&
             x.smoothed == y.smoothed;
    }
    case NodeKind::kDurationExpr: {
      const auto& x = static_cast<const DurationExpr&>(a);
      const auto& y = static_cast<const DurationExpr&>(b);
      return x.op == y.op && x.wrapped == y.wrapped &&
             SameExpr(x.lhs.get(), y.lhs.get()) &&
             SameExpr(x.rhs.get(), y.rhs.get());
    }
  }
  return false;
}

}  // namespace promeval
