#include "cli/data.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/files.h"
#include "promeval/text.h"

namespace promeval::cli {

absl::StatusOr<LoadStats> LoadDataFiles(const std::vector<std::string>& files,
                                        absl::string_view format,
                                        int64_t default_timestamp_ms,
                                        Appendable& storage) {
  LoadStats total;
  total.min_timestamp_ms = std::numeric_limits<int64_t>::max();
  total.max_timestamp_ms = std::numeric_limits<int64_t>::min();
  for (const std::string& file : files) {
    absl::StatusOr<std::string> content = ReadFile(file);
    if (!content.ok()) return content.status();
    absl::StatusOr<LoadStats> stats;
    bool script = format == "promqltest" ||
                  (format == "auto" && IsSeriesScript(*content));
    if (script) {
      stats = LoadSeriesScript(*content, file, storage);
    } else {
      TextLoadOptions options;
      options.default_timestamp_ms = default_timestamp_ms;
      if (format == "openmetrics") {
        options.format = TextFormat::kOpenMetrics;
      } else if (format == "prometheus") {
        options.format = TextFormat::kPrometheusText;
      } else if (format != "auto") {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown data format ", GoQuote(format)));
      }
      stats = LoadText(*content, file, options, storage);
    }
    if (!stats.ok()) return stats.status();
    total.series += stats->series;
    total.samples += stats->samples;
    if (stats->samples > 0) {
      total.min_timestamp_ms =
          std::min(total.min_timestamp_ms, stats->min_timestamp_ms);
      total.max_timestamp_ms =
          std::max(total.max_timestamp_ms, stats->max_timestamp_ms);
    }
  }
  if (total.samples == 0) total.min_timestamp_ms = total.max_timestamp_ms = 0;
  return total;
}

void DataSources::AddOptions(CLI::App& cmd) {
  cmd.add_option("--data", files_,
                 "Data files: OpenMetrics, Prometheus text or a promqltest "
                 "series script (repeatable).");
  cmd.add_option("--data-format", format_, kDataFormatHelp)
      ->check(
          CLI::IsMember({"auto", "openmetrics", "prometheus", "promqltest"}));
  cmd.add_option("--tsdb", tsdb_dirs_,
                 "A Prometheus data directory (blocks, WAL), read-only; also "
                 "the directory of a running Prometheus or a copy of one "
                 "(repeatable).");
  cmd.add_option("--remote-read", remote_urls_,
                 "A remote read endpoint (Prometheus, Thanos, Mimir, Cortex, "
                 "VictoriaMetrics), e.g. "
                 "http://127.0.0.1:9090/api/v1/read (repeatable).");
  cmd.add_option("--remote-read-response-type", response_type_,
                 "What to ask remote read endpoints for: auto (streamed XOR "
                 "chunks, or samples if that is what the server sends; the "
                 "default), samples, streamed.")
      ->check(CLI::IsMember({"auto", "samples", "streamed"}));
  cmd.add_option("--remote-read-required-matcher", required_matchers_,
                 "NAME=VALUE: ask the remote read endpoints only for "
                 "selectors with this equality matcher (Prometheus's "
                 "required_matchers; repeatable).");
  cmd.add_option("--remote-read-max-bytes", max_response_bytes_,
                 "The largest answer a remote read request may get (bytes, "
                 "or with a unit: KB, MB, GB, KiB, MiB, GiB; default 1GiB).");
  cmd.add_flag("--remote-read-batch", batch_,
               "Ask for all of a query's selections in one remote read "
               "request (several queries in its ReadRequest) instead of one "
               "request each: fewer round trips to a distant store.");
  remote_flags_.AddOptions(cmd);
}

void RemoteEndpointFlags::AddOptions(CLI::App& cmd) {
  cmd.add_option("--remote-timeout", timeout_,
                 "The longest a remote request may take (PromQL duration or "
                 "seconds; default 1m).");
  cmd.add_option("--header", headers_,
                 "NAME=VALUE: a header sent with every remote request, e.g. "
                 "X-Scope-OrgID=tenant (repeatable).");
  cmd.add_option("--basic-auth-user", base_.basic_auth_user,
                 "Basic auth user of the remote endpoints.");
  cmd.add_option("--basic-auth-password-file", base_.basic_auth_password_file,
                 "A file holding the basic auth password.");
  cmd.add_option("--bearer-token-file", base_.bearer_token_file,
                 "A file holding a bearer token for the remote endpoints.");
  cmd.add_option("--ca-file", base_.ca_file,
                 "CA certificates (PEM) to verify https endpoints with.");
  cmd.add_option("--cert-file", base_.cert_file,
                 "A client certificate (PEM) for https endpoints.");
  cmd.add_option("--key-file", base_.key_file,
                 "The client certificate's key (PEM).");
  cmd.add_flag("--insecure-skip-verify", base_.insecure_skip_verify,
               "Do not verify https endpoints' certificates.");
}

namespace {

// NAME=VALUE, for `flag`.
absl::StatusOr<std::pair<std::string, std::string>> NameValue(
    absl::string_view flag, absl::string_view s) {
  const size_t eq = s.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", GoQuote(s), " is not NAME=VALUE"));
  }
  return std::make_pair(std::string(s.substr(0, eq)),
                        std::string(s.substr(eq + 1)));
}

}  // namespace

absl::StatusOr<RemoteEndpoint> RemoteEndpointFlags::Endpoint(
    const std::string& url) const {
  RemoteEndpoint e = base_;
  e.url = url;
  absl::StatusOr<int64_t> timeout = ParseDurationArg(timeout_);
  if (!timeout.ok() || *timeout <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--remote-timeout: ", GoQuote(timeout_),
                     " is not a positive duration"));
  }
  e.timeout = absl::Milliseconds(*timeout);
  for (const std::string& h : headers_) {
    absl::StatusOr<std::pair<std::string, std::string>> nv =
        NameValue("--header", h);
    if (!nv.ok()) return nv.status();
    e.headers.push_back(*std::move(nv));
  }
  return e;
}

RemoteReadStats DataSources::RemoteStats() const {
  RemoteReadStats sum;
  for (const std::unique_ptr<RemoteReadQueryable>& r : remotes_) {
    const RemoteReadStats s = r->stats();
    sum.requests += s.requests;
    sum.response_bytes += s.response_bytes;
    sum.series += s.series;
    sum.samples += s.samples;
    sum.transfer_ns += s.transfer_ns;
    sum.decode_ns += s.decode_ns;
    sum.skipped_histogram_series += s.skipped_histogram_series;
  }
  return sum;
}

absl::Status DataSources::Open(int64_t default_timestamp_ms, int threads) {
  absl::StatusOr<LoadStats> loaded =
      LoadDataFiles(files_, format_, default_timestamp_ms, memory_);
  if (!loaded.ok()) return loaded.status();
  loaded_ = *loaded;
  std::vector<Queryable*> sources = {&memory_};
  for (const std::string& dir : tsdb_dirs_) {
    TsdbOptions options;
    options.threads =
        threads > 0 ? threads
                    : static_cast<int>(std::thread::hardware_concurrency());
    absl::StatusOr<std::unique_ptr<TsdbQueryable>> db =
        TsdbQueryable::Open(dir, options);
    if (!db.ok()) return db.status();
    sources.push_back(db->get());
    tsdbs_.push_back(*std::move(db));
  }
  absl::StatusOr<int64_t> max_bytes = ParseByteSize(max_response_bytes_);
  if (!max_bytes.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--remote-read-max-bytes: ", max_bytes.status().message()));
  }
  for (const std::string& url : remote_urls_) {
    RemoteReadOptions options;
    absl::StatusOr<RemoteEndpoint> endpoint = remote_flags_.Endpoint(url);
    if (!endpoint.ok()) return endpoint.status();
    options.endpoint = *std::move(endpoint);
    options.max_response_bytes = *max_bytes;
    options.batch_selections = batch_;
    options.response_type =
        response_type_ == "samples" ? RemoteReadOptions::ResponseType::kSamples
        : response_type_ == "streamed"
            ? RemoteReadOptions::ResponseType::kStreamedChunks
            : RemoteReadOptions::ResponseType::kAuto;
    for (const std::string& m : required_matchers_) {
      absl::StatusOr<std::pair<std::string, std::string>> nv =
          NameValue("--remote-read-required-matcher", m);
      if (!nv.ok()) return nv.status();
      options.required_matchers.push_back(*std::move(nv));
    }
    absl::StatusOr<std::unique_ptr<RemoteReadQueryable>> remote =
        RemoteReadQueryable::Create(options);
    if (!remote.ok()) return remote.status();
    sources.push_back(remote->get());
    remotes_.push_back(*std::move(remote));
  }
  fanout_ = std::make_unique<FanoutQueryable>(std::move(sources));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> DataSources::NewestSampleMs() {
  int64_t newest = loaded_.samples > 0 ? loaded_.max_timestamp_ms
                                       : std::numeric_limits<int64_t>::min();
  for (const std::unique_ptr<TsdbQueryable>& db : tsdbs_) {
    absl::StatusOr<TsdbInfo> info = db->Info(/*replay_head=*/true);
    if (!info.ok()) return info.status();
    for (const TsdbBlockInfo& b : info->blocks) {
      if (b.samples > 0) newest = std::max(newest, b.max_time - 1);
    }
    if (info->head.samples > 0) newest = std::max(newest, info->head.max_time);
  }
  return newest == std::numeric_limits<int64_t>::min() ? 0 : newest;
}

void DataSources::PrintWarnings(absl::string_view command) const {
  int64_t skipped = RemoteStats().skipped_histogram_series;
  for (const std::unique_ptr<TsdbQueryable>& db : tsdbs_) {
    skipped += db->SkippedHistogramSeries();
  }
  for (const std::unique_ptr<TsdbQueryable>& db : tsdbs_) {
    absl::StatusOr<TsdbInfo> info = db->Info();
    if (!info.ok()) continue;
    for (const std::string& w : info->head.warnings) {
      std::cerr << command << ": warning: " << w << "\n";
    }
  }
  if (skipped == 0) return;
  std::cerr << command << ": warning: " << skipped
            << " series holding native histograms left out (native "
               "histograms are not supported yet)\n";
}

void AddFeatureOption(CLI::App& cmd, std::vector<std::string>& features) {
  cmd.add_option(
         "--enable-feature", features,
         "Enable a Prometheus feature flag: "
         "promql-experimental-functions, promql-duration-expr, "
         "promql-extended-range-selectors, promql-binop-fill-modifiers, "
         "promql-delayed-name-removal (comma-separated or repeated).")
      ->delimiter(',');
}

bool ApplyFeatures(absl::string_view command,
                   const std::vector<std::string>& features,
                   EngineOptions& options) {
  for (const std::string& f : features) {
    if (!EnableEngineFeature(f, options).ok()) {
      std::cerr << command << ": unknown feature " << f << "\n";
      return false;
    }
  }
  return true;
}

absl::StatusOr<int64_t> ParseTimeArg(absl::string_view s) {
  double seconds = 0;
  if (absl::SimpleAtod(s, &seconds) && std::isfinite(seconds) &&
      std::fabs(seconds) <= 9.2e15) {
    double whole = std::trunc(seconds);
    double frac = std::round((seconds - whole) * 1000) / 1000;
    return static_cast<int64_t>(whole) * 1000 +
           static_cast<int64_t>(std::llround(frac * 1000));
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", GoQuote(s), " to a valid timestamp"));
}

absl::StatusOr<int64_t> ParseDurationArg(absl::string_view s) {
  double seconds = 0;
  if (absl::SimpleAtod(s, &seconds) && std::isfinite(seconds)) {
    if (std::fabs(seconds) > 9.2e15) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse ", GoQuote(s),
                       " to a valid duration. It overflows int64"));
    }
    return static_cast<int64_t>(seconds * 1000);
  }
  absl::StatusOr<int64_t> ms = ParseDuration(s);
  if (ms.ok()) return ms;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", GoQuote(s), " to a valid duration"));
}

absl::StatusOr<int64_t> ParseByteSize(absl::string_view s) {
  size_t digits = 0;
  while (digits < s.size() && absl::ascii_isdigit(s[digits])) ++digits;
  int64_t n = 0;
  if (digits == 0 || !absl::SimpleAtoi(s.substr(0, digits), &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse ", GoQuote(s), " as a size in bytes"));
  }
  static constexpr std::pair<absl::string_view, int64_t> kUnits[] = {
      {"", 1},          {"B", 1},           {"KB", 1000},
      {"MB", 1000000},  {"GB", 1000000000}, {"KiB", 1 << 10},
      {"MiB", 1 << 20}, {"GiB", 1 << 30}};
  for (const auto& [unit, scale] : kUnits) {
    if (s.substr(digits) != unit) continue;
    if (n > INT64_MAX / scale) {
      return absl::InvalidArgumentError(
          absl::StrCat("size ", GoQuote(s), " is too large"));
    }
    return n * scale;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot parse ", GoQuote(s),
      " as a size in bytes: unknown unit (B, KB, MB, GB, KiB, MiB, GiB)"));
}

}  // namespace promeval::cli
