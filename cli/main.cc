// promeval: PromQL parsing, evaluation and rule testing without a server.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app(
      "promeval: evaluate PromQL queries and Prometheus rules without a "
      "server.",
      "promeval");
  app.set_version_flag("--version",
                       std::string("promeval ") + PROMEVAL_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  promeval::cli::RegisterParse(app, exit_code);
  promeval::cli::RegisterQuery(app, exit_code);
  promeval::cli::RegisterTest(app, exit_code);
  promeval::cli::RegisterRules(app, exit_code);
  promeval::cli::RegisterCheck(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit with status 2 (CLI11 has a code per kind of error).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
