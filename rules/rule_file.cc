// Rule file loading and validation: Prometheus's model/rulefmt (Parse,
// RuleGroups.Validate, Rule.Validate) over libyaml (rules/yaml.h).
//
// Prometheus decodes a rule file twice with go-yaml v3: strictly into data
// structs (unknown fields are errors unless ignored) and loosely into yaml.Node
// mirrors that give validation errors their positions. Only when decoding
// succeeds does it validate. This file does the same in one pass: it decodes
// the first YAML document as yaml.v3 would (its error texts, null handling,
// scalar-to-string conversion, float-to-int truncation, merge keys, duplicate
// key checks), collecting every decoding error, then validates as rulefmt
// does. Every error carries a position; where Prometheus prints none (label
// errors) or 0:0 (absent fields) the position of the label or rule is used.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "promeval/files.h"
#include "promeval/labels.h"
#include "promeval/parser.h"
#include "promeval/rules.h"
#include "promeval/text.h"
#include "rules/yaml.h"
#include "template/template.h"

namespace promeval {
namespace {

// Go type names as yaml.v3 prints them in "cannot unmarshal ... into T" and
// "field f not found in type T".
constexpr absl::string_view kRuleGroupsType = "rulefmt.RuleGroups";
constexpr absl::string_view kRuleGroupListType = "[]rulefmt.RuleGroup";
constexpr absl::string_view kRuleGroupType = "rulefmt.RuleGroup";
constexpr absl::string_view kRuleListType = "[]rulefmt.Rule";
constexpr absl::string_view kRuleType = "rulefmt.Rule";
constexpr absl::string_view kStringType = "string";
constexpr absl::string_view kIntType = "int";
constexpr absl::string_view kStringMapType = "map[string]string";

// Merge keys (`<<: *anchor`) may nest through merged mappings; a cycle of
// anchors would nest forever.
constexpr int kMaxMergeDepth = 32;

// One error of the file, before the "path: " prefix. rulefmt's errors about
// both `record` and `alert` carry two positions.
struct FileError {
  FilePosition pos;
  FilePosition alt;
  std::string text;
};

std::string FormatPosition(const FilePosition& p) {
  return absl::StrCat(p.line, ":", p.column, ": ");
}

std::string FormatError(absl::string_view path, const FileError& e) {
  std::string out;
  if (!path.empty()) absl::StrAppend(&out, path, ": ");
  if (e.pos.line > 0) out += FormatPosition(e.pos);
  if (e.alt.line > 0) out += FormatPosition(e.alt);
  out += e.text;
  return out;
}

// UTF-8 validity as Go's utf8.ValidString (model.LabelValue.IsValid).
bool IsValidUtf8String(absl::string_view s) {
  return s.empty() || IsValidLabelName(s);
}

// Go's strconv.ParseInt(s, 0, 64) as yaml.v3 resolves plain scalars (after
// dropping "_"). Returns false if `s` is not an integer in that syntax;
// `overflow` is set for integers out of the int64 range.
bool ParseGoInt(absl::string_view s, int64_t& out, bool& overflow) {
  overflow = false;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    char p = absl::ascii_tolower(s[1]);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : (p == 'o' ? 8 : 2);
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return false;
  uint64_t value = 0;
  for (char c : s) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    if (digit >= base) return false;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) {
      overflow = true;
    } else {
      value = value * base + digit;
    }
  }
  uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (overflow || value > limit) {
    overflow = true;
    return true;
  }
  out =
      negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  return true;
}

// yaml.v3's yamlStyleFloat:
// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlFloat(absl::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool IsYamlSpecialFloat(absl::string_view s) {
  static constexpr absl::string_view kSpecial[] = {
      ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
      "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
  return std::find(std::begin(kSpecial), std::end(kSpecial), s) !=
         std::end(kSpecial);
}

// A label or annotation as written, with positions for errors.
struct PairNode {
  std::string name;
  std::string value;
  FilePosition name_pos;
  FilePosition value_pos;
};

struct RuleNode {
  FilePosition pos;
  std::string record, alert, expr;
  // Of the values; 0 when the key is absent (rulefmt's zero yaml.Node).
  FilePosition record_pos, alert_pos, expr_pos;
  int64_t for_ms = 0;
  int64_t keep_firing_for_ms = 0;
  std::vector<PairNode> labels;
  std::vector<PairNode> annotations;
};

struct GroupNode {
  FilePosition pos;
  std::string name;
  int64_t interval_ms = 0;
  std::optional<int64_t> query_offset_ms;
  int limit = 0;
  std::vector<PairNode> labels;
  std::vector<RuleNode> rules;
};

// A mapping entry after merge keys are applied.
struct Entry {
  const yaml::Value* key;
  const yaml::Value* value;
  std::string name;
};

// Decodes the YAML tree into GroupNodes as yaml.v3 decodes into rulefmt's
// structs, collecting every error.
class Decoder {
 public:
  Decoder(absl::string_view content, const RuleLoadOptions& options,
          std::vector<FileError>& errors)
      : options_(options), errors_(errors) {
    // Without aliases every node costs at least a byte of input. Aliases may
    // repeat a subtree (yaml.v3 allows moderate aliasing); this budget lets
    // ordinary reuse through but stops alias bombs.
    budget_ = 4 * 1024 * 1024 + 8 * static_cast<int64_t>(content.size());
  }

  std::vector<GroupNode> DecodeRoot(const yaml::Value& root) {
    std::vector<GroupNode> groups;
    if (!Spend(root) || root.IsNull()) return groups;
    if (!root.IsMap()) {
      TypeError(root, kRuleGroupsType);
      return groups;
    }
    std::vector<Entry> entries;
    if (!Entries(root, entries, 0)) return groups;
    for (const Entry& e : entries) {
      if (e.name == "groups") {
        DecodeGroups(*e.value, groups);
      } else {
        UnknownField(e, kRuleGroupsType);
      }
    }
    return groups;
  }

  static FilePosition Pos(const yaml::Value& n) { return n.pos(); }

 private:
  void Error(FilePosition pos, std::string text) {
    errors_.push_back(FileError{pos, {}, std::move(text)});
  }

  // Charges a visit of `n`. False once the budget is exhausted (the error is
  // reported once and decoding stops).
  bool Spend(const yaml::Value& n) {
    if (exhausted_) return false;
    budget_ -= 1;
    if (n.IsScalar()) budget_ -= static_cast<int64_t>(n.scalar().size());
    if (budget_ < 0) {
      exhausted_ = true;
      Error(Pos(n), "yaml: document contains excessive aliasing");
      return false;
    }
    return true;
  }

  // yaml.v3's short tag of a node: "!!str", "!!int", "!!seq", ...
  static std::string ShortTag(const yaml::Value& n) {
    const std::string& tag = n.tag();
    constexpr absl::string_view kPrefix = "tag:yaml.org,2002:";
    if (absl::StartsWith(tag, kPrefix)) {
      return absl::StrCat("!!", absl::string_view(tag).substr(kPrefix.size()));
    }
    if (n.IsNull()) return "!!null";
    if (n.IsSequence()) return "!!seq";
    if (n.IsMap()) return "!!map";
    if (tag == "!") return "!!str";
    if (tag != "?" && !tag.empty()) return tag;
    const std::string& v = n.scalar();
    if (v == "true" || v == "True" || v == "TRUE" || v == "false" ||
        v == "False" || v == "FALSE") {
      return "!!bool";
    }
    std::string plain = absl::StrReplaceAll(v, {{"_", ""}});
    int64_t i;
    bool overflow;
    if (ParseGoInt(plain, i, overflow)) return "!!int";
    if (IsYamlFloat(plain) || IsYamlSpecialFloat(v)) return "!!float";
    return "!!str";
  }

  // yaml.v3's "cannot unmarshal !!str `abc` into int".
  void TypeError(const yaml::Value& n, absl::string_view into) {
    std::string tag = ShortTag(n);
    std::string value;
    if (tag != "!!seq" && tag != "!!map") {
      std::string v = n.IsScalar() ? n.scalar() : "";
      if (v.size() > 10) v = absl::StrCat(v.substr(0, 7), "...");
      value = absl::StrCat(" `", v, "`");
    }
    Error(Pos(n),
          absl::StrCat("cannot unmarshal ", tag, value, " into ", into));
  }

  void UnknownField(const Entry& e, absl::string_view type) {
    if (options_.ignore_unknown_fields) return;
    Error(Pos(*e.key),
          absl::StrCat("field ", e.name, " not found in type ", type));
  }

  static bool IsMergeKey(const yaml::Value& key) {
    return key.IsScalar() && key.scalar() == "<<" &&
           (key.tag() == "?" || key.tag() == "tag:yaml.org,2002:merge");
  }

  // The entries of mapping `n` in file order, the entries of merged mappings
  // (`<<`) after them unless set explicitly; a later merged mapping overrides
  // an earlier one, as in yaml.v3. Duplicate keys are errors and make the
  // whole mapping fail, as in yaml.v3.
  bool Entries(const yaml::Value& n, std::vector<Entry>& out, int depth) {
    std::vector<Entry> own;
    std::vector<const yaml::Value*> merges;
    absl::flat_hash_map<std::string, int> first_line;
    bool ok = true;
    for (size_t i = 0; i < n.pairs(); ++i) {
      const yaml::Value& key = n.key(i);
      if (!Spend(key)) return false;
      if (IsMergeKey(key)) {
        merges.push_back(&n.value(i));
        continue;
      }
      std::string name;
      if (key.IsScalar()) {
        name = key.scalar();
      } else if (!key.IsNull()) {
        TypeError(key, kStringType);
        ok = false;
        continue;
      }
      auto [pos, inserted] = first_line.try_emplace(name, Pos(key).line);
      if (!inserted) {
        Error(Pos(key),
              absl::StrFormat("mapping key %s already defined at line %d",
                              GoQuote(name), pos->second));
        ok = false;
        continue;
      }
      own.push_back(Entry{&key, &n.value(i), std::move(name)});
    }
    if (!ok) return false;
    std::vector<Entry> merged;
    for (const yaml::Value* m : merges) {
      if (depth >= kMaxMergeDepth) {
        Error(Pos(*m), "yaml: merge keys nested too deeply");
        return false;
      }
      std::vector<const yaml::Value*> sources;
      if (m->IsMap()) {
        sources.push_back(m);
      } else if (m->IsSequence()) {
        sources = m->items();
      }
      if (sources.empty() && !m->IsSequence()) {
        Error(Pos(*m),
              "map merge requires map or sequence of maps as the value");
        return false;
      }
      for (const yaml::Value* source : sources) {
        if (!source->IsMap()) {
          Error(Pos(*source),
                "map merge requires map or sequence of maps as the value");
          return false;
        }
        std::vector<Entry> entries;
        if (!Entries(*source, entries, depth + 1)) return false;
        for (Entry& e : entries) {
          if (first_line.contains(e.name)) continue;
          auto same =
              std::find_if(merged.begin(), merged.end(),
                           [&](const Entry& x) { return x.name == e.name; });
          if (same != merged.end()) {
            *same = std::move(e);
          } else {
            merged.push_back(std::move(e));
          }
        }
      }
    }
    out = std::move(own);
    for (Entry& e : merged) out.push_back(std::move(e));
    return true;
  }

  // A scalar into a Go string: its text whatever its type; null is "".
  bool String(const yaml::Value& n, std::string& out) {
    if (!Spend(n)) return false;
    if (n.IsNull()) {
      out.clear();
      return true;
    }
    if (!n.IsScalar()) {
      TypeError(n, kStringType);
      return false;
    }
    out = n.scalar();
    return true;
  }

  // A model.Duration. Null leaves `out` unset.
  bool Duration(const yaml::Value& n, std::optional<int64_t>& out) {
    if (n.IsNull()) {
      out.reset();
      return Spend(n);
    }
    std::string text;
    if (!String(n, text)) return false;
    absl::StatusOr<int64_t> ms = ParseDuration(text);
    if (!ms.ok()) {
      Error(Pos(n), std::string(ms.status().message()));
      return false;
    }
    out = *ms;
    return true;
  }

  bool Duration(const yaml::Value& n, int64_t& out) {
    std::optional<int64_t> d;
    if (!Duration(n, d)) return false;
    out = d.value_or(0);
    return true;
  }

  // A Go int: yaml.v3 accepts ints and truncates floats.
  bool Int(const yaml::Value& n, int& out) {
    if (!Spend(n)) return false;
    if (n.IsNull()) {
      out = 0;
      return true;
    }
    std::string tag = ShortTag(n);
    if (n.IsScalar() && (tag == "!!int" || tag == "!!float")) {
      std::string plain = absl::StrReplaceAll(n.scalar(), {{"_", ""}});
      int64_t i = 0;
      bool overflow = false;
      double f = 0;
      bool ok = false;
      if (ParseGoInt(plain, i, overflow) && !overflow) {
        ok = true;
      } else if (IsYamlFloat(plain) && absl::SimpleAtod(plain, &f) &&
                 std::isfinite(f)) {
        ok = f >= -9.2e18 && f <= 9.2e18;
        i = ok ? static_cast<int64_t>(f) : 0;
      }
      if (ok && i >= std::numeric_limits<int>::min() &&
          i <= std::numeric_limits<int>::max()) {
        out = static_cast<int>(i);
        return true;
      }
    }
    TypeError(n, kIntType);
    return false;
  }

  // A map[string]string, in file order.
  void StringMap(const yaml::Value& n, std::vector<PairNode>& out) {
    if (!Spend(n) || n.IsNull()) return;
    if (!n.IsMap()) {
      TypeError(n, kStringMapType);
      return;
    }
    std::vector<Entry> entries;
    if (!Entries(n, entries, 0)) return;
    for (const Entry& e : entries) {
      PairNode pair;
      pair.name = e.name;
      pair.name_pos = Pos(*e.key);
      pair.value_pos = Pos(*e.value);
      if (String(*e.value, pair.value)) out.push_back(std::move(pair));
    }
  }

  void DecodeGroups(const yaml::Value& n, std::vector<GroupNode>& groups) {
    if (!Spend(n) || n.IsNull()) return;
    if (!n.IsSequence()) {
      TypeError(n, kRuleGroupListType);
      return;
    }
    for (const yaml::Value* p : n.items()) {
      const yaml::Value& item = *p;
      GroupNode group;
      group.pos = Pos(item);
      if (!Spend(item)) return;
      // yaml.v3 cannot decode null into a struct and drops the item.
      if (item.IsNull()) continue;
      if (!item.IsMap()) {
        TypeError(item, kRuleGroupType);
        continue;
      }
      std::vector<Entry> entries;
      if (!Entries(item, entries, 0)) continue;
      for (const Entry& e : entries) {
        if (e.name == "name") {
          String(*e.value, group.name);
        } else if (e.name == "interval") {
          Duration(*e.value, group.interval_ms);
        } else if (e.name == "query_offset") {
          Duration(*e.value, group.query_offset_ms);
        } else if (e.name == "limit") {
          Int(*e.value, group.limit);
        } else if (e.name == "labels") {
          StringMap(*e.value, group.labels);
        } else if (e.name == "rules") {
          DecodeRules(*e.value, group.rules);
        } else {
          UnknownField(e, kRuleGroupType);
        }
      }
      groups.push_back(std::move(group));
    }
  }

  void DecodeRules(const yaml::Value& n, std::vector<RuleNode>& rules) {
    if (!Spend(n) || n.IsNull()) return;
    if (!n.IsSequence()) {
      TypeError(n, kRuleListType);
      return;
    }
    for (const yaml::Value* p : n.items()) {
      const yaml::Value& item = *p;
      RuleNode rule;
      rule.pos = Pos(item);
      if (!Spend(item)) return;
      // yaml.v3 cannot decode null into a struct and drops the item.
      if (item.IsNull()) continue;
      if (!item.IsMap()) {
        TypeError(item, kRuleType);
        continue;
      }
      std::vector<Entry> entries;
      if (!Entries(item, entries, 0)) continue;
      for (const Entry& e : entries) {
        FilePosition value_pos = Pos(*e.value);
        if (e.name == "record") {
          rule.record_pos = value_pos;
          String(*e.value, rule.record);
        } else if (e.name == "alert") {
          rule.alert_pos = value_pos;
          String(*e.value, rule.alert);
        } else if (e.name == "expr") {
          rule.expr_pos = value_pos;
          String(*e.value, rule.expr);
        } else if (e.name == "for") {
          Duration(*e.value, rule.for_ms);
        } else if (e.name == "keep_firing_for") {
          Duration(*e.value, rule.keep_firing_for_ms);
        } else if (e.name == "labels") {
          StringMap(*e.value, rule.labels);
        } else if (e.name == "annotations") {
          StringMap(*e.value, rule.annotations);
        } else {
          UnknownField(e, kRuleType);
        }
      }
      rules.push_back(std::move(rule));
    }
  }

  const RuleLoadOptions& options_;
  std::vector<FileError>& errors_;
  int64_t budget_ = 0;
  bool exhausted_ = false;
};

// Parses rule expressions once per distinct text (aliases repeat them),
// with an ExprParser, which reuses the parse of expressions written alike.
class ExprCache {
 public:
  explicit ExprCache(const ParseOptions& options) : parser_(options) {}

  struct Result {
    std::shared_ptr<const Expr> expr;
    std::string error;  // Prometheus's ParseErrors text, one per line.
  };

  Result Parse(const std::string& text) {
    auto it = cache_.find(text);
    if (it != cache_.end()) return it->second;
    Result result;
    ParseOutcome outcome = parser_.Parse(text);
    if (outcome.errors.empty()) {
      result.expr = std::shared_ptr<const Expr>(std::move(outcome.expr));
    } else {
      std::vector<std::string> lines;
      for (const ParseError& e : outcome.errors) {
        lines.push_back(e.ToString(text));
      }
      result.error = absl::StrJoin(lines, "\n");
    }
    return cache_.emplace(text, std::move(result)).first->second;
  }

 private:
  ExprParser parser_;
  absl::flat_hash_map<std::string, Result> cache_;
};

// Checks that alert label and annotation values parse as templates, once per
// distinct text: rules often share them (a runbook link, a summary written
// the same way for every alert of a group). Whether a text parses does not
// depend on the template's name, only the error message does.
class TemplateCheck {
 public:
  // The parse error of `text` as the template `name`, or OK.
  absl::Status Check(absl::string_view name, const std::string& text) {
    // Without an action delimiter, a template is text alone.
    if (!absl::StrContains(text, "{{") || parsed_.contains(text)) {
      return absl::OkStatus();
    }
    absl::StatusOr<rules::Template> t = rules::Template::Parse(name, text);
    if (!t.ok()) return t.status();
    parsed_.insert(text);
    return absl::OkStatus();
  }

 private:
  absl::flat_hash_set<std::string> parsed_;  // Texts that parse.
};

StringPairs ToPairs(const std::vector<PairNode>& nodes) {
  StringPairs out;
  out.reserve(nodes.size());
  for (const PairNode& p : nodes) out.emplace_back(p.name, p.value);
  return out;
}

// rulefmt's label checks (RuleGroups.Validate for group labels,
// Rule.Validate for rule labels).
void ValidateLabels(const std::vector<PairNode>& labels,
                    const std::function<void(FilePosition, std::string)>& add) {
  for (const PairNode& l : labels) {
    if (!IsValidLabelName(l.name) || l.name == kMetricName) {
      add(l.name_pos, absl::StrCat("invalid label name: ", l.name));
    }
    if (!IsValidUtf8String(l.value)) {
      add(l.value_pos, absl::StrCat("invalid label value: ", l.value));
    }
  }
}

// Rule.Validate: the errors of one rule, in rulefmt's order.
void ValidateRule(
    const RuleNode& r, ExprCache& exprs, TemplateCheck& templates,
    const std::function<void(FilePosition, FilePosition, std::string)>& add,
    std::shared_ptr<const Expr>& parsed) {
  // rulefmt reports absent nodes as 0:0; the rule's position is more useful.
  auto or_rule = [&](FilePosition p) { return p.line > 0 ? p : r.pos; };
  if (!r.record.empty() && !r.alert.empty()) {
    add(r.record_pos, r.alert_pos,
        "only one of 'record' and 'alert' must be set");
  }
  if (r.record.empty() && r.alert.empty()) {
    FilePosition first = r.record_pos.line > 0 ? r.record_pos : r.alert_pos;
    FilePosition second = r.record_pos.line > 0 ? r.alert_pos : FilePosition{};
    add(or_rule(first), second, "one of 'record' or 'alert' must be set");
  }
  if (r.expr.empty()) {
    add(or_rule(r.expr_pos), {}, "field 'expr' must be set in rule");
  } else {
    ExprCache::Result result = exprs.Parse(r.expr);
    if (!result.error.empty()) {
      add(r.expr_pos, {},
          absl::StrCat("could not parse expression: ", result.error));
    } else {
      parsed = result.expr;
    }
  }
  if (!r.record.empty()) {
    if (!r.annotations.empty()) {
      add(r.record_pos, {}, "invalid field 'annotations' in recording rule");
    }
    if (r.for_ms != 0) {
      add(r.record_pos, {}, "invalid field 'for' in recording rule");
    }
    if (r.keep_firing_for_ms != 0) {
      add(r.record_pos, {},
          "invalid field 'keep_firing_for' in recording rule");
    }
    // model.UTF8Validation: any valid UTF-8 (the name is not empty here).
    if (!IsValidLabelName(r.record)) {
      add(r.record_pos, {},
          absl::StrCat("invalid recording rule name: ", r.record));
    }
    if (absl::StrContains(r.record, "{") || absl::StrContains(r.record, "}")) {
      add(r.record_pos, {},
          absl::StrCat("braces present in the recording rule name; should it "
                       "be in expr?: ",
                       r.record));
    }
  }
  ValidateLabels(r.labels,
                 [&](FilePosition p, std::string text) { add(p, {}, text); });
  for (const PairNode& a : r.annotations) {
    if (!IsValidLabelName(a.name)) {
      add(a.name_pos, {}, absl::StrCat("invalid annotation name: ", a.name));
    }
  }
  // rulefmt's testTemplateParsing: an alerting rule's label and annotation
  // values must parse as alert templates.
  if (!r.alert.empty()) {
    const std::string name = absl::StrCat("__alert_", r.alert);
    auto check = [&](const std::vector<PairNode>& pairs,
                     absl::string_view what) {
      for (const PairNode& p : pairs) {
        absl::Status parsed = templates.Check(name, p.value);
        if (!parsed.ok()) {
          add(p.value_pos, {},
              absl::StrCat(what, " ", GoQuote(p.name), ": ", parsed.message()));
        }
      }
    };
    check(r.labels, "label");
    check(r.annotations, "annotation");
  }
}

}  // namespace

absl::StatusOr<RuleFile> ParseRuleFile(absl::string_view content,
                                       absl::string_view path,
                                       const RuleLoadOptions& options) {
  std::vector<FileError> errors;
  std::vector<GroupNode> groups;
  // Only the first document counts, as with go-yaml's Decode and Unmarshal:
  // later documents are not even parsed.
  {
    // The tree goes before the expressions are parsed, which reuse its
    // memory.
    yaml::SyntaxError syntax;
    absl::StatusOr<yaml::Tree> tree = yaml::Tree::Parse(content, &syntax);
    if (!tree.ok()) {
      errors.push_back(FileError{syntax.pos, {}, std::move(syntax.message)});
    } else {
      Decoder decoder(content, options, errors);
      groups = decoder.DecodeRoot(tree->root());
    }
  }

  RuleFile file;
  file.path = std::string(path);
  // As rulefmt.Parse: validation only runs when decoding succeeded.
  if (errors.empty()) {
    ExprCache exprs(options.parser);
    TemplateCheck templates;
    absl::flat_hash_map<std::string, bool> seen_names;
    for (const GroupNode& g : groups) {
      if (g.name.empty()) {
        errors.push_back({g.pos, {}, "Groupname must not be empty"});
      }
      if (!seen_names.try_emplace(g.name, true).second) {
        errors.push_back({g.pos,
                          {},
                          absl::StrCat("groupname: \"", g.name,
                                       "\" is repeated in the same file")});
      }
      ValidateLabels(g.labels, [&](FilePosition p, std::string text) {
        errors.push_back({p, {}, std::move(text)});
      });
      RuleGroup group;
      group.name = g.name;
      group.file = file.path;
      group.interval_ms = g.interval_ms;
      group.limit = g.limit;
      group.query_offset_ms = g.query_offset_ms;
      group.labels = ToPairs(g.labels);
      group.pos = g.pos;
      for (size_t i = 0; i < g.rules.size(); ++i) {
        const RuleNode& r = g.rules[i];
        const std::string& rule_name = r.alert.empty() ? r.record : r.alert;
        Rule rule;
        ValidateRule(
            r, exprs, templates,
            [&](FilePosition pos, FilePosition alt, std::string text) {
              errors.push_back(
                  {pos, alt,
                   absl::StrFormat("group %s, rule %d, %s: %s", GoQuote(g.name),
                                   i + 1, GoQuote(rule_name), text)});
            },
            rule.parsed);
        rule.kind =
            r.alert.empty() ? Rule::Kind::kRecording : Rule::Kind::kAlerting;
        rule.name = rule_name;
        rule.expr = r.expr;
        rule.for_ms = r.for_ms;
        rule.keep_firing_for_ms = r.keep_firing_for_ms;
        rule.labels = ToPairs(r.labels);
        rule.annotations = ToPairs(r.annotations);
        rule.pos = r.pos;
        group.rules.push_back(std::move(rule));
      }
      file.groups.push_back(std::move(group));
    }
  }

  if (!errors.empty()) {
    std::vector<std::string> lines;
    lines.reserve(errors.size());
    for (const FileError& e : errors) lines.push_back(FormatError(path, e));
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  return file;
}

absl::StatusOr<RuleFile> LoadRuleFile(absl::string_view path,
                                      const RuleLoadOptions& options) {
  struct stat st;
  std::string p(path);
  if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": read ", path, ": is a directory"));
  }
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) {
    // As rulefmt.ParseFile: "path: open path: no such file or directory"
    // (Go's error texts are lower case).
    std::string message(content.status().message());
    size_t reason = message.rfind(": ");
    if (reason != std::string::npos && reason + 2 < message.size()) {
      message[reason + 2] = absl::ascii_tolower(message[reason + 2]);
    }
    return absl::Status(content.status().code(),
                        absl::StrCat(path, ": ", message));
  }
  return ParseRuleFile(*content, path, options);
}

StringPairs RuleLabels(const RuleGroup& group, const Rule& rule) {
  StringPairs merged = group.labels;
  for (const auto& label : rule.labels) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& l) {
      return l.first == label.first;
    });
    if (it != merged.end()) {
      it->second = label.second;
    } else {
      merged.push_back(label);
    }
  }
  std::sort(merged.begin(), merged.end());
  return merged;
}

}  // namespace promeval
