// Prometheus's template functions (template/template.go): query, first,
// label, value, strvalue, args, reReplaceAll, safeHtml, match, title,
// toUpper, toLower, graphLink, tableLink, sortByLabel, stripPort,
// stripDomain, the humanize family, toTime, toDuration, now, pathPrefix,
// externalURL, parseDuration and urlQueryEscape.
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_PROMETHEUS_FUNCTIONS_H_
#define PROMEVAL_TEMPLATE_PROMETHEUS_FUNCTIONS_H_

#include "template/builtins.h"

namespace promeval::tmpl {

// Prometheus's function map (its Expander's funcMap), beside the builtins.
const FuncMap& PrometheusFunctions();

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_PROMETHEUS_FUNCTIONS_H_
