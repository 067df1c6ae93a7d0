// A thin layer over yaml-cpp for promeval's YAML inputs (rule files, rule
// unit-test files): positioned errors (`file:line:col: message`, 1-based),
// strict field sets, and no exceptions (yaml-cpp's are caught here).
//
// A Document owns its tree; Nodes are cheap handles into it, valid while the
// Document lives. Internal to promeval (rules/).
#ifndef PROMEVAL_RULES_YAML_H_
#define PROMEVAL_RULES_YAML_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace YAML {
class Node;
}

namespace promeval::yaml {

// How mappings with keys outside the expected set are treated.
struct Fields {
  bool ignore_unknown = false;
};

struct Entry;

class Node {
 public:
  Node(std::shared_ptr<const YAML::Node> node,
       std::shared_ptr<const std::string> path);

  bool IsNull() const;
  int line() const;    // 1-based.
  int column() const;  // 1-based.

  // The scalar's text; an error for sequences and mappings.
  absl::StatusOr<std::string> Scalar() const;
  // A YAML boolean (true/false, yes/no, on/off).
  absl::StatusOr<bool> Bool() const;
  // The items of a sequence (a null node: none).
  absl::StatusOr<std::vector<Node>> Items() const;
  // The entries of a mapping with scalar keys, in file order (a null node:
  // none); duplicate keys are an error.
  absl::StatusOr<std::vector<Entry>> Entries() const;
  // Entries(), with every key required to be one of `allowed` unless
  // `fields.ignore_unknown` (then other keys are dropped).
  absl::StatusOr<std::vector<Entry>> Fields(
      std::initializer_list<absl::string_view> allowed,
      const yaml::Fields& fields) const;

  // kInvalidArgument "path:line:col: message".
  absl::Status Error(absl::string_view message) const;

 private:
  std::shared_ptr<const YAML::Node> node_;
  std::shared_ptr<const std::string> path_;
};

// yaml-cpp reads a quoted scalar that is never closed up to the end of the
// input without an error, where go-yaml fails with "found unexpected end of
// stream". The 1-based line and column of such a scalar's opening quote in
// `root` (parsed from `content`), if there is one.
std::optional<std::pair<int, int>> UnterminatedQuote(const YAML::Node& root,
                                                     absl::string_view content);

struct Entry {
  std::string key;
  Node key_node;
  Node value;
};

class Document {
 public:
  // Parses one YAML document; syntax errors as "path:line:col: message".
  // Nodes nested deeper than 1000 levels or more than 10 million nodes in
  // all (alias expansion included) are rejected.
  static absl::StatusOr<Document> Parse(absl::string_view content,
                                        absl::string_view path);
  const Node& root() const { return root_; }

 private:
  explicit Document(Node root) : root_(std::move(root)) {}
  Node root_;
};

}  // namespace promeval::yaml

#endif  // PROMEVAL_RULES_YAML_H_
