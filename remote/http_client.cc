#include "remote/http_client.h"

#include <curl/curl.h>

#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "promeval/files.h"

namespace promeval::remote {
namespace {

// A secret from its file, without surrounding white space (as Prometheus
// reads password and token files).
absl::StatusOr<std::string> ReadSecret(absl::string_view what,
                                       const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the ", what, " file ", path));
  }
  return std::string(absl::StripAsciiWhitespace(*content));
}

absl::Status CheckReadable(absl::string_view what, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  if (!ReadFile(path).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the ", what, " file ", path));
  }
  return absl::OkStatus();
}

// What a request's callbacks fill in.
struct Transfer {
  HttpResponse response;
  int64_t max_bytes = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (static_cast<int64_t>(t->response.body.size() + bytes) > t->max_bytes) {
    t->too_large = true;
    return 0;  // Stops the transfer.
  }
  t->response.body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const absl::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const absl::string_view name =
        absl::StripAsciiWhitespace(line.substr(0, colon));
    const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (absl::EqualsIgnoreCase(name, "Content-Type")) {
      t->response.content_type = value;
    } else if (absl::EqualsIgnoreCase(name, "Content-Encoding")) {
      t->response.content_encoding = value;
    } else if (absl::EqualsIgnoreCase(name, "Retry-After")) {
      t->response.retry_after = value;
    }
  } else if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a 100 Continue, or a redirect): forget the
    // previous one's headers.
    t->response.content_type.clear();
    t->response.content_encoding.clear();
    t->response.retry_after.clear();
  }
  return size * n;
}

class CurlClient : public HttpClient {
 public:
  CurlClient(RemoteEndpoint options, std::string password, std::string token)
      : options_(std::move(options)),
        password_(std::move(password)),
        token_(std::move(token)) {}

  ~CurlClient() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  absl::StatusOr<HttpResponse> Post(absl::string_view url,
                                    const HttpHeaders& headers,
                                    absl::string_view body,
                                    int64_t max_response_bytes) override {
    CURL* h = Take();
    if (h == nullptr) {
      return absl::InternalError("cannot make a libcurl handle");
    }
    Transfer t;
    t.max_bytes = max_response_bytes;
    absl::Status status = Perform(h, url, headers, body, t);
    Give(h);
    if (!status.ok()) return status;
    return std::move(t.response);
  }

 private:
  absl::Status Perform(CURL* h, absl::string_view url,
                       const HttpHeaders& headers, absl::string_view body,
                       Transfer& t) {
    curl_easy_reset(h);
    const std::string url_text(url);
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
    }
    for (const auto& [name, value] : options_.headers) {
      list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
    }
    if (!token_.empty()) {
      list = curl_slist_append(
          list, absl::StrCat("Authorization: Bearer ", token_).c_str());
    }
    // No "Expect: 100-continue" round trip before large bodies.
    list = curl_slist_append(list, "Expect:");
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_URL, url_text.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(
        h, CURLOPT_TIMEOUT_MS,
        static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "promeval/" PROMEVAL_REMOTE_VERSION);
    if (!options_.basic_auth_user.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, options_.basic_auth_user.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, password_.c_str());
    }
    if (!options_.ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    if (!options_.cert_file.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, options_.cert_file.c_str());
      curl_easy_setopt(h, CURLOPT_SSLKEY, options_.key_file.c_str());
    }
    if (options_.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(list);
    const std::string where = RedactUrl(url);
    if (t.too_large) {
      return absl::ResourceExhaustedError(absl::StrCat(
          where, ": the answer is larger than ", t.max_bytes, " bytes"));
    }
    if (code != CURLE_OK) {
      const std::string what =
          error[0] != '\0' ? std::string(error) : curl_easy_strerror(code);
      if (code == CURLE_OPERATION_TIMEDOUT) {
        return absl::DeadlineExceededError(absl::StrCat(
            where, ": timed out after ", absl::FormatDuration(options_.timeout),
            " (", what, ")"));
      }
      return absl::UnavailableError(absl::StrCat(where, ": ", what));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = static_cast<int>(status);
    return absl::OkStatus();
  }

  CURL* Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Give(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(h);
  }

  const RemoteEndpoint options_;
  const std::string password_;
  const std::string token_;
  std::mutex mu_;            // Guards idle_.
  std::vector<CURL*> idle_;  // Handles (and their open connections).
};

}  // namespace

namespace {

absl::StatusOr<std::unique_ptr<HttpClient>> NewCurlClient(
    const RemoteEndpoint& options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!options.basic_auth_user.empty() && !options.bearer_token_file.empty()) {
    return absl::InvalidArgumentError(
        "basic auth and a bearer token cannot both be given");
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key, and a key its certificate");
  }
  for (const auto& [name, value] : options.headers) {
    if (IsReservedHeader(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the header ", name, " is set by the protocol and cannot be given"));
    }
  }
  std::string password, token;
  if (!options.basic_auth_password_file.empty()) {
    absl::StatusOr<std::string> p =
        ReadSecret("password", options.basic_auth_password_file);
    if (!p.ok()) return p.status();
    password = *std::move(p);
  }
  if (!options.bearer_token_file.empty()) {
    absl::StatusOr<std::string> b =
        ReadSecret("bearer token", options.bearer_token_file);
    if (!b.ok()) return b.status();
    token = *std::move(b);
  }
  for (const auto& [what, path] :
       {std::pair<absl::string_view, const std::string&>{"CA", options.ca_file},
        {"client certificate", options.cert_file},
        {"client key", options.key_file}}) {
    absl::Status readable = CheckReadable(what, path);
    if (!readable.ok()) return readable;
  }
  return std::make_unique<CurlClient>(options, std::move(password),
                                      std::move(token));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(
    const RemoteEndpoint& endpoint, absl::string_view what) {
  absl::StatusOr<std::unique_ptr<HttpClient>> client = NewCurlClient(endpoint);
  if (!client.ok()) {
    return absl::Status(client.status().code(),
                        absl::StrCat(what, " ", RedactUrl(endpoint.url), ": ",
                                     client.status().message()));
  }
  return client;
}

absl::Status CheckUrl(absl::string_view url, absl::string_view what) {
  if (absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://")) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " ", RedactUrl(url),
                   ": the URL must start with http:// or https://"));
}

bool IsReservedHeader(absl::string_view name) {
  static constexpr absl::string_view kReserved[] = {
      "Authorization",
      "Connection",
      "Content-Encoding",
      "Content-Length",
      "Content-Type",
      "Host",
      "Keep-Alive",
      "Proxy-Authenticate",
      "Proxy-Authorization",
      "Transfer-Encoding",
      "Upgrade",
      "User-Agent",
      "WWW-Authenticate",
      "X-Prometheus-Remote-Read-Version",
      "X-Prometheus-Remote-Write-Version",
  };
  for (absl::string_view r : kReserved) {
    if (absl::EqualsIgnoreCase(name, r)) return true;
  }
  return false;
}

std::string RedactUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == absl::string_view::npos ? 0 : scheme + 3;
  const size_t end = url.find_first_of("/?#", start);
  const absl::string_view authority = url.substr(
      start, end == absl::string_view::npos ? url.npos : end - start);
  const size_t at = authority.rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, start), authority.substr(at + 1),
                      end == absl::string_view::npos ? "" : url.substr(end));
}

}  // namespace promeval::remote
