// Tests for alert templates (template/template.h). Expected values come from
// Go's text/template and fmt semantics, Prometheus's
// template/template_test.go, and promtool 2.42 runs (for behaviour shared
// with Prometheus 3.x).
#include "template/template.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace promeval::rules {
namespace {

// Columns of the first line are offset by the prefix Prometheus adds.
constexpr int kPrefixLen = 112;

struct Case {
  std::string text;
  std::string want;    // Expected output, or the expected error text.
  bool error = false;  // Whether `want` is an error message.
  double value = 0;
};

Vector FakeQuery() {
  Vector v;
  v.push_back(Sample{Labels{{"__name__", "metric"}, {"instance", "b"}}, 0, 21});
  v.push_back(Sample{Labels{{"__name__", "metric"}, {"instance", "a"}}, 0, 11});
  return v;
}

TemplateData Data(double value) {
  TemplateData d;
  d.labels = Labels{{"instance", "host.example.com:9100"}, {"job", "node"}};
  d.external_labels = Labels{{"cluster", "c1"}};
  d.external_url = "http://prom.example.com:9090";
  d.value = value;
  return d;
}

TemplateEnv Env() {
  TemplateEnv env;
  env.eval_time_ms = 1435065584128;
  env.external_url = "http://testhost:9090/path/prefix";
  env.query = [](absl::string_view q) -> absl::StatusOr<Vector> {
    if (q == "fail") return absl::InvalidArgumentError("query failed");
    if (q == "empty") return Vector{};
    return FakeQuery();
  };
  return env;
}

std::string ExecError(int col, const std::string& ctx, const std::string& msg) {
  return "template: t:1:" + std::to_string(col + kPrefixLen) +
         ": executing \"t\" at <" + ctx + ">: " + msg;
}

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Template> t = Template::Parse("t", c.text);
    if (!t.ok()) {
      EXPECT_TRUE(c.error) << t.status();
      EXPECT_EQ(t.status().message(), c.want);
      continue;
    }
    absl::StatusOr<std::string> out = t->Execute(Data(c.value), Env());
    if (c.error) {
      ASSERT_FALSE(out.ok()) << *out;
      EXPECT_EQ(out.status().message(), c.want);
    } else {
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(*out, c.want);
    }
  }
}

TEST(TemplateTest, TextAndData) {
  RunCases({
      {"plain text", "plain text"},
      {"{{ 1 }}", "1"},
      {"{{ $labels.job }}/{{ .Labels.instance }}",
       "node/host.example.com:9100"},
      {"[{{ $labels.missing }}][{{ .Labels.missing }}]", "[][]"},
      {"{{ index $labels \"job\" }}{{ index $labels \"nope\" }}", "node"},
      {"{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}", "c1 c1"},
      {"{{ $externalURL }}|{{ .ExternalURL }}",
       "http://prom.example.com:9090|http://prom.example.com:9090"},
      {"{{ $value }} {{ .Value }}", "42 42", false, 42},
      {"{{ $labels }}", "map[instance:host.example.com:9100 job:node]"},
      {"{{ .Foo }}",
       ExecError(3, ".Foo",
                 "can't evaluate field Foo in type struct { Labels "
                 "map[string]string; ExternalLabels map[string]string; "
                 "ExternalURL string; Value interface {} }"),
       true},
      {"{{ .a.b | }}",
       ExecError(5, ".a.b",
                 "can't evaluate field a in type struct { Labels "
                 "map[string]string; ExternalLabels map[string]string; "
                 "ExternalURL string; Value interface {} }"),
       true},
      {"{{ $labels.job.x }}",
       ExecError(10, "$labels.job.x", "can't evaluate field x in type string"),
       true},
  });
}

TEST(TemplateTest, ValueFormatting) {
  const double inf = std::numeric_limits<double>::infinity();
  RunCases({
      {"{{ $value }}", "1e+06", false, 1e6},
      {"{{ $value }}", "999999", false, 999999},
      {"{{ $value }}", "1.234567e+06", false, 1234567},
      {"{{ $value }}", "0.0001", false, 0.0001},
      {"{{ $value }}", "1e-05", false, 0.00001},
      {"{{ $value }}", "0.5", false, 0.5},
      {"{{ $value }}", "NaN", false, std::nan("")},
      {"{{ $value }}", "+Inf", false, inf},
      {"{{ $value }}", "-Inf", false, -inf},
      {"{{ $value }}", "-2.5", false, -2.5},
      {"{{ 1e6 }} {{ 1000000 }} {{ 1.0 }} {{ 1.5 }} {{ 0x10 }} {{ 010 }}",
       "1e+06 1000000 1 1.5 16 8"},
      {"{{ -3 }} {{ 'a' }} {{ true }} {{ \"s\" }} {{ `raw\\n` }}",
       "-3 97 true s raw\\n"},
  });
}

TEST(TemplateTest, TrimAndComments) {
  RunCases({
      {"a  {{- 1 -}}  b", "a1b"},
      {"a\n\t{{- 1 }}\n b", "a1\n b"},
      {"{{ 1 -}}\n\n x", "1x"},
      {"x{{/* a comment */}}y", "xy"},
      {"x {{- /* trimmed */ -}} y", "xy"},
      {"{{-3}}", "-3"},
      {"{{/* open", "template: t:1: unclosed comment", true},
      {"{{/* c */ 1}}", "template: t:1: comment ends before closing delimiter",
       true},
  });
}

TEST(TemplateTest, Control) {
  RunCases({
      {"{{ if gt $value 10.0 }}big{{ else if gt $value 5.0 }}mid{{ else }}"
       "small{{ end }}",
       "mid", false, 7},
      {"{{ if $labels.job }}has{{ end }}{{ if $labels.zz }}zz{{ end }}", "has"},
      {"{{ if 0 }}a{{ else }}b{{ end }}{{ if 0.0 }}c{{ end }}{{ if \"\" }}d"
       "{{ end }}{{ if 1 }}e{{ end }}",
       "be"},
      {"{{ with $labels.job }}job={{ . }}{{ end }}", "job=node"},
      {"{{ with $labels.zz }}x{{ else }}none{{ end }}", "none"},
      {"{{ with $labels.zz }}x{{ else with $labels.job }}{{ . }}{{ end }}",
       "node"},
      {"{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
       "instance=host.example.com:9100;job=node;"},
      {"{{ range $labels }}{{ . }},{{ end }}", "host.example.com:9100,node,"},
      {"{{ range $i, $s := query \"m\" }}{{ $i }}:{{ $s.Value }} {{ end }}",
       "0:21 1:11 "},
      {"{{ range query \"empty\" }}x{{ else }}no data{{ end }}", "no data"},
      {"{{ range $i, $s := query \"m\" }}{{ if eq $i 1 }}{{ break }}{{ end }}"
       "{{ $i }}{{ end }}",
       "0"},
      {"{{ range $i, $s := query \"m\" }}{{ if eq $i 0 }}{{ continue }}"
       "{{ end }}{{ $i }}{{ end }}",
       "1"},
      {"{{ range 3 }}{{ . }}{{ end }}", "012"},
      {"{{ range 1.5 }}{{ end }}",
       ExecError(9, "1.5", "range can't iterate over 1.5"), true},
      {"{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}",
       "2"},
      {"{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}",
       "template: t:1: undefined variable \"$y\"", true},
      {"{{ define \"x\" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}"
       "{{ template \"x\" (args 1 \"2\") }}",
       "1-2"},
      {"{{ template \"nope\" }}",
       ExecError(12, "{{template \"nope\"}}", "template \"nope\" not defined"),
       true},
  });
}

TEST(TemplateTest, Pipelines) {
  RunCases({
      {"{{ $value | humanize }}", "1.235k", false, 1234.6},
      {"{{ $value | humanize }}", "1.234k", false, 1234.5},
      {"{{ \"x\" | printf \"%s-%s\" \"a\" }}", "a-x"},
      {"{{ (printf \"%d\" 3) }}", "3"},
      {"{{ printf \"%s\" (index $labels \"job\" | toUpper) }}", "NODE"},
      {"{{ 1 | 2 }}",
       "template: t:1: non executable command in pipeline stage 2", true},
      {"{{ 1 | toUpper }}",
       ExecError(7, "toUpper",
                 "wrong type for value; expected string; got int"),
       true},
  });
}

TEST(TemplateTest, Printf) {
  RunCases({
      {"{{ printf \"%.2f|%d|%s|%v|%q|%t|%%\" 3.14159 42 \"s\" 1.5 \"q\" true "
       "}}",
       "3.14|42|s|1.5|\"q\"|true|%"},
      {"{{ printf \"%5.1f|%-5d|%05d|%x|%X|%o|%e|%g|%.3g\" 2.5 7 42 255 255 8 "
       "1234.5678 0.000012345 1234.5678 }}",
       "  2.5|7    |00042|ff|FF|10|1.234568e+03|1.2345e-05|1.23e+03"},
      {"{{ printf \"%6s|%-6s|%.2s|%x\" \"ab\" \"ab\" \"abcd\" \"hi\" }}",
       "    ab|ab    |ab|6869"},
      {"{{ printf \"%d\" 1.5 }}", "%!d(float64=1.5)"},
      {"{{ printf \"%f\" 1 }}", "%!f(int=1)"},
      {"{{ printf \"%s\" 1 }}", "%!s(int=1)"},
      {"{{ printf \"%d %d\" 1 }}", "1 %!d(MISSING)"},
      {"{{ printf \"%d\" 1 2 }}", "1%!(EXTRA int=2)"},
      {"{{ printf \"%v %v\" $value $labels.job }}", "0.25 node", false, 0.25},
      {"{{ printf \"%.1f%%\" 12.345 }}", "12.3%"},
      {"{{ printf \"%.8d|%.3x\" 5 10 }}", "00000005|00a"},
      // Go gives up on a width or precision past a million: no verb.
      {"{{ printf \"%.12345678d\" 2 }}", "%!(NOVERB)%!(EXTRA int=2)"},
      {"{{ printf \"%T %T %T\" 1 1.5 \"s\" }}", "int float64 string"},
      {"{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"},
      {"{{ println 1 \"a\" }}", "1 a\n"},
  });
}

TEST(TemplateTest, Comparisons) {
  RunCases({
      {"{{ eq 1 1 }} {{ eq 1 2 }} {{ eq 1 2 3 1 }} {{ ne 1 2 }}",
       "true false true true"},
      {"{{ eq \"a\" \"a\" }} {{ lt \"a\" \"b\" }} {{ le 2 2 }} {{ gt 2.5 1.5 "
       "}} "
       "{{ ge 1 2 }}",
       "true true true true false"},
      {"{{ eq $value 1 }}",
       ExecError(3, "eq $value 1",
                 "error calling eq: incompatible types for comparison"),
       true, 1},
      {"{{ lt true false }}",
       ExecError(3, "lt true false",
                 "error calling lt: invalid type for comparison"),
       true},
      {"{{ gt $labels 1 }}",
       ExecError(3, "gt $labels 1",
                 "error calling gt: invalid type for comparison"),
       true},
      {"{{ and 1 0 }} {{ and 1 2 }} {{ or 0 \"\" }} {{ or 0 \"x\" }} {{ not 0 "
       "}}",
       "0 2  x true"},
      {"{{ eq 1 }}",
       ExecError(3, "eq 1",
                 "error calling eq: missing argument for comparison"),
       true},
  });
}

TEST(TemplateTest, Builtins) {
  RunCases({
      {"{{ len $labels }} {{ len \"abc\" }} {{ len (query \"m\") }}", "2 3 2"},
      {"{{ len 3 }}",
       ExecError(3, "len 3", "error calling len: len of type int"), true},
      {"{{ index \"abc\" 1 }}", "98"},
      {"{{ index (query \"m\") 5 }}",
       ExecError(3, "index (query \"m\") 5",
                 "error calling index: index out of range: 5"),
       true},
      {"{{ index $labels 1 }}",
       ExecError(3, "index $labels 1",
                 "error calling index: value has type int; should be string"),
       true},
      {"{{ slice \"abcdef\" 1 3 }}", "bc"},
      {"{{ html \"<a href='x'>&</a>\" }}",
       "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"},
      {"{{ js \"a'b\\\"<=>&\" }}", "a\\'b\\\"\\u003C\\u003D\\u003E\\u0026"},
      {"{{ urlquery \"a b&c/d\" }}", "a+b%26c%2Fd"},
      {"{{ call \"f\" }}",
       ExecError(3, "call \"f\"",
                 "error calling call: non-function \"f\" of type string"),
       true},
      // A piped callee is named by its value (a fuzzer found this crashing).
      {"{{ \"f\" | call }}",
       ExecError(9, "call",
                 "error calling call: non-function f of type string"),
       true},
      {"{{ 1 | call }}",
       ExecError(7, "call",
                 "error calling call: non-function <int Value> of type int"),
       true},
  });
}

TEST(TemplateTest, QueryFunctions) {
  RunCases({
      {"{{ query \"m\" | first | value }}", "21"},
      {"{{ query \"m\" | first | label \"instance\" }}", "b"},
      {"{{ query \"m\" | first | label \"nope\" }}", ""},
      {"{{ range query \"m\" | sortByLabel \"instance\" }}{{ .Labels.instance "
       "}}"
       ":{{ .Value }} {{ end }}",
       "a:11 b:21 "},
      {"{{ with query \"m\" }}{{ . | first | value | humanize }}{{ end }}",
       "21"},
      {"{{ $x := query \"m\" | first }}{{ $x.Labels.nope }}", ""},
      {"{{ query \"m\" | first }}", "{map[__name__:metric instance:b] 21}"},
      {"{{ query \"empty\" | first }}",
       ExecError(19, "first",
                 "error calling first: first() called on vector with no "
                 "elements"),
       true},
      {"{{ query \"fail\" }}",
       ExecError(3, "query \"fail\"", "error calling query: query failed"),
       true},
      {"{{ (query \"empty\").banana }}",
       ExecError(10, "\"empty\"",
                 "can't evaluate field banana in type template.queryResult"),
       true},
  });
}

TEST(TemplateTest, NumberFunctions) {
  const double inf = std::numeric_limits<double>::infinity();
  RunCases({
      {"{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:"
       "{{ humanize .12 }}",
       "0:1:1.235M:120m"},
      {"{{ humanize \"1234567.0\" }}:{{ humanize \".12\" }}", "1.235M:120m"},
      {"{{ humanize -1 }}:{{ humanize 1234567 }}", "-1:1.235M"},
      {"{{ humanize \"one\" }}",
       ExecError(3, "humanize \"one\"",
                 "error calling humanize: strconv.ParseFloat: parsing \"one\": "
                 "invalid syntax"),
       true},
      {"{{ humanize true }}",
       ExecError(3, "humanize true",
                 "error calling humanize: can't convert bool to float"),
       true},
      {"{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 "
       "1048576.0 "
       "}}:{{ humanize1024 .12 }}:{{ humanize1024 1234567 }}",
       "0:1:1Mi:0.12:1.177Mi"},
      {"{{ humanizeDuration 0 }}:{{ humanizeDuration 1 }}:{{ humanizeDuration "
       "60 "
       "}}:{{ humanizeDuration 3600 }}:{{ humanizeDuration 86400 }}:"
       "{{ humanizeDuration 899.99 }}:{{ humanizeDuration -183845 }}",
       "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:14m 59s:-2d 3h 4m 5s"},
      {"{{ humanizeDuration .1 }}:{{ humanizeDuration .0001 }}:"
       "{{ humanizeDuration .12345 }}:{{ humanizeDuration 60.5 }}:"
       "{{ humanizeDuration 1.2345 }}:{{ humanizeDuration \"12.345\" }}",
       "100ms:100us:123.5ms:1m 0s:1.234s:12.35s"},
      {"{{ humanize $value }}:{{ humanize1024 $value }}:{{ humanizeDuration "
       "$value }}:{{ humanizeTimestamp $value }}",
       "+Inf:+Inf:+Inf:+Inf", false, inf},
      {"{{ humanize $value }}:{{ humanizeDuration $value }}", "NaN:NaN", false,
       std::nan("")},
      {"{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:"
       "{{ 0.1234567 | humanizePercentage }}:{{ \"1.23456\" | "
       "humanizePercentage }}",
       "-22.22%:0%:12.35%:123.5%"},
      {"{{ \"one\" | humanizePercentage }}",
       ExecError(11, "humanizePercentage",
                 "error calling humanizePercentage: strconv.ParseFloat: "
                 "parsing \"one\": invalid syntax"),
       true},
      {"{{ 1435065584.128 | humanizeTimestamp }}|{{ humanizeTimestamp 0 }}|"
       "{{ humanizeTimestamp -1 }}",
       "2015-06-23 13:19:44.128 +0000 UTC|1970-01-01 00:00:00 +0000 UTC|"
       "1969-12-31 23:59:59 +0000 UTC"},
      {"{{ humanizeTimestamp 1e19 }}",
       ExecError(3, "humanizeTimestamp 1e...",
                 "error calling humanizeTimestamp: 1e+19 cannot be "
                 "represented as a nanoseconds timestamp since it overflows "
                 "int64"),
       true},
      {"{{ (1435065584.128 | toTime).Format \"2006-01-02\" }} "
       "{{ (toTime 1435065584).Unix }} {{ toTime 86400.5 }}",
       "2015-06-23 1435065584 1970-01-02 00:00:00.5 +0000 UTC"},
      {"{{ toDuration 3600.5 }} {{ toDuration 0.0015 }} {{ (toDuration "
       "90).Minutes }}",
       "1h0m0.5s 1.5ms 1.5"},
      {"{{ now }}", "1.435065584128e+09"},
      {"{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }} "
       "{{ parseDuration \"90s\" }}",
       "3720.01 90"},
      {"{{ parseDuration \"x\" }}",
       ExecError(3, "parseDuration \"x\"",
                 "error calling parseDuration: not a valid duration string: "
                 "\"x\""),
       true},
  });
}

TEST(TemplateTest, StringFunctions) {
  RunCases({
      {"{{ \"aa bb CC\" | title }}", "Aa Bb CC"},
      {"{{ title \"hello_world foo-bar\" }}", "Hello_world Foo-Bar"},
      {"{{ \"aa bb CC\" | toUpper }} {{ \"aA bB CC\" | toLower }}",
       "AA BB CC aa bb cc"},
      {"{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }} {{ match \"^b\" "
       "\"ab\" }}",
       "true false false"},
      {"{{ match \"(\" \"a\" }}",
       ExecError(3, "match \"(\" \"a\"",
                 "error calling match: error parsing regexp: missing closing "
                 "): `(`"),
       true},
      {"{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", "xa"},
      {"{{ reReplaceAll \"(\\\\w+):(\\\\d+)\" \"${2}-$1\" \"host:80\" }}",
       "80-host"},
      {"{{ reReplaceAll \"a\" \"$$\" \"banana\" }}", "b$n$n$"},
      {"{{ reReplaceAll \"x*\" \"-\" \"abc\" }}", "-a-b-c-"},
      {"{{ reReplaceAll \"(\" \"\" \"\" }}",
       ExecError(3, "reReplaceAll \"(\" \"\" ...",
                 "error calling reReplaceAll: regexp: Compile(`(`): error "
                 "parsing regexp: missing closing ): `(`"),
       true},
      {"{{ graphLink \"up\" }} {{ tableLink \"rate(x[5m]) > 1\" }}",
       "/graph?g0.expr=up&g0.tab=0 "
       "/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1"},
      {"{{ urlQueryEscape \"a b&c=d\" }}", "a+b%26c%3Dd"},
      {"{{ \"<b>\" | safeHtml }}", "<b>"},
      {"{{ pathPrefix }} {{ externalURL }}",
       "/path/prefix http://testhost:9090/path/prefix"},
  });
}

TEST(TemplateTest, HostPort) {
  RunCases({
      {"{{ \"foo.example.com\" | stripPort }}", "foo.example.com"},
      {"{{ \"foo.example.com:12345\" | stripPort }}", "foo.example.com"},
      {"{{ \"192.0.2.1:12345\" | stripPort }}", "192.0.2.1"},
      {"{{ \"2001:0DB8::1\" | stripPort }}", "2001:0DB8::1"},
      {"{{ \"[2001:0DB8::1]:12345\" | stripPort }}", "2001:0DB8::1"},
      {"{{ \"[2001:0DB8::1]::12345\" | stripPort }}", "[2001:0DB8::1]::12345"},
      {"{{ \"foo.example.com\" | stripDomain }}", "foo"},
      {"{{ \"foo.example.com:12345\" | stripDomain }}", "foo:12345"},
      {"{{ \"192.0.2.1:12345\" | stripDomain }}", "192.0.2.1:12345"},
      {"{{ \"2001:0DB8::1\" | stripDomain }}", "2001:0DB8::1"},
      {"{{ \"[2001:0DB8::1]:12345\" | stripDomain }}", "[2001:0DB8::1]:12345"},
      {"{{ $labels.instance | stripPort | stripDomain }}", "host"},
  });
}

TEST(TemplateTest, ParseErrors) {
  RunCases({
      {"{{", "template: t:1: unclosed action", true},
      {"{{ foo }}", "template: t:1: function \"foo\" not defined", true},
      {"{{ $nope }}", "template: t:1: undefined variable \"$nope\"", true},
      {"{{ if true }}x", "template: t:1: unexpected EOF", true},
      {"{{ end }}", "template: t:1: unexpected {{end}}", true},
      {"{{ else }}", "template: t:1: unexpected {{else}}", true},
      {"a\n{{ range $labels }}\nb", "template: t:3: unexpected EOF", true},
      {"{{ 1 2 }}x\n{{ (1 }}", "template: t:2: unclosed left paren", true},
      {"{{ \"abc }}", "template: t:1: unterminated quoted string", true},
      {"{{ 3x }}", "template: t:1: bad number syntax: \"3x\"", true},
      {"{{ \xc2\xa0 }}",
       "template: t:1: unrecognized character in action: U+00A0", true},
      {"{{ ) }}", "template: t:1: unexpected right paren", true},
      {"{{ }}", "template: t:1: missing value for command", true},
      {"{{ if }}{{ end }}", "template: t:1: missing value for if", true},
      {"{{ break }}", "template: t:1: {{break}} outside {{range}}", true},
      {"x\n{{ 1\n\n", "template: t:4: unclosed action started at t:2", true},
      {"{{ | }}", "template: t:1: unexpected \"|\" in command", true},
      {"{{ 1.x }}", "template: t:1: bad number syntax: \"1.x\"", true},
      {"{{ \"a\".b }}", "template: t:1: unexpected . after term \"\\\"a\\\"\"",
       true},
  });
}

TEST(TemplateTest, ArgumentErrors) {
  RunCases({
      {"{{ humanize 1 2 }}",
       ExecError(3, "humanize",
                 "wrong number of args for humanize: want 1 got 2"),
       true},
      {"{{ printf }}",
       ExecError(3, "printf",
                 "wrong number of args for printf: want at least 1 got 0"),
       true},
      {"{{ toUpper 1 }}", ExecError(11, "1", "expected string; found 1"), true},
      {"{{ $value | parseDuration }}",
       ExecError(12, "parseDuration",
                 "wrong type for value; expected string; got float64"),
       true},
      {"{{ label \"x\" \"y\" }}",
       ExecError(13, "\"y\"",
                 "can't handle \"y\" for arg of type *template.sample"),
       true},
      {"{{ 1 2 }}", ExecError(3, "1", "can't give argument to non-function 1"),
       true},
      {"{{ nil }}", ExecError(3, "nil", "nil is not a command"), true},
  });
}

TEST(TemplateTest, ExpandAlertTemplate) {
  TemplateData data = Data(1e6);
  TemplateEnv env = Env();
  EXPECT_EQ(ExpandAlertTemplate("__alert_A", "v={{ $value }}", data, env),
            "v=1e+06");
  EXPECT_EQ(ExpandAlertTemplate("__alert_A", "{{ eq $value 1 }}", data, env),
            "<error expanding template: error executing template __alert_A: "
            "template: __alert_A:1:115: executing \"__alert_A\" at <eq $value "
            "1>: error calling eq: incompatible types for comparison>");
  EXPECT_EQ(ExpandAlertTemplate("__alert_A", "{{ foo }}", data, env),
            "<error expanding template: error parsing template __alert_A: "
            "template: __alert_A:1: function \"foo\" not defined>");
  TemplateEnv no_url = env;
  no_url.external_url.clear();
  EXPECT_EQ(ExpandAlertTemplate("__alert_A", "{{ pathPrefix }}", data, no_url),
            "<error expanding template: error executing template __alert_A: "
            "template: __alert_A:1:115: executing \"__alert_A\" at "
            "<pathPrefix>: error calling pathPrefix: runtime error: invalid "
            "memory address or nil pointer dereference>");
  TemplateEnv no_query = env;
  no_query.query = nullptr;
  EXPECT_NE(ExpandAlertTemplate("A", "{{ query \"up\" }}", data, no_query)
                .find("error calling query"),
            std::string::npos);
}

TEST(TemplateTest, ParsedTemplateIsReusable) {
  absl::StatusOr<Template> t =
      Template::Parse("t", "{{ $labels.job }}:{{ $value }}");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Execute(Data(1), Env()), "node:1");
  EXPECT_EQ(*t->Execute(Data(2.5), Env()), "node:2.5");
  Template moved = std::move(*t);
  EXPECT_EQ(*moved.Execute(Data(3), Env()), "node:3");
}

TEST(TemplateTest, HostileInputs) {
  // Deep nesting fails cleanly instead of overflowing the stack.
  std::string parens(100000, '(');
  absl::StatusOr<Template> t = Template::Parse("t", "{{ " + parens + "1 }}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "template: t:1: max expression depth exceeded");

  std::string ifs;
  for (int i = 0; i < 50000; ++i) ifs += "{{ if true }}";
  t = Template::Parse("t", ifs);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "template: t:1: max expression depth exceeded");

  // Infinite recursion through {{template}} is bounded.
  t = Template::Parse("t",
                      "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}"
                      "{{ template \"r\" . }}");
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<std::string> out = t->Execute(Data(0), Env());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("exceeded maximum template depth"),
            std::string::npos);

  // Huge ranges stop at the step limit.
  t = Template::Parse("t", "{{ range 1000000000000 }}x{{ end }}");
  ASSERT_TRUE(t.ok());
  out = t->Execute(Data(0), Env());
  EXPECT_FALSE(out.ok());

  // Garbage never crashes.
  for (const std::string& s : std::vector<std::string>{
           "{{{{}}}}", "}}{{", "{{ . . . }}", "{{ $ }}", "{{ $x := }}",
           "{{ range $a, $b, $c := . }}{{end}}", "{{ index }}",
           std::string("{{ \"\0\" }}", 10), "{{ printf \"%*d\" 1000000000 1 }}",
           "\xff{{ \xff }}", "{{ (1) (2) }}", "{{ .Labels.a.b.c }}", "{{- -}}",
           "{{ template }}", "{{ define \"a\" }}", "{{ 1e999 }}",
           "{{ 99999999999999999999 }}", "{{ len nil }}"}) {
    SCOPED_TRACE(s);
    (void)ExpandAlertTemplate("t", s, Data(0), Env());
  }
}

}  // namespace
}  // namespace promeval::rules
