#include "tests/ast_shape.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "promeval/parser.h"
#include "promeval/text.h"

namespace promeval::testing {
namespace {

std::string Labels(const std::vector<std::string>& labels) {
  return absl::StrCat("(", absl::StrJoin(labels, ","), ")");
}

std::string Duration(int64_t ms, const ExprPtr& expr) {
  return expr != nullptr ? absl::StrCat("{", ExprToString(*expr), "}")
                         : FormatDuration(ms);
}

std::string Matching(const VectorMatching& m) {
  std::string out;
  switch (m.card) {
    case VectorMatchCardinality::kOneToOne:
      break;
    case VectorMatchCardinality::kManyToOne:
      out += " group_left";
      break;
    case VectorMatchCardinality::kOneToMany:
      out += " group_right";
      break;
    case VectorMatchCardinality::kManyToMany:
      out += " many";
      break;
  }
  if (m.card == VectorMatchCardinality::kManyToOne ||
      m.card == VectorMatchCardinality::kOneToMany) {
    out += Labels(m.include);
  }
  if (m.on || !m.matching_labels.empty()) {
    absl::StrAppend(&out, m.on ? " on" : " ignoring",
                    Labels(m.matching_labels));
  }
  if (m.fill_lhs)
    absl::StrAppend(&out, " fill_left=", FormatFloat(*m.fill_lhs));
  if (m.fill_rhs)
    absl::StrAppend(&out, " fill_right=", FormatFloat(*m.fill_rhs));
  return out;
}

}  // namespace

std::string AstShape(const Expr& e) {
  switch (e.kind()) {
    case NodeKind::kAggregateExpr: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      std::string out = absl::StrCat("(", AggregateOpString(a.op));
      if (a.without) {
        absl::StrAppend(&out, " without", Labels(a.grouping));
      } else if (!a.grouping.empty()) {
        absl::StrAppend(&out, " by", Labels(a.grouping));
      }
      if (a.param != nullptr) absl::StrAppend(&out, " ", AstShape(*a.param));
      absl::StrAppend(&out, " ", AstShape(*a.expr), ")");
      return out;
    }
    case NodeKind::kBinaryExpr: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return absl::StrCat("(", BinaryOpString(b.op),
                          b.return_bool ? " bool" : "",
                          b.matching ? Matching(*b.matching) : "", " ",
                          AstShape(*b.lhs), " ", AstShape(*b.rhs), ")");
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      std::string out = absl::StrCat("(", c.func->name);
      for (const auto& arg : c.args) absl::StrAppend(&out, " ", AstShape(*arg));
      return out + ")";
    }
    case NodeKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(e);
      return absl::StrCat("(range ", Duration(m.range_ms, m.range_expr), " ",
                          AstShape(*m.vector_selector), ")");
    }
    case NodeKind::kSubqueryExpr: {
      const auto& s = static_cast<const SubqueryExpr&>(e);
      std::string out =
          absl::StrCat("(subquery ", Duration(s.range_ms, s.range_expr), ":");
      if (s.step_ms != 0 || s.step_expr != nullptr) {
        out += Duration(s.step_ms, s.step_expr);
      }
      if (s.at.kind == AtModifier::Kind::kTimestamp) {
        absl::StrAppend(&out, " @", s.at.timestamp_ms, "ms");
      } else if (s.at.is_set()) {
        out += s.at.kind == AtModifier::Kind::kStart ? " @start" : " @end";
      }
      if (s.offset_expr != nullptr) {
        absl::StrAppend(&out, " offset{", ExprToString(*s.offset_expr), "}");
      } else if (s.original_offset_ms != 0) {
        absl::StrAppend(&out, " offset", s.original_offset_ms, "ms");
      }
      absl::StrAppend(&out, " ", AstShape(*s.expr), ")");
      return out;
    }
    case NodeKind::kNumberLiteral: {
      const auto& n = static_cast<const NumberLiteral&>(e);
      return n.duration ? absl::StrCat("dur:", ExprToString(n))
                        : FormatFloat(n.value);
    }
    case NodeKind::kStringLiteral:
      return GoQuote(static_cast<const StringLiteral&>(e).value);
    case NodeKind::kParenExpr:
      return absl::StrCat(
          "(paren ", AstShape(*static_cast<const ParenExpr&>(e).expr), ")");
    case NodeKind::kUnaryExpr: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return absl::StrCat("(", u.op == UnaryOp::kSub ? "-" : "+", " ",
                          AstShape(*u.expr), ")");
    }
    case NodeKind::kVectorSelector:
      return absl::StrCat("vs(", ExprToString(e), ")");
    case NodeKind::kDurationExpr:
      return absl::StrCat("{", ExprToString(e), "}");
  }
  return "?";
}

}  // namespace promeval::testing
