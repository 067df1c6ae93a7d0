// Fuzzes the PromQL parser: any input parses or fails with a positioned
// error, and an expression that parses prints (ExprToString) as text that
// parses back to the same tree and prints the same again. The hand-written
// token scanner must agree with the grammar's generated lexer at every
// position of the input, and an ExprParser kept across inputs (which reuses
// the tree of an earlier input with the same token types) must give what
// parsing the input alone gives.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "parser/grammar_lexer.h"
#include "parser/token_source.h"
#include "promeval/ast.h"
#include "promeval/parser.h"
#include "promeval/text.h"

namespace {

[[noreturn]] void Fail(const char* what, absl::string_view input,
                       const std::string& printed, const std::string& detail) {
  std::fprintf(stderr, "%s\ninput:   %.*s\nprinted: %s\n%s\n", what,
               static_cast<int>(input.size()), input.data(), printed.c_str(),
               detail.c_str());
  std::abort();
}

// Whether `printed` holds a duration of 2^53 ns (about 104 days) or more
// whose milliseconds a float64 cannot hold exactly. Prometheus turns literal
// durations into float seconds and back, so such durations may print a
// millisecond off and drift on every parse; the round trip is not checked
// for them.
bool HasInexactDuration(absl::string_view printed) {
  constexpr int64_t kExactMs = (int64_t{1} << 53) / 1000000;
  size_t i = 0;
  while (i < printed.size()) {
    if (!absl::ascii_isdigit(printed[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < printed.size() && absl::ascii_isalnum(printed[j])) ++j;
    absl::StatusOr<int64_t> ms =
        promeval::ParseDuration(printed.substr(i, j - i));
    if (ms.ok() && *ms >= kExactMs) return true;
    i = j;
  }
  return false;
}

// Whether an infinite number literal is the base of a power. Prometheus
// prints it with its sign (`+Inf ^ 2`), which parses back as a unary sign
// over the power (`+(Inf ^ 2)`): the same value, another tree, and printing
// that adds a sign each time (`++Inf ^ 2`). Only "printed text parses" is
// checked for such trees: Prometheus's own round trip fails the same way.
bool HasInfinitePowerBase(const promeval::Expr& e) {
  bool found = false;
  promeval::Inspect(e, [&](const promeval::Expr& n) {
    const auto* b = promeval::As<promeval::BinaryExpr>(&n);
    if (b == nullptr || b->op != promeval::BinaryOp::kPow) return;
    const auto* lit = promeval::As<promeval::NumberLiteral>(b->lhs.get());
    if (lit != nullptr && std::isinf(lit->value)) found = true;
  });
  return found;
}

// Compares ExprParser, which has seen the earlier inputs, with parsing the
// input alone.
void CheckExprParser(absl::string_view input,
                     const promeval::ParseOptions& options,
                     const promeval::ParseOutcome& alone) {
  static auto* const shared = new promeval::ExprParser(options);
  promeval::ParseOutcome outcome = shared->Parse(input);
  std::string want, got;
  for (const promeval::ParseError& e : alone.errors) {
    absl::StrAppend(&want, e.ToString(input), "\n");
  }
  for (const promeval::ParseError& e : outcome.errors) {
    absl::StrAppend(&got, e.ToString(input), "\n");
  }
  if (alone.expr != nullptr) want = promeval::ExprTreeString(*alone.expr);
  if (outcome.expr != nullptr) got = promeval::ExprTreeString(*outcome.expr);
  if (got != want) {
    Fail("ExprParser gives another result", input, "", want + "---\n" + got);
  }
}

// Compares ScanRawToken() with the generated lexer at every code point.
void CheckScanner(absl::string_view input) {
  using promeval::parser_internal::GrammarLexer;
  GrammarLexer grammar(input);
  for (int pos : grammar.code_points()) {
    std::string why;
    if (!promeval::parser_internal::SameRawToken(
            promeval::parser_internal::ScanRawToken(input, pos),
            grammar.TokenAt(pos), input, &why)) {
      Fail("the scanner and the grammar's lexer disagree", input, "",
           absl::StrCat("at byte ", pos, ": ", why));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  CheckScanner(input);
  static const promeval::ParseOptions options =
      promeval::ParseOptions::AllEnabled();
  promeval::ParseOutcome outcome =
      promeval::ParseExprWithErrors(input, options);
  CheckExprParser(input, options, outcome);
  if (!outcome.errors.empty()) {
    for (const promeval::ParseError& e : outcome.errors) {
      // Positions stay inside the input (the end may be one past it).
      if (e.pos.start < 0 || e.pos.start > static_cast<int>(size)) {
        Fail("error position outside the input", input, "", e.ToString(input));
      }
    }
    return 0;
  }
  const std::string printed = promeval::ExprToString(*outcome.expr);
  if (HasInexactDuration(printed)) return 0;
  absl::StatusOr<promeval::ExprPtr> again =
      promeval::ParseExpr(printed, options);
  if (!again.ok()) {
    Fail("printed expression does not parse", input, printed,
         std::string(again.status().message()));
  }
  if (HasInfinitePowerBase(*outcome.expr)) return 0;
  if (!promeval::ExprEqual(*outcome.expr, **again)) {
    Fail("printed expression parses to a different tree", input, printed,
         promeval::ExprTreeString(*outcome.expr) + "---\n" +
             promeval::ExprTreeString(**again));
  }
  const std::string printed_again = promeval::ExprToString(**again);
  if (printed_again != printed) {
    Fail("printing is not stable", input, printed, printed_again);
  }
  return 0;
}
