// YAML for promeval's inputs (rule files, rule unit-test files), read with
// libyaml: the C library go-yaml was ported from, so syntax errors and node
// positions (1-based lines, columns in characters) are go-yaml's, which
// promtool prints.
//
// Tree::Parse reads the first document into a tree of Values; aliases are
// resolved to the anchored node, which may so be reached more than once
// (the decoders bound what aliases expand to). Node, Entry and Document wrap
// it with positioned errors (`file:line:col: message`) and strict field
// sets for the rule unit-test decoder.
//
// A Tree owns its Values; Nodes share ownership of the tree. Internal to
// promeval (rules/). Thread-compatible.
#ifndef PROMEVAL_RULES_YAML_H_
#define PROMEVAL_RULES_YAML_H_

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "promeval/rules.h"

namespace promeval::yaml {

// One node of a document.
class Value {
 public:
  enum class Kind { kScalar, kSequence, kMapping };

  Kind kind() const { return kind_; }
  bool IsScalar() const { return kind_ == Kind::kScalar; }
  bool IsSequence() const { return kind_ == Kind::kSequence; }
  bool IsMap() const { return kind_ == Kind::kMapping; }
  // !!null, or an untagged plain scalar that is empty, ~, null, Null or
  // NULL.
  bool IsNull() const;
  // The tag as written, resolved ("tag:yaml.org,2002:str", "!local"); for
  // an untagged node "?" if it is a plain scalar or a collection, "!" if
  // it is a quoted or block scalar.
  const std::string& tag() const { return tag_; }
  // A scalar's text ("" for collections).
  const std::string& scalar() const { return scalar_; }
  // Where the node starts, 1-based; 0 for the null of an empty document.
  FilePosition pos() const { return pos_; }

  // A sequence's items.
  const std::vector<const Value*>& items() const { return children_; }
  // A mapping's entries.
  size_t pairs() const { return children_.size() / 2; }
  const Value& key(size_t i) const { return *children_[2 * i]; }
  const Value& value(size_t i) const { return *children_[2 * i + 1]; }

 private:
  friend class Tree;
  Kind kind_ = Kind::kScalar;
  bool plain_ = true;
  std::string tag_ = "?";
  std::string scalar_;
  FilePosition pos_;
  // Sequence items; mapping keys and values, alternating.
  std::vector<const Value*> children_;
};

// The error of input that is not a YAML document, as go-yaml words it
// ("yaml: ..."), and where it is (0 if not known).
struct SyntaxError {
  FilePosition pos;
  std::string message;
};

class Tree {
 public:
  // Reads the first document of `content` (later ones are not read, as
  // with go-yaml's Unmarshal). Besides libyaml's errors: invalid UTF-8 and
  // control characters anywhere, nesting deeper than go-yaml's 10000
  // levels, unknown anchors and an anchor used inside its own value.
  static absl::StatusOr<Tree> Parse(absl::string_view content,
                                    SyntaxError* error);

  // An empty document's root is a null scalar.
  const Value& root() const { return *root_; }

 private:
  Tree() : values_(std::make_unique<std::deque<Value>>()) {}
  std::unique_ptr<std::deque<Value>> values_;  // Stable addresses.
  const Value* root_ = nullptr;
};

// How mappings with keys outside the expected set are treated.
struct Fields {
  bool ignore_unknown = false;
};

struct Entry;

// A Value of a Document, with errors that name the file and position.
class Node {
 public:
  Node(std::shared_ptr<const Tree> tree, const Value* value,
       std::shared_ptr<const std::string> path);

  bool IsNull() const { return value_->IsNull(); }
  int line() const { return value_->pos().line; }
  int column() const { return value_->pos().column; }

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
  Node Child(const Value* v) const { return Node(tree_, v, path_); }

  std::shared_ptr<const Tree> tree_;
  const Value* value_;
  std::shared_ptr<const std::string> path_;
};

struct Entry {
  std::string key;
  Node key_node;
  Node value;
};

class Document {
 public:
  // Parses one YAML document; syntax errors as "path:line:col: message".
  // A document whose aliases expand to more than 10 million nodes, or to
  // mostly aliased nodes past go-yaml's ratio, is rejected.
  static absl::StatusOr<Document> Parse(absl::string_view content,
                                        absl::string_view path);
  const Node& root() const { return root_; }

 private:
  explicit Document(Node root) : root_(std::move(root)) {}
  Node root_;
};

}  // namespace promeval::yaml

#endif  // PROMEVAL_RULES_YAML_H_
