// embed: evaluates a Prometheus rule file in-process with promeval's rule
// Manager over metrics read in the Prometheus text format, and prints alert
// transitions.
//
//   embed RULES.yml METRICS.prom [INTERVAL_SECONDS] [ROUNDS]
//
// Every interval (default 15s) it reads METRICS.prom ("-": standard input,
// one exposition per round, separated by a line "# EOF"), stores its samples
// at the current time, evaluates every rule group on the real clock and
// prints each alert that became pending, firing or resolved. ROUNDS limits
// the number of rounds (default: until the input ends).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "promeval/engine.h"
#include "promeval/files.h"
#include "promeval/loaders.h"
#include "promeval/manager.h"
#include "promeval/rules.h"
#include "promeval/storage.h"

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The next exposition: the whole file, or from stdin up to "# EOF".
bool ReadRound(const std::string& path, std::string& out) {
  if (path != "-") {
    absl::StatusOr<std::string> content = promeval::ReadFile(path);
    if (!content.ok()) {
      std::cerr << content.status().message() << "\n";
      return false;
    }
    out = *content;
    return true;
  }
  out.clear();
  std::string line;
  bool any = false;
  while (std::getline(std::cin, line)) {
    any = true;
    if (line == "# EOF") break;
    out += line + "\n";
  }
  return any;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: embed RULES.yml METRICS.prom|- [INTERVAL_SECONDS] "
                 "[ROUNDS]\n";
    return 2;
  }
  const std::string metrics = argv[2];
  const int interval_s = argc > 3 ? std::atoi(argv[3]) : 15;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : -1;

  absl::StatusOr<promeval::RuleFile> rules = promeval::LoadRuleFile(argv[1]);
  if (!rules.ok()) {
    std::cerr << rules.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<promeval::Engine> engine =
      *promeval::Engine::Create(promeval::EngineOptions());
  promeval::MemStorage storage;
  promeval::ManagerOptions options;
  options.engine = engine.get();
  options.storage = &storage;
  std::unique_ptr<promeval::Manager> manager =
      *promeval::Manager::Create(options);
  if (absl::Status s = manager->Update({*rules}); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }

  // The last state printed per alert.
  std::map<std::string, promeval::AlertState> shown;
  std::string text;
  for (int round = 0; rounds < 0 || round < rounds; ++round) {
    if (!ReadRound(metrics, text)) break;
    const int64_t now = NowMs();
    promeval::TextLoadOptions options;
    options.format = promeval::TextFormat::kPrometheusText;
    options.default_timestamp_ms = now;
    absl::StatusOr<promeval::LoadStats> loaded =
        promeval::LoadText(text, metrics, options, storage);
    if (!loaded.ok()) std::cerr << loaded.status().message() << "\n";
    std::map<std::string, promeval::AlertState> now_states;
    manager->EvaluateAt(now);
    for (const promeval::GroupStatus& g : manager->Groups()) {
      for (const promeval::RuleStatus& r : g.rules) {
        if (r.health == promeval::RuleHealth::kBad) {
          std::cerr << r.name << ": " << r.last_error << "\n";
        }
        for (const promeval::Alert& a : r.active_alerts) {
          now_states[a.labels.ToString()] = a.state;
        }
      }
    }
    for (const auto& [labels, state] : now_states) {
      auto it = shown.find(labels);
      if (it == shown.end() || it->second != state) {
        std::cout << promeval::AlertStateName(state) << " " << labels << "\n";
      }
    }
    for (const auto& [labels, state] : shown) {
      if (!now_states.contains(labels))
        std::cout << "resolved " << labels << "\n";
    }
    shown = std::move(now_states);
    std::cout.flush();
    if (rounds < 0 || round + 1 < rounds) {
      std::this_thread::sleep_for(std::chrono::seconds(interval_s));
    }
  }
  return 0;
}
