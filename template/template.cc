// Alert templates (template/template.h): Prometheus's Expander over the
// template module, the prefix Prometheus puts before alert templates, and
// the expansion of alert labels and annotations (rules/alerting.go).
#include "template/template.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "template/builtins.h"
#include "template/exec.h"
#include "template/lexer.h"
#include "template/parser.h"
#include "template/prometheus_functions.h"

namespace promeval::rules {
namespace {

using tmpl::DataStruct;
using tmpl::Item;
using tmpl::StrMap;
using tmpl::Trees;
using tmpl::Value;

constexpr absl::string_view kPrefix =
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

// The items of Prometheus's prefix followed by those of `text`. The prefix
// is lexed once: it ends after an action, in the state the lexer starts in,
// so lexing prefix and text together gives the prefix's items (without its
// EOF) and then the text's, shifted by the prefix's length.
std::vector<Item> LexWithPrefix(absl::string_view text) {
  static const std::vector<Item>* const kPrefixItems = [] {
    auto* items = new std::vector<Item>(tmpl::Lex(kPrefix));
    items->pop_back();  // EOF
    return items;
  }();
  std::vector<Item> rest = tmpl::Lex(text);
  std::vector<Item> items;
  items.reserve(kPrefixItems->size() + rest.size());
  items = *kPrefixItems;
  for (Item& item : rest) {
    item.pos += static_cast<int>(kPrefix.size());
    items.push_back(std::move(item));
  }
  return items;
}

// Whether `name` is a function of alert templates.
bool HasFunction(absl::string_view name) {
  return tmpl::FindFunction(tmpl::PrometheusFunctions(), name) != nullptr;
}

std::shared_ptr<const StrMap> ToStrMap(const Labels& labels) {
  auto m = std::make_shared<StrMap>();
  for (const Label& l : labels) m->push_back({l.name, l.value});
  return m;
}

}  // namespace

struct Template::Impl {
  std::string name;
  std::string text;  // With the prefix.
  Trees trees;
};

Template::Template(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

absl::StatusOr<Template> Template::Parse(absl::string_view name,
                                         absl::string_view text) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::string(name);
  impl->text = absl::StrCat(kPrefix, text);
  absl::StatusOr<Trees> trees =
      tmpl::Parse(impl->name, LexWithPrefix(text), HasFunction);
  if (!trees.ok()) return trees.status();
  impl->trees = *std::move(trees);
  return Template(std::move(impl));
}

absl::StatusOr<std::string> Template::Execute(const TemplateData& data,
                                              const TemplateEnv& env) const {
  auto ds = std::make_shared<DataStruct>();
  ds->labels = ToStrMap(data.labels);
  ds->external_labels = ToStrMap(data.external_labels);
  ds->external_url = data.external_url;
  ds->value = data.value;
  Value dot;
  dot.kind = tmpl::VK::kData;
  dot.data = ds;
  return tmpl::Execute(impl_->trees, impl_->name, impl_->text,
                       tmpl::PrometheusFunctions(), env, dot);
}

AlertTemplate::AlertTemplate(absl::string_view name, absl::string_view text)
    : name_(name),
      text_(text),
      plain_(!absl::StrContains(text, "{{")),
      template_(plain_ ? absl::StatusOr<Template>(absl::UnknownError(""))
                       : Template::Parse(name, text)) {}

std::string AlertTemplate::Expand(const TemplateData& data,
                                  const TemplateEnv& env) const {
  if (plain_) return text_;
  if (!template_.ok()) {
    return absl::StrCat("<error expanding template: error parsing template ",
                        name_, ": ", template_.status().message(), ">");
  }
  absl::StatusOr<std::string> out = template_->Execute(data, env);
  if (!out.ok()) {
    return absl::StrCat("<error expanding template: error executing template ",
                        name_, ": ", out.status().message(), ">");
  }
  return *std::move(out);
}

std::string ExpandAlertTemplate(absl::string_view name, absl::string_view text,
                                const TemplateData& data,
                                const TemplateEnv& env) {
  return AlertTemplate(name, text).Expand(data, env);
}

}  // namespace promeval::rules
