// `promeval test FILE.test...`: runs PromQL test scripts (Prometheus's
// promqltest format) and prints every failing eval and a conformance summary.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/files.h"
#include "cli/messages.h"
#include "promeval/testing/promqltest.h"

namespace promeval::cli {

void RegisterTest(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    std::string skips;
    bool verbose = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "test",
      "Run PromQL test scripts in Prometheus's promqltest format (load, "
      "clear, eval instant/range with expect lines). Prints file:line with "
      "expected vs got for every failing eval and ends with "
      "'conformance: P passed, F failed, S skipped of N'. Exits with status 1 "
      "if any eval failed.");
  cmd->add_option("--skips", options->skips,
                  "A skip list: lines 'FILE:LINE  reason' naming evals not to "
                  "run (counted as skipped).");
  cmd->add_flag("-v,--verbose", options->verbose,
                "Also print a summary line per file and each skipped eval "
                "with its reason.");
  cmd->add_option("files", options->files, "The .test scripts.");
  CLI::App* rules = RegisterTestRules(*cmd, exit_code);
  cmd->callback([options, rules, &exit_code] {
    if (rules->parsed()) return;
    if (options->files.empty()) {
      std::cerr << "promeval test: no test scripts given (promeval test "
                   "FILE.test..., or promeval test rules FILE.yml...)\n";
      exit_code = 2;
      return;
    }
    // A first word that names no file but is close to `rules` is a misspelt
    // subcommand (`promeval test rulse`).
    std::error_code ec;
    const std::string& first = options->files.front();
    if (!std::filesystem::exists(first, ec) &&
        !NearestNames(first, {rules->get_name()}).empty()) {
      std::cerr << UnknownCommandMessage("promeval test", first,
                                         {rules->get_name()})
                << "\n";
      exit_code = 2;
      return;
    }
    std::optional<SkipList> skips;
    if (!options->skips.empty()) {
      absl::StatusOr<std::string> content = ReadFile(options->skips);
      absl::StatusOr<SkipList> list =
          content.ok() ? SkipList::Parse(*content, options->skips)
                       : absl::StatusOr<SkipList>(content.status());
      if (!list.ok()) {
        std::cerr << "promeval test: " << list.status().message() << "\n";
        exit_code = 2;
        return;
      }
      skips = *std::move(list);
    }
    ScriptOptions script_options;
    script_options.skips = skips.has_value() ? &*skips : nullptr;
    std::vector<ScriptReport> reports;
    for (const std::string& file : options->files) {
      absl::StatusOr<std::string> content = ReadFile(file);
      if (!content.ok()) {
        std::cerr << "promeval test: " << content.status().message() << "\n";
        exit_code = 1;
        return;
      }
      reports.push_back(RunPromqlTest(*content, file, script_options));
      const ScriptReport& r = reports.back();
      if (options->verbose) {
        for (const EvalOutcome& e : r.evals) {
          if (e.result == EvalOutcome::Result::kSkipped) {
            std::cout << r.file << ":" << e.line << ": skipped: " << e.message
                      << "\n";
          }
        }
        std::cout << r.file << ": " << r.passed() << " passed, " << r.failed()
                  << " failed, " << r.skipped() << " skipped";
        if (r.native_histogram_series > 0) {
          std::cout << " (" << r.native_histogram_series
                    << " native-histogram series not loaded)";
        }
        std::cout << "\n";
      }
    }
    std::cout << FormatReports(reports);
    for (const ScriptReport& r : reports) {
      if (r.failed() > 0) exit_code = 1;
    }
  });
}

}  // namespace promeval::cli
