// Parsing PromQL text into the AST (ast.h), with Prometheus's error messages.
//
// ParseExpr() runs the grammar (grammar/PromQL.g4), builds the typed tree and
// type-checks it as Prometheus's checkAST does. Errors read exactly like
// Prometheus's: "1:15: parse error: unexpected <op:+>", positions in bytes.
//
// Thread-safety: all functions may be called concurrently from any number of
// threads; the function table is immutable.
#ifndef PROMEVAL_PARSER_H_
#define PROMEVAL_PARSER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "promeval/ast.h"

namespace promeval {

// Experimental syntax, each behind the feature flag Prometheus uses for it.
struct ParseOptions {
  // --enable-feature=promql-experimental-functions: experimental functions,
  // limitk and limit_ratio.
  bool experimental_functions = false;
  // --enable-feature=promql-duration-expr: arithmetic, step(), range(),
  // min_of(), max_of() in ranges, steps and offsets.
  bool duration_expressions = false;
  // --enable-feature=promql-extended-range-selectors: anchored, smoothed.
  bool extended_range_selectors = false;
  // --enable-feature=promql-binop-fill-modifiers: fill(), fill_left(),
  // fill_right().
  bool binop_fill_modifiers = false;

  // Everything enabled, as Prometheus's promqltest scripts are parsed.
  static ParseOptions AllEnabled();
};

// Turns on the parser part of a Prometheus feature flag. Returns false if
// `flag` is not a parser feature (it may be an engine feature).
bool EnableParserFeature(absl::string_view flag, ParseOptions& options);

// Expressions nesting deeper than this are rejected with a parse error
// instead of exhausting the stack: the depth counts open brackets plus, at
// each bracket level, the run of unary operators, `^` operators and postfix
// modifiers (offset, @, [range]). Chains of left-associative operators
// (`a or b or ...`) may be of any length.
inline constexpr int kMaxParseDepth = 256;

struct ParseError {
  PositionRange pos;
  std::string message;
  // "line:col: parse error: message".
  std::string ToString(absl::string_view input) const;
};

// Parses and type-checks `input`. On failure the status (kInvalidArgument)
// carries the first error formatted as Prometheus prints it.
absl::StatusOr<ExprPtr> ParseExpr(absl::string_view input,
                                  const ParseOptions& options = {});

// Like ParseExpr(), but returns every error Prometheus would report, in its
// order. `expr` is null iff `errors` is non-empty.
struct ParseOutcome {
  ExprPtr expr;
  std::vector<ParseError> errors;
};
ParseOutcome ParseExprWithErrors(absl::string_view input,
                                 const ParseOptions& options = {});

// Parses many expressions (a rule file's), with the results of
// ParseExprWithErrors. The generated parser's tree depends only on the types
// of the tokens, in order: for an expression whose token types equal those
// of one parsed before, the earlier tree takes the new tokens instead of the
// grammar being run again (the AST is then built and checked from them as
// usual). Rules written from the same pattern (`sum by (job)
// (rate(X[5m]))` for many X) share their parse. A tree is kept for a
// sequence of token types once it occurs a second time, for at most
// kMostTrees of them (the least recently used goes). Not thread-safe: one
// per thread.
class ExprParser {
 public:
  explicit ExprParser(const ParseOptions& options = {});
  ~ExprParser();
  ExprParser(const ExprParser&) = delete;
  ExprParser& operator=(const ExprParser&) = delete;

  ParseOutcome Parse(absl::string_view input);

  static constexpr size_t kMostTrees = 128;

 private:
  struct Tree;
  ParseOptions options_;
  // Token types, one byte each, of the expressions parsed.
  absl::flat_hash_set<std::string> seen_;
  // Kept trees by their token types.
  absl::flat_hash_map<std::string, std::unique_ptr<Tree>> trees_;
  uint64_t uses_ = 0;  // Parses, to find the least recently used tree.
};

// The signature of a PromQL function (Prometheus's parser.Function), and
// the properties of the function that decide how queries and rules using it
// are evaluated (which Prometheus keeps in lists beside the function
// table).
struct FunctionSignature {
  absl::string_view name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types; n > 0: up to n optional trailing arguments of the
  // last type; -1: any number of them.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  bool experimental = false;
  // Its value depends on the evaluation time even when its arguments do not
  // (Prometheus's AtModifierUnsafeFunctions): a call is never step
  // invariant, and `@` cannot pin it.
  bool at_modifier_unsafe = false;
  // It reads series that none of its arguments select (info(): the info
  // series), so what it reads cannot be told from its selectors.
  bool reads_unselected_series = false;
};

// Every function of Prometheus 3.14, sorted by name.
absl::Span<const FunctionSignature> AllFunctions();

// The function named `name` (case-sensitive), or nullptr.
const FunctionSignature* LookupFunction(absl::string_view name);

}  // namespace promeval

#endif  // PROMEVAL_PARSER_H_
