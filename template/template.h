// Alert templates, the template module's entry point: the subset of Go's
// text/template that Prometheus alert labels and annotations use, with
// Prometheus's template functions, parsed and expanded as Prometheus's
// Expander does (template/template.go).
//
// A Template is parsed once and may be executed concurrently from any number
// of threads. Internal to promeval (rules/ uses it): these types keep the
// namespace promeval::rules of their users; the implementation (template/*)
// is in promeval::tmpl.
#ifndef PROMEVAL_TEMPLATE_TEMPLATE_H_
#define PROMEVAL_TEMPLATE_TEMPLATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/labels.h"
#include "promeval/value.h"

namespace promeval::rules {

// What an alert template sees: `.Labels` / `$labels`, `.Value` / `$value`,
// `.ExternalLabels` / `$externalLabels`, `.ExternalURL` / `$externalURL`.
struct TemplateData {
  Labels labels;
  double value = 0;
  Labels external_labels;
  std::string external_url;
};

// Runs a PromQL instant query for the `query` template function at the
// evaluation time; the result as a vector (a scalar as one sample without
// labels).
using TemplateQueryFunc =
    std::function<absl::StatusOr<Vector>(absl::string_view query)>;

// The environment of an expansion.
struct TemplateEnv {
  int64_t eval_time_ms = 0;  // For `now`.
  TemplateQueryFunc query;   // For `query`; unset: `query` fails.
  std::string external_url;  // For `externalURL` and `pathPrefix`.
};

class Template {
 public:
  // Parses `text` as Go's text/template does (with the template functions
  // defined), prefixed as Prometheus's Expander prefixes alert templates:
  // `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}
  // {{$externalURL := .ExternalURL}}{{$value := .Value}}`.
  // Errors read as Go's: `template: NAME:LINE: function "foo" not defined`.
  static absl::StatusOr<Template> Parse(absl::string_view name,
                                        absl::string_view text);

  // Executes the template. Errors read as Go's (`template: NAME:1:12:
  // executing "NAME" at <...>: error calling ...`).
  absl::StatusOr<std::string> Execute(const TemplateData& data,
                                      const TemplateEnv& env) const;

  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  struct Impl;
  explicit Template(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A label or annotation template of an alerting rule, parsed once and
// expanded for every alert as Prometheus's alerting rule does: on error the
// result is the text `<error expanding template: ERROR>` (never a failure).
class AlertTemplate {
 public:
  // `name` is the template's name in errors ("__alert_" + the alert name).
  AlertTemplate(absl::string_view name, absl::string_view text);

  std::string Expand(const TemplateData& data, const TemplateEnv& env) const;

 private:
  std::string name_;
  std::string text_;
  bool plain_;  // No action: the text is the result.
  absl::StatusOr<Template> template_;
};

// AlertTemplate(name, text).Expand(data, env).
std::string ExpandAlertTemplate(absl::string_view name, absl::string_view text,
                                const TemplateData& data,
                                const TemplateEnv& env);

}  // namespace promeval::rules

#endif  // PROMEVAL_TEMPLATE_TEMPLATE_H_
