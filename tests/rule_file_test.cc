// Rule file loading and validation (promeval/rules.h): the fixtures of
// testdata/rules (every *.good.yaml loads; every *.bad.yaml fails with exactly
// the errors of its *.bad.errors sibling), positions, strictness, all errors
// at once, hostile YAML, and Prometheus's own rule files from ../shared with
// the outcomes promtool check rules gives them.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "promeval/ast.h"
#include "promeval/rules.h"
#include "tests/test_paths.h"

namespace promeval {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

fs::path FixtureDir() {
  return fs::path(testing::kSourceDir) / "testdata/rules";
}

std::vector<fs::path> Fixtures(absl::string_view suffix) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(FixtureDir())) {
    if (entry.is_regular_file() &&
        absl::EndsWith(entry.path().filename().string(), suffix)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The errors of `content` loaded as file `name`, one per line; "" if it
// loads.
std::string Errors(absl::string_view content, absl::string_view name = "f.yml",
                   const RuleLoadOptions& options = {}) {
  absl::StatusOr<RuleFile> file = ParseRuleFile(content, name, options);
  if (file.ok()) return "";
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(file.status().message());
}

TEST(RuleFileFixturesTest, GoodFilesLoad) {
  std::vector<fs::path> files = Fixtures(".good.yaml");
  ASSERT_GE(files.size(), 5u);
  for (const fs::path& path : files) {
    absl::StatusOr<RuleFile> file = LoadRuleFile(path.string());
    EXPECT_TRUE(file.ok()) << path << ": " << file.status();
  }
}

TEST(RuleFileFixturesTest, BadFilesFailWithTheirErrors) {
  std::vector<fs::path> files = Fixtures(".bad.yaml");
  ASSERT_GE(files.size(), 10u);
  for (const fs::path& path : files) {
    std::string name = path.filename().string();
    fs::path errors_path = path;
    errors_path.replace_extension(".errors");
    ASSERT_TRUE(fs::exists(errors_path)) << errors_path;
    std::string want(
        absl::StripSuffix(testing::ReadTestFile(errors_path.string()), "\n"));
    EXPECT_EQ(Errors(testing::ReadTestFile(path.string()), name), want) << name;
  }
}

TEST(RuleFileTest, DataModel) {
  absl::StatusOr<RuleFile> file =
      LoadRuleFile((FixtureDir() / "basic.good.yaml").string());
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->groups.size(), 2u);
  const RuleGroup& rec = file->groups[0];
  EXPECT_EQ(rec.name, "recording");
  EXPECT_EQ(rec.file, file->path);
  EXPECT_EQ(rec.interval_ms, 30000);
  EXPECT_EQ(rec.query_offset_ms, 60000);
  EXPECT_EQ(rec.limit, 10);
  EXPECT_EQ(rec.labels, (StringPairs{{"team", "infra"}}));
  EXPECT_EQ(rec.pos.line, 3);
  EXPECT_EQ(rec.pos.column, 5);
  ASSERT_EQ(rec.rules.size(), 2u);
  EXPECT_EQ(rec.rules[0].kind, Rule::Kind::kRecording);
  EXPECT_EQ(rec.rules[0].name, "job:http_requests:rate5m");
  EXPECT_EQ(rec.rules[0].labels, (StringPairs{{"source", "recorded"}}));
  ASSERT_NE(rec.rules[0].parsed, nullptr);
  EXPECT_EQ(rec.rules[0].pos.line, 10);
  EXPECT_EQ(rec.rules[0].pos.column, 9);
  EXPECT_THAT(rec.rules[1].expr, HasSubstr("\n  /\n"));

  const RuleGroup& alerts = file->groups[1];
  EXPECT_EQ(alerts.interval_ms, 0);
  EXPECT_FALSE(alerts.query_offset_ms.has_value());
  const Rule& alert = alerts.rules[0];
  EXPECT_EQ(alert.kind, Rule::Kind::kAlerting);
  EXPECT_EQ(alert.name, "HighErrorRate");
  EXPECT_EQ(alert.for_ms, 600000);
  EXPECT_EQ(alert.keep_firing_for_ms, 300000);
  EXPECT_EQ(alert.labels, (StringPairs{{"severity", "page"}}));
  ASSERT_EQ(alert.annotations.size(), 2u);
  EXPECT_EQ(alert.annotations[0],
            (std::pair<std::string, std::string>{
                "summary", "High error rate on {{ $labels.job }}"}));
  EXPECT_EQ(alert.annotations[1].second,
            "{{ $value | humanizePercentage }} of requests fail.");
}

TEST(RuleFileTest, AnchorsAliasesAndMergeKeys) {
  absl::StatusOr<RuleFile> file =
      LoadRuleFile((FixtureDir() / "anchors.good.yaml").string());
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->groups.size(), 2u);
  const RuleGroup& g1 = file->groups[0];
  EXPECT_EQ(g1.rules[0].labels,
            (StringPairs{{"team", "infra"}, {"tier", "backend"}}));
  // Explicit keys win over merged ones.
  EXPECT_EQ(g1.rules[1].labels,
            (StringPairs{{"tier", "frontend"}, {"team", "infra"}}));
  const RuleGroup& g2 = file->groups[1];
  EXPECT_EQ(g2.name, "g2");
  EXPECT_EQ(g2.interval_ms, 60000);
  ASSERT_EQ(g2.rules.size(), 1u);
  EXPECT_EQ(g2.rules[0].name, "job:up:sum");
}

TEST(RuleFileTest, ScalarsDecodeAsGoYamlDoes) {
  absl::StatusOr<RuleFile> file =
      LoadRuleFile((FixtureDir() / "scalars.good.yaml").string());
  ASSERT_TRUE(file.ok()) << file.status();
  const RuleGroup& g = file->groups[0];
  EXPECT_EQ(g.name, "2024");
  EXPECT_EQ(g.limit, 2);  // Floats are truncated.
  EXPECT_FALSE(g.query_offset_ms.has_value());
  EXPECT_EQ(g.rules[0].expr, "1");
  EXPECT_EQ(
      g.rules[0].labels,
      (StringPairs{{"number", "0x10"}, {"boolean", "yes"}, {"empty", ""}}));
  EXPECT_EQ(g.rules[1].for_ms, 300000);
  EXPECT_EQ(g.rules[1].keep_firing_for_ms, 0);
}

TEST(RuleFileTest, QueryOffsetZeroIsSet) {
  absl::StatusOr<RuleFile> file = ParseRuleFile(
      "groups:\n- name: g\n  query_offset: 0s\n  rules: []\n", "f.yml");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->groups[0].query_offset_ms, 0);
}

TEST(RuleFileTest, EmptyInputs) {
  for (absl::string_view content :
       {"", "\n", "# comment\n", "---\n", "groups:\n", "groups: []\n",
        "groups: ~\n", "---\n---\ngroups: [x]\n"}) {
    absl::StatusOr<RuleFile> file = ParseRuleFile(content, "f.yml");
    ASSERT_TRUE(file.ok()) << content << ": " << file.status();
    EXPECT_TRUE(file->groups.empty()) << content;
  }
}

TEST(RuleFileTest, PositionsCountCharactersNotBytes) {
  EXPECT_EQ(
      Errors("groups: [{name: \"äöü\", rules: [{record: x, expr: \"up{\"}]}]"),
      "f.yml: 1:50: group \"äöü\", rule 1, \"x\": could not parse expression: "
      "1:4: parse error: unexpected end of input inside braces");
  EXPECT_EQ(Errors("groups:\n  - name: \"äöü\"\n    bogus: 1\n"),
            "f.yml: 3:5: field bogus not found in type rulefmt.RuleGroup");
}

TEST(RuleFileTest, StrictnessAndIgnoreUnknownFields) {
  const std::string content =
      "groups:\n"
      "  - name: g\n"
      "    owner: me\n"
      "    rules:\n"
      "      - record: a\n"
      "        expr: up\n"
      "        extra: [1, 2]\n";
  EXPECT_EQ(Errors(content),
            "f.yml: 3:5: field owner not found in type rulefmt.RuleGroup\n"
            "f.yml: 7:9: field extra not found in type rulefmt.Rule");
  RuleLoadOptions lax;
  lax.ignore_unknown_fields = true;
  EXPECT_EQ(Errors(content, "f.yml", lax), "");
  // Ignoring unknown fields does not ignore type errors of known ones.
  EXPECT_EQ(Errors("groups: [{name: g, limit: x, extra: 1}]", "f.yml", lax),
            "f.yml: 1:27: cannot unmarshal !!str `x` into int");
}

TEST(RuleFileTest, AllErrorsAtOnce) {
  // Decoding errors are all reported; validation only runs without them.
  EXPECT_EQ(Errors("groups:\n"
                   "  - name: a\n"
                   "    interval: 1x\n"
                   "    x: 1\n"
                   "    rules:\n"
                   "      - record: r\n"
                   "        expr: up(\n"
                   "        for: bad\n"),
            "f.yml: 3:15: unknown unit \"x\" in duration \"1x\"\n"
            "f.yml: 4:5: field x not found in type rulefmt.RuleGroup\n"
            "f.yml: 8:14: not a valid duration string: \"bad\"");
  EXPECT_EQ(Errors("groups:\n"
                   "  - name: a\n"
                   "    rules:\n"
                   "      - record: r\n"
                   "        expr: up(\n"
                   "      - alert: A\n"
                   "        record: B\n"
                   "        expr: up\n"
                   "  - name: a\n"
                   "    rules:\n"
                   "      - record: \"x y\"\n"
                   "        expr: sum(\n"
                   "        labels: {__name__: x}\n"),
            "f.yml: 5:15: group \"a\", rule 1, \"r\": could not parse "
            "expression: 1:4: parse error: unclosed left parenthesis\n"
            "f.yml: 7:17: 6:16: group \"a\", rule 2, \"A\": only one of "
            "'record' and 'alert' must be set\n"
            "f.yml: 9:5: groupname: \"a\" is repeated in the same file\n"
            "f.yml: 12:15: group \"a\", rule 1, \"x y\": could not parse "
            "expression: 1:5: parse error: unclosed left parenthesis\n"
            "f.yml: 13:18: group \"a\", rule 1, \"x y\": invalid label name: "
            "__name__");
}

TEST(RuleFileTest, ParserOptions) {
  const std::string content =
      "groups: [{name: g, rules: [{record: r, expr: 'limitk(1, up)'}]}]";
  EXPECT_THAT(Errors(content), HasSubstr("could not parse expression"));
  RuleLoadOptions options;
  options.parser.experimental_functions = true;
  EXPECT_EQ(Errors(content, "f.yml", options), "");
}

TEST(RuleFileTest, WithoutPathNoPrefix) {
  EXPECT_EQ(Errors("groups: [{nme: g}]", ""),
            "1:11: field nme not found in type rulefmt.RuleGroup");
}

TEST(RuleFileTest, LoadErrors) {
  absl::StatusOr<RuleFile> missing = LoadRuleFile("/no/such/rules.yml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "/no/such/rules.yml: open /no/such/rules.yml: no such file or "
            "directory");
  absl::StatusOr<RuleFile> dir = LoadRuleFile(FixtureDir().string());
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(dir.status().message(), HasSubstr("is a directory"));
}

TEST(RuleFileTest, HostileYamlIsAnErrorNotACrash) {
  // Deep nesting, flow and block.
  std::string flow =
      "groups: " + std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(Errors(flow), HasSubstr("yaml: exceeded max depth"));
  std::string block = "groups:\n";
  for (int i = 0; i < 5000; ++i) {
    block += std::string(2 * i + 2, ' ') + "- \n";
  }
  EXPECT_NE(Errors(block), "");
  std::string maps = "groups:\n  - name: x\n    labels:\n";
  for (int i = 0; i < 5000; ++i) {
    maps += std::string(2 * i + 6, ' ') + absl::StrCat("k", i, ":\n");
  }
  EXPECT_NE(Errors(maps), "");

  // An alias bomb: 2000 groups x 2000 rules x 2000 labels.
  std::string bomb = "x:\n  l: &l {";
  for (int i = 0; i < 2000; ++i)
    absl::StrAppend(&bomb, i ? ", " : "", "k", i, ": v");
  bomb += "}\n  r: &r [";
  for (int i = 0; i < 2000; ++i)
    absl::StrAppend(&bomb, i ? ", " : "", "{record: a, expr: up, labels: *l}");
  bomb += "]\n  g: &g {name: g, rules: *r}\ngroups: [";
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&bomb, i ? ", " : "", "*g");
  bomb += "]\n";
  RuleLoadOptions lax;
  lax.ignore_unknown_fields = true;
  EXPECT_THAT(Errors(bomb, "f.yml", lax),
              HasSubstr("yaml: document contains excessive aliasing"));

  // Self-referencing anchors and merge cycles.
  EXPECT_NE(Errors("a: &a {<<: *a}\ngroups: [*a]\n", "f.yml", lax), "");
  EXPECT_NE(Errors("a: &a [*a]\ngroups: *a\n", "f.yml", lax), "");
  // Binary junk, NUL bytes, invalid UTF-8, UTF-16 byte order marks.
  EXPECT_EQ(Errors(std::string("\0\1\2groups", 9)),
            "f.yml: 1:1: yaml: control characters are not allowed");
  EXPECT_EQ(Errors("groups: [\xC3\x28]"),
            "f.yml: 1:10: yaml: invalid trailing UTF-8 octet");
  EXPECT_NE(Errors("\xFF\xFEg\0r\0"), "");
  std::string junk;
  uint32_t state = 12345;
  for (int i = 0; i < 100000; ++i) {
    state = state * 1103515245 + 12345;
    junk += static_cast<char>(state >> 24);
  }
  EXPECT_NE(Errors(junk), "");
  // Printable junk that is YAML-ish.
  for (absl::string_view s :
       {"{", "[", "groups: {", "groups: [{]", "? ? ? ?", "&a *a", "*unknown",
        "groups: !!binary AAAA", "groups:\n- !!map {name: x}\n",
        "groups: [{name: g, rules: [{record: a, expr: up, labels: !!seq []}]}]",
        "%YAML 1.2\n---\ngroups: []\n", "groups: [{<<: [], name: x}]",
        "groups: [{<<: [1], name: x}]", "groups: [{? [a]: b}]"}) {
    Errors(s);  // Must not crash or throw.
  }
}

TEST(RuleFileTest, MutatedFixturesNeverCrash) {
  uint32_t state = 1;
  auto next = [&state] {
    state = state * 1103515245 + 12345;
    return state >> 8;
  };
  int parsed = 0;
  for (absl::string_view suffix : {".good.yaml", ".bad.yaml"}) {
    for (const fs::path& path : Fixtures(suffix)) {
      std::string content = testing::ReadTestFile(path.string());
      for (size_t n = 0; n < content.size(); n += 7) {
        ParseRuleFile(content.substr(0, n), "f.yml").IgnoreError();
        ++parsed;
      }
      for (int i = 0; i < 100 && !content.empty(); ++i) {
        std::string mutated = content;
        for (int k = 0; k < 3; ++k) {
          static constexpr char kBytes[] = "-:{}[]&*!|>'\"#\n \t,?<\x80";
          mutated[next() % mutated.size()] =
              kBytes[next() % (sizeof(kBytes) - 1)];
        }
        ParseRuleFile(mutated, "f.yml").IgnoreError();
        ++parsed;
      }
    }
  }
  EXPECT_GT(parsed, 1000);
}

// Prometheus's own rule files, with the outcomes of `promtool check rules`.
TEST(RuleFileUpstreamTest, PromtoolOutcomes) {
  fs::path shared = fs::path(testing::kSharedDir) / "prometheus";
  if (!fs::exists(shared)) GTEST_SKIP() << shared << " not found";
  struct Case {
    const char* file;
    bool loads;
    const char* error = "";  // The exact errors, if given.
  };
  const Case cases[] = {
      {"promtool-testdata/rules.yml", true},
      {"promtool-testdata/rules_duplicates.yml", true},  // Lint only.
      {"promtool-testdata/rules_large.yml", true},       // Lint only.
      {"promtool-testdata/prometheus-rules.lint.yml", true},
      {"promtool-testdata/bad-rules-error.yml", true},  // Fails at eval.
      {"promtool-testdata/at-modifier.yml", true},
      {"promtool-testdata/negative-offset.yml", true},
      {"promtool-testdata/bad-rules-syntax.yml", false,
       "bad-rules-syntax.yml: 7:15: group \"bad-syntax\", rule 1, \"x\": "
       "could not parse expression: 1:7: parse error: unexpected end of "
       "input"},
      {"promtool-testdata/rules_extrafields.yml", false,
       "rules_extrafields.yml: 7:5: field namespace not found in type "
       "rulefmt.RuleGroup\n"
       "rules_extrafields.yml: 21:5: field ownership not found in type "
       "rulefmt.RuleGroup"},
      {"rules-fixtures/invalid_rules.yaml", false,
       "invalid_rules.yaml: 6:9: field unexpected_field not found in type "
       "rulefmt.Rule"},
  };
  for (const Case& c : cases) {
    fs::path path = shared / c.file;
    std::string name = path.filename().string();
    std::string errors = Errors(testing::ReadTestFile(path.string()), name);
    EXPECT_EQ(errors.empty(), c.loads) << c.file << ": " << errors;
    if (*c.error != '\0') {
      EXPECT_EQ(errors, c.error) << c.file;
    }
  }
  // Accepted with --ignore-unknown-fields.
  RuleLoadOptions lax;
  lax.ignore_unknown_fields = true;
  for (const char* file : {"promtool-testdata/rules_extrafields.yml",
                           "rules-fixtures/invalid_rules.yaml"}) {
    EXPECT_TRUE(LoadRuleFile((shared / file).string(), lax).ok()) << file;
  }
  // Every other file of rules-fixtures loads (the multi-document one reads
  // its first document only).
  for (const auto& entry : fs::directory_iterator(shared / "rules-fixtures")) {
    std::string name = entry.path().filename().string();
    if (name == "invalid_rules.yaml") continue;
    absl::StatusOr<RuleFile> file = LoadRuleFile(entry.path().string());
    EXPECT_TRUE(file.ok()) << name << ": " << file.status();
  }
  absl::StatusOr<RuleFile> multi =
      LoadRuleFile((shared / "rules-fixtures/rules_multi_doc.yaml").string());
  ASSERT_TRUE(multi.ok());
  ASSERT_EQ(multi->groups.size(), 1u);
  EXPECT_EQ(multi->groups[0].name, "multi_doc");

  // promtool rejects rules-bad.yml for its annotation template.
  absl::StatusOr<RuleFile> bad =
      LoadRuleFile((shared / "promtool-testdata/rules-bad.yml").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("group \"alerts\", rule 1, \"InstanceDown\": "
                        "annotation \"summary\": template: "
                        "__alert_InstanceDown:1: undefined variable "
                        "\"$label\""));
}

}  // namespace
}  // namespace promeval
