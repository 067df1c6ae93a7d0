#include "rules/yaml.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"
#include "yaml-cpp/yaml.h"

namespace promeval::yaml {
namespace {

constexpr int kMaxDepth = 1000;
constexpr int64_t kMaxNodes = 10 * 1000 * 1000;

// A node's identity for walks: its position and kind (a mapping and its
// first key start at the same place).
uint64_t NodeKey(const YAML::Node& n, const YAML::Mark& m) {
  return static_cast<uint64_t>(m.pos) * 8 + n.Type();
}

// go-yaml v3's limit on aliasing: the share of decoded nodes that come
// through aliases may be 99% up to 400,000 nodes, falling to 10% at
// 4,000,000.
double AllowedAliasRatio(int64_t nodes) {
  if (nodes <= 400000) return 0.99;
  if (nodes >= 4000000) return 0.10;
  return 0.99 - 0.89 * (static_cast<double>(nodes - 400000) / 3600000);
}

// A walk of the tree in which aliases (shared nodes in yaml-cpp) count at
// every use.
struct Walk {
  int64_t nodes = 0;
  int64_t aliased = 0;  // Visits of a node seen before: through an alias.
  absl::flat_hash_set<uint64_t> seen;  // Position and kind of each node.
};

// Whether the tree stays within the limits: depth, size, and go-yaml's
// "excessive aliasing" (a small document expanding into millions of nodes).
absl::Status CheckLimits(const YAML::Node& n, int depth, Walk& w) {
  if (depth > kMaxDepth || ++w.nodes > kMaxNodes) {
    return absl::InvalidArgumentError(
        "the YAML document is too deeply nested or too large");
  }
  const YAML::Mark m = n.Mark();
  if (!m.is_null() && !w.seen.insert(NodeKey(n, m)).second &&
      ++w.aliased > 100 && w.nodes > 1000 &&
      static_cast<double>(w.aliased) / static_cast<double>(w.nodes) >
          AllowedAliasRatio(w.nodes)) {
    return absl::InvalidArgumentError(
        "the YAML document contains excessive aliasing");
  }
  if (n.IsSequence() || n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (n.IsMap()) {
        PROMEVAL_RETURN_IF_ERROR(CheckLimits(it->first, depth + 1, w));
        PROMEVAL_RETURN_IF_ERROR(CheckLimits(it->second, depth + 1, w));
      } else {
        PROMEVAL_RETURN_IF_ERROR(CheckLimits(*it, depth + 1, w));
      }
    }
  }
  return absl::OkStatus();
}

// The start mark of the quoted scalar that starts last in the tree; only it
// can run to the end of the input. Each node is visited once, however many
// aliases lead to it.
void LastQuotedScalar(const YAML::Node& n, int depth,
                      absl::flat_hash_set<uint64_t>& seen,
                      absl::string_view content, YAML::Mark& last) {
  if (depth > kMaxDepth) return;
  const YAML::Mark m = n.Mark();
  if (!m.is_null() && !seen.insert(NodeKey(n, m)).second) return;
  if (n.IsScalar()) {
    if (!m.is_null() && m.pos >= 0 &&
        static_cast<size_t>(m.pos) < content.size() &&
        (content[m.pos] == '"' || content[m.pos] == '\'') &&
        (last.is_null() || m.pos > last.pos)) {
      last = m;
    }
    return;
  }
  if (n.IsSequence() || n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (n.IsMap()) {
        LastQuotedScalar(it->first, depth + 1, seen, content, last);
        LastQuotedScalar(it->second, depth + 1, seen, content, last);
      } else {
        LastQuotedScalar(*it, depth + 1, seen, content, last);
      }
    }
  }
}

}  // namespace

std::optional<std::pair<int, int>> UnterminatedQuote(
    const YAML::Node& root, absl::string_view content) {
  YAML::Mark last = YAML::Mark::null_mark();
  absl::flat_hash_set<uint64_t> seen;
  LastQuotedScalar(root, 0, seen, content, last);
  if (last.is_null()) return std::nullopt;
  const char quote = content[last.pos];
  for (size_t i = last.pos + 1; i < content.size(); ++i) {
    if (quote == '"' && content[i] == '\\') {
      ++i;
    } else if (content[i] == quote) {
      // In single quotes, '' is an escaped quote.
      if (quote == '\'' && i + 1 < content.size() && content[i + 1] == '\'') {
        ++i;
      } else {
        return std::nullopt;
      }
    }
  }
  return std::make_pair(last.line + 1, last.column + 1);
}

Node::Node(std::shared_ptr<const YAML::Node> node,
           std::shared_ptr<const std::string> path)
    : node_(std::move(node)), path_(std::move(path)) {}

bool Node::IsNull() const { return !node_->IsDefined() || node_->IsNull(); }

int Node::line() const { return node_->Mark().line + 1; }

int Node::column() const { return node_->Mark().column + 1; }

absl::Status Node::Error(absl::string_view message) const {
  if (node_->Mark().is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(*path_, ": ", message));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(*path_, ":", line(), ":", column(), ": ", message));
}

absl::StatusOr<std::string> Node::Scalar() const {
  if (IsNull()) return std::string();
  if (!node_->IsScalar()) {
    return Error(node_->IsSequence() ? "expected a scalar, got a sequence"
                                     : "expected a scalar, got a mapping");
  }
  return node_->Scalar();
}

absl::StatusOr<bool> Node::Bool() const {
  PROMEVAL_ASSIGN_OR_RETURN(std::string s, Scalar());
  std::string lower = absl::AsciiStrToLower(s);
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower.empty()) {
    return false;
  }
  return Error(absl::StrCat("cannot parse ", GoQuote(s), " as a boolean"));
}

absl::StatusOr<std::vector<Node>> Node::Items() const {
  std::vector<Node> out;
  if (IsNull()) return out;
  if (!node_->IsSequence()) return Error("expected a sequence");
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    out.emplace_back(std::make_shared<const YAML::Node>(*it), path_);
  }
  return out;
}

absl::StatusOr<std::vector<Entry>> Node::Entries() const {
  std::vector<Entry> out;
  if (IsNull()) return out;
  if (!node_->IsMap()) return Error("expected a mapping");
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    Node key(std::make_shared<const YAML::Node>(it->first), path_);
    if (!it->first.IsScalar()) return key.Error("expected a scalar key");
    std::string k = it->first.Scalar();
    for (const Entry& e : out) {
      if (e.key == k) {
        return key.Error(absl::StrCat("mapping key ", GoQuote(k),
                                      " already defined at line ",
                                      e.key_node.line()));
      }
    }
    out.push_back(
        Entry{std::move(k), std::move(key),
              Node(std::make_shared<const YAML::Node>(it->second), path_)});
  }
  return out;
}

absl::StatusOr<std::vector<Entry>> Node::Fields(
    std::initializer_list<absl::string_view> allowed,
    const yaml::Fields& fields) const {
  PROMEVAL_ASSIGN_OR_RETURN(std::vector<Entry> entries, Entries());
  std::vector<Entry> out;
  for (Entry& e : entries) {
    bool known = false;
    for (absl::string_view a : allowed) known = known || e.key == a;
    if (known) {
      out.push_back(std::move(e));
    } else if (!fields.ignore_unknown) {
      return e.key_node.Error(
          absl::StrCat("field ", e.key, " not found in this mapping"));
    }
  }
  return out;
}

absl::StatusOr<Document> Document::Parse(absl::string_view content,
                                         absl::string_view path) {
  auto path_ptr = std::make_shared<const std::string>(path);
  try {
    YAML::Node root = YAML::Load(std::string(content));
    Walk walk;
    if (absl::Status s = CheckLimits(root, 0, walk); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
    }
    if (auto quote = UnterminatedQuote(root, content)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", quote->first, ":", quote->second,
                       ": found unexpected end of stream in a quoted scalar"));
    }
    return Document(Node(std::make_shared<const YAML::Node>(root), path_ptr));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.msg));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

}  // namespace promeval::yaml
