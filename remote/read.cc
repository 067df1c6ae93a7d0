#include "remote/read.h"

#include <snappy.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <mutex>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "promeval/status_macros.h"
#include "promeval/value.h"
#include "remote/proto/remote.pb.h"
#include "tsdb/decbuf.h"
#include "tsdb/xor.h"

namespace promeval {
namespace remote {
namespace {

prometheus::LabelMatcher::Type MatcherType(MatchType t) {
  switch (t) {
    case MatchType::kEqual:
      return prometheus::LabelMatcher::EQ;
    case MatchType::kNotEqual:
      return prometheus::LabelMatcher::NEQ;
    case MatchType::kRegexp:
      return prometheus::LabelMatcher::RE;
    case MatchType::kNotRegexp:
      return prometheus::LabelMatcher::NRE;
  }
  return prometheus::LabelMatcher::EQ;
}

Labels ToLabels(
    const google::protobuf::RepeatedPtrField<prometheus::Label>& in) {
  std::vector<Label> labels;
  labels.reserve(in.size());
  for (const prometheus::Label& l : in) labels.push_back({l.name(), l.value()});
  return Labels(std::move(labels));
}

// Samples in time order, one per timestamp (the first one of each): what
// a correct server sends already, checked in one pass.
void Normalize(ReadSeries& s) {
  bool sorted = true;
  for (size_t i = 1; i < s.t.size() && sorted; ++i)
    sorted = s.t[i - 1] < s.t[i];
  if (sorted) return;
  std::vector<size_t> order(s.t.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.t[a] < s.t[b]; });
  std::vector<int64_t> t;
  std::vector<double> v;
  for (size_t i : order) {
    if (!t.empty() && t.back() == s.t[i]) continue;
    t.push_back(s.t[i]);
    v.push_back(s.v[i]);
  }
  s.t = std::move(t);
  s.v = std::move(v);
}

// One query's series while an answer is decoded: by labels, joined.
class QuerySeries {
 public:
  ReadSeries& Get(Labels labels) {
    auto [it, added] = index_.try_emplace(labels, series_.size());
    if (added) {
      series_.emplace_back();
      series_.back().labels = std::move(labels);
    }
    return series_[it->second];
  }
  void Skip(const Labels& labels) { skipped_.insert(labels); }

  std::vector<ReadSeries> Finish(int64_t& skipped) {
    std::vector<ReadSeries> out;
    out.reserve(series_.size());
    for (ReadSeries& s : series_) {
      if (skipped_.contains(s.labels)) continue;
      Normalize(s);
      out.push_back(std::move(s));
    }
    skipped += static_cast<int64_t>(skipped_.size());
    // Servers send series sorted (Prometheus's do): checked in one pass.
    auto less = [](const ReadSeries& a, const ReadSeries& b) {
      return CompareLabels(a.labels, b.labels) < 0;
    };
    if (!std::is_sorted(out.begin(), out.end(), less)) {
      std::sort(out.begin(), out.end(), less);
    }
    return out;
  }

 private:
  std::deque<ReadSeries> series_;
  absl::flat_hash_map<Labels, size_t> index_;
  absl::flat_hash_set<Labels> skipped_;
};

absl::Status DecodeStreamed(absl::string_view body, absl::string_view where,
                            std::vector<QuerySeries>& queries) {
  tsdb::Decbuf d(body, where);
  prometheus::ChunkedReadResponse frame;
  while (d.remaining() > 0) {
    const uint64_t start = d.offset();
    const uint64_t size = d.Uvarint();
    if (!d.ok()) return d.status();
    if (size > d.remaining() || d.remaining() - size < 4) {
      return tsdb::CorruptionError(
          where, start,
          absl::StrCat("remote read frame of ", size, " bytes, only ",
                       d.remaining(), " bytes left with its checksum"));
    }
    const uint32_t want = d.Be32();
    const absl::string_view message = d.Bytes(size);
    if (!d.ok()) return d.status();
    if (tsdb::Crc32c(message) != want) {
      return tsdb::CorruptionError(where, start,
                                   "remote read frame checksum mismatch");
    }
    if (!frame.ParseFromArray(message.data(), static_cast<int>(size))) {
      return tsdb::CorruptionError(
          where, start, "remote read frame is not a ChunkedReadResponse");
    }
    if (frame.query_index() < 0 ||
        static_cast<uint64_t>(frame.query_index()) >= queries.size()) {
      return tsdb::CorruptionError(
          where, start,
          absl::StrCat("remote read frame for query ", frame.query_index(),
                       " of a request of ", queries.size()));
    }
    QuerySeries& q = queries[frame.query_index()];
    for (const prometheus::ChunkedSeries& cs : frame.chunked_series()) {
      Labels labels = ToLabels(cs.labels());
      bool histograms = false;
      for (const prometheus::Chunk& c : cs.chunks()) {
        if (tsdb::IsHistogramEncoding(static_cast<uint8_t>(c.type()))) {
          histograms = true;
        } else if (c.type() != prometheus::Chunk::XOR) {
          return tsdb::CorruptionError(
              where, start,
              absl::StrCat("unsupported chunk encoding ", c.type(),
                           " in series ", labels.ToString()));
        }
      }
      if (histograms) {
        q.Skip(labels);
        continue;
      }
      ReadSeries& s = q.Get(labels);
      for (const prometheus::Chunk& c : cs.chunks()) {
        absl::StatusOr<int> n = tsdb::DecodeXorChunk(
            c.data(), std::numeric_limits<int64_t>::min(),
            std::numeric_limits<int64_t>::max(), s.t, s.v, where);
        if (!n.ok()) {
          // Decoded again for the message naming the frame and series
          // (errors are rare; the name costs more than the decoding).
          std::vector<int64_t> t;
          std::vector<double> v;
          return tsdb::DecodeXorChunk(
                     c.data(), std::numeric_limits<int64_t>::min(),
                     std::numeric_limits<int64_t>::max(), t, v,
                     absl::StrCat(where, ": frame at offset ", start,
                                  ": series ", labels.ToString()))
              .status();
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeSamples(absl::string_view body, absl::string_view where,
                           std::vector<QuerySeries>& queries) {
  // Checked before decompressing: the length a snappy block claims is
  // allocated at once.
  std::string raw;
  if (!snappy::IsValidCompressedBuffer(body.data(), body.size()) ||
      !snappy::Uncompress(body.data(), body.size(), &raw)) {
    return tsdb::CorruptionError(where, 0,
                                 "remote read answer is not snappy-compressed");
  }
  prometheus::ReadResponse response;
  if (!response.ParseFromString(raw)) {
    return tsdb::CorruptionError(where, 0,
                                 "remote read answer is not a ReadResponse");
  }
  if (static_cast<size_t>(response.results_size()) != queries.size()) {
    return tsdb::CorruptionError(
        where, 0,
        absl::StrCat("remote read answer has ", response.results_size(),
                     " results for ", queries.size(), " queries"));
  }
  for (int i = 0; i < response.results_size(); ++i) {
    for (const prometheus::TimeSeries& ts : response.results(i).timeseries()) {
      Labels labels = ToLabels(ts.labels());
      if (ts.histograms_size() > 0) {
        queries[i].Skip(labels);
        continue;
      }
      ReadSeries& s = queries[i].Get(std::move(labels));
      s.t.reserve(s.t.size() + ts.samples_size());
      s.v.reserve(s.v.size() + ts.samples_size());
      for (const prometheus::Sample& sample : ts.samples()) {
        s.t.push_back(sample.timestamp());
        s.v.push_back(sample.value());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeReadRequest(absl::Span<const ReadQuery> queries,
                              RemoteReadOptions::ResponseType type) {
  prometheus::ReadRequest request;
  for (const ReadQuery& q : queries) {
    prometheus::Query* out = request.add_queries();
    out->set_start_timestamp_ms(q.hints->start_ms);
    out->set_end_timestamp_ms(q.hints->end_ms);
    for (const Matcher& m : q.matchers) {
      prometheus::LabelMatcher* lm = out->add_matchers();
      lm->set_type(MatcherType(m.type()));
      lm->set_name(m.name());
      lm->set_value(m.value());
    }
    prometheus::ReadHints* h = out->mutable_hints();
    h->set_step_ms(q.hints->step_ms);
    h->set_func(q.hints->func);
    h->set_start_ms(q.hints->start_ms);
    h->set_end_ms(q.hints->end_ms);
    for (const std::string& g : q.hints->grouping) h->add_grouping(g);
    h->set_by(q.hints->by);
    h->set_range_ms(q.hints->range_ms);
  }
  using Type = RemoteReadOptions::ResponseType;
  if (type != Type::kSamples) {
    request.add_accepted_response_types(
        prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  }
  if (type != Type::kStreamedChunks) {
    request.add_accepted_response_types(prometheus::ReadRequest::SAMPLES);
  }
  std::string raw = request.SerializeAsString();
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);
  return body;
}

const HttpHeaders& ReadRequestHeaders() {
  static const HttpHeaders* headers =
      new HttpHeaders{{"Content-Encoding", "snappy"},
                      {"Accept-Encoding", "snappy"},
                      {"Content-Type", "application/x-protobuf"},
                      {"X-Prometheus-Remote-Read-Version", "0.1.0"}};
  return *headers;
}

absl::StatusOr<ReadResult> DecodeReadResponse(absl::string_view content_type,
                                              absl::string_view body,
                                              size_t num_queries,
                                              absl::string_view where) {
  std::vector<QuerySeries> queries(num_queries);
  const bool streamed = absl::StartsWithIgnoreCase(
      content_type, "application/x-streamed-protobuf");
  absl::Status status = streamed ? DecodeStreamed(body, where, queries)
                                 : DecodeSamples(body, where, queries);
  if (!status.ok()) return status;
  ReadResult result;
  for (QuerySeries& q : queries) {
    result.queries.push_back(q.Finish(result.skipped_histogram_series));
  }
  return result;
}

}  // namespace remote

// --- RemoteReadQueryable ---------------------------------------------------

class RemoteReadQueryable::RemoteQuerier : public Querier {
 public:
  explicit RemoteQuerier(RemoteReadQueryable& q) : q_(q) {}

  bool ConcurrentSelect() const override { return true; }

  absl::StatusOr<std::vector<SeriesData>> Select(
      absl::Span<const Matcher> matchers, int64_t mint, int64_t maxt) override {
    SelectHints hints;
    hints.start_ms = mint;
    hints.end_ms = maxt;
    return SelectWithHints(matchers, hints);
  }

  absl::StatusOr<std::vector<SeriesData>> SelectWithHints(
      absl::Span<const Matcher> matchers, const SelectHints& hints) override {
    if (!Wanted(matchers)) return std::vector<SeriesData>();
    if (q_.options_.batch_selections) {
      // A prefetched selection of these matchers over a wider range.
      const std::string key = Key(matchers);
      std::lock_guard<std::mutex> lock(mu_);
      for (const Prefetched& p : prefetched_) {
        if (p.key == key && p.start_ms <= hints.start_ms &&
            hints.end_ms <= p.end_ms) {
          return View(p.series, hints.start_ms, hints.end_ms);
        }
      }
    }
    Request request;
    PROMEVAL_RETURN_IF_ERROR(request.Add(q_.options_, matchers, hints));
    PROMEVAL_ASSIGN_OR_RETURN(std::vector<std::vector<remote::ReadSeries>> got,
                              Fetch(request));
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SeriesData> out;
    out.reserve(got[0].size());
    for (remote::ReadSeries& s : got[0]) {
      held_.push_back(std::move(s));
      out.push_back(Data(held_.back(), 0, held_.back().t.size()));
    }
    Count(out);
    return out;
  }

  // With batch_selections, the planned selections (two or more) as the
  // queries of one request.
  absl::Status Prefetch(absl::Span<const PlannedSelect> selects) override {
    if (!q_.options_.batch_selections) return absl::OkStatus();
    Request request;
    std::vector<std::string> keys;
    for (const PlannedSelect& p : selects) {
      if (!Wanted(p.matchers)) continue;
      PROMEVAL_RETURN_IF_ERROR(request.Add(q_.options_, p.matchers, p.hints));
      keys.push_back(Key(p.matchers));
    }
    if (keys.size() < 2) return absl::OkStatus();
    PROMEVAL_ASSIGN_OR_RETURN(std::vector<std::vector<remote::ReadSeries>> got,
                              Fetch(request));
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < keys.size(); ++i) {
      Prefetched& p = prefetched_.emplace_back();
      p.key = std::move(keys[i]);
      p.start_ms = request.hints[i].start_ms;
      p.end_ms = request.hints[i].end_ms;
      for (remote::ReadSeries& s : got[i]) {
        held_.push_back(std::move(s));
        p.series.push_back(&held_.back());
      }
    }
    return absl::OkStatus();
  }

 private:
  // The queries of one request.
  struct Request {
    std::vector<std::vector<Matcher>> matchers;  // With external labels.
    std::vector<SelectHints> hints;
    std::vector<std::vector<std::string>> added;  // External labels added.

    absl::Status Add(const RemoteReadOptions& o,
                     absl::Span<const Matcher> selector, const SelectHints& h) {
      // The external labels the selector does not name: sent as matchers,
      // removed from what comes back (Prometheus's addExternalLabels).
      std::vector<Matcher> all(selector.begin(), selector.end());
      std::vector<std::string> names;
      for (const auto& external : o.external_labels) {
        // Not structured bindings: clang 14 cannot capture them.
        const std::string& name = external.first;
        const std::string& value = external.second;
        const bool named =
            std::any_of(selector.begin(), selector.end(),
                        [&](const Matcher& m) { return m.name() == name; });
        if (named) continue;
        PROMEVAL_ASSIGN_OR_RETURN(
            Matcher m, Matcher::Create(MatchType::kEqual, name, value));
        all.push_back(std::move(m));
        names.push_back(name);
      }
      matchers.push_back(std::move(all));
      hints.push_back(h);
      added.push_back(std::move(names));
      return absl::OkStatus();
    }
  };

  // A prefetched selection: its series, the range it was asked for.
  struct Prefetched {
    std::string key;
    int64_t start_ms = 0, end_ms = 0;
    std::vector<const remote::ReadSeries*> series;
  };

  // Whether the endpoint is asked at all: the selector has the required
  // matchers (Prometheus's required_matchers).
  bool Wanted(absl::Span<const Matcher> matchers) const {
    for (const auto& required : q_.options_.required_matchers) {
      const std::string& name = required.first;
      const std::string& value = required.second;
      const bool present =
          std::any_of(matchers.begin(), matchers.end(), [&](const Matcher& m) {
            return m.type() == MatchType::kEqual && m.name() == name &&
                   m.value() == value;
          });
      if (!present) return false;
    }
    return true;
  }

  static std::string Key(absl::Span<const Matcher> matchers) {
    std::string key;
    for (const Matcher& m : matchers) absl::StrAppend(&key, m.ToString(), ",");
    return key;
  }

  // Sends `request` and decodes the answer: per query, its series sorted by
  // labels, the external labels added removed.
  absl::StatusOr<std::vector<std::vector<remote::ReadSeries>>> Fetch(
      const Request& request) {
    const RemoteReadOptions& o = q_.options_;
    std::vector<remote::ReadQuery> queries;
    for (size_t i = 0; i < request.matchers.size(); ++i) {
      queries.push_back({request.matchers[i], &request.hints[i]});
    }
    const std::string body =
        remote::EncodeReadRequest(queries, o.response_type);
    const std::string where =
        absl::StrCat("remote read ", remote::RedactUrl(o.endpoint.url));
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<remote::HttpResponse> response =
        q_.client_->Post(o.endpoint.url, remote::ReadRequestHeaders(), body,
                         o.max_response_bytes);
    const auto t1 = std::chrono::steady_clock::now();
    q_.counters_.requests.fetch_add(1, std::memory_order_relaxed);
    q_.counters_.transfer_ns.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(),
        std::memory_order_relaxed);
    if (!response.ok()) {
      return absl::Status(
          response.status().code(),
          absl::StrCat("remote read ", response.status().message()));
    }
    q_.counters_.response_bytes.fetch_add(
        static_cast<int64_t>(response->body.size()), std::memory_order_relaxed);
    if (response->status / 100 != 2) {
      std::string message(absl::StripAsciiWhitespace(
          absl::string_view(response->body).substr(0, 512)));
      return absl::UnavailableError(
          absl::StrCat(where, ": the server answered HTTP ", response->status,
                       message.empty() ? "" : ": ", message));
    }
    absl::StatusOr<remote::ReadResult> result = remote::DecodeReadResponse(
        response->content_type, response->body, queries.size(), where);
    if (!result.ok()) return result.status();
    for (size_t i = 0; i < queries.size(); ++i) {
      if (request.added[i].empty()) continue;
      std::vector<remote::ReadSeries>& series = result->queries[i];
      for (remote::ReadSeries& s : series) {
        s.labels = LabelsBuilder(s.labels).Del(request.added[i]).Build();
      }
      std::sort(series.begin(), series.end(),
                [](const remote::ReadSeries& a, const remote::ReadSeries& b) {
                  return CompareLabels(a.labels, b.labels) < 0;
                });
    }
    const auto t2 = std::chrono::steady_clock::now();
    q_.counters_.decode_ns.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count(),
        std::memory_order_relaxed);
    q_.counters_.skipped.fetch_add(result->skipped_histogram_series,
                                   std::memory_order_relaxed);
    return std::move(result->queries);
  }

  // Samples [from, to) of a held series.
  static SeriesData Data(const remote::ReadSeries& s, size_t from, size_t to) {
    SeriesData d;
    d.labels = &s.labels;
    d.timestamps = absl::MakeConstSpan(s.t).subspan(from, to - from);
    d.values = absl::MakeConstSpan(s.v).subspan(from, to - from);
    d.no_stale_markers = std::none_of(d.values.begin(), d.values.end(),
                                      [](double v) { return IsStaleNaN(v); });
    return d;
  }

  // A prefetched selection's series cut to [start_ms, end_ms], those with
  // samples there (what a request for that range would have brought).
  std::vector<SeriesData> View(
      const std::vector<const remote::ReadSeries*>& series, int64_t start_ms,
      int64_t end_ms) {
    std::vector<SeriesData> out;
    for (const remote::ReadSeries* s : series) {
      const size_t from =
          std::lower_bound(s->t.begin(), s->t.end(), start_ms) - s->t.begin();
      const size_t to =
          std::upper_bound(s->t.begin(), s->t.end(), end_ms) - s->t.begin();
      if (from < to) out.push_back(Data(*s, from, to));
    }
    Count(out);
    return out;
  }

  void Count(const std::vector<SeriesData>& out) {
    int64_t samples = 0;
    for (const SeriesData& d : out) {
      samples += static_cast<int64_t>(d.timestamps.size());
    }
    q_.counters_.series.fetch_add(static_cast<int64_t>(out.size()),
                                  std::memory_order_relaxed);
    q_.counters_.samples.fetch_add(samples, std::memory_order_relaxed);
  }

  RemoteReadQueryable& q_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees it (the
  // distribution's Abseil is not instrumented).
  std::mutex mu_;  // Guards held_ and prefetched_.
  std::deque<remote::ReadSeries> held_;
  std::deque<Prefetched> prefetched_;
};

RemoteReadQueryable::RemoteReadQueryable(
    RemoteReadOptions options, std::unique_ptr<remote::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

RemoteReadQueryable::~RemoteReadQueryable() = default;

absl::StatusOr<std::unique_ptr<RemoteReadQueryable>>
RemoteReadQueryable::Create(const RemoteReadOptions& options) {
  absl::StatusOr<std::unique_ptr<remote::HttpClient>> client =
      remote::NewHttpClient(options.endpoint, "remote read");
  if (!client.ok()) return client.status();
  return Create(options, *std::move(client));
}

absl::StatusOr<std::unique_ptr<RemoteReadQueryable>>
RemoteReadQueryable::Create(const RemoteReadOptions& options,
                            std::unique_ptr<remote::HttpClient> client) {
  PROMEVAL_RETURN_IF_ERROR(
      remote::CheckUrl(options.endpoint.url, "remote read"));
  return std::unique_ptr<RemoteReadQueryable>(
      new RemoteReadQueryable(options, std::move(client)));
}

absl::StatusOr<std::unique_ptr<Querier>> RemoteReadQueryable::NewQuerier(
    int64_t, int64_t) {
  return std::make_unique<RemoteQuerier>(*this);
}

RemoteReadStats RemoteReadQueryable::stats() const {
  RemoteReadStats s;
  s.requests = counters_.requests.load();
  s.response_bytes = counters_.response_bytes.load();
  s.series = counters_.series.load();
  s.samples = counters_.samples.load();
  s.transfer_ns = counters_.transfer_ns.load();
  s.decode_ns = counters_.decode_ns.load();
  s.skipped_histogram_series = counters_.skipped.load();
  return s;
}

}  // namespace promeval
