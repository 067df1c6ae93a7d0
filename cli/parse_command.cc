// `promeval parse`: prints the canonical form (or tree) of an expression, or
// the positioned error with a caret under the expression.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/data.h"
#include "cli/messages.h"
#include "promeval/parser.h"

namespace promeval::cli {

void RegisterParse(CLI::App& app, int& exit_code) {
  struct Options {
    bool tree = false;
    std::vector<std::string> features;
    std::string expr;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "parse",
      "Parse a PromQL expression and print its canonical form (Prometheus's "
      "formatting) or its syntax tree. A bad expression prints the error "
      "with its position and exits with status 1.");
  cmd->add_flag("--tree", options->tree,
                "Print the syntax tree: one node per line with its kind, byte "
                "range and text.");
  AddFeatureOption(*cmd, options->features);
  cmd->add_option("expr", options->expr, "The PromQL expression.")->required();
  cmd->callback([options, &exit_code] {
    EngineOptions engine_options;
    if (!ApplyFeatures("promeval parse", options->features, engine_options)) {
      exit_code = 2;
      return;
    }
    const ParseOptions& parse_options = engine_options.parser;
    ParseOutcome outcome = ParseExprWithErrors(options->expr, parse_options);
    if (!outcome.errors.empty()) {
      for (const ParseError& e : outcome.errors) {
        std::cerr << WithCaret(e.ToString(options->expr), options->expr,
                               e.pos.start);
      }
      exit_code = 1;
      return;
    }
    if (options->tree) {
      std::cout << ExprTreeString(*outcome.expr);
    } else {
      std::cout << ExprToString(*outcome.expr) << "\n";
    }
  });
}

}  // namespace promeval::cli
