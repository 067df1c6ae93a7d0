// Subcommands of the promeval command line tool. Each Register* function adds
// its subcommand to the CLI11 app; the callback sets the process exit code.
#ifndef PROMEVAL_CLI_COMMANDS_H_
#define PROMEVAL_CLI_COMMANDS_H_

#include "CLI/CLI.hpp"

namespace promeval::cli {

// `promeval parse [--tree] [--enable-feature=...] EXPR`.
void RegisterParse(CLI::App& app, int& exit_code);

// `promeval query ... EXPR` and `promeval query-range ... EXPR`.
void RegisterQuery(CLI::App& app, int& exit_code);

// `promeval check rules [--lint=...] [--lint-fatal] [--ignore-unknown-fields]
// FILE...`: validates rule files as `promtool check rules`.
void RegisterCheck(CLI::App& app, int& exit_code);

// `promeval test [--skips FILE] FILE.test...`, with the `rules` subcommand.
void RegisterTest(CLI::App& app, int& exit_code);

// `promeval test rules [--run REGEX] [--junit FILE] FILE.yml...`: a
// subcommand of `test`.
CLI::App* RegisterTestRules(CLI::App& test, int& exit_code);

// `promeval rules eval RULES.yml... --data FILE... --start T --end T`.
void RegisterRules(CLI::App& app, int& exit_code);

// `promeval tsdb info [--format text|json] DIR...`.
void RegisterTsdb(CLI::App& app, int& exit_code);

}  // namespace promeval::cli

#endif  // PROMEVAL_CLI_COMMANDS_H_
