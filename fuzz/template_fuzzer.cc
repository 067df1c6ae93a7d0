// Fuzzes the alert template engine: the input is a template, parsed and
// executed against fixed alert data with a `query` function that returns a
// fixed vector. Parse and execution errors are fine; crashes, hangs and
// unbounded output are not.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "promeval/labels.h"
#include "promeval/value.h"
#include "template/template.h"

namespace {

const promeval::rules::TemplateData& Data() {
  static const promeval::rules::TemplateData data = [] {
    promeval::rules::TemplateData d;
    d.labels = promeval::Labels({{"alertname", "HighErrorRate"},
                                 {"instance", "db-1.example.com:9100"},
                                 {"job", "batchsql"},
                                 {"le", "0.25"}});
    d.value = 1234567.891;
    d.external_labels = promeval::Labels({{"cluster", "eu-1"}});
    d.external_url = "https://prom.example.com/prometheus";
    return d;
  }();
  return data;
}

const promeval::rules::TemplateEnv& Env() {
  static const promeval::rules::TemplateEnv env = [] {
    promeval::rules::TemplateEnv e;
    e.eval_time_ms = 1700000000123;
    e.external_url = "https://prom.example.com/prometheus";
    e.query = [](absl::string_view query) -> absl::StatusOr<promeval::Vector> {
      if (query.empty()) return absl::InvalidArgumentError("empty query");
      promeval::Vector v;
      v.push_back({promeval::Labels({{"__name__", "up"}, {"job", "a"}}),
                   1700000000123, 1});
      v.push_back({promeval::Labels({{"__name__", "up"}, {"job", "b"}}),
                   1700000000123, 0.125});
      return v;
    };
    return e;
  }();
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<promeval::rules::Template> t =
      promeval::rules::Template::Parse("fuzz", text);
  if (t.ok()) (void)t->Execute(Data(), Env());
  const std::string expanded =
      promeval::rules::ExpandAlertTemplate("__alert_fuzz", text, Data(), Env());
  // The output cap bounds what one expansion may produce.
  if (expanded.size() > (64u << 20)) {
    std::fprintf(stderr, "expansion produced %zu bytes\n", expanded.size());
    std::abort();
  }
  return 0;
}
