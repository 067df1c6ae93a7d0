// `promeval rules eval RULES.yml... --data FILE... --start T --end T`:
// offline replay of rule groups over fixture data, with the alert timeline
// and the produced series as OpenMetrics.
#include <algorithm>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
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

// "pending", "firing", and for the end of an alert "resolved" after firing
// or "inactive" when it never fired.
std::string StateName(AlertState s, AlertState previous) {
  if (s != AlertState::kInactive) return std::string(AlertStateName(s));
  return previous == AlertState::kFiring ? "resolved" : "inactive";
}

std::string TimelineText(const std::vector<AlertTimeline>& alerts) {
  std::string out;
  for (const AlertTimeline& a : alerts) {
    absl::StrAppend(&out, a.labels.ToString(), "\n");
    AlertState previous = AlertState::kInactive;
    for (const AlertTransition& t : a.transitions) {
      absl::StrAppend(&out, "  ", FormatRfc3339Millis(t.time_ms), "  ",
                      StateName(t.state, previous));
      previous = t.state;
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
    AlertState previous = AlertState::kInactive;
    for (const AlertTransition& t : a.transitions) {
      nlohmann::ordered_json annotations = nlohmann::ordered_json::object();
      for (const auto& [name, value] : t.annotations) annotations[name] = value;
      nlohmann::ordered_json j;
      j["time"] = FormatRfc3339Millis(t.time_ms);
      j["state"] = StateName(t.state, previous);
      previous = t.state;
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

// The sample lines of OpenMetrics text by series ("name{labels}"), in order.
std::map<std::string, std::vector<std::string>> SeriesLines(
    absl::string_view text) {
  std::map<std::string, std::vector<std::string>> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    // The series ends at the space after the closing brace (label values may
    // contain spaces), or at the first space without labels.
    size_t brace = line.find('{');
    size_t space = line.find(' ');
    if (brace != absl::string_view::npos && brace < space) {
      size_t close = line.find("} ", brace);
      space = close == absl::string_view::npos ? space : close + 1;
    }
    if (space == absl::string_view::npos) continue;
    out[std::string(line.substr(0, space))].emplace_back(
        line.substr(space + 1));
  }
  return out;
}

// A per-series diff of two OpenMetrics texts ("" if they hold the same
// samples): "- " golden only, "+ " produced only.
std::string GoldenDiff(absl::string_view golden, absl::string_view got) {
  std::map<std::string, std::vector<std::string>> want = SeriesLines(golden);
  std::map<std::string, std::vector<std::string>> have = SeriesLines(got);
  std::set<std::string> keys;
  for (const auto& [k, v] : want) keys.insert(k);
  for (const auto& [k, v] : have) keys.insert(k);
  std::string out;
  for (const std::string& k : keys) {
    const std::vector<std::string> none;
    const auto w = want.find(k);
    const auto h = have.find(k);
    const std::vector<std::string>& a = w == want.end() ? none : w->second;
    const std::vector<std::string>& b = h == have.end() ? none : h->second;
    if (a == b) continue;
    absl::StrAppend(&out, k, "\n");
    std::set<std::string> in_a(a.begin(), a.end()), in_b(b.begin(), b.end());
    for (const std::string& l : a) {
      if (!in_b.contains(l)) absl::StrAppend(&out, "  - ", l, "\n");
    }
    for (const std::string& l : b) {
      if (!in_a.contains(l)) absl::StrAppend(&out, "  + ", l, "\n");
    }
  }
  return out;
}

// Sends a replay's series to a remote write receiver in time order, half
// an hour of samples at a time, each slice flushed before the next, then
// closes the writer: Prometheus without an out-of-order window takes a
// sample only if it is at most an hour older than the newest it holds, so
// neither a series sent whole before the next nor shards running ahead of
// each other may get that far apart.
absl::Status WriteInTimeSlices(const std::vector<WrittenSeries>& written,
                               RemoteWriter& writer) {
  constexpr int64_t kSliceMs = 30 * 60 * 1000;
  std::vector<size_t> next(written.size(), 0);
  while (true) {
    int64_t from = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < written.size(); ++i) {
      if (next[i] < written[i].timestamps.size()) {
        from = std::min(from, written[i].timestamps[next[i]]);
      }
    }
    if (from == std::numeric_limits<int64_t>::max()) break;
    const int64_t last = from > std::numeric_limits<int64_t>::max() - kSliceMs
                             ? std::numeric_limits<int64_t>::max()
                             : from + kSliceMs - 1;
    std::unique_ptr<Appender> app = writer.NewAppender();
    for (size_t i = 0; i < written.size(); ++i) {
      const WrittenSeries& s = written[i];
      for (; next[i] < s.timestamps.size() && s.timestamps[next[i]] <= last;
           ++next[i]) {
        app->Append(s.labels, s.timestamps[next[i]], s.values[next[i]]);
      }
    }
    absl::Status committed = app->Commit();
    if (!committed.ok()) return committed;
    writer.Flush();
  }
  return writer.Close();
}

}  // namespace

void RegisterRules(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> rule_files;
    DataSources data;
    std::string start, end, interval;
    std::string output;
    std::string golden;
    bool update = false;
    bool stats = false;
    std::string format = "text";
    std::string align = "start";
    std::vector<std::string> features;
    std::string remote_write;
    RemoteWriteOptions write;
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
  o->data.AddOptions(*cmd);
  cmd->add_option("--start", o->start,
                  "First evaluation time: Unix seconds "
                  "or RFC3339.")
      ->required();
  cmd->add_option("--end", o->end, "Last evaluation time.")->required();
  cmd->add_option("--interval", o->interval,
                  "Evaluate every group at this interval instead of its own "
                  "(e.g. 1m).");
  cmd->add_option("--align", o->align,
                  "Evaluation times: start (start, start + interval, ...; "
                  "the default) or server (each group at the offset a live "
                  "Prometheus uses, from the first such time >= start).")
      ->check(CLI::IsMember({"start", "server"}));
  cmd->add_option("--output", o->output,
                  "Write the produced series (recording outputs, ALERTS, "
                  "ALERTS_FOR_STATE, stale markers as NaN) to this "
                  "OpenMetrics file.");
  cmd->add_option("--golden", o->golden,
                  "Compare the produced series with this OpenMetrics file; "
                  "a difference prints a per-series diff and exits with "
                  "status 1.");
  cmd->add_flag("--update", o->update,
                "With --golden: rewrite the golden file instead.");
  cmd->add_option("--format", o->format, "Timeline output: text or json.")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--stats", o->stats,
                "Print the seconds spent loading the data (reading text, "
                "opening directories) and replaying, as JSON on stderr.");
  cmd->add_option("--remote-write", o->remote_write,
                  "Also send the produced series to this remote write "
                  "endpoint (protocol 1.0; e.g. "
                  "http://prometheus:9090/api/v1/write): exits with status 1 "
                  "if any sample was not accepted. Reached with the "
                  "--remote-timeout, --header, auth and TLS options.");
  cmd->add_option("--remote-write-shards", o->write.shards,
                  "Requests in flight at once (default 4).")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--remote-write-max-samples-per-send",
                  o->write.max_samples_per_send,
                  "Samples per request (default 10000).")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--remote-write-retry-limit", o->write.retry_limit,
                  "Attempts of a request answered by 5xx or 429 or not "
                  "answered, before its samples count as failed (default "
                  "10).")
      ->check(CLI::Range(1, 1000));
  AddFeatureOption(*cmd, o->features);
  cmd->add_option("rule_files", o->rule_files, "Rule files.")->required();
  cmd->callback([o, &exit_code] {
    const char* name = "promeval rules eval";
    // Usage errors exit with status 2, bad input and failed writes with 1.
    auto fail = [&](absl::string_view message, int code = 2) {
      std::cerr << name << ": " << message << "\n";
      exit_code = code;
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
    if (*end < *start) return fail("--end must not be before --start");
    replay.start_ms = *start;
    replay.end_ms = *end;
    replay.align_server = o->align == "server";
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
    if (o->data.empty())
      return fail("--data, --tsdb or --remote-read is required");
    const absl::Time load_start = absl::Now();
    absl::Status opened = o->data.Open(replay.start_ms);
    if (!opened.ok()) return fail(opened.message(), 1);
    const absl::Time replay_start = absl::Now();
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(engine_options);
    if (!engine.ok()) return fail(engine.status().message());
    // The replay reads what the rules wrote itself; the outputs need go
    // nowhere else but --output.
    class Discard : public Appendable, public Appender {
     public:
      std::unique_ptr<Appender> NewAppender() override {
        return std::make_unique<Discard>();
      }
      void Append(const Labels&, int64_t, double) override {}
      absl::Status Commit() override { return absl::OkStatus(); }
    } discard;
    // With --remote-write they go there too, once the replay is done.
    std::unique_ptr<RemoteWriter> writer;
    if (!o->remote_write.empty()) {
      absl::StatusOr<RemoteEndpoint> endpoint =
          o->data.remote_flags().Endpoint(o->remote_write);
      if (!endpoint.ok()) return fail(endpoint.status().message());
      o->write.endpoint = *std::move(endpoint);
      o->write.capacity = std::max<int64_t>(
          o->write.capacity, int64_t{2} * o->write.max_samples_per_send);
      absl::StatusOr<std::unique_ptr<RemoteWriter>> w =
          RemoteWriter::Create(o->write);
      if (!w.ok()) return fail(w.status().message());
      writer = *std::move(w);
    }
    ReplayResult result =
        ReplayRules(files, **engine, o->data.queryable(), discard, replay);
    absl::Status write_status;
    if (writer && result.status.ok()) {
      write_status = WriteInTimeSlices(result.written, *writer);
    }
    if (o->stats) {
      std::string remote_write;
      if (writer) {
        const RemoteWriteStats w = writer->stats();
        remote_write = absl::StrFormat(
            ",\"remoteWrite\":{\"samplesSent\":%d,\"samplesFailed\":%d,"
            "\"samplesRejected\":%d,\"samplesDropped\":%d,\"requests\":%d,"
            "\"retries\":%d,\"bytesSent\":%d,\"sendSeconds\":%.6f,"
            "\"encodeSeconds\":%.6f}",
            w.samples_sent, w.samples_failed, w.samples_rejected,
            w.samples_dropped, w.requests, w.retries, w.bytes_sent,
            w.send_ns / 1e9, w.encode_ns / 1e9);
      }
      std::cerr << absl::StrFormat(
          "{\"loadSeconds\":%.6f,\"replaySeconds\":%.6f%s}\n",
          absl::ToDoubleSeconds(replay_start - load_start),
          absl::ToDoubleSeconds(absl::Now() - replay_start), remote_write);
    }
    o->data.PrintWarnings(name);
    if (!result.status.ok()) return fail(result.status.message(), 1);
    std::cout << (o->format == "json" ? TimelineJson(result.alerts)
                                      : TimelineText(result.alerts));
    // The health of every rule that failed (the others ran cleanly).
    for (const RuleReport& r : result.rules) {
      if (r.failures == 0) continue;
      std::cerr << "rule " << GoQuote(r.rule) << " of group "
                << GoQuote(r.group) << ": failed " << r.failures << " of "
                << r.evaluations << " evaluations ("
                << FormatRfc3339Millis(r.first_failure_ms) << " to "
                << FormatRfc3339Millis(r.last_failure_ms) << "), health "
                << (r.health == RuleHealth::kBad ? "err" : "ok")
                << " at the end; last error: " << r.last_error << "\n";
    }
    const std::string produced = WriteOpenMetrics(result.written);
    if (!o->output.empty()) {
      absl::Status written = WriteFileAtomically(o->output, produced);
      if (!written.ok()) return fail(written.message(), 1);
    }
    if (!o->golden.empty()) {
      if (o->update) {
        absl::Status written = WriteFileAtomically(o->golden, produced);
        if (!written.ok()) return fail(written.message(), 1);
      } else {
        absl::StatusOr<std::string> golden = ReadFile(o->golden);
        if (!golden.ok()) return fail(golden.status().message(), 1);
        std::string diff = GoldenDiff(*golden, produced);
        if (!diff.empty()) {
          std::cerr << "produced series differ from " << o->golden
                    << " (- golden, + produced):\n"
                    << diff;
          exit_code = 1;
          return;
        }
      }
    }
    if (!write_status.ok()) return fail(write_status.message(), 1);
    if (result.failures() > 0) exit_code = 1;
  });
}

}  // namespace promeval::cli
