// Turns the generated parser's tree into the typed AST (promeval/ast.h),
// performing the checks Prometheus does in its grammar actions (unknown
// functions, offset/@ placement, duration values, experimental features...).
//
// This and parser.cc / error_listener.cc are the only files that include the
// generated ANTLR headers.
#ifndef PROMEVAL_PARSER_AST_BUILDER_H_
#define PROMEVAL_PARSER_AST_BUILDER_H_

#include <vector>

#include "PromQLParser.h"
#include "absl/strings/string_view.h"
#include "promeval/ast.h"
#include "promeval/parser.h"

namespace promeval::parser_internal {

// Builds the tree for a successful parse of `input`. Errors are appended to
// `errors` in the order Prometheus reports them; the returned tree is only
// meaningful when no error was added.
ExprPtr BuildAst(antlr::PromQLParser::ExprContext* tree,
                 absl::string_view input, const ParseOptions& options,
                 std::vector<ParseError>& errors);

}  // namespace promeval::parser_internal

#endif  // PROMEVAL_PARSER_AST_BUILDER_H_
