// The parse tree of Go's text/template and its parser
// (text/template/parse/node.go and parse.go).
//
// Internal to the template module.
#ifndef PROMEVAL_TEMPLATE_PARSER_H_
#define PROMEVAL_TEMPLATE_PARSER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "template/lexer.h"

namespace promeval::tmpl {

// Go's NodeType.
enum class NT {
  kText,
  kAction,
  kIf,
  kWith,
  kRange,
  kTemplate,
  kBreak,
  kContinue,
  kList,
  kPipe,
  kCommand,
  kIdentifier,
  kDot,
  kNil,
  kField,
  kVariable,
  kChain,
  kBool,
  kNumber,
  kString,
  kEnd,
  kElse,
};

// A node of the parse tree (one struct for Go's node types); the fields
// its type uses are set.
struct Node {
  NT type;
  int pos = 0;
  // kText: text. kString: unquoted text, `quoted` the source. kNumber: the
  // source in `quoted`. kIdentifier / kTemplate: name in `text`.
  std::string text;
  std::string quoted;
  std::vector<std::string> idents;  // kField (without dots), kVariable, kChain.
  std::vector<std::unique_ptr<Node>> nodes;  // kList items, kCommand args,
                                             // kPipe commands.
  std::vector<std::unique_ptr<Node>> decls;  // kPipe: declared variables.
  bool is_assign = false;                    // kPipe.
  std::unique_ptr<Node> pipe;  // kAction, kIf, kWith, kRange, kTemplate.
  std::unique_ptr<Node> list;  // kIf, kWith, kRange.
  std::unique_ptr<Node> else_list;
  std::unique_ptr<Node> chain;  // kChain: the term.
  bool truth = false;           // kBool.
  // kNumber.
  bool is_int = false, is_uint = false, is_float = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
};

// Go's Node.String(): the node as template source.
std::string NodeString(const Node& n);

// A parsed template: the main tree and the trees {{define}} and {{block}}
// name.
struct Trees {
  std::unique_ptr<Node> root;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> defined;
};

// Parses the items of a template named `name` (Lex's output) as Go's
// Tree.Parse does; `has_function` says whether a function name is defined.
// Errors (InvalidArgument) read as Go's:
// `template: NAME:LINE: function "foo" not defined`.
absl::StatusOr<Trees> Parse(
    absl::string_view name, std::vector<Item> items,
    absl::FunctionRef<bool(absl::string_view)> has_function);

}  // namespace promeval::tmpl

#endif  // PROMEVAL_TEMPLATE_PARSER_H_
