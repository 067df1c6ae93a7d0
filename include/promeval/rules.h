// Prometheus rule files: loading and validation (the rule file model), and
// the evaluation of recording and alerting rules.
//
// A RuleFile is immutable once loaded and may be shared between threads.
// Loading reports every error of a file at once, each with its position
// (`file:line:col`), the group and the rule, as promtool does.
// GroupEvaluator and ReplayRules borrow the engine and the Queryable and
// Appendable they read and write; see each for thread-safety.
#ifndef PROMEVAL_RULES_H_
#define PROMEVAL_RULES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/ast.h"
#include "promeval/engine.h"
#include "promeval/labels.h"
#include "promeval/parser.h"
#include "promeval/storage.h"

namespace promeval {

// A position in a rule file (1-based; 0 when unknown).
struct FilePosition {
  int line = 0;
  int column = 0;
};

// Label or annotation name/value pairs in file order. Values of alerting
// rules' labels and annotations are Go templates.
using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct Rule {
  enum class Kind { kRecording, kAlerting };
  Kind kind = Kind::kRecording;
  std::string name;  // `record:` or `alert:`.
  std::string expr;  // As written.
  // The parsed expression (shared: a rule is copied into groups and tests).
  std::shared_ptr<const Expr> parsed;
  int64_t for_ms = 0;              // Alerting only.
  int64_t keep_firing_for_ms = 0;  // Alerting only.
  StringPairs labels;
  StringPairs annotations;  // Alerting only.
  FilePosition pos;         // Of the rule's first key.
};

struct RuleGroup {
  std::string name;
  std::string file;  // The path the group was loaded from.
  // 0: the default evaluation interval of whoever runs the group.
  int64_t interval_ms = 0;
  int limit = 0;  // 0: no limit.
  // Unset: the default (global rule_query_offset).
  std::optional<int64_t> query_offset_ms;
  StringPairs labels;  // Group labels, added to every rule's labels.
  std::vector<Rule> rules;
  FilePosition pos;
};

struct RuleFile {
  std::string path;
  std::vector<RuleGroup> groups;
};

struct RuleLoadOptions {
  // Accept (and ignore) YAML fields the rule file format does not define,
  // like promtool's --ignore-unknown-fields.
  bool ignore_unknown_fields = false;
  // The PromQL features rule expressions may use.
  ParseOptions parser;
};

// Parses and validates a rule file's content (alerting rules' templates
// included). On failure the status (kInvalidArgument) message holds every
// error, one per line, each as promtool prints it with the position added:
// `path: line:col: group "g", rule N, "name": error` (or the parts that
// apply), in file order.
absl::StatusOr<RuleFile> ParseRuleFile(absl::string_view content,
                                       absl::string_view path,
                                       const RuleLoadOptions& options = {});

// Reads and parses a rule file.
absl::StatusOr<RuleFile> LoadRuleFile(absl::string_view path,
                                      const RuleLoadOptions& options = {});

// The labels `rule` adds to its results: the group's labels, overridden by
// the rule's own, sorted by name.
StringPairs RuleLabels(const RuleGroup& group, const Rule& rule);

// ---------------------------------------------------------------------------
// Evaluation (rules/group.cc): Prometheus's rules.Group, RecordingRule and
// AlertingRule.

enum class AlertState { kInactive, kPending, kFiring };

// "inactive", "pending", "firing".
absl::string_view AlertStateName(AlertState state);

// One alert of an alerting rule (Prometheus's rules.Alert).
struct Alert {
  AlertState state = AlertState::kInactive;
  Labels labels;            // Expanded labels, alertname included.
  StringPairs annotations;  // Expanded, sorted by name.
  double value = 0;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;  // 0: not resolved.
  int64_t keep_firing_since_ms = 0;
};

enum class RuleHealth { kUnknown, kGood, kBad };

struct RuleEvalOptions {
  // The query offset of groups without `query_offset` (Prometheus's
  // rule_query_offset).
  int64_t default_query_offset_ms = 0;
  // Visible to templates only, as in Prometheus.
  Labels external_labels;
  std::string external_url;
};

// Evaluates one rule group, keeping the state between evaluations (alerts,
// the series each rule wrote last time for stale markers). Rule queries
// (and the `query` template function) read through `queryable`; results
// (recording outputs, ALERTS, ALERTS_FOR_STATE, stale markers) are written
// through `appendable`, as Prometheus's rules package does. They may be one
// store or two: a rule sees what it or an earlier rule wrote (its own
// previous output, a recording rule's output at the same time) only if what
// `appendable` commits becomes visible through `queryable`; otherwise such
// selectors find nothing (or whatever the read store holds). Not
// thread-safe: one evaluation at a time.
class GroupEvaluator {
 public:
  // REQUIRES: `engine`, `queryable` and `appendable` outlive the evaluator.
  GroupEvaluator(RuleGroup group, const Engine& engine, Queryable& queryable,
                 Appendable& appendable, RuleEvalOptions options = {});
  // Reads from and writes to `storage`.
  GroupEvaluator(RuleGroup group, const Engine& engine, Storage& storage,
                 RuleEvalOptions options = {});
  ~GroupEvaluator();
  GroupEvaluator(const GroupEvaluator&) = delete;
  GroupEvaluator& operator=(const GroupEvaluator&) = delete;

  // Evaluates every rule in order at `ts_ms`; each sees the results of the
  // rules before it. A failing rule records its error (rule_health(),
  // rule_error()) and writes nothing; the others still run.
  void Eval(int64_t ts_ms);

  const RuleGroup& group() const;
  int64_t query_offset_ms() const;
  RuleHealth rule_health(size_t rule) const;
  // The error of the rule's last evaluation ("" if it succeeded).
  std::string rule_error(size_t rule) const;
  // The status of the rule's last evaluation (its code and payloads: see
  // IsStorageError()).
  const absl::Status& rule_status(size_t rule) const;
  // The rule's alerts that are pending or firing (not resolved), sorted by
  // labels. Empty for recording rules.
  std::vector<Alert> ActiveAlerts(size_t rule) const;
  // ActiveAlerts() and the resolved alerts still kept (15 minutes).
  std::vector<Alert> CurrentAlerts(size_t rule) const;

  // Evaluates rule `rule` at start_ms, start_ms + interval_ms, ... up to
  // end_ms with the results Eval would give it at each time in turn, but
  // with range queries (shorter ones where a one-step query would go over a
  // limit) instead of an instant query per time. Its samples and stale
  // markers are written in one commit at the end, so the rule must not read
  // what it or a rule evaluated after it writes (RangeEvaluable()).
  // `after_step` runs after each time's evaluation (to look at the alerts).
  // If an evaluation or the commit fails, nothing is written, the error is
  // returned and the evaluator's state is unspecified: the caller discards
  // it and evaluates with Eval, which gives the failure its exact time.
  absl::Status EvalRuleOverRange(
      size_t rule, int64_t start_ms, int64_t end_ms, int64_t interval_ms,
      absl::FunctionRef<void(int64_t ts_ms)> after_step);

  // For a group (or rules) going away: writes a stale marker at
  // ts_ms - query offset for every series the rules wrote at their last
  // evaluation (Prometheus's cleanupStaleSeries), and forgets them.
  void MarkStale(int64_t ts_ms);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The metric names a rule writes: its `record` name, or ALERTS and
// ALERTS_FOR_STATE.
std::vector<std::string> RuleOutputNames(const Rule& rule);

// Whether GroupEvaluator::EvalRuleOverRange can evaluate `rule` of `group`
// when `unwritten` holds the names written by the rule itself and by the
// rules evaluated after it: no selector of its expression can select one of
// them (a selector without a metric name could select anything), none uses
// `@` or a negative (or computed) offset (they could see past the
// evaluation time), and no label or annotation template of it may query.
bool RangeEvaluable(const RuleGroup& group, const Rule& rule,
                    const absl::flat_hash_set<std::string>& unwritten);

// ---------------------------------------------------------------------------
// Offline replay (rules/replay.cc): what a Prometheus server would have
// evaluated over stored data.

struct ReplayOptions {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // 0: each group at its own `interval` (default_interval_ms if unset).
  int64_t interval_ms = 0;
  int64_t default_interval_ms = 60 * 1000;
  // Evaluate each group at the times a live server would: shifted by the
  // group's offset (its labels {name, file} hashed, modulo the interval;
  // Prometheus's Group.EvalTimestamp), from the first such time >= start.
  // Otherwise at start, start + interval, ... (promtool's unit tests).
  bool align_server = false;
  RuleEvalOptions eval;
  // Evaluate each rule over a day of evaluation times at once (range
  // queries; GroupEvaluator::EvalRuleOverRange) when every rule can be
  // (RangeEvaluable: none reads what it or a later rule writes), with the
  // same results as one evaluation after another, which is what happens
  // otherwise and whenever an evaluation fails (so that failures are
  // reported at their times).
  bool range_evaluation = true;
};

// The first evaluation time >= start_ms of a group as a live Prometheus
// schedules it (Group.EvalTimestamp).
int64_t ServerAlignedStart(const RuleGroup& group, int64_t interval_ms,
                           int64_t start_ms);

// One state change of an alert.
struct AlertTransition {
  int64_t time_ms = 0;
  AlertState state = AlertState::kPending;  // kInactive: resolved/cancelled.
  double value = 0;
  StringPairs annotations;  // As expanded at that evaluation.
};

struct AlertTimeline {
  std::string group;
  Labels labels;  // The alert's labels (alertname included).
  std::vector<AlertTransition> transitions;
};

// A series the rules wrote (recording outputs, ALERTS, ALERTS_FOR_STATE,
// stale markers).
struct WrittenSeries {
  Labels labels;
  std::vector<int64_t> timestamps;
  std::vector<double> values;
};

// How one rule fared over a replay. A failing evaluation (a query error, an
// exceeded limit, a duplicate label set) fails that rule alone: the rest of
// its group and the other groups go on.
struct RuleReport {
  std::string group;
  std::string rule;  // Its record or alert name.
  int64_t evaluations = 0;
  int64_t failures = 0;
  RuleHealth health = RuleHealth::kUnknown;  // After the last evaluation.
  std::string last_error;                    // Of the last failure.
  int64_t first_failure_ms = 0;
  int64_t last_failure_ms = 0;
};

struct ReplayResult {
  // OK, or what stopped the replay: a rule's query failed reading its data
  // (IsStorageError(): a corrupt file, an unreachable store), which is no
  // fault of the rules, so the replay does not go on without that data;
  // "rule R of group G at TIME: " and the storage's message, its code kept.
  // Then `written` and `alerts` are empty and nothing was committed.
  // (Other evaluation errors are the rules': recorded in `rules`, as
  // Prometheus records them, and the replay goes on.)
  absl::Status status;
  std::vector<WrittenSeries> written;  // Sorted by labels.
  // Whether `written` reached the Appendable given (its one commit at the
  // end: it fails if the store already holds newer samples of a series);
  // `status` when the replay stopped.
  absl::Status commit;
  std::vector<AlertTimeline> alerts;  // In order of first appearance.
  std::vector<RuleReport> rules;      // Every rule, groups in order.
  int64_t evaluations = 0;            // Group evaluations run.

  int64_t failures() const;  // Failed rule evaluations in all.
};

// Evaluates every group of `files` at start, start + interval, ... <= end
// (groups in file order at equal times), reading through `queryable` and
// writing results through `appendable`; ReplayResult::written holds what
// `appendable` accepted. Later rules and groups see earlier outputs only if
// what `appendable` commits is visible through `queryable` (GroupEvaluator).
ReplayResult ReplayRules(const std::vector<RuleFile>& files,
                         const Engine& engine, Queryable& queryable,
                         Appendable& appendable, const ReplayOptions& options);
// Reads from and writes into `storage`, so later rules and groups see
// earlier outputs.
ReplayResult ReplayRules(const std::vector<RuleFile>& files,
                         const Engine& engine, Storage& storage,
                         const ReplayOptions& options);

// The written series as OpenMetrics text (what `promtool tsdb
// create-blocks-from openmetrics` reads): timestamps in seconds, one family
// per metric name, `# EOF`. Stale markers are written as NaN.
std::string WriteOpenMetrics(const std::vector<WrittenSeries>& series);

}  // namespace promeval

#endif  // PROMEVAL_RULES_H_
