// The PromQL abstract syntax tree.
//
// Node names and fields follow Prometheus's promql/parser/ast.go. Every node
// carries its PositionRange: byte offsets [start, end) into the parsed text.
// A tree owns its children through unique_ptr; it is built by ParseExpr()
// (parser.h) and is immutable afterwards. (Prometheus's StepInvariantExpr,
// which its engine wraps around subtrees evaluated once, has no node here:
// promeval's engine keeps those subtrees in a set beside the tree.)
//
// Thread-safety: a tree may be read from many threads at once; it must not be
// modified while it is being read.
#ifndef PROMEVAL_AST_H_
#define PROMEVAL_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "promeval/labels.h"

namespace promeval {

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// Prometheus's DocumentedType: "scalar", "instant vector", "range vector",
// "string", "none".
absl::string_view DocumentedType(ValueType type);

// Prometheus's ValueType strings: "scalar", "vector", "matrix", "string",
// "none".
absl::string_view ValueTypeName(ValueType type);

// Byte offsets [start, end) into the parsed text.
struct PositionRange {
  int start = 0;
  int end = 0;
  friend bool operator==(const PositionRange&, const PositionRange&) = default;
};

// "line:col" (1-based; col counts bytes) of `pos` in `input`, as Prometheus's
// PositionRange.StartPosInput.
std::string LineColumn(absl::string_view input, int pos);

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEqlc,  // ==
  kNeq,
  kLss,
  kLte,
  kGtr,
  kGte,
  kTrimUpper,  // </ (native histograms)
  kTrimLower,  // >/ (native histograms)
  kAnd,
  kOr,
  kUnless,
};
absl::string_view BinaryOpString(BinaryOp op);
bool IsComparisonOp(BinaryOp op);
bool IsSetOp(BinaryOp op);

enum class UnaryOp { kAdd, kSub };

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
  kLimitk,
  kLimitRatio,
};
absl::string_view AggregateOpString(AggregateOp op);
// topk, bottomk, count_values, quantile, limitk, limit_ratio.
bool AggregateOpHasParam(AggregateOp op);

enum class NodeKind {
  kAggregateExpr,
  kBinaryExpr,
  kCall,
  kMatrixSelector,
  kSubqueryExpr,
  kNumberLiteral,
  kStringLiteral,
  kParenExpr,
  kUnaryExpr,
  kVectorSelector,
  kDurationExpr,
};
absl::string_view NodeKindName(NodeKind kind);

struct FunctionSignature;  // parser.h

class Expr {
 public:
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  virtual ~Expr() = default;

  NodeKind kind() const { return kind_; }
  // The result type, as Prometheus's Expr.Type().
  ValueType type() const;

  PositionRange pos;

 protected:
  Expr(NodeKind kind, PositionRange p) : pos(p), kind_(kind) {}

 private:
  NodeKind kind_;
};

using ExprPtr = std::unique_ptr<Expr>;

// Downcast helpers: `As<VectorSelector>(e)` returns nullptr if `e` is another
// kind.
template <typename T>
const T* As(const Expr* e) {
  return e != nullptr && e->kind() == T::kKind ? static_cast<const T*>(e)
                                               : nullptr;
}
template <typename T>
T* As(Expr* e) {
  return e != nullptr && e->kind() == T::kKind ? static_cast<T*>(e) : nullptr;
}

// The @ modifier of a selector or subquery.
struct AtModifier {
  enum class Kind { kNone, kTimestamp, kStart, kEnd };
  Kind kind = Kind::kNone;
  int64_t timestamp_ms = 0;  // For kTimestamp.
  bool is_set() const { return kind != Kind::kNone; }
};

enum class DurationOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kStep,   // step()
  kRange,  // range()
  kMinOf,  // min_of(a, b)
  kMaxOf,  // max_of(a, b)
};

// An experimental duration expression (`[5m + step()]`, `offset -(1m * 2)`).
// Unary minus is kSub with only `rhs`; unary plus is kAdd with only `rhs`.
// Operands are NumberLiterals (seconds) or DurationExprs.
struct DurationExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kDurationExpr;
  explicit DurationExpr(PositionRange p) : Expr(kKind, p) {}
  DurationOp op = DurationOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool wrapped = false;  // Written in parentheses.
};

struct NumberLiteral final : Expr {
  static constexpr NodeKind kKind = NodeKind::kNumberLiteral;
  NumberLiteral(double v, PositionRange p) : Expr(kKind, p), value(v) {}
  double value;
  bool duration = false;  // Written as a duration (prints as one).
};

struct StringLiteral final : Expr {
  static constexpr NodeKind kKind = NodeKind::kStringLiteral;
  StringLiteral(std::string v, PositionRange p)
      : Expr(kKind, p), value(std::move(v)) {}
  std::string value;
};

struct VectorSelector final : Expr {
  static constexpr NodeKind kKind = NodeKind::kVectorSelector;
  explicit VectorSelector(PositionRange p) : Expr(kKind, p) {}
  // The name written before the braces ("" if none). A __name__ matcher for
  // it is the last element of `matchers`.
  std::string name;
  std::vector<Matcher> matchers;
  int64_t original_offset_ms = 0;
  std::unique_ptr<Expr> offset_expr;  // Duration expression offset, if any.
  AtModifier at;
  bool anchored = false;  // Experimental range modifiers.
  bool smoothed = false;
  // info()'s second argument may select no metric name.
  bool bypass_empty_matcher_check = false;
};

struct MatrixSelector final : Expr {
  static constexpr NodeKind kKind = NodeKind::kMatrixSelector;
  explicit MatrixSelector(PositionRange p) : Expr(kKind, p) {}
  // A VectorSelector once the tree has passed the parser's checks.
  ExprPtr vector_selector;
  int64_t range_ms = 0;
  ExprPtr range_expr;  // Duration expression range, if any.
};

struct SubqueryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kSubqueryExpr;
  explicit SubqueryExpr(PositionRange p) : Expr(kKind, p) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  ExprPtr range_expr;
  int64_t step_ms = 0;  // 0: the engine's default step.
  ExprPtr step_expr;
  int64_t original_offset_ms = 0;
  ExprPtr offset_expr;
  AtModifier at;
};

struct Call final : Expr {
  static constexpr NodeKind kKind = NodeKind::kCall;
  Call(const FunctionSignature* f, PositionRange p) : Expr(kKind, p), func(f) {}
  const FunctionSignature* func;
  std::vector<ExprPtr> args;
};

struct AggregateExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kAggregateExpr;
  AggregateExpr(AggregateOp o, PositionRange p) : Expr(kKind, p), op(o) {}
  AggregateOp op;
  ExprPtr expr;
  ExprPtr param;  // For ops with a parameter.
  std::vector<std::string> grouping;
  bool without = false;
};

enum class VectorMatchCardinality {
  kOneToOne,
  kManyToOne,   // group_left
  kOneToMany,   // group_right
  kManyToMany,  // set operators
};

struct VectorMatching {
  VectorMatchCardinality card = VectorMatchCardinality::kOneToOne;
  // on(...) / ignoring(...) labels.
  std::vector<std::string> matching_labels;
  bool on = false;
  // group_left(...) / group_right(...) labels copied from the "one" side.
  std::vector<std::string> include;
  // Experimental fill(), fill_left(), fill_right().
  std::optional<double> fill_lhs;
  std::optional<double> fill_rhs;
};

// Chains of left-associative operators (`a or b or c ...`) may nest
// arbitrarily deep on the left; code walking the tree follows `lhs`
// iteratively (see promeval::LeftSpine).
struct BinaryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kBinaryExpr;
  BinaryExpr(BinaryOp o, PositionRange p) : Expr(kKind, p), op(o) {}
  // Frees a long left-nested chain without recursing on it.
  ~BinaryExpr() override;
  BinaryOp op;
  ExprPtr lhs;
  ExprPtr rhs;
  // Set when both sides are instant vectors.
  std::optional<VectorMatching> matching;
  bool return_bool = false;
};

struct UnaryExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kUnaryExpr;
  UnaryExpr(UnaryOp o, PositionRange p) : Expr(kKind, p), op(o) {}
  UnaryOp op;
  ExprPtr expr;
};

struct ParenExpr final : Expr {
  static constexpr NodeKind kKind = NodeKind::kParenExpr;
  explicit ParenExpr(PositionRange p) : Expr(kKind, p) {}
  ExprPtr expr;
};

// The binary expressions along the left operands of `e`, innermost first:
// for `(a + b) - c` the `+` node then the `-` node. Empty if `e` is not a
// BinaryExpr. `*leftmost` is set to the first non-binary left operand.
std::vector<const BinaryExpr*> LeftSpine(const Expr& e, const Expr** leftmost);
std::vector<BinaryExpr*> LeftSpine(Expr& e, Expr** leftmost);

// Calls `visit` on every node of the tree, parents before children and
// operands left to right (Prometheus's parser.Inspect). Operator chains are
// walked without recursing along their left operands. Duration expressions
// (ranges, offsets and steps written as expressions) are not visited.
void Inspect(const Expr& e, absl::FunctionRef<void(const Expr&)> visit);

// Prometheus's canonical text of an expression (its String()).
std::string ExprToString(const Expr& expr);

// The tree as indented lines, one node per line with its kind, position
// range and text.
std::string ExprTreeString(const Expr& expr);

// Structural equality of two trees (positions are ignored).
bool ExprEqual(const Expr& a, const Expr& b);

}  // namespace promeval

#endif  // PROMEVAL_AST_H_
