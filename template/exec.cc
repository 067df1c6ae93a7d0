// The executor of Go's text/template (text/template/exec.go): the state of
// one execution (variables, the node being executed, output) and the walk
// over the parse tree. Errors and {{break}} / {{continue}} travel as
// file-local exceptions (Go's executor panics and recovers) and become an
// absl::Status in Execute.
#include "template/exec.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "promeval/text.h"
#include "template/format.h"

namespace promeval::tmpl {
namespace {

using Env = rules::TemplateEnv;

// Limits that keep hostile templates from exhausting the stack, memory or
// time. Go has no equivalent for the last two (it would run on).
constexpr int kMaxExecDepth = 200;       // Nested {{template}} calls.
constexpr int64_t kMaxSteps = 10000000;  // Nodes walked + range iterations.
constexpr size_t kMaxOutput = 16 << 20;  // Bytes of output.

// Thrown by the executor (Go's ExecError); caught in Execute.
struct ExecError {
  std::string message;
};
struct BreakSignal {};
struct ContinueSignal {};

const char* PTName(PT t) {
  switch (t) {
    case PT::kString:
      return "string";
    case PT::kAny:
      return "interface {}";
    case PT::kRV:
      return "reflect.Value";
    case PT::kSample:
      return "*template.sample";
    case PT::kSamples:
      return "template.queryResult";
  }
  return "";
}

// The nil of a parameter type (Go's reflect.Zero of an interface, pointer
// or slice type); no value for a type nil cannot be assigned to.
Value NilFor(PT typ) {
  switch (typ) {
    case PT::kAny:
      return Value::Nil();
    case PT::kSample:
      return SampleValue(nullptr);
    case PT::kSamples:
      return SamplesValue(std::make_shared<SampleList>());
    default:
      return Value();
  }
}

class Exec {
 public:
  Exec(const Trees& trees, std::string name, absl::string_view text,
       const FuncMap& funcs, const Env& env)
      : trees_(trees),
        name_(std::move(name)),
        text_(text),
        funcs_(funcs),
        env_(env) {}

  std::string Run(const Value& dot) {
    vars_.push_back({"$", dot});
    Walk(dot, *trees_.root);
    return std::move(out_);
  }

  [[noreturn]] void Errorf(const std::string& msg) {
    if (node_ == nullptr) {
      throw ExecError{absl::StrCat("template: ", name_, ": ", msg)};
    }
    // Go's Tree.ErrorContext.
    int pos = std::min(node_->pos, static_cast<int>(text_.size()));
    absl::string_view before = text_.substr(0, pos);
    size_t nl = before.rfind('\n');
    int byte_num =
        nl == absl::string_view::npos ? pos : pos - static_cast<int>(nl + 1);
    int line =
        1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    std::string context = NodeString(*node_);
    // %.20s...: the first 20 runes.
    size_t end = 0;
    int runes = 0;
    while (end < context.size() && runes < 20) {
      int w = 0;
      DecodeUtf8(absl::string_view(context).substr(end), w);
      end += std::max(w, 1);
      ++runes;
    }
    if (end < context.size()) context = context.substr(0, end) + "...";
    throw ExecError{absl::StrCat(
        "template: ", parse_name(), ":", line, ":", byte_num, ": executing ",
        GoQuote(tmpl_name_.empty() ? name_ : tmpl_name_), " at <", context,
        ">: ", msg)};
  }

 private:
  absl::string_view parse_name() const { return name_; }

  void At(const Node& n) { node_ = &n; }

  void Step() {
    if (++steps_ > kMaxSteps) {
      Errorf("template execution exceeded the step limit");
    }
  }

  void Walk(const Value& dot, const Node& node) {
    At(node);
    Step();
    switch (node.type) {
      case NT::kAction: {
        Value v = EvalPipeline(dot, *node.pipe);
        if (node.pipe->decls.empty()) {
          At(node);
          out_ += FormatValue(v, 0);
          if (out_.size() > kMaxOutput) Errorf("template output too large");
        }
        break;
      }
      case NT::kBreak:
        throw BreakSignal{};
      case NT::kContinue:
        throw ContinueSignal{};
      case NT::kIf:
      case NT::kWith:
        WalkIfOrWith(dot, node);
        break;
      case NT::kList:
        for (const auto& n : node.nodes) Walk(dot, *n);
        break;
      case NT::kRange:
        WalkRange(dot, node);
        break;
      case NT::kTemplate:
        WalkTemplate(dot, node);
        break;
      case NT::kText:
        out_ += node.text;
        if (out_.size() > kMaxOutput) Errorf("template output too large");
        break;
      default:
        Errorf("unknown node: " + NodeString(node));
    }
  }

  size_t Mark() const { return vars_.size(); }
  void Pop(size_t mark) { vars_.resize(mark); }

  struct VarScope {
    VarScope(Exec* ex) : ex(ex), mark(ex->Mark()) {}
    ~VarScope() { ex->Pop(mark); }
    Exec* ex;
    size_t mark;
  };

  void WalkIfOrWith(const Value& dot, const Node& node) {
    VarScope scope(this);
    Value val = EvalPipeline(dot, *node.pipe);
    bool truth = Truth(val);
    if (truth) {
      if (node.type == NT::kWith) {
        Walk(val, *node.list);
      } else {
        Walk(dot, *node.list);
      }
    } else if (node.else_list) {
      Walk(dot, *node.else_list);
    }
  }

  void SetTopVar(size_t n, const Value& v) {
    vars_[vars_.size() - n].second = v;
  }

  void SetVar(const std::string& name, const Value& v) {
    for (size_t k = vars_.size(); k-- > 0;) {
      if (vars_[k].first == name) {
        vars_[k].second = v;
        return;
      }
    }
    Errorf("undefined variable: " + name);
  }

  const Value& VarValue(const std::string& name) {
    for (size_t k = vars_.size(); k-- > 0;) {
      if (vars_[k].first == name) return vars_[k].second;
    }
    Errorf("undefined variable: " + name);
  }

  // One iteration of a range body; returns false on {{break}}.
  bool OneIteration(const Node& r, size_t mark, const Value& index,
                    const Value& elem) {
    Step();
    const Node& pipe = *r.pipe;
    if (!pipe.decls.empty()) {
      if (pipe.is_assign) {
        if (pipe.decls.size() > 1) {
          SetVar(pipe.decls[0]->idents[0], index);
        } else {
          SetVar(pipe.decls[0]->idents[0], elem);
        }
      } else {
        SetTopVar(1, elem);
      }
    }
    if (pipe.decls.size() > 1) {
      if (pipe.is_assign) {
        SetVar(pipe.decls[1]->idents[0], elem);
      } else {
        SetTopVar(2, index);
      }
    }
    bool keep_going = true;
    try {
      Walk(elem, *r.list);
    } catch (const ContinueSignal&) {
    } catch (const BreakSignal&) {
      keep_going = false;
    }
    Pop(mark);
    return keep_going;
  }

  void WalkRange(const Value& dot, const Node& r) {
    At(r);
    VarScope scope(this);
    Value val = EvalPipeline(dot, *r.pipe);
    size_t mark = Mark();
    bool ran = false;
    switch (val.kind) {
      case VK::kSamples:
        if (val.samples && !val.samples->empty()) {
          ran = true;
          // Iterate over a snapshot: the body may sort the shared list.
          SampleList list = *val.samples;
          for (size_t k = 0; k < list.size(); ++k) {
            Value e;
            e.kind = VK::kSample;
            e.sample = list[k];
            if (!OneIteration(r, mark, Value::Int(static_cast<int64_t>(k)),
                              e)) {
              break;
            }
          }
        }
        break;
      case VK::kStrMap:
        if (!val.strmap->empty()) {
          ran = true;
          for (const auto& [k, v] : *val.strmap) {
            if (!OneIteration(r, mark, Value::String(k), Value::String(v))) {
              break;
            }
          }
        }
        break;
      case VK::kAnyMap:
        if (!val.anymap->empty()) {
          ran = true;
          for (const auto& [k, v] : *val.anymap) {
            if (!OneIteration(r, mark, Value::String(k), v)) break;
          }
        }
        break;
      case VK::kInt:
        if (r.pipe->decls.size() > 1) {
          Errorf("can't use " + FormatValue(val, 1) +
                 " to iterate over more than one variable");
        }
        for (int64_t k = 0; k < val.i; ++k) {
          ran = true;
          if (!OneIteration(r, mark, Value(), Value::Int(k))) break;
        }
        break;
      case VK::kInvalid:
        break;
      default:
        Errorf("range can't iterate over " + FormatValue(val, 1));
    }
    if (!ran && r.else_list) Walk(dot, *r.else_list);
  }

  void WalkTemplate(const Value& dot, const Node& t) {
    At(t);
    auto it = trees_.defined.find(t.text);
    if (it == trees_.defined.end()) {
      Errorf("template " + GoQuote(t.text) + " not defined");
    }
    if (depth_ >= kMaxExecDepth) {
      Errorf(absl::StrCat("exceeded maximum template depth (", kMaxExecDepth,
                          ")"));
    }
    Value new_dot = t.pipe ? EvalPipeline(dot, *t.pipe) : Value();
    std::vector<std::pair<std::string, Value>> saved_vars;
    saved_vars.swap(vars_);
    std::string saved_name = tmpl_name_;
    vars_.push_back({"$", new_dot});
    tmpl_name_ = t.text;
    ++depth_;
    struct Restore {
      Exec* ex;
      std::vector<std::pair<std::string, Value>>* vars;
      std::string* name;
      ~Restore() {
        ex->vars_.swap(*vars);
        ex->tmpl_name_ = *name;
        --ex->depth_;
      }
    } restore{this, &saved_vars, &saved_name};
    Walk(new_dot, *it->second);
  }

  Value EvalPipeline(const Value& dot, const Node& pipe) {
    At(pipe);
    Value value;
    bool have = false;
    for (const auto& cmd : pipe.nodes) {
      value = EvalCommand(dot, *cmd, have ? &value : nullptr);
      have = true;
    }
    for (const auto& var : pipe.decls) {
      if (pipe.is_assign) {
        SetVar(var->idents[0], value);
      } else {
        vars_.push_back({var->idents[0], value});
      }
    }
    return value;
  }

  void NotAFunction(const std::vector<const Node*>& args, const Value* final) {
    if (args.size() > 1 || final != nullptr) {
      Errorf("can't give argument to non-function " + NodeString(*args[0]));
    }
  }

  static std::vector<const Node*> Ptrs(const Node& cmd) {
    std::vector<const Node*> v;
    for (const auto& n : cmd.nodes) v.push_back(n.get());
    return v;
  }

  Value EvalCommand(const Value& dot, const Node& cmd, const Value* final) {
    const Node& first = *cmd.nodes[0];
    std::vector<const Node*> args = Ptrs(cmd);
    switch (first.type) {
      case NT::kField:
        return EvalFieldNode(dot, first, args, final);
      case NT::kChain:
        return EvalChainNode(dot, first, args, final);
      case NT::kIdentifier:
        return EvalFunction(dot, first, cmd, args, final);
      case NT::kPipe:
        NotAFunction(args, final);
        return EvalPipeline(dot, first);
      case NT::kVariable:
        return EvalVariableNode(dot, first, args, final);
      default:
        break;
    }
    At(first);
    NotAFunction(args, final);
    switch (first.type) {
      case NT::kBool:
        return Value::Bool(first.truth);
      case NT::kDot:
        return dot;
      case NT::kNil:
        Errorf("nil is not a command");
      case NT::kNumber:
        return IdealConstant(first);
      case NT::kString:
        return Value::String(first.text);
      default:
        Errorf("can't evaluate command " + GoQuote(NodeString(first)));
    }
  }

  Value IdealConstant(const Node& c) {
    At(c);
    absl::string_view t = c.quoted;
    bool hex_int = (absl::StartsWithIgnoreCase(t, "0x") ||
                    absl::StartsWithIgnoreCase(t, "-0x") ||
                    absl::StartsWithIgnoreCase(t, "+0x")) &&
                   t.find_first_of("pP") == absl::string_view::npos;
    bool rune = !t.empty() && t[0] == '\'';
    if (c.is_float && !hex_int && !rune &&
        t.find_first_of(".eEpP") != absl::string_view::npos) {
      return Value::Float(c.f);
    }
    if (c.is_int) return Value::Int(c.i);
    if (c.is_uint) Errorf(c.quoted + " overflows int");
    return Value();
  }

  Value EvalFieldNode(const Value& dot, const Node& field,
                      const std::vector<const Node*>& args,
                      const Value* final) {
    At(field);
    return EvalFieldChain(dot, dot, field, field.idents, 0, args, final);
  }

  Value EvalChainNode(const Value& dot, const Node& chain,
                      const std::vector<const Node*>& args,
                      const Value* final) {
    At(chain);
    if (chain.chain->type == NT::kNil) {
      Errorf("indirection through explicit nil in " + NodeString(chain));
    }
    Value pipe = EvalArgAny(dot, *chain.chain);
    return EvalFieldChain(dot, pipe, chain, chain.idents, 0, args, final);
  }

  Value EvalVariableNode(const Value& dot, const Node& var,
                         const std::vector<const Node*>& args,
                         const Value* final) {
    At(var);
    Value value = VarValue(var.idents[0]);
    if (var.idents.size() == 1) {
      NotAFunction(args, final);
      return value;
    }
    return EvalFieldChain(dot, value, var, var.idents, 1, args, final);
  }

  Value EvalFieldChain(const Value& dot, Value receiver, const Node& node,
                       const std::vector<std::string>& idents, size_t from,
                       const std::vector<const Node*>& args,
                       const Value* final) {
    size_t n = idents.size();
    for (size_t k = from; k + 1 < n; ++k) {
      receiver = EvalField(dot, idents[k], node, {}, nullptr, receiver);
    }
    return EvalField(dot, idents[n - 1], node, args, final, receiver);
  }

  static Value StrMapValue(const std::shared_ptr<const StrMap>& m) {
    Value v;
    v.kind = VK::kStrMap;
    v.strmap = m;
    return v;
  }

  Value EvalField(const Value& dot, const std::string& name, const Node& node,
                  const std::vector<const Node*>& args, const Value* final,
                  const Value& receiver) {
    if (!receiver.valid()) return Value();
    if (receiver.kind == VK::kNil) {
      Errorf("nil pointer evaluating interface {}." + name);
    }
    if (const FuncSpec* m = FindMethod(receiver.kind, name)) {
      return EvalCall(dot, *m, false, node, name, args, final, &receiver);
    }
    bool has_args = args.size() > 1 || final != nullptr;
    switch (receiver.kind) {
      case VK::kData: {
        Value field;
        if (name == "Labels") {
          field = StrMapValue(receiver.data->labels);
        } else if (name == "ExternalLabels") {
          field = StrMapValue(receiver.data->external_labels);
        } else if (name == "ExternalURL") {
          field = Value::String(receiver.data->external_url);
        } else if (name == "Value") {
          field = Value::Float(receiver.data->value);
        } else {
          break;
        }
        if (has_args) {
          Errorf(name + " has arguments but cannot be invoked as function");
        }
        return field;
      }
      case VK::kSample: {
        if (name != "Labels" && name != "Value") break;
        if (!receiver.sample) {
          Errorf("nil pointer evaluating *template.sample." + name);
        }
        if (has_args) {
          Errorf(name + " has arguments but cannot be invoked as function");
        }
        if (name == "Value") return Value::Float(receiver.sample->value);
        return StrMapValue(
            std::make_shared<const StrMap>(receiver.sample->labels));
      }
      case VK::kStrMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        auto it = std::lower_bound(
            receiver.strmap->begin(), receiver.strmap->end(), name,
            [](const auto& p, const std::string& k) { return p.first < k; });
        if (it != receiver.strmap->end() && it->first == name) {
          return Value::String(it->second);
        }
        return Value::String("");  // missingkey=zero.
      }
      case VK::kAnyMap: {
        if (has_args) Errorf(name + " is not a method but has arguments");
        for (const auto& [k, v] : *receiver.anymap) {
          if (k == name) return v;
        }
        return Value();
      }
      default:
        break;
    }
    Errorf("can't evaluate field " + name + " in type " + TypeName(receiver));
  }

  Value EvalFunction(const Value& dot, const Node& ident, const Node& cmd,
                     const std::vector<const Node*>& args, const Value* final) {
    At(ident);
    const FuncSpec* fn = FindFunction(funcs_, ident.text);
    if (fn == nullptr) {
      Errorf(GoQuote(ident.text) + " is not a defined function");
    }
    return EvalCall(dot, *fn, true, cmd, ident.text, args, final, nullptr);
  }

  // Literal arguments for a parameter type (Go's evalArg after the node
  // switch).
  Value EvalArg(const Value& dot, PT typ, const Node& n) {
    At(n);
    switch (n.type) {
      case NT::kDot:
        return ValidateType(dot, typ);
      case NT::kNil: {
        Value nil = NilFor(typ);
        if (!nil.valid()) {
          Errorf(std::string("cannot assign nil to ") + PTName(typ));
        }
        return nil;
      }
      case NT::kField:
        return ValidateType(EvalFieldNode(dot, n, {&n}, nullptr), typ);
      case NT::kVariable:
        return ValidateType(EvalVariableNode(dot, n, {}, nullptr), typ);
      case NT::kPipe:
        return ValidateType(EvalPipeline(dot, n), typ);
      case NT::kIdentifier: {
        const FuncSpec* fn = FindFunction(funcs_, n.text);
        if (fn == nullptr) {
          Errorf(GoQuote(n.text) + " is not a defined function");
        }
        return ValidateType(
            EvalCall(dot, *fn, true, n, n.text, {}, nullptr, nullptr), typ);
      }
      case NT::kChain:
        return ValidateType(EvalChainNode(dot, n, {}, nullptr), typ);
      default:
        break;
    }
    switch (typ) {
      case PT::kString:
        if (n.type == NT::kString) return Value::String(n.text);
        Errorf("expected string; found " + NodeString(n));
      case PT::kAny:
      case PT::kRV:
        switch (n.type) {
          case NT::kBool:
            return Value::Bool(n.truth);
          case NT::kNumber:
            return IdealConstant(n);
          case NT::kString:
            return Value::String(n.text);
          default:
            break;
        }
        break;
      default:
        break;
    }
    Errorf("can't handle " + NodeString(n) + " for arg of type " + PTName(typ));
  }

  // The chain node's operand (evalArg with a nil type).
  Value EvalArgAny(const Value& dot, const Node& n) {
    At(n);
    switch (n.type) {
      case NT::kPipe:
        return EvalPipeline(dot, n);
      case NT::kIdentifier:
        return EvalArg(dot, PT::kRV, n);
      default:
        return EvalArg(dot, PT::kRV, n);
    }
  }

  Value ValidateType(const Value& v, PT typ) {
    if (!v.valid()) {
      Value nil = NilFor(typ);
      if (!nil.valid()) {
        Errorf(std::string("invalid value; expected ") + PTName(typ));
      }
      return nil;
    }
    bool ok = true;
    switch (typ) {
      case PT::kAny:
      case PT::kRV:
        break;
      case PT::kString:
        ok = v.kind == VK::kString;
        break;
      case PT::kSample:
        ok = v.kind == VK::kSample;
        break;
      case PT::kSamples:
        ok = v.kind == VK::kSamples;
        break;
    }
    if (!ok) {
      Errorf(std::string("wrong type for value; expected ") + PTName(typ) +
             "; got " + TypeName(v));
    }
    return v;
  }

  Value EvalCall(const Value& dot, const FuncSpec& fn, bool builtin,
                 const Node& node, const std::string& name,
                 const std::vector<const Node*>& all_args, const Value* final,
                 const Value* receiver) {
    // The zeroth arg is the function name (or the field node of a method).
    std::vector<const Node*> args;
    if (all_args.size() > 1) {
      args.assign(all_args.begin() + 1, all_args.end());
    }
    size_t num_in = args.size() + (final ? 1 : 0);
    size_t nparams = fn.params.size();
    size_t num_fixed = args.size();
    if (fn.variadic) {
      num_fixed = nparams - 1;
      if (num_in < num_fixed) {
        Errorf(absl::StrCat("wrong number of args for ", name,
                            ": want at least ", nparams - 1, " got ",
                            args.size()));
      }
    } else if (num_in != nparams) {
      Errorf(absl::StrCat("wrong number of args for ", name, ": want ", nparams,
                          " got ", num_in));
    }
    if (builtin && (name == "and" || name == "or")) {
      Value v;
      for (const Node* arg : args) {
        v = EvalArg(dot, PT::kRV, *arg);
        if (Truth(v) == (name == "or")) return v;
      }
      if (final) v = ValidateType(*final, PT::kRV);
      return v;
    }
    std::vector<Value> argv;
    size_t k = 0;
    for (; k < num_fixed && k < args.size(); ++k) {
      argv.push_back(EvalArg(dot, fn.params[k], *args[k]));
    }
    if (fn.variadic) {
      for (; k < args.size(); ++k) {
        argv.push_back(EvalArg(dot, fn.params.back(), *args[k]));
      }
    }
    if (final) {
      PT t = fn.params.back();
      if (fn.variadic && num_in - 1 < num_fixed) t = fn.params[num_in - 1];
      argv.push_back(ValidateType(*final, t));
    }
    if (builtin && name == "call") {
      // Go names the callee by its node, or by reflect's String() of a piped
      // value ({{ "f" | call }}): a string's text, "<T Value>" otherwise.
      std::string callee;
      if (!args.empty()) {
        callee = NodeString(*args[0]);
      } else if (final->kind == VK::kString || final->kind == VK::kHtml) {
        callee = final->s;
      } else {
        callee = "<" + TypeName(*final) + " Value>";
      }
      At(node);
      Errorf("error calling call: non-function " + callee + " of type " +
             TypeName(argv[0]));
    }
    if (receiver) argv.insert(argv.begin(), *receiver);
    try {
      return fn.impl(env_, argv);
    } catch (const FuncError& e) {
      At(node);
      Errorf("error calling " + name + ": " + e.message);
    }
  }

  const Trees& trees_;
  std::string name_;
  std::string tmpl_name_;  // The {{template}} being executed, if any.
  absl::string_view text_;
  const FuncMap& funcs_;
  const Env& env_;
  std::vector<std::pair<std::string, Value>> vars_;
  const Node* node_ = nullptr;
  int depth_ = 0;
  int64_t steps_ = 0;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> Execute(const Trees& trees, absl::string_view name,
                                    absl::string_view text,
                                    const FuncMap& funcs, const Env& env,
                                    const Value& dot) {
  try {
    Exec exec(trees, std::string(name), text, funcs, env);
    return exec.Run(dot);
  } catch (const ExecError& e) {
    return absl::FailedPreconditionError(e.message);
  } catch (const BreakSignal&) {
    return absl::InternalError("template: {{break}} outside {{range}}");
  } catch (const ContinueSignal&) {
    return absl::InternalError("template: {{continue}} outside {{range}}");
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("template: out of memory");
  }
}

}  // namespace promeval::tmpl
