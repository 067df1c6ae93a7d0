#include "rules/yaml.h"

#include <yaml.h>

#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "promeval/status_macros.h"
#include "promeval/text.h"

namespace promeval::yaml {
namespace {

// go-yaml's limits of nesting (max_flow_level and max_indents).
constexpr int kMaxDepth = 10000;
// What a rule unit-test document may expand to through aliases.
constexpr int64_t kMaxNodes = 10 * 1000 * 1000;

constexpr absl::string_view kNullTag = "tag:yaml.org,2002:null";

// The checks of libyaml's reader, which go-yaml runs over the whole input
// before parsing: valid UTF-8 and no control characters; with the position
// of the first offending character.
std::optional<SyntaxError> CheckCharacters(absl::string_view s) {
  int line = 1;
  int column = 1;
  size_t i = 0;
  auto error = [&](absl::string_view text) {
    return SyntaxError{{line, column}, absl::StrCat("yaml: ", text)};
  };
  if (absl::StartsWith(s, "\xFF\xFE") || absl::StartsWith(s, "\xFE\xFF")) {
    return error("UTF-16 input is not supported");
  }
  if (absl::StartsWith(s, "\xEF\xBB\xBF")) i = 3;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t width;
    char32_t cp;
    if (c < 0x80) {
      width = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      width = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      width = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      width = 4;
      cp = c & 0x07;
    } else {
      return error("invalid leading UTF-8 octet");
    }
    if (i + width > s.size()) return error("incomplete UTF-8 octet sequence");
    for (size_t k = 1; k < width; ++k) {
      unsigned char t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return error("invalid trailing UTF-8 octet");
      cp = (cp << 6) | (t & 0x3F);
    }
    if ((width == 2 && cp < 0x80) || (width == 3 && cp < 0x800) ||
        (width == 4 && cp < 0x10000)) {
      return error("invalid length of a UTF-8 sequence");
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return error("invalid Unicode character");
    }
    bool printable =
        cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) ||
        cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
        (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!printable) return error("control characters are not allowed");
    if (cp == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += width;
  }
  return std::nullopt;
}

FilePosition PositionOf(const yaml_mark_t& m) {
  return {static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
}

std::string Text(const yaml_char_t* s) {
  return s == nullptr ? std::string() : reinterpret_cast<const char*>(s);
}

// Owns a libyaml parser or event for the scope.
class Parser {
 public:
  explicit Parser(absl::string_view content) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(
          &parser_, reinterpret_cast<const unsigned char*>(content.data()),
          content.size());
    }
  }
  ~Parser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_;
  bool ok_;
};

class Event {
 public:
  Event() = default;
  ~Event() {
    if (filled_) yaml_event_delete(&event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // The next event, or false on a syntax error.
  bool Next(yaml_parser_t* parser) {
    filled_ = yaml_parser_parse(parser, &event_) != 0;
    return filled_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_;
  bool filled_ = false;
};

// go-yaml v3's limit on aliasing: the share of decoded nodes that come
// through aliases may be 99% up to 400,000 nodes, falling to 10% at
// 4,000,000.
double AllowedAliasRatio(int64_t nodes) {
  if (nodes <= 400000) return 0.99;
  if (nodes >= 4000000) return 0.10;
  return 0.99 - 0.89 * (static_cast<double>(nodes - 400000) / 3600000);
}

// Whether decoding the whole tree stays within the limits: at most
// kMaxNodes nodes with aliases counted at every use, and not go-yaml's
// "excessive aliasing" (a small document expanding into millions of nodes).
absl::Status CheckLimits(const Value& root) {
  int64_t nodes = 0;
  int64_t aliased = 0;  // Visits of a node seen before: through an alias.
  absl::flat_hash_set<const Value*> seen;
  std::vector<const Value*> stack = {&root};
  while (!stack.empty()) {
    const Value* v = stack.back();
    stack.pop_back();
    if (++nodes > kMaxNodes) {
      return absl::InvalidArgumentError("the YAML document is too large");
    }
    if (!seen.insert(v).second && ++aliased > 100 && nodes > 1000 &&
        static_cast<double>(aliased) / static_cast<double>(nodes) >
            AllowedAliasRatio(nodes)) {
      return absl::InvalidArgumentError(
          "the YAML document contains excessive aliasing");
    }
    stack.insert(stack.end(), v->items().rbegin(), v->items().rend());
  }
  return absl::OkStatus();
}

}  // namespace

bool Value::IsNull() const {
  if (tag_ == kNullTag) return true;
  return kind_ == Kind::kScalar && plain_ && tag_ == "?" &&
         (scalar_.empty() || scalar_ == "~" || scalar_ == "null" ||
          scalar_ == "Null" || scalar_ == "NULL");
}

absl::StatusOr<Tree> Tree::Parse(absl::string_view content,
                                 SyntaxError* error) {
  auto fail = [&](FilePosition pos, std::string message) {
    absl::Status status = absl::InvalidArgumentError(message);
    if (error != nullptr) *error = SyntaxError{pos, std::move(message)};
    return status;
  };
  if (std::optional<SyntaxError> e = CheckCharacters(content)) {
    return fail(e->pos, std::move(e->message));
  }
  Parser parser(content);
  if (!parser.ok()) return fail({}, "yaml: out of memory");
  Tree tree;
  std::vector<Value*> open;  // The collections being read, outermost first.
  absl::flat_hash_map<std::string, const Value*> anchors;
  absl::flat_hash_set<const Value*> unfinished;  // Started, not yet ended.
  auto add = [&](Value::Kind kind, const yaml_event_t& e,
                 const yaml_char_t* anchor, const yaml_char_t* tag) -> Value& {
    Value& v = tree.values_->emplace_back();
    v.kind_ = kind;
    v.pos_ = PositionOf(e.start_mark);
    if (tag != nullptr) v.tag_ = Text(tag);
    if (anchor != nullptr) anchors[Text(anchor)] = &v;
    if (open.empty()) {
      if (tree.root_ == nullptr) tree.root_ = &v;
    } else {
      open.back()->children_.push_back(&v);
    }
    return v;
  };
  for (bool done = false; !done;) {
    Event event;
    if (!event.Next(parser.get())) {
      const yaml_parser_t* p = parser.get();
      // go-yaml names the context's place when there is one (e.g. where
      // an unclosed quote opens), else the problem's.
      const yaml_mark_t& mark =
          p->context != nullptr ? p->context_mark : p->problem_mark;
      return fail(PositionOf(mark),
                  absl::StrCat("yaml: ", p->problem != nullptr
                                             ? p->problem
                                             : "unknown problem parsing YAML "
                                               "content"));
    }
    const yaml_event_t& e = *event;
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        Value& v = add(Value::Kind::kScalar, e, e.data.scalar.anchor,
                       e.data.scalar.tag);
        v.plain_ = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (e.data.scalar.tag == nullptr && !v.plain_) v.tag_ = "!";
        v.scalar_.assign(reinterpret_cast<const char*>(e.data.scalar.value),
                         e.data.scalar.length);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (static_cast<int>(open.size()) >= kMaxDepth) {
          return fail(PositionOf(e.start_mark),
                      absl::StrCat("yaml: exceeded max depth of ", kMaxDepth));
        }
        const bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        Value& v = add(
            seq ? Value::Kind::kSequence : Value::Kind::kMapping, e,
            seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor,
            seq ? e.data.sequence_start.tag : e.data.mapping_start.tag);
        open.push_back(&v);
        unfinished.insert(&v);
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        unfinished.erase(open.back());
        open.pop_back();
        break;
      case YAML_ALIAS_EVENT: {
        const std::string name = Text(e.data.alias.anchor);
        auto it = anchors.find(name);
        if (it == anchors.end()) {
          return fail(
              PositionOf(e.start_mark),
              absl::StrCat("yaml: unknown anchor '", name, "' referenced"));
        }
        if (unfinished.contains(it->second)) {
          return fail(
              PositionOf(e.start_mark),
              absl::StrCat("yaml: anchor '", name, "' value contains itself"));
        }
        if (open.empty()) {
          if (tree.root_ == nullptr) tree.root_ = it->second;
        } else {
          open.back()->children_.push_back(it->second);
        }
        break;
      }
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      default:
        break;
    }
  }
  if (tree.root_ == nullptr) tree.root_ = &tree.values_->emplace_back();
  return tree;
}

Node::Node(std::shared_ptr<const Tree> tree, const Value* value,
           std::shared_ptr<const std::string> path)
    : tree_(std::move(tree)), value_(value), path_(std::move(path)) {}

absl::Status Node::Error(absl::string_view message) const {
  if (line() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(*path_, ": ", message));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(*path_, ":", line(), ":", column(), ": ", message));
}

absl::StatusOr<std::string> Node::Scalar() const {
  if (IsNull()) return std::string();
  if (!value_->IsScalar()) {
    return Error(value_->IsSequence() ? "expected a scalar, got a sequence"
                                      : "expected a scalar, got a mapping");
  }
  return value_->scalar();
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
  if (!value_->IsSequence()) return Error("expected a sequence");
  for (const Value* item : value_->items()) out.push_back(Child(item));
  return out;
}

absl::StatusOr<std::vector<Entry>> Node::Entries() const {
  std::vector<Entry> out;
  if (IsNull()) return out;
  if (!value_->IsMap()) return Error("expected a mapping");
  for (size_t i = 0; i < value_->pairs(); ++i) {
    Node key = Child(&value_->key(i));
    if (!value_->key(i).IsScalar()) return key.Error("expected a scalar key");
    std::string k = value_->key(i).scalar();
    for (const Entry& e : out) {
      if (e.key == k) {
        return key.Error(absl::StrCat("mapping key ", GoQuote(k),
                                      " already defined at line ",
                                      e.key_node.line()));
      }
    }
    out.push_back(
        Entry{std::move(k), std::move(key), Child(&value_->value(i))});
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
  SyntaxError error;
  absl::StatusOr<Tree> tree = Tree::Parse(content, &error);
  if (!tree.ok()) {
    if (error.pos.line == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", error.message));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        path, ":", error.pos.line, ":", error.pos.column, ": ", error.message));
  }
  if (absl::Status s = CheckLimits(tree->root()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  auto shared = std::make_shared<const Tree>(*std::move(tree));
  const Value* root = &shared->root();
  return Document(
      Node(std::move(shared), root, std::make_shared<const std::string>(path)));
}

}  // namespace promeval::yaml
