#pragma once
// The non-data objects a template meets: namespace(), the loop variable,
// macros, bound str/list/dict methods, global functions and generators.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja/interpreter.h"

namespace ember::jinja {

class NamespaceObject : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::string type_repr() const override { return "jinja2.utils.Namespace object"; }
  Value get_attr(Interpreter& in, const std::string& name) override;
  std::string repr() const override;
  void release() override { attrs = DictData(); }
  DictData attrs;
};

class LoopObject : public Object {
 public:
  LoopObject(std::vector<Value> items, int depth, const Stmt* stmt, FramePtr frame)
      : items(std::move(items)), depth(depth), stmt(stmt), frame(std::move(frame)) {}
  std::string type_name() const override { return "LoopContext"; }
  std::string type_repr() const override { return "jinja2.runtime.LoopContext object"; }
  Value get_attr(Interpreter& in, const std::string& name) override;
  bool callable() const override { return true; }
  Value call(Interpreter& in, Args& args) override;
  std::string repr() const override;
  int64_t len() const override { return static_cast<int64_t>(items.size()); }
  // Iterating the loop (loop|list …) takes the for's remaining items as
  // (item, loop) pairs, as jinja2's LoopContext.__next__ does.
  bool iterable() const override { return true; }
  std::vector<Value> iterate() override;
  bool next(Value& out) override;
  void release() override {
    items.clear();
    frame.reset();
    last_changed_value = Value();
  }

  std::vector<Value> items;
  size_t index0 = 0;
  size_t next_pos = 0;  // the next item the for statement (or an iteration of the loop) takes
  int depth;
  const Stmt* stmt;  // the for statement, for loop(...) in recursive loops
  FramePtr frame;    // where the for statement runs
  bool has_changed_value = false;
  Value last_changed_value;
};

class MacroObject : public Object {
 public:
  MacroObject(const MacroDef* def, FramePtr closure) : def(def), closure(std::move(closure)) {}
  std::string type_name() const override { return "Macro"; }
  std::string type_repr() const override { return "jinja2.runtime.Macro object"; }
  bool callable() const override { return true; }
  Value call(Interpreter& in, Args& args) override { return in.call_macro(*this, args); }
  std::string repr() const override;
  Value get_attr(Interpreter& in, const std::string& name) override;
  void release() override { closure.reset(); }

  const MacroDef* def;
  FramePtr closure;
};

/// A native function: a global, or a method bound to its object.
class FunctionObject : public Object {
 public:
  using Fn = std::function<Value(Interpreter&, Args&)>;
  FunctionObject(std::string name, std::string type, Fn fn, std::string repr_text = {}, int depth = 1)
      : name_(std::move(name)), type_(std::move(type)), fn_(std::move(fn)), repr_(std::move(repr_text)), depth_(depth) {
    check_depth(depth);
  }
  int depth() const override { return depth_; }
  std::string type_name() const override { return type_; }
  bool callable() const override { return true; }
  Value call(Interpreter& in, Args& args) override { return fn_(in, args); }
  std::string repr() const override { return repr_.empty() ? "<function " + name_ + ">" : repr_; }

 private:
  std::string name_, type_;
  Fn fn_;
  std::string repr_;
  int depth_;
};

/// What select/map/… return: a Python generator. Nothing runs before the
/// first item is pulled (errors included); iterable once; truthy; no length.
class GeneratorObject : public Object {
 public:
  /// Produces the next item into `out`; false when exhausted.
  using Next = std::function<bool(Value& out)>;
  GeneratorObject(Next next, std::string func, int depth) : next_(std::move(next)), func_(std::move(func)), depth_(depth) {
    check_depth(depth);
  }
  // A generator pulls from its source: chains of them recurse when iterated.
  int depth() const override { return depth_; }
  std::string type_name() const override { return "generator"; }
  std::string repr() const override { return "<generator object " + func_ + ">"; }
  bool iterable() const override { return true; }
  std::vector<Value> iterate() override;
  bool next(Value& out) override;
  void release() override { next_ = nullptr; }

 private:
  Next next_;
  std::string func_;
  bool done_ = false;
  int depth_;
};

/// The items of a value one at a time: a generator is pulled lazily, anything
/// else is iterated on the first pull (as Python's `for` would).
class Puller {
 public:
  explicit Puller(Value v) : v_(std::move(v)) {}
  bool next(Value& out);

 private:
  Value v_;
  std::vector<Value> items_;
  size_t pos_ = 0;
  bool started_ = false;
};

Value make_function(std::string name, FunctionObject::Fn fn);
/// A generator over items already computed.
Value make_generator(std::vector<Value> items, std::string func);
/// A generator reading from `source` (and `args`), which set its depth.
Value make_lazy_generator(GeneratorObject::Next next, std::string func, const Value& source, const Args& args = {});

/// Python-style argument binding for native functions: fills `out` from
/// positional and keyword arguments in `names` order; `required` leading
/// names must be given. Raises TypeError like Python does.
struct Param {
  const char* name;
  Value default_value;
  bool required = false;
};
std::vector<Value> bind_args(const std::string& fn, Args& args, const std::vector<Param>& params);

}  // namespace ember::jinja
