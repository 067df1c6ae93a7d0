// The executor of Go's text/template (text/template/exec.go): walks a parsed
// template over a value, with variables, pipelines, if / with / range,
// {{template}}, field and method access and function calls.
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_EXEC_H_
#define PROMEVAL_TEMPLATE_EXEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "template/builtins.h"
#include "template/parser.h"
#include "template/template.h"

namespace promeval::tmpl {

// Executes `trees` (parsed from `text`, the template `name`) with `dot` as
// the data, as Go's Template.Execute does; functions are looked up in
// `funcs`, then among the builtins, and get `env`. Errors read as Go's
// (`template: NAME:1:12: executing "NAME" at <...>: error calling ...`).
// Execution is bounded in steps, output and {{template}} depth.
absl::StatusOr<std::string> Execute(const Trees& trees, absl::string_view name,
                                    absl::string_view text,
                                    const FuncMap& funcs,
                                    const rules::TemplateEnv& env,
                                    const Value& dot);

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_EXEC_H_
