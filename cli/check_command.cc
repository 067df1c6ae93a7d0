// `promeval check rules`: validates rule files as `promtool check rules`
// does (cmd/promtool/main.go: CheckRules, checkRules, checkRuleGroups,
// checkDuplicates), with its output and exit codes: 0 when valid (lint
// findings alone included), 1 on errors, 3 on lint findings with
// --lint-fatal.
#include <sys/stat.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/data.h"
#include "promeval/parser.h"
#include "promeval/rules.h"

namespace promeval::cli {
namespace {

constexpr int kSuccessExitCode = 0;
constexpr int kFailureExitCode = 1;
constexpr int kLintErrExitCode = 3;

struct LintSettings {
  bool all = false;
  bool duplicate_rules = false;
  bool fatal = false;
  bool DuplicateRules() const { return all || duplicate_rules; }
};

// A rule's output name and its labels (group labels overridden by rule
// labels, sorted by name; empty values kept, as labels.FromMap does).
struct RuleKey {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> labels;
};

int Compare(const RuleKey& a, const RuleKey& b) {
  if (a.metric != b.metric) return a.metric < b.metric ? -1 : 1;
  size_t n = std::min(a.labels.size(), b.labels.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.labels[i].first != b.labels[i].first) {
      return a.labels[i].first < b.labels[i].first ? -1 : 1;
    }
    if (a.labels[i].second != b.labels[i].second) {
      return a.labels[i].second < b.labels[i].second ? -1 : 1;
    }
  }
  if (a.labels.size() == b.labels.size()) return 0;
  return a.labels.size() < b.labels.size() ? -1 : 1;
}

// promtool's checkDuplicates: each name+labels that occurs more than once,
// once, in sorted order. Keys are counted in a hash table first; only those
// that repeat (usually none) are sorted.
std::vector<RuleKey> FindDuplicates(const RuleFile& file) {
  absl::flat_hash_map<std::string, int> seen;  // Encoded key -> count.
  std::vector<RuleKey> duplicates;
  std::string encoded;
  for (const RuleGroup& g : file.groups) {
    for (const Rule& r : g.rules) {
      RuleKey key;
      key.metric = r.name;
      key.labels = RuleLabels(g, r);
      // Lengths first, so that distinct keys never encode alike.
      encoded.clear();
      absl::StrAppend(&encoded, key.metric.size(), ":", key.metric);
      for (const auto& [name, value] : key.labels) {
        absl::StrAppend(&encoded, ",", name.size(), ":", name, value.size(),
                        ":", value);
      }
      if (++seen[encoded] == 2) duplicates.push_back(std::move(key));
    }
  }
  std::sort(
      duplicates.begin(), duplicates.end(),
      [](const RuleKey& a, const RuleKey& b) { return Compare(a, b) < 0; });
  return duplicates;
}

struct CheckState {
  bool failed = false;
  bool has_errors = false;
};

// One file (or standard input): promtool's checkRules loop body.
void CheckOne(const absl::StatusOr<RuleFile>& file, const LintSettings& lint,
              CheckState& state) {
  if (!file.ok()) {
    state.failed = true;
    state.has_errors = true;
    std::cout.flush();
    std::cerr << "  FAILED:\n" << file.status().message() << "\n";
    return;
  }
  size_t rules = 0;
  for (const RuleGroup& g : file->groups) rules += g.rules.size();
  std::vector<RuleKey> duplicates;
  if (lint.DuplicateRules()) duplicates = FindDuplicates(*file);
  if (!duplicates.empty()) {
    std::ostringstream msg;
    msg << "lint error " << duplicates.size() << " duplicate rule(s) found.\n";
    for (const RuleKey& d : duplicates) {
      msg << "Metric: " << d.metric << "\nLabel(s):\n";
      for (const auto& [name, value] : d.labels) {
        msg << "\t" << name << ": " << value << "\n";
      }
    }
    msg << "Might cause inconsistency while recording expressions";
    std::cout.flush();
    std::cerr << "  FAILED:\n" << msg.str() << "\n";
    state.failed = true;
  } else {
    std::cout << "  SUCCESS: " << rules << " rules found\n";
  }
  std::cout << "\n";
}

}  // namespace

void RegisterCheck(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    std::string lint = "duplicate-rules";
    bool lint_fatal = false;
    bool ignore_unknown_fields = false;
    std::vector<std::string> features;
  };
  auto options = std::make_shared<Options>();
  CLI::App* check =
      app.add_subcommand("check", "Check resources for validity.");
  check->require_subcommand(1);
  CLI::App* cmd = check->add_subcommand(
      "rules",
      "Check if the rule files are valid or not, as promtool check rules: "
      "prints 'Checking FILE' and '  SUCCESS: N rules found' or '  FAILED:' "
      "with every error (file: line:col: group, rule). Exits with status 1 "
      "on errors, 3 on lint findings with --lint-fatal, else 0. Reads "
      "standard input when no file is given.");
  cmd->add_option("--lint", options->lint,
                  "Linting checks to apply. Available options are: all, "
                  "duplicate-rules, none. Use --lint=none to disable linting.")
      ->capture_default_str();
  cmd->add_flag("--lint-fatal", options->lint_fatal,
                "Make lint errors exit with exit code 3.");
  cmd->add_flag("--ignore-unknown-fields", options->ignore_unknown_fields,
                "Ignore unknown fields in the rule files.");
  AddFeatureOption(*cmd, options->features);
  cmd->add_option("files", options->files,
                  "The rule files to check, default is read from standard "
                  "input.");
  cmd->callback([options, &exit_code] {
    RuleLoadOptions load_options;
    load_options.ignore_unknown_fields = options->ignore_unknown_fields;
    EngineOptions engine_options;
    if (!ApplyFeatures("promeval check rules", options->features,
                       engine_options)) {
      exit_code = 2;
      return;
    }
    load_options.parser = engine_options.parser;
    // As kingpin's ExistingFiles: every path must exist before anything is
    // checked.
    for (const std::string& f : options->files) {
      struct stat st;
      if (::stat(f.c_str(), &st) != 0) {
        std::cerr << "promeval: error: path '" << f << "' does not exist\n";
        exit_code = kFailureExitCode;
        return;
      }
      if (S_ISDIR(st.st_mode)) {
        std::cerr << "promeval: error: '" << f << "' is a directory\n";
        exit_code = kFailureExitCode;
        return;
      }
    }
    LintSettings lint;
    lint.fatal = options->lint_fatal;
    for (absl::string_view setting : absl::StrSplit(options->lint, ',')) {
      if (setting == "all") {
        lint.all = true;
      } else if (setting == "duplicate-rules") {
        lint.duplicate_rules = true;
      } else if (setting != "none") {
        std::cout << "WARNING: unknown lint option " << setting << "\n";
      }
    }
    CheckState state;
    if (options->files.empty()) {
      std::cout << "Checking standard input\n";
      std::string content(std::istreambuf_iterator<char>(std::cin), {});
      if (std::cin.bad()) {
        std::cerr << "  FAILED: read standard input\n";
        state.failed = state.has_errors = true;
      } else {
        CheckOne(ParseRuleFile(content, "", load_options), lint, state);
      }
    }
    for (const std::string& f : options->files) {
      std::cout << "Checking " << f << "\n";
      CheckOne(LoadRuleFile(f, load_options), lint, state);
    }
    std::cout.flush();
    if (state.failed && state.has_errors) {
      exit_code = kFailureExitCode;
    } else if (state.failed && lint.fatal) {
      exit_code = kLintErrExitCode;
    } else {
      exit_code = kSuccessExitCode;
    }
  });
}

}  // namespace promeval::cli
