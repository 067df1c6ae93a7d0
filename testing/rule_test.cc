// promtool's rule unit tests (cmd/promtool/unittest.go): the test file
// format, the evaluation loop and the comparisons.
#include "promeval/testing/rule_test.h"

#include <glob.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "promeval/files.h"
#include "promeval/loaders.h"
#include "promeval/rules.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"
#include "promeval/value.h"
#include "re2/re2.h"
#include "rules/yaml.h"

namespace promeval {
namespace {

using StringMap = std::map<std::string, std::string>;

struct ExpAlert {
  StringMap labels;
  StringMap annotations;
};

struct AlertTest {
  int64_t eval_time_ms = 0;
  std::string alertname;
  std::vector<ExpAlert> exp;
};

struct ExpSample {
  std::string labels;
  double value = 0;
  bool histogram = false;
};

struct ExprTest {
  std::string expr;
  int64_t eval_time_ms = 0;
  std::vector<ExpSample> exp;
};

struct InputSeries {
  std::string series;
  std::string values;
  FilePosition series_pos, values_pos;  // In the test file, for errors.
};

struct TestGroup {
  int64_t interval_ms = 0;  // 0: the evaluation interval.
  std::vector<InputSeries> input;
  std::vector<AlertTest> alert_tests;
  std::vector<ExprTest> expr_tests;
  StringMap external_labels;
  std::string external_url;
  std::string name;
  int64_t start_ms = 0;
};

struct TestFile {
  std::string path;
  std::vector<std::string> rule_files;
  int64_t eval_interval_ms = 60 * 1000;
  std::vector<std::string> group_eval_order;
  bool fuzzy_compare = false;
  std::vector<TestGroup> tests;
};

// --- Decoding the test file ------------------------------------------------

absl::StatusOr<int64_t> DurationField(const yaml::Node& n) {
  PROMEVAL_ASSIGN_OR_RETURN(std::string s, n.Scalar());
  absl::StatusOr<int64_t> d = ParseDuration(s);
  if (!d.ok()) return n.Error(d.status().message());
  return *d;
}

absl::StatusOr<StringMap> StringMapField(const yaml::Node& n) {
  StringMap out;
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Entry> entries, n.Entries());
  for (const yaml::Entry& e : entries) {
    PROMEVAL_ASSIGN_OR_RETURN(std::string v, e.value.Scalar());
    out[e.key] = std::move(v);
  }
  return out;
}

// A start_timestamp: RFC3339 or Unix seconds.
absl::StatusOr<int64_t> TimestampField(const yaml::Node& n) {
  PROMEVAL_ASSIGN_OR_RETURN(std::string s, n.Scalar());
  double seconds;
  if (absl::SimpleAtod(s, &seconds)) {
    return GoFloatToInt64(std::round(seconds * 1000));
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  return n.Error(absl::StrCat("cannot parse ", GoQuote(s),
                              " as a Unix timestamp or RFC3339 time"));
}

absl::StatusOr<ExpAlert> DecodeExpAlert(const yaml::Node& n,
                                        const yaml::Fields& f) {
  ExpAlert a;
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Entry> entries,
                            n.Fields({"exp_labels", "exp_annotations"}, f));
  for (const yaml::Entry& e : entries) {
    if (e.value.IsNull()) continue;
    if (e.key == "exp_labels") {
      PROMEVAL_ASSIGN_OR_RETURN(a.labels, StringMapField(e.value));
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(a.annotations, StringMapField(e.value));
    }
  }
  return a;
}

absl::StatusOr<AlertTest> DecodeAlertTest(const yaml::Node& n,
                                          const yaml::Fields& f) {
  AlertTest t;
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<yaml::Entry> entries,
      n.Fields({"eval_time", "alertname", "exp_alerts"}, f));
  for (const yaml::Entry& e : entries) {
    if (e.value.IsNull()) continue;
    if (e.key == "eval_time") {
      PROMEVAL_ASSIGN_OR_RETURN(t.eval_time_ms, DurationField(e.value));
    } else if (e.key == "alertname") {
      PROMEVAL_ASSIGN_OR_RETURN(t.alertname, e.value.Scalar());
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        PROMEVAL_ASSIGN_OR_RETURN(ExpAlert a, DecodeExpAlert(item, f));
        t.exp.push_back(std::move(a));
      }
    }
  }
  return t;
}

absl::StatusOr<ExprTest> DecodeExprTest(const yaml::Node& n,
                                        const yaml::Fields& f) {
  ExprTest t;
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Entry> entries,
                            n.Fields({"expr", "eval_time", "exp_samples"}, f));
  for (const yaml::Entry& e : entries) {
    if (e.value.IsNull()) continue;
    if (e.key == "expr") {
      PROMEVAL_ASSIGN_OR_RETURN(t.expr, e.value.Scalar());
    } else if (e.key == "eval_time") {
      PROMEVAL_ASSIGN_OR_RETURN(t.eval_time_ms, DurationField(e.value));
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        ExpSample s;
        PROMEVAL_ASSIGN_OR_RETURN(
            std::vector<yaml::Entry> fields,
            item.Fields({"labels", "value", "histogram"}, f));
        for (const yaml::Entry& sf : fields) {
          if (sf.value.IsNull()) continue;
          if (sf.key == "labels") {
            PROMEVAL_ASSIGN_OR_RETURN(s.labels, sf.value.Scalar());
          } else if (sf.key == "value") {
            PROMEVAL_ASSIGN_OR_RETURN(std::string v, sf.value.Scalar());
            absl::StatusOr<double> d = ParseNumber(v);
            if (!d.ok()) {
              return sf.value.Error(
                  absl::StrCat("cannot parse ", GoQuote(v), " as a number"));
            }
            s.value = *d;
          } else {
            s.histogram = true;
          }
        }
        t.exp.push_back(std::move(s));
      }
    }
  }
  return t;
}

absl::StatusOr<TestGroup> DecodeTestGroup(const yaml::Node& n,
                                          const yaml::Fields& f) {
  TestGroup g;
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<yaml::Entry> entries,
      n.Fields(
          {"interval", "input_series", "alert_rule_test", "promql_expr_test",
           "external_labels", "external_url", "name", "start_timestamp"},
          f));
  for (const yaml::Entry& e : entries) {
    if (e.value.IsNull()) continue;
    if (e.key == "interval") {
      PROMEVAL_ASSIGN_OR_RETURN(g.interval_ms, DurationField(e.value));
    } else if (e.key == "input_series") {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        InputSeries s;
        PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Entry> fields,
                                  item.Fields({"series", "values"}, f));
        for (const yaml::Entry& sf : fields) {
          if (sf.value.IsNull()) continue;
          PROMEVAL_ASSIGN_OR_RETURN(std::string v, sf.value.Scalar());
          const bool series = sf.key == "series";
          (series ? s.series : s.values) = std::move(v);
          (series ? s.series_pos : s.values_pos) = {sf.value.line(),
                                                    sf.value.column()};
        }
        g.input.push_back(std::move(s));
      }
    } else if (e.key == "alert_rule_test") {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        PROMEVAL_ASSIGN_OR_RETURN(AlertTest t, DecodeAlertTest(item, f));
        g.alert_tests.push_back(std::move(t));
      }
    } else if (e.key == "promql_expr_test") {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        PROMEVAL_ASSIGN_OR_RETURN(ExprTest t, DecodeExprTest(item, f));
        g.expr_tests.push_back(std::move(t));
      }
    } else if (e.key == "external_labels") {
      PROMEVAL_ASSIGN_OR_RETURN(g.external_labels, StringMapField(e.value));
    } else if (e.key == "external_url") {
      PROMEVAL_ASSIGN_OR_RETURN(g.external_url, e.value.Scalar());
    } else if (e.key == "name") {
      PROMEVAL_ASSIGN_OR_RETURN(g.name, e.value.Scalar());
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(g.start_ms, TimestampField(e.value));
    }
  }
  return g;
}

absl::StatusOr<TestFile> DecodeTestFile(absl::string_view content,
                                        absl::string_view path,
                                        bool ignore_unknown_fields) {
  PROMEVAL_ASSIGN_OR_RETURN(yaml::Document doc,
                            yaml::Document::Parse(content, path));
  const yaml::Fields f{ignore_unknown_fields};
  TestFile file;
  file.path = std::string(path);
  if (doc.root().IsNull()) return file;
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<yaml::Entry> entries,
      doc.root().Fields({"rule_files", "evaluation_interval",
                         "group_eval_order", "fuzzy_compare", "tests"},
                        f));
  for (const yaml::Entry& e : entries) {
    if (e.value.IsNull()) continue;
    if (e.key == "rule_files" || e.key == "group_eval_order") {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        PROMEVAL_ASSIGN_OR_RETURN(std::string s, item.Scalar());
        (e.key == "rule_files" ? file.rule_files : file.group_eval_order)
            .push_back(std::move(s));
      }
    } else if (e.key == "evaluation_interval") {
      PROMEVAL_ASSIGN_OR_RETURN(file.eval_interval_ms, DurationField(e.value));
      if (file.eval_interval_ms == 0) file.eval_interval_ms = 60 * 1000;
    } else if (e.key == "fuzzy_compare") {
      PROMEVAL_ASSIGN_OR_RETURN(file.fuzzy_compare, e.value.Bool());
    } else {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<yaml::Node> items, e.value.Items());
      for (const yaml::Node& item : items) {
        PROMEVAL_ASSIGN_OR_RETURN(TestGroup g, DecodeTestGroup(item, f));
        file.tests.push_back(std::move(g));
      }
    }
  }
  return file;
}

// --- Comparisons and reports -----------------------------------------------

std::string MapString(const StringMap& m) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : m) {
    parts.push_back(absl::StrCat(k, "=", GoQuote(v)));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

struct AlertView {
  StringMap labels;
  StringMap annotations;
  friend bool operator==(const AlertView&, const AlertView&) = default;
  friend bool operator<(const AlertView& a, const AlertView& b) {
    return std::tie(a.labels, a.annotations) <
           std::tie(b.labels, b.annotations);
  }
  std::string ToString() const {
    return absl::StrCat(MapString(labels), " annotations ",
                        MapString(annotations));
  }
};

// A line diff of two sorted lists: "  " common, "- " expected only, "+ "
// got only.
template <typename T, typename Str>
std::string Diff(const std::vector<T>& exp, const std::vector<T>& got,
                 Str str) {
  std::string out;
  size_t i = 0, j = 0;
  while (i < exp.size() || j < got.size()) {
    if (i < exp.size() && j < got.size() && exp[i] == got[j]) {
      absl::StrAppend(&out, "          ", str(exp[i]), "\n");
      ++i, ++j;
    } else if (j >= got.size() || (i < exp.size() && exp[i] < got[j])) {
      absl::StrAppend(&out, "        - ", str(exp[i++]), "\n");
    } else {
      absl::StrAppend(&out, "        + ", str(got[j++]), "\n");
    }
  }
  if (out.empty()) out = "          (none)\n";
  return out;
}

std::string GroupTitle(const TestGroup& g, int index) {
  return g.name.empty() ? absl::StrCat("test group ", index + 1)
                        : absl::StrCat("test group ", index + 1, " (",
                                       GoQuote(g.name), ")");
}

struct SampleView {
  Labels labels;
  double value = 0;
  std::string ToString() const {
    return absl::StrCat(labels.ToString(), " ", FormatFloat(value));
  }
};

// Floats are equal as Go's == (NaN never), or one ULP apart when fuzzy.
bool SameValue(double a, double b, bool fuzzy) {
  if (a == b) return true;
  return fuzzy && (std::nextafter(a, b) == b);
}

// --- Running a test group ----------------------------------------------------

// The store as promtool's WithSamplesTill shows it: samples up to the
// current evaluation time only (rules never see later input samples, even
// through a negative offset or @). Rules write to the store itself.
class Horizon : public Queryable {
 public:
  explicit Horizon(Queryable& store) : store_(store) {}

  void set_horizon(int64_t t) { horizon_ = t; }

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override {
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q,
                              store_.NewQuerier(mint, maxt));
    return std::unique_ptr<Querier>(new HorizonQuerier(std::move(q), horizon_));
  }

 private:
  class HorizonQuerier : public Querier {
   public:
    HorizonQuerier(std::unique_ptr<Querier> inner, int64_t horizon)
        : inner_(std::move(inner)), horizon_(horizon) {}

    absl::StatusOr<std::vector<SeriesData>> Select(
        absl::Span<const Matcher> matchers, int64_t mint,
        int64_t maxt) override {
      PROMEVAL_ASSIGN_OR_RETURN(std::vector<SeriesData> data,
                                inner_->Select(matchers, mint, maxt));
      std::vector<SeriesData> out;
      out.reserve(data.size());
      for (SeriesData& s : data) {
        size_t n = std::upper_bound(s.timestamps.begin(), s.timestamps.end(),
                                    horizon_) -
                   s.timestamps.begin();
        if (n == 0) continue;
        s.timestamps = s.timestamps.subspan(0, n);
        s.values = s.values.subspan(0, n);
        out.push_back(s);
      }
      return out;
    }

    bool ConcurrentSelect() const override {
      return inner_->ConcurrentSelect();
    }

   private:
    std::unique_ptr<Querier> inner_;
    const int64_t horizon_;
  };

  Queryable& store_;
  int64_t horizon_ = std::numeric_limits<int64_t>::max();
};

class GroupRunner {
 public:
  GroupRunner(const TestFile& file, const std::vector<RuleFile>& rule_files,
              const TestGroup& group, int index, const RuleTestOptions& options)
      : file_(file),
        rule_files_(rule_files),
        group_(group),
        index_(index),
        options_(options) {}

  RuleTestGroupResult Run() {
    RuleTestGroupResult r;
    r.name = group_.name;
    r.index = index_;
    auto start = std::chrono::steady_clock::now();
    absl::Status s = RunTests();
    if (!s.ok()) {
      if (absl::IsUnimplemented(s)) {
        r.skipped = std::string(s.message());
      } else {
        Fail(std::string(s.message()));
      }
    }
    r.failures = std::move(failures_);
    r.step_by_step = stepped_;
    r.passed = r.skipped.empty() && r.failures.empty();
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    return r;
  }

 private:
  void Fail(std::string message) {
    failures_.push_back(
        absl::StrCat("    ", GroupTitle(group_, index_), ": ", message));
  }

  // Parses the input series and stores all of their samples; the store
  // shows them up to the evaluation time only (Horizon).
  absl::Status LoadInput() {
    const int64_t interval =
        group_.interval_ms > 0 ? group_.interval_ms : file_.eval_interval_ms;
    std::unique_ptr<Appender> app = world_->store.NewAppender();
    std::vector<int64_t> t;
    std::vector<double> v;
    for (const InputSeries& in : group_.input) {
      absl::StatusOr<SeriesDescription> desc =
          ParseSeriesDescription(absl::StrCat(in.series, " ", in.values));
      if (!desc.ok()) {
        if (absl::IsUnimplemented(desc.status())) return desc.status();
        // The message starts with the column in "series values": point at
        // the field it falls in.
        int col = 0;
        absl::string_view message = desc.status().message();
        const size_t colon = message.find(':');
        const bool in_series =
            colon != absl::string_view::npos &&
            absl::SimpleAtoi(message.substr(0, colon), &col) &&
            col <= static_cast<int>(in.series.size());
        const FilePosition& pos = in_series ? in.series_pos : in.values_pos;
        return absl::InvalidArgumentError(absl::StrCat(
            file_.path, ":", pos.line, ":", pos.column, ": input series ",
            GoQuote(in.series), " ", GoQuote(in.values), ": column ", message));
      }
      t.clear();
      v.clear();
      for (size_t i = 0; i < desc->values.size(); ++i) {
        if (desc->values[i].omitted) continue;
        t.push_back(group_.start_ms + static_cast<int64_t>(i) * interval);
        v.push_back(desc->values[i].value);
      }
      app->AppendSamples(desc->labels, t, v);
    }
    return app->Commit();
  }

  absl::Status RunTests() {
    for (const ExprTest& t : group_.expr_tests) {
      for (const ExpSample& s : t.exp) {
        if (s.histogram) {
          return absl::UnimplementedError(
              "native histograms are not supported (exp_samples with "
              "histogram)");
        }
      }
    }
    PROMEVAL_RETURN_IF_ERROR(LoadInput());
    for (const AlertTest& t : group_.alert_tests) {
      if (t.alertname.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "an item under alert_rule_test misses required attribute "
            "alertname at eval_time ",
            FormatDuration(t.eval_time_ms)));
      }
    }

    EngineOptions engine_options = options_.engine;
    engine_options.max_samples = 10000;
    engine_options.timeout = absl::Seconds(100);
    engine_options.default_subquery_step_ms = file_.eval_interval_ms;
    PROMEVAL_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                              Engine::Create(engine_options));

    int64_t max_eval = 0;
    for (const AlertTest& t : group_.alert_tests) {
      max_eval = std::max(max_eval, t.eval_time_ms);
    }
    for (const ExprTest& t : group_.expr_tests) {
      max_eval = std::max(max_eval, t.eval_time_ms);
    }
    std::vector<const AlertTest*> alert_tests;
    for (const AlertTest& t : group_.alert_tests) alert_tests.push_back(&t);
    std::stable_sort(alert_tests.begin(), alert_tests.end(),
                     [](const AlertTest* a, const AlertTest* b) {
                       return a->eval_time_ms < b->eval_time_ms;
                     });

    if (!options_.step_by_step &&
        EvalOverRange(*engine, max_eval, alert_tests)) {
      for (const ExprTest& t : group_.expr_tests) CheckExpr(t, *engine);
      return absl::OkStatus();
    }
    // Step by step, in a new store.
    stepped_ = true;
    world_ = std::make_unique<World>();
    PROMEVAL_RETURN_IF_ERROR(LoadInput());
    std::vector<std::unique_ptr<GroupEvaluator>> groups = Groups(*engine);
    const int64_t mint = group_.start_ms;
    const int64_t interval = file_.eval_interval_ms;
    size_t next_alert_test = 0;
    for (int64_t ts = mint; ts <= mint + max_eval; ts += interval) {
      world_->view.set_horizon(ts);
      std::vector<std::string> eval_errors;
      for (auto& g : groups) {
        g->Eval(ts);
        for (size_t i = 0; i < g->group().rules.size(); ++i) {
          if (g->rule_health(i) == RuleHealth::kBad) {
            eval_errors.push_back(absl::StrCat(
                "rule ", GoQuote(g->group().rules[i].name), " at ",
                FormatDuration(ts - mint), ": ", g->rule_error(i)));
          }
        }
      }
      if (!eval_errors.empty()) {
        for (std::string& e : eval_errors) Fail(std::move(e));
        return absl::OkStatus();
      }
      while (next_alert_test < alert_tests.size() &&
             alert_tests[next_alert_test]->eval_time_ms <
                 ts - mint + interval) {
        const AlertTest& t = *alert_tests[next_alert_test++];
        if (t.eval_time_ms < ts - mint) continue;
        std::vector<AlertView> got;
        for (const auto& g : groups) {
          const std::vector<Rule>& rules = g->group().rules;
          for (size_t i = 0; i < rules.size(); ++i) {
            if (rules[i].name == t.alertname) AddFiring(*g, i, got);
          }
        }
        CheckAlerts(t, std::move(got));
      }
    }
    for (const ExprTest& t : group_.expr_tests) CheckExpr(t, *engine);
    return absl::OkStatus();
  }

  // The rule groups, ordered by group_eval_order (unlisted ones first).
  std::vector<std::unique_ptr<GroupEvaluator>> Groups(const Engine& engine) {
    RuleEvalOptions eval_options;
    {
      std::vector<Label> ext;
      for (const auto& [k, v] : group_.external_labels) ext.push_back({k, v});
      eval_options.external_labels = Labels(std::move(ext));
    }
    eval_options.external_url = group_.external_url;
    std::vector<std::pair<int, const RuleGroup*>> ordered;
    for (const RuleFile& rf : rule_files_) {
      for (const RuleGroup& g : rf.groups) {
        auto it = std::find(file_.group_eval_order.begin(),
                            file_.group_eval_order.end(), g.name);
        int order = it == file_.group_eval_order.end()
                        ? 0
                        : static_cast<int>(it - file_.group_eval_order.begin());
        ordered.emplace_back(order, &g);
      }
    }
    std::stable_sort(
        ordered.begin(), ordered.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::unique_ptr<GroupEvaluator>> groups;
    for (const auto& [order, g] : ordered) {
      groups.push_back(std::make_unique<GroupEvaluator>(
          *g, engine, world_->view, world_->store, eval_options));
    }
    return groups;
  }

  // Evaluates every rule over all evaluation times at once
  // (GroupEvaluator::EvalRuleOverRange), one rule after the other, and
  // checks the alert tests. Returns false, having checked nothing, if some
  // rule reads what it or a later rule writes or if an evaluation fails:
  // the caller then evaluates step by step, which also gives a failure its
  // time and report.
  bool EvalOverRange(const Engine& engine, int64_t max_eval,
                     const std::vector<const AlertTest*>& alert_tests) {
    std::vector<std::unique_ptr<GroupEvaluator>> groups = Groups(engine);
    // How many of the rules not yet evaluated write each name.
    absl::flat_hash_map<std::string, int> writers;
    for (const auto& g : groups) {
      for (const Rule& r : g->group().rules) {
        for (std::string& name : RuleOutputNames(r)) ++writers[name];
      }
    }
    absl::flat_hash_set<std::string> unwritten;
    for (const auto& g : groups) {
      for (const Rule& r : g->group().rules) {
        unwritten.clear();
        for (const auto& [name, n] : writers) {
          if (n > 0) unwritten.insert(name);
        }
        if (!RangeEvaluable(g->group(), r, unwritten)) return false;
        for (const std::string& name : RuleOutputNames(r)) --writers[name];
      }
    }

    const int64_t mint = group_.start_ms;
    const int64_t interval = file_.eval_interval_ms;
    const int64_t last = mint + max_eval / interval * interval;
    world_->view.set_horizon(last);
    // The firing alerts each alert test sees: those at the last evaluation
    // at or before its time.
    std::vector<std::vector<AlertView>> got(alert_tests.size());
    for (const auto& g : groups) {
      const std::vector<Rule>& rules = g->group().rules;
      for (size_t i = 0; i < rules.size(); ++i) {
        auto observe = [&](int64_t ts) {
          if (rules[i].kind != Rule::Kind::kAlerting) return;
          for (size_t k = 0; k < alert_tests.size(); ++k) {
            const AlertTest& t = *alert_tests[k];
            if (t.alertname == rules[i].name &&
                mint + t.eval_time_ms / interval * interval == ts) {
              AddFiring(*g, i, got[k]);
            }
          }
        };
        if (!g->EvalRuleOverRange(i, mint, last, interval, observe).ok()) {
          return false;
        }
      }
    }
    for (size_t k = 0; k < alert_tests.size(); ++k) {
      CheckAlerts(*alert_tests[k], std::move(got[k]));
    }
    return true;
  }

  // Adds the firing alerts of an alerting rule to `got`.
  static void AddFiring(const GroupEvaluator& g, size_t rule,
                        std::vector<AlertView>& got) {
    if (g.group().rules[rule].kind != Rule::Kind::kAlerting) return;
    for (const Alert& a : g.ActiveAlerts(rule)) {
      if (a.state != AlertState::kFiring) continue;
      AlertView v;
      for (const Label& l : a.labels) v.labels[l.name] = l.value;
      for (const auto& [k, val] : a.annotations) v.annotations[k] = val;
      got.push_back(std::move(v));
    }
  }

  void CheckAlerts(const AlertTest& t, std::vector<AlertView> got) {
    std::vector<AlertView> exp;
    for (const ExpAlert& e : t.exp) {
      AlertView v{e.labels, e.annotations};
      v.labels["alertname"] = t.alertname;
      exp.push_back(std::move(v));
    }
    std::sort(got.begin(), got.end());
    std::sort(exp.begin(), exp.end());
    if (got == exp) return;
    Fail(absl::StrCat(
        "alert ", GoQuote(t.alertname), " at ", FormatDuration(t.eval_time_ms),
        ": expected ", exp.size(), " firing, got ", got.size(),
        " (- expected, + got)\n",
        Diff(exp, got, [](const AlertView& v) { return v.ToString(); })));
    failures_.back().pop_back();  // The diff's last newline.
  }

  void CheckExpr(const ExprTest& t, const Engine& engine) {
    const std::string where = absl::StrCat("expr ", GoQuote(t.expr), " at ",
                                           FormatDuration(t.eval_time_ms));
    absl::StatusOr<QueryResult> res = engine.InstantQuery(
        world_->view, t.expr, group_.start_ms + t.eval_time_ms);
    std::vector<SampleView> got;
    if (!res.ok()) {
      Fail(absl::StrCat(where, ": ", res.status().message()));
      return;
    }
    if (res->type == ValueType::kVector) {
      for (const Sample& s : res->vector) got.push_back({s.labels, s.v});
    } else if (res->type == ValueType::kScalar) {
      got.push_back({Labels(), res->scalar});
    } else {
      Fail(absl::StrCat(where, ": rule result is not a vector or scalar"));
      return;
    }
    std::vector<SampleView> exp;
    for (const ExpSample& s : t.exp) {
      absl::StatusOr<Labels> labels =
          s.labels.empty() ? Labels() : ParseMetric(s.labels);
      if (!labels.ok()) {
        Fail(absl::StrCat(where, ": labels ", GoQuote(s.labels), ": ",
                          labels.status().message()));
        return;
      }
      exp.push_back({*labels, s.value});
    }
    auto by_labels = [](const SampleView& a, const SampleView& b) {
      return CompareLabels(a.labels, b.labels) < 0;
    };
    std::stable_sort(got.begin(), got.end(), by_labels);
    std::stable_sort(exp.begin(), exp.end(), by_labels);
    bool same = got.size() == exp.size();
    for (size_t i = 0; same && i < got.size(); ++i) {
      same = got[i].labels == exp[i].labels &&
             SameValue(exp[i].value, got[i].value, file_.fuzzy_compare);
    }
    if (same) return;
    std::string lines;
    for (const SampleView& s : exp) {
      absl::StrAppend(&lines, "        - ", s.ToString(), "\n");
    }
    for (const SampleView& s : got) {
      absl::StrAppend(&lines, "        + ", s.ToString(), "\n");
    }
    if (!lines.empty()) lines.pop_back();
    Fail(absl::StrCat(where, ": expected ", exp.size(), " samples, got ",
                      got.size(), " (- expected, + got)\n", lines));
  }

  const TestFile& file_;
  const std::vector<RuleFile>& rule_files_;
  const TestGroup& group_;
  const int index_;
  const RuleTestOptions& options_;
  // The test group's store, and its view at the evaluation time.
  struct World {
    MemStorage store;
    Horizon view{store};
  };
  std::unique_ptr<World> world_ = std::make_unique<World>();
  bool stepped_ = false;
  std::vector<std::string> failures_;
};

std::string Dir(absl::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  return std::string(path.substr(0, slash == 0 ? 1 : slash));
}

}  // namespace

bool RuleTestFileResult::passed() const {
  if (!errors.empty()) return false;
  for (const RuleTestGroupResult& g : groups) {
    if (!g.passed && g.skipped.empty()) return false;
  }
  return true;
}

RuleTestFileResult RunRuleTestFile(absl::string_view path,
                                   const RuleTestOptions& options) {
  RuleTestFileResult result;
  result.path = std::string(path);
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) {
    result.errors.emplace_back(content.status().message());
    return result;
  }
  absl::StatusOr<TestFile> file =
      DecodeTestFile(*content, path, options.ignore_unknown_fields);
  if (!file.ok()) {
    result.errors.emplace_back(file.status().message());
    return result;
  }
  std::vector<std::unique_ptr<RE2>> run;
  for (const std::string& r : options.run) {
    run.push_back(std::make_unique<RE2>(r));
    if (!run.back()->ok()) {
      result.errors.push_back(absl::StrCat("invalid --run regular expression ",
                                           GoQuote(r), ": ",
                                           run.back()->error()));
      return result;
    }
  }
  for (size_t i = 0; i < file->group_eval_order.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (file->group_eval_order[i] == file->group_eval_order[j]) {
        result.errors.push_back(
            absl::StrCat("group name repeated in evaluation order: ",
                         file->group_eval_order[i]));
        return result;
      }
    }
  }

  // Rule files: relative to the test file, globbed.
  std::vector<std::string> paths;
  for (const std::string& pattern : file->rule_files) {
    const std::string dir = Dir(path);
    std::string full = !pattern.empty() && pattern[0] != '/' && dir != "."
                           ? absl::StrCat(dir, "/", pattern)
                           : pattern;
    glob_t g;
    int rc = glob(full.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (size_t k = 0; k < g.gl_pathc; ++k) paths.emplace_back(g.gl_pathv[k]);
    } else {
      result.warnings.push_back(absl::StrCat("no file match pattern ", full));
    }
    globfree(&g);
  }
  RuleLoadOptions load_options;
  load_options.ignore_unknown_fields = options.ignore_unknown_fields;
  load_options.parser = options.engine.parser;
  std::vector<RuleFile> rule_files;
  std::vector<std::string> rule_errors;
  for (const std::string& p : paths) {
    absl::StatusOr<RuleFile> rf = LoadRuleFile(p, load_options);
    if (!rf.ok()) {
      rule_errors.emplace_back(rf.status().message());
      continue;
    }
    rule_files.push_back(*std::move(rf));
  }

  for (size_t i = 0; i < file->tests.size(); ++i) {
    const TestGroup& g = file->tests[i];
    if (!run.empty() &&
        std::none_of(run.begin(), run.end(), [&](const auto& re) {
          return RE2::PartialMatch(g.name, *re);
        })) {
      continue;
    }
    if (!rule_errors.empty()) {
      RuleTestGroupResult r;
      r.name = g.name;
      r.index = static_cast<int>(i);
      for (const std::string& e : rule_errors) {
        r.failures.push_back(
            absl::StrCat("    ", GroupTitle(g, i), ": rule file: ", e));
      }
      result.groups.push_back(std::move(r));
      continue;
    }
    GroupRunner runner(*file, rule_files, g, static_cast<int>(i), options);
    result.groups.push_back(runner.Run());
  }
  return result;
}

}  // namespace promeval
