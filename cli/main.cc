// promeval: PromQL parsing, evaluation and rule testing without a server.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/messages.h"

namespace {

// For a command line whose word after the deepest command it selected names
// none of that command's subcommands (`promeval querry`, `promeval check
// rulez`): "promeval check: unknown command ..." with the nearest names.
// Nullopt for other usage errors.
std::optional<std::string> UnknownCommand(const CLI::App& app) {
  const CLI::App* cmd = &app;
  std::string path = app.get_name();
  while (!cmd->get_subcommands().empty()) {
    cmd = cmd->get_subcommands().front();
    path += " " + cmd->get_name();
  }
  std::vector<std::string> names;
  for (const CLI::App* sub :
       cmd->get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  std::vector<std::string> words = cmd->remaining();
  if (names.empty() || words.empty() || words[0].empty() ||
      words[0][0] == '-') {
    return std::nullopt;
  }
  return promeval::cli::UnknownCommandMessage(path, words[0], names);
}

}  // namespace

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
  promeval::cli::RegisterTsdb(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::optional<std::string> unknown;
    if (e.get_exit_code() != 0) unknown = UnknownCommand(app);
    if (unknown.has_value()) {
      std::cerr << *unknown << "\n";
      return 2;
    }
    // Usage errors exit with status 2 (CLI11 has a code per kind of error).
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
