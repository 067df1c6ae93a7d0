// `promeval query` and `promeval query-range`: evaluate PromQL over data
// files and print the result as the Prometheus HTTP API does (--format json)
// or as readable lines (--format text).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/data.h"
#include "cli/messages.h"
#include "promeval/engine.h"
#include "promeval/parser.h"
#include "promeval/text.h"

namespace promeval::cli {
namespace {

struct QueryOptions {
  DataSources data;
  std::string time;
  std::string start, end, step;
  std::string lookback_delta;
  int64_t max_samples = EngineOptions().max_samples;
  int workers = 0;
  std::string max_bytes;
  std::string timeout;
  std::string format = "text";
  std::vector<std::string> features;
  bool stats = false;
  std::string expr;
};

// Prometheus's JSON timestamp: seconds with the milliseconds as three
// decimals, omitted when zero.
void AppendJsonTimestamp(std::string& out, int64_t ms) {
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  absl::StrAppend(&out, ms / 1000);
  if (ms % 1000 != 0) absl::StrAppendFormat(&out, ".%03d", ms % 1000);
}

void AppendJsonPoint(std::string& out, int64_t ms, absl::string_view value) {
  out += '[';
  AppendJsonTimestamp(out, ms);
  absl::StrAppend(&out, ",", GoJsonQuote(value), "]");
}

void AppendJsonMetric(std::string& out, const Labels& labels) {
  out += "{";
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out += ',';
    first = false;
    absl::StrAppend(&out, GoJsonQuote(l.name), ":", GoJsonQuote(l.value));
  }
  out += "}";
}

void AppendJsonStrings(std::string& out, absl::string_view key,
                       const std::vector<std::string>& items) {
  if (items.empty()) return;
  absl::StrAppend(&out, ",\"", key, "\":[");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += GoJsonQuote(items[i]);
  }
  out += ']';
}

// model.Time's String(): seconds, shortest decimal form.
std::string TextTimestamp(int64_t ms) {
  return FormatFloat(static_cast<double>(ms) / 1000.0);
}

std::string JsonResult(const QueryResult& r, absl::string_view query) {
  std::string out = "{\"status\":\"success\",\"data\":{\"resultType\":";
  switch (r.type) {
    case ValueType::kVector:
      out += "\"vector\",\"result\":[";
      for (size_t i = 0; i < r.vector.size(); ++i) {
        if (i > 0) out += ',';
        out += "{\"metric\":";
        AppendJsonMetric(out, r.vector[i].labels);
        out += ",\"value\":";
        AppendJsonPoint(out, r.vector[i].t, FormatSampleValue(r.vector[i].v));
        out += '}';
      }
      out += ']';
      break;
    case ValueType::kMatrix:
      out += "\"matrix\",\"result\":[";
      for (size_t i = 0; i < r.matrix.size(); ++i) {
        if (i > 0) out += ',';
        out += "{\"metric\":";
        AppendJsonMetric(out, r.matrix[i].labels);
        out += ",\"values\":[";
        for (size_t j = 0; j < r.matrix[i].points.size(); ++j) {
          if (j > 0) out += ',';
          const FPoint& p = r.matrix[i].points[j];
          AppendJsonPoint(out, p.t, FormatSampleValue(p.v));
        }
        out += "]}";
      }
      out += ']';
      break;
    case ValueType::kScalar:
      // Scalars and strings marshal their time as a JSON float.
      absl::StrAppend(&out, "\"scalar\",\"result\":[",
                      TextTimestamp(r.timestamp), ",",
                      GoJsonQuote(FormatSampleValue(r.scalar)), "]");
      break;
    case ValueType::kString:
      absl::StrAppend(&out, "\"string\",\"result\":[",
                      TextTimestamp(r.timestamp), ",", GoJsonQuote(r.string),
                      "]");
      break;
    case ValueType::kNone:
      out += "null";
      break;
  }
  out += '}';
  std::vector<std::string> warnings, infos;
  for (const Annotation& a : r.annotations) {
    (a.kind == Annotation::Kind::kWarning ? warnings : infos)
        .push_back(a.ToString(query));
  }
  AppendJsonStrings(out, "warnings", warnings);
  AppendJsonStrings(out, "infos", infos);
  out += "}\n";
  return out;
}

// model.Metric's String(): the name outside the braces.
std::string TextMetric(const Labels& labels) {
  std::string name(labels.Get(kMetricName));
  Labels rest = labels.WithoutMetricName();
  if (!name.empty() && IsLegacyMetricName(name)) {
    return rest.empty() ? name : name + rest.ToString();
  }
  return labels.ToString();
}

std::string TextResult(const QueryResult& r) {
  std::string out;
  switch (r.type) {
    case ValueType::kVector:
      for (const Sample& s : r.vector) {
        absl::StrAppend(&out, TextMetric(s.labels), " => ",
                        FormatSampleValue(s.v), " @[", TextTimestamp(s.t),
                        "]\n");
      }
      break;
    case ValueType::kMatrix:
      for (const Series& s : r.matrix) {
        absl::StrAppend(&out, TextMetric(s.labels), " =>\n");
        for (const FPoint& p : s.points) {
          absl::StrAppend(&out, FormatSampleValue(p.v), " @[",
                          TextTimestamp(p.t), "]\n");
        }
      }
      break;
    case ValueType::kScalar:
      absl::StrAppend(&out, "scalar: ", FormatSampleValue(r.scalar), " @[",
                      TextTimestamp(r.timestamp), "]\n");
      break;
    case ValueType::kString:
      absl::StrAppend(&out, "string: ", r.string, " @[",
                      TextTimestamp(r.timestamp), "]\n");
      break;
    case ValueType::kNone:
      break;
  }
  return out;
}

// The API's errorType for a failed query.
absl::string_view ErrorType(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "bad_data";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kCancelled:
      return "canceled";
    default:
      return "execution";
  }
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Runs the query; returns the exit code.
int RunQuery(QueryOptions& o, bool range) {
  const char* name = range ? "promeval query-range" : "promeval query";
  auto fail_usage = [&](absl::string_view message) {
    std::cerr << name << ": " << message << "\n";
    return 2;
  };
  EngineOptions engine_options;
  if (!ApplyFeatures(name, o.features, engine_options)) return 2;
  if (!o.lookback_delta.empty()) {
    absl::StatusOr<int64_t> d = ParseDurationArg(o.lookback_delta);
    if (!d.ok()) {
      return fail_usage(
          absl::StrCat("--lookback-delta: ", d.status().message()));
    }
    engine_options.lookback_delta_ms = *d;
  }
  if (o.max_samples <= 0) return fail_usage("--max-samples must be positive");
  engine_options.max_samples = o.max_samples;
  if (o.workers < 0) return fail_usage("--workers must not be negative");
  engine_options.workers = o.workers;
  if (!o.max_bytes.empty()) {
    absl::StatusOr<int64_t> b = ParseByteSize(o.max_bytes);
    if (!b.ok())
      return fail_usage(
          absl::StrCat("--max-query-bytes: ", b.status().message()));
    engine_options.max_bytes = *b;
  }
  if (!o.timeout.empty()) {
    absl::StatusOr<int64_t> d = ParseDurationArg(o.timeout);
    if (!d.ok() || *d < 0) {
      return fail_usage(
          absl::StrCat("--timeout: ",
                       d.ok() ? "must not be negative" : d.status().message()));
    }
    engine_options.timeout = absl::Milliseconds(*d);
  }
  if (o.format != "text" && o.format != "json") {
    return fail_usage(
        absl::StrCat("unknown --format ", o.format, " (text or json)"));
  }
  // Times given on the command line; the query default waits for the data.
  int64_t time = 0, start = 0, end = 0, step = 0;
  for (auto [text, out, what] : {std::tuple{&o.time, &time, "--time"},
                                 std::tuple{&o.start, &start, "--start"},
                                 std::tuple{&o.end, &end, "--end"}}) {
    if (text->empty()) continue;
    absl::StatusOr<int64_t> t = ParseTimeArg(*text);
    if (!t.ok())
      return fail_usage(absl::StrCat(what, ": ", t.status().message()));
    *out = *t;
  }
  if (range) {
    absl::StatusOr<int64_t> s = ParseDurationArg(o.step);
    if (!s.ok())
      return fail_usage(absl::StrCat("--step: ", s.status().message()));
    step = *s;
  }

  auto t0 = std::chrono::steady_clock::now();
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  absl::Status opened = o.data.Open(now_ms, o.workers);
  if (!opened.ok()) {
    std::cerr << name << ": " << opened.message() << "\n";
    return 1;
  }
  if (!range && o.time.empty()) {
    absl::StatusOr<int64_t> newest = o.data.NewestSampleMs();
    if (!newest.ok()) {
      std::cerr << name << ": " << newest.status().message() << "\n";
      return 1;
    }
    time = *newest != 0 ? *newest : now_ms;
  }
  Queryable& storage = o.data.queryable();
  auto t1 = std::chrono::steady_clock::now();

  absl::StatusOr<std::unique_ptr<Engine>> engine =
      Engine::Create(engine_options);
  if (!engine.ok()) return fail_usage(engine.status().message());
  // The API's checks of the range parameters, with its texts.
  absl::Status bad_range;
  if (range && end < start) {
    bad_range = absl::InvalidArgumentError(
        "invalid parameter \"end\": end timestamp must not be before start "
        "time");
  } else if (range && step <= 0) {
    bad_range = absl::InvalidArgumentError(
        "invalid parameter \"step\": zero or negative query resolution step "
        "widths are not "
        "accepted. Try a positive integer");
  } else if (range && (static_cast<__int128>(end) - start) / step > 11000) {
    bad_range = absl::InvalidArgumentError(
        "exceeded maximum resolution of 11,000 points per timeseries. Try "
        "decreasing the "
        "query resolution (?step=XX)");
  }
  // Parsed here rather than by the engine's queries, to have every parse
  // error with its position.
  std::vector<ParseError> parse_errors;
  absl::StatusOr<QueryResult> result;
  if (!bad_range.ok()) {
    result = bad_range;
  } else {
    ParseOutcome parsed = ParseExprWithErrors(o.expr, engine_options.parser);
    if (!parsed.errors.empty()) {
      parse_errors = std::move(parsed.errors);
      // What the engine's queries report: the first error.
      result = absl::InvalidArgumentError(parse_errors[0].ToString(o.expr));
    } else if (range) {
      result = (*engine)->Evaluate(storage, *parsed.expr, o.expr, start, end,
                                   step, /*instant=*/false);
    } else {
      result = (*engine)->Evaluate(storage, *parsed.expr, o.expr, time, time, 0,
                                   /*instant=*/true);
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  o.data.PrintWarnings(name);

  std::string out;
  int exit_code = 0;
  if (!result.ok()) {
    exit_code = 1;
    if (o.format == "json") {
      // Errors creating the query (parse and type errors) name the
      // parameter, as the API reports them.
      std::string text(result.status().message());
      if (bad_range.ok() && absl::IsInvalidArgument(result.status())) {
        text = absl::StrCat("invalid parameter \"query\": ", text);
      }
      absl::StrAppend(&out, "{\"status\":\"error\",\"errorType\":\"",
                      ErrorType(result.status()),
                      "\",\"error\":", GoJsonQuote(text), "}\n");
    } else if (!parse_errors.empty()) {
      // As `promeval parse` prints them: each with a caret line.
      for (const ParseError& e : parse_errors) {
        std::cerr << WithCaret(absl::StrCat(name, ": ", e.ToString(o.expr)),
                               o.expr, e.pos.start);
      }
    } else if (std::optional<PositionRange> pos =
                   ErrorPosition(result.status())) {
      // Evaluation errors name the subexpression that failed.
      std::cerr << WithCaret(
          absl::StrCat(name, ": ", LineColumn(o.expr, pos->start), ": ",
                       result.status().message()),
          o.expr, pos->start);
    } else {
      std::cerr << name << ": " << result.status().message() << "\n";
    }
  } else if (o.format == "json") {
    out = JsonResult(*result, o.expr);
  } else {
    out = TextResult(*result);
    for (const Annotation& a : result->annotations)
      std::cerr << a.ToString(o.expr) << "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  auto t3 = std::chrono::steady_clock::now();
  if (o.stats) {
    QueryStats qs = result.ok() ? result->stats : QueryStats{};
    const RemoteReadStats rs = o.data.RemoteStats();
    std::cerr << absl::StrFormat(
        "{\"loadSeconds\":%.6f,\"evalSeconds\":%.6f,\"outputSeconds\":%.6f,"
        "\"samplesRead\":%d,\"peakSamples\":%d,"
        "\"totalQueryableSamples\":%d,\"peakBytes\":%d,"
        "\"remoteRequests\":%d,\"remoteBytes\":%d,"
        "\"remoteTransferSeconds\":%.6f,\"remoteDecodeSeconds\":%.6f}\n",
        Seconds(t1 - t0), Seconds(t2 - t1), Seconds(t3 - t2), qs.samples_read,
        qs.peak_samples, qs.total_queryable_samples, qs.peak_bytes, rs.requests,
        rs.response_bytes, rs.transfer_ns / 1e9, rs.decode_ns / 1e9);
  }
  return exit_code;
}

void AddCommonOptions(CLI::App* cmd, QueryOptions& o) {
  o.data.AddOptions(*cmd);
  cmd->add_option(
      "--lookback-delta", o.lookback_delta,
      "How far back an instant selector looks for a sample (PromQL duration or "
      "seconds; default 5m).");
  cmd->add_option("--max-samples", o.max_samples,
                  "The most samples the query may hold in memory at once "
                  "(Prometheus's --query.max-samples; default 50000000).");
  cmd->add_option("--workers", o.workers,
                  "Threads that evaluate the query (0: one per core, the "
                  "default; 1: single-threaded). Results do not depend on "
                  "it.");
  cmd->add_option("--max-query-bytes", o.max_bytes,
                  "The most memory the query's values may take at once, "
                  "estimated as the engine allocates: bytes, or with a unit "
                  "(KB, MB, GB, KiB, MiB, GiB). Default: no limit.");
  cmd->add_option("--timeout", o.timeout,
                  "Fail the query after this long (PromQL duration or "
                  "seconds; 0: never; default 2m, Prometheus's "
                  "--query.timeout).");
  cmd->add_option("--format", o.format,
                  "Output: text (readable lines) or json (the Prometheus HTTP "
                  "API response "
                  "body).")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag(
      "--stats", o.stats,
      "Print timings and sample counts as one JSON object on stderr.");
  AddFeatureOption(*cmd, o.features);
  cmd->add_option("expr", o.expr, "The PromQL expression.")->required();
}

}  // namespace

void RegisterQuery(CLI::App& app, int& exit_code) {
  auto instant = std::make_shared<QueryOptions>();
  CLI::App* q =
      app.add_subcommand("query",
                         "Evaluate an instant query over data files. Without "
                         "--time the query runs at the "
                         "newest sample's time (or now if there is no data).");
  q->add_option(
      "--time", instant->time,
      "Evaluation time: Unix seconds (fractions allowed) or RFC3339.");
  AddCommonOptions(q, *instant);
  q->callback([instant, &exit_code] { exit_code = RunQuery(*instant, false); });

  auto range = std::make_shared<QueryOptions>();
  CLI::App* r = app.add_subcommand(
      "query-range",
      "Evaluate a range query over data files; the result is a matrix.");
  r->add_option("--start", range->start, "Start time: Unix seconds or RFC3339.")
      ->required();
  r->add_option("--end", range->end, "End time: Unix seconds or RFC3339.")
      ->required();
  r->add_option("--step", range->step, "Step: PromQL duration or seconds.")
      ->required();
  AddCommonOptions(r, *range);
  r->callback([range, &exit_code] { exit_code = RunQuery(*range, true); });
}

}  // namespace promeval::cli
