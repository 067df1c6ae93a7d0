// `promeval rules eval RULES.yml... --data FILE... --start T --end T`:
// offline replay of rule groups over fixture data, with the alert timeline
// and the produced series as OpenMetrics.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/data.h"
#include "nlohmann/json.hpp"
#include "promeval/engine.h"
#include "promeval/files.h"
#include "promeval/rules.h"
#include "promeval/text.h"

namespace promeval::cli {
namespace {

std::string Rfc3339(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string StateName(AlertState s) {
  return s == AlertState::kInactive ? "resolved"
                                    : std::string(AlertStateName(s));
}

std::string TimelineText(const std::vector<AlertTimeline>& alerts) {
  std::string out;
  for (const AlertTimeline& a : alerts) {
    absl::StrAppend(&out, a.labels.ToString(), "\n");
    for (const AlertTransition& t : a.transitions) {
      absl::StrAppend(&out, "  ", Rfc3339(t.time_ms), "  ", StateName(t.state));
      if (t.state != AlertState::kInactive) {
        absl::StrAppend(&out, "  value=", FormatFloatGo(t.value));
      }
      out += "\n";
      for (const auto& [name, value] : t.annotations) {
        absl::StrAppend(&out, "      ", name, ": ", value, "\n");
      }
    }
  }
  return out;
}

std::string TimelineJson(const std::vector<AlertTimeline>& alerts) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const AlertTimeline& a : alerts) {
    nlohmann::ordered_json labels = nlohmann::ordered_json::object();
    for (const Label& l : a.labels) labels[l.name] = l.value;
    nlohmann::ordered_json transitions = nlohmann::ordered_json::array();
    for (const AlertTransition& t : a.transitions) {
      nlohmann::ordered_json annotations = nlohmann::ordered_json::object();
      for (const auto& [name, value] : t.annotations) annotations[name] = value;
      nlohmann::ordered_json j;
      j["time"] = Rfc3339(t.time_ms);
      j["state"] = StateName(t.state);
      if (t.state != AlertState::kInactive) j["value"] = FormatFloatGo(t.value);
      j["annotations"] = std::move(annotations);
      transitions.push_back(std::move(j));
    }
    nlohmann::ordered_json j;
    j["group"] = a.group;
    j["labels"] = std::move(labels);
    j["transitions"] = std::move(transitions);
    list.push_back(std::move(j));
  }
  return list.dump(2) + "\n";
}

}  // namespace

void RegisterRules(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> rule_files;
    std::vector<std::string> data;
    std::string data_format = "auto";
    std::string start, end, interval;
    std::string output;
    std::string format = "text";
    std::vector<std::string> features;
  };
  auto o = std::make_shared<Options>();
  CLI::App* rules = app.add_subcommand("rules", "Work with rule files.");
  rules->require_subcommand(1);
  CLI::App* cmd = rules->add_subcommand(
      "eval",
      "Replay rule groups over data as a Prometheus server would have "
      "evaluated them (each group at its interval from --start to --end): "
      "prints the alert timeline and writes the produced series as "
      "OpenMetrics. Exits with status 1 if a rule failed.");
  cmd->add_option("--data", o->data, "Data files (repeatable).")->required();
  cmd->add_option("--data-format", o->data_format, kDataFormatHelp);
  cmd->add_option("--start", o->start,
                  "First evaluation time: Unix seconds "
                  "or RFC3339.")
      ->required();
  cmd->add_option("--end", o->end, "Last evaluation time.")->required();
  cmd->add_option("--interval", o->interval,
                  "Evaluate every group at this interval instead of its own "
                  "(e.g. 1m).");
  cmd->add_option("--output", o->output,
                  "Write the produced series (recording outputs, ALERTS, "
                  "ALERTS_FOR_STATE, stale markers as NaN) to this "
                  "OpenMetrics file.");
  cmd->add_option("--format", o->format, "Timeline output: text or json.")
      ->check(CLI::IsMember({"text", "json"}));
  AddFeatureOption(*cmd, o->features);
  cmd->add_option("rule_files", o->rule_files, "Rule files.")->required();
  cmd->callback([o, &exit_code] {
    const char* name = "promeval rules eval";
    auto fail = [&](absl::string_view message) {
      std::cerr << name << ": " << message << "\n";
      exit_code = 2;
    };
    EngineOptions engine_options;
    if (!ApplyFeatures(name, o->features, engine_options)) {
      exit_code = 2;
      return;
    }
    ReplayOptions replay;
    absl::StatusOr<int64_t> start = ParseTimeArg(o->start);
    absl::StatusOr<int64_t> end = ParseTimeArg(o->end);
    if (!start.ok() || !end.ok()) {
      return fail(!start.ok() ? start.status().message()
                              : end.status().message());
    }
    replay.start_ms = *start;
    replay.end_ms = *end;
    if (!o->interval.empty()) {
      absl::StatusOr<int64_t> d = ParseDurationArg(o->interval);
      if (!d.ok() || *d <= 0) return fail("invalid --interval");
      replay.interval_ms = *d;
    }
    RuleLoadOptions load;
    load.parser = engine_options.parser;
    std::vector<RuleFile> files;
    bool bad_rules = false;
    for (const std::string& f : o->rule_files) {
      absl::StatusOr<RuleFile> rf = LoadRuleFile(f, load);
      if (!rf.ok()) {
        std::cerr << rf.status().message() << "\n";
        bad_rules = true;
        continue;
      }
      files.push_back(*std::move(rf));
    }
    if (bad_rules) {
      exit_code = 1;
      return;
    }
    MemStorage storage;
    absl::StatusOr<LoadStats> loaded =
        LoadDataFiles(o->data, o->data_format, replay.start_ms, storage);
    if (!loaded.ok()) return fail(loaded.status().message());
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(engine_options);
    if (!engine.ok()) return fail(engine.status().message());
    ReplayResult result = ReplayRules(files, **engine, storage, replay);
    std::cout << (o->format == "json" ? TimelineJson(result.alerts)
                                      : TimelineText(result.alerts));
    for (const std::string& e : result.errors) std::cerr << e << "\n";
    if (!o->output.empty()) {
      absl::Status written =
          WriteFileAtomically(o->output, WriteOpenMetrics(result.written));
      if (!written.ok()) return fail(written.message());
    }
    if (!result.errors.empty()) exit_code = 1;
  });
}

}  // namespace promeval::cli
