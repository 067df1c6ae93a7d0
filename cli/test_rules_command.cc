// `promeval test rules FILE.yml...`: promtool's rule unit-test files.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/data.h"
#include "promeval/engine.h"
#include "promeval/files.h"
#include "promeval/testing/rule_test.h"
#include "promeval/text.h"

namespace promeval::cli {
namespace {

// JUnit XML as promtool writes it: a testsuite per file, a testcase per
// test group.
std::string JUnit(const std::vector<RuleTestFileResult>& results) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (const RuleTestFileResult& r : results) {
    int failures = r.errors.empty() ? 0 : 1;
    int skipped = 0;
    for (const RuleTestGroupResult& g : r.groups) {
      if (!g.skipped.empty()) {
        ++skipped;
      } else if (!g.passed) {
        ++failures;
      }
    }
    absl::StrAppend(&out, "  <testsuite name=\"", HtmlEscape(r.path),
                    "\" tests=\"", r.groups.size(), "\" failures=\"", failures,
                    "\" skipped=\"", skipped, "\">\n");
    for (const std::string& e : r.errors) {
      absl::StrAppend(&out, "    <testcase name=\"", HtmlEscape(r.path),
                      "\">\n      <failure message=\"", HtmlEscape(e),
                      "\"></failure>\n    </testcase>\n");
    }
    for (const RuleTestGroupResult& g : r.groups) {
      std::string name =
          g.name.empty() ? absl::StrCat("test group ", g.index + 1) : g.name;
      absl::StrAppend(&out, "    <testcase name=\"", HtmlEscape(name),
                      "\" time=\"", absl::StrFormat("%.3f", g.seconds),
                      "\">\n");
      if (!g.skipped.empty()) {
        absl::StrAppend(&out, "      <skipped message=\"",
                        HtmlEscape(g.skipped), "\"></skipped>\n");
      }
      for (const std::string& f : g.failures) {
        absl::StrAppend(&out, "      <failure message=\"", HtmlEscape(f),
                        "\"></failure>\n");
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace

CLI::App* RegisterTestRules(CLI::App& test, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    std::vector<std::string> run;
    std::vector<std::string> features;
    std::string junit;
    bool ignore_unknown_fields = false;
    int workers = 0;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = test.add_subcommand(
      "rules",
      "Run promtool rule unit-test files (rule_files, input_series, "
      "alert_rule_test, promql_expr_test) with promtool's outcomes. Exits "
      "with status 1 if any test failed.");
  cmd->add_option("--run", options->run,
                  "Run only the test groups whose name matches this regular "
                  "expression (repeatable).");
  cmd->add_option("--junit", options->junit,
                  "Also write the results as JUnit XML to this file.");
  cmd->add_flag("--ignore-unknown-fields", options->ignore_unknown_fields,
                "Ignore unknown fields in test and rule files.");
  cmd->add_option("--workers", options->workers,
                  "Threads that evaluate each query (0: one per core, the "
                  "default; 1: single-threaded). Results do not depend on "
                  "it.");
  AddFeatureOption(*cmd, options->features);
  cmd->add_option("files", options->files, "The unit-test files.")->required();
  cmd->callback([options, &exit_code] {
    RuleTestOptions test_options;
    test_options.run = options->run;
    test_options.ignore_unknown_fields = options->ignore_unknown_fields;
    if (options->workers < 0) {
      std::cerr << "promeval test rules: --workers must not be negative\n";
      exit_code = 2;
      return;
    }
    test_options.engine.workers = options->workers;
    if (!ApplyFeatures("promeval test rules", options->features,
                       test_options.engine)) {
      exit_code = 2;
      return;
    }
    std::vector<RuleTestFileResult> results;
    for (const std::string& file : options->files) {
      std::cout << "Unit Testing:  " << file << "\n";
      RuleTestFileResult r = RunRuleTestFile(file, test_options);
      for (const std::string& w : r.warnings) {
        std::cerr << "  WARNING: " << w << "\n";
      }
      int skipped = 0;
      for (const RuleTestGroupResult& g : r.groups) {
        if (!g.skipped.empty()) ++skipped;
      }
      if (r.passed()) {
        std::cout << "  SUCCESS";
        if (skipped > 0) {
          std::cout << " (" << skipped << " of " << r.groups.size()
                    << " test groups skipped)";
        }
        std::cout << "\n";
      } else {
        std::cout << "  FAILED:\n";
        exit_code = 1;
      }
      for (const std::string& e : r.errors) std::cout << "    " << e << "\n";
      for (const RuleTestGroupResult& g : r.groups) {
        if (!g.skipped.empty()) {
          std::cout << "    test group " << g.index + 1
                    << (g.name.empty() ? "" : " (\"" + g.name + "\")")
                    << " skipped: " << g.skipped << "\n";
        }
        for (const std::string& f : g.failures) std::cout << f << "\n";
      }
      std::cout << "\n";
      results.push_back(std::move(r));
    }
    if (!options->junit.empty()) {
      absl::Status written =
          WriteFileAtomically(options->junit, JUnit(results));
      if (!written.ok()) {
        std::cerr << "promeval test rules: " << written.message() << "\n";
        exit_code = 2;
      }
    }
  });
  return cmd;
}

}  // namespace promeval::cli
