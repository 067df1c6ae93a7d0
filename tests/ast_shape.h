// A compact S-expression of an AST for tests: the structure (precedence,
// grouping, modifiers) without positions.
//
//   sum by (job) (rate(x[5m])) / 2   ->   (/ (sum by(job) (rate (range 5m
//   vs(x)))) 2)
#ifndef PROMEVAL_TESTS_AST_SHAPE_H_
#define PROMEVAL_TESTS_AST_SHAPE_H_

#include <string>

#include "promeval/ast.h"

namespace promeval::testing {

std::string AstShape(const Expr& expr);

}  // namespace promeval::testing

#endif  // PROMEVAL_TESTS_AST_SHAPE_H_
