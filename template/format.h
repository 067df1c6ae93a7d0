// Go's fmt as templates use it (fmt.Sprint, Sprintln, Sprintf and the %v of
// every value a template holds), and Go's time package formats
// (time.Time.Format and String, time.Duration.String; UTC only).
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_FORMAT_H_
#define PROMEVAL_TEMPLATE_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "promeval/text.h"
#include "template/builtins.h"

namespace promeval::tmpl {

// Go's time.Time fields of a Unix time in ns, UTC.
struct GoTime {
  CivilTime civil;
  int nanos;
};

GoTime ToGoTime(int64_t unix_nanos);

// time.Month.String() and time.Weekday.String(), by month - 1 and weekday.
inline constexpr const char* kMonths[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
inline constexpr const char* kDays[] = {"Sunday",    "Monday",   "Tuesday",
                                        "Wednesday", "Thursday", "Friday",
                                        "Saturday"};

// Go's time.Time.Format for a UTC time: the common layout elements.
std::string FormatTime(int64_t unix_nanos, absl::string_view layout);

// time.Time.String() for a UTC time.
std::string TimeString(int64_t unix_nanos);

// Go's time.Duration.String().
std::string DurationString(int64_t d);

// fmt's %v of a value. Depth 0 is an action's value as the executor prints
// it (no value prints "<no value>", a *sample its pointee); deeper is an
// operand of fmt or an element of a map or a slice.
std::string FormatValue(const Value& v, int depth = 0);

// fmt.Sprint: spaces between operands when neither side is a string.
// `deref_pointers`: a *sample prints as its pointee, as text/template's
// evalArgs prints the arguments of html, js and urlquery.
std::string GoSprint(const std::vector<Value>& args,
                     bool deref_pointers = false);

// fmt.Sprintln.
std::string GoSprintln(const std::vector<Value>& args);

// fmt.Sprintf for the verbs templates use.
std::string GoSprintf(absl::string_view format, const std::vector<Value>& args);

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_FORMAT_H_
