// label_replace, label_join, the sort functions, absent and
// absent_over_time. Label rewriting happens once per series, not per step.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/go_sort.h"
#include "eval/functions.h"
#include "eval/functions/families.h"
#include "promeval/status_macros.h"
#include "re2/re2.h"

namespace promeval::eval {
namespace {

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Go's regexp.Expand of `tmpl` for a match of `re` with groups `groups`.
std::string Expand(absl::string_view tmpl, const RE2& re,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    bool brace = tmpl[j] == '{';
    if (brace) ++j;
    size_t name_start = j;
    while (j < tmpl.size() && IsNameChar(tmpl[j])) ++j;
    absl::string_view name = tmpl.substr(name_start, j - name_start);
    bool ok = !name.empty();
    if (brace) {
      ok = ok && j < tmpl.size() && tmpl[j] == '}';
      if (ok) ++j;
    }
    if (!ok) {  // Malformed: a literal "$".
      out += '$';
      ++i;
      continue;
    }
    int index = -1;
    if (std::all_of(name.begin(), name.end(), absl::ascii_isdigit) &&
        name.size() < 10) {
      index = std::stoi(std::string(name));
    } else {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) index = it->second;
    }
    if (index >= 0 && index < static_cast<int>(groups.size()) &&
        groups[index].data() != nullptr) {
      out.append(groups[index].data(), groups[index].size());
    }
    i = j;
  }
  return out;
}

// Applies `relabel` to every series, then merges equal label sets.
template <typename F>
absl::StatusOr<Value> Relabel(FunctionCall& c, absl::string_view dst,
                              F relabel) {
  std::vector<StepSeries> series = std::move(c.vector(0));
  for (StepSeries& s : series) {
    std::optional<Labels> changed = relabel(s.labels);
    if (!changed.has_value()) continue;
    s.labels = *std::move(changed);
    // Writing __name__ keeps the (new) name.
    if (dst == kMetricName) s.drop_name = false;
  }
  PROMEVAL_RETURN_IF_ERROR(MergeSameLabelsets(series));
  return Value::Vector(std::move(series));
}

void SortWarning(FunctionCall& c) {
  if (c.steps().start != c.steps().end) {
    c.ctx().Annotate(Annotation::Kind::kWarning,
                     "sort is ineffective for range queries since results are "
                     "always ordered by labels",
                     c.call.pos);
  }
}

// Natural order: digit runs compare as numbers ("x9" < "x10").
bool NaturalLess(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (absl::ascii_isdigit(a[i]) && absl::ascii_isdigit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && absl::ascii_isdigit(a[ie])) ++ie;
      while (je < b.size() && absl::ascii_isdigit(b[je])) ++je;
      absl::string_view da = a.substr(i, ie - i), db = b.substr(j, je - j);
      // Compare numerically by stripping leading zeros, then by length.
      absl::string_view na = da, nb = db;
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      if (da.size() != db.size()) return da.size() < db.size();
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// Labels for absent(): the equality matchers' labels; a label matched twice
// or by another matcher type is dropped.
Labels AbsentLabels(const Expr& arg) {
  const VectorSelector* vs = As<VectorSelector>(&arg);
  if (const auto* ms = As<MatrixSelector>(&arg)) {
    vs = As<VectorSelector>(ms->vector_selector.get());
  }
  if (vs == nullptr) return Labels();
  std::vector<std::string> seen;
  LabelsBuilder b{Labels()};
  for (const Matcher& m : vs->matchers) {
    if (m.name() == kMetricName) continue;
    bool has = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
    if (m.type() == MatchType::kEqual && !has) {
      b.Set(m.name(), m.value());
      seen.push_back(m.name());
    } else {
      b.Del(m.name());
    }
  }
  return b.Build();
}

}  // namespace

namespace functions {

absl::StatusOr<Value> LabelReplace(FunctionCall& c) {
  const std::string& dst = c.string(1);
  const std::string& repl = c.string(2);
  const std::string& src = c.string(3);
  const std::string& regex = c.string(4);
  RE2::Options options;
  options.set_log_errors(false);
  RE2 plain(regex, options);
  auto re = std::make_unique<RE2>(absl::StrCat("^(?s:", regex, ")$"), options);
  if (!plain.ok() || !re->ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid regular expression in label_replace(): ", regex));
  }
  if (!IsValidLabelName(dst)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "invalid destination label name in label_replace(): ", dst));
  }
  std::vector<re2::StringPiece> groups(re->NumberOfCapturingGroups() + 1);
  return Relabel(c, dst, [&](const Labels& labels) -> std::optional<Labels> {
    absl::string_view value = labels.Get(src);
    re2::StringPiece input(value.data(), value.size());
    if (!re->Match(input, 0, input.size(), RE2::UNANCHORED, groups.data(),
                   static_cast<int>(groups.size()))) {
      return std::nullopt;
    }
    return LabelsBuilder(labels).Set(dst, Expand(repl, *re, groups)).Build();
  });
}

absl::StatusOr<Value> LabelJoin(FunctionCall& c) {
  const std::string& dst = c.string(1);
  const std::string& sep = c.string(2);
  std::vector<std::string> sources;
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string& src = c.string(i);
    if (!IsValidLabelName(src)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid source label name in label_join(): ", src));
    }
    sources.push_back(src);
  }
  if (!IsValidLabelName(dst)) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid destination label name in label_join(): ", dst));
  }
  return Relabel(c, dst, [&](const Labels& labels) -> std::optional<Labels> {
    std::vector<absl::string_view> values;
    for (const std::string& src : sources) values.push_back(labels.Get(src));
    return LabelsBuilder(labels).Set(dst, absl::StrJoin(values, sep)).Build();
  });
}

namespace {

// sort() and sort_desc(): Go's sort.Sort over the reversed heap order of
// Prometheus (NaN first, then descending for sort / ascending for
// sort_desc), so ties and NaNs end up where Prometheus puts them.
absl::StatusOr<Value> SortByValue(FunctionCall& c, bool descending) {
  SortWarning(c);
  std::vector<StepSeries> v = std::move(c.vector(0));
  auto heap_less = [descending](double a, double b) {
    if (std::isnan(a)) return true;
    return descending ? a < b : a > b;
  };
  GoSort(
      static_cast<int>(v.size()),
      [&](int i, int j) { return heap_less(v[j].values[0], v[i].values[0]); },
      [&](int i, int j) { std::swap(v[i], v[j]); });
  return Value::Vector(std::move(v));
}

}  // namespace

absl::StatusOr<Value> Sort(FunctionCall& c) { return SortByValue(c, false); }

absl::StatusOr<Value> SortDesc(FunctionCall& c) { return SortByValue(c, true); }

absl::StatusOr<Value> SortByLabelImpl(FunctionCall& c, bool descending) {
  SortWarning(c);
  std::vector<std::string> names;
  for (size_t i = 1; i < c.args.size(); ++i) names.push_back(c.string(i));
  std::vector<StepSeries> v = std::move(c.vector(0));
  auto less = [&](const StepSeries& a, const StepSeries& b) {
    for (const std::string& name : names) {
      absl::string_view x = a.labels.Get(name), y = b.labels.Get(name);
      if (x == y) continue;
      return descending ? NaturalLess(y, x) : NaturalLess(x, y);
    }
    int cmp = CompareLabels(a.labels, b.labels);
    return descending ? cmp > 0 : cmp < 0;
  };
  std::stable_sort(v.begin(), v.end(), less);
  return Value::Vector(std::move(v));
}

absl::StatusOr<Value> SortByLabel(FunctionCall& c) {
  return SortByLabelImpl(c, false);
}
absl::StatusOr<Value> SortByLabelDesc(FunctionCall& c) {
  return SortByLabelImpl(c, true);
}

namespace {

// One series with the value 1 at the steps where no series of `present` has
// a value, labelled from the argument's selector; empty if there is none.
Value AbsentSteps(const FunctionCall& c,
                  const std::vector<StepSeries>& present) {
  StepSeries out;
  out.values.assign(c.steps().count, 1.0);
  bool any = false;
  for (int i = 0; i < c.steps().count; ++i) {
    for (const StepSeries& s : present) {
      if (!IsAbsent(s.values[i])) {
        out.values[i] = Absent();
        break;
      }
    }
    any = any || !IsAbsent(out.values[i]);
  }
  if (!any) return Value::Vector({});
  out.labels = AbsentLabels(*c.call.args[0]);
  return Value::Vector({std::move(out)});
}

}  // namespace

absl::StatusOr<Value> AbsentFunc(FunctionCall& c) {
  return AbsentSteps(c, c.vector(0));
}

absl::StatusOr<Value> AbsentOverTime(FunctionCall& c) {
  // Steps at which some series has a sample in its window.
  PROMEVAL_ASSIGN_OR_RETURN(
      std::vector<StepSeries> present,
      MapWindows(c, c.range(0), true, Parallel::kYes,
                 [](const Window& w) -> std::optional<double> {
                   if (w.v.empty()) return std::nullopt;
                   return 1.0;
                 }));
  return AbsentSteps(c, present);
}

}  // namespace functions
}  // namespace promeval::eval
