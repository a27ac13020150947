#pragma once
// Renders a parsed template: a tree walk with jinja2's scoping (every loop
// iteration, macro call and block gets a frame of its own, reads fall through
// to the frames around it), its sandbox (no attribute that mutates a list or
// dict, no underscore attributes) and its Undefined.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace ember::jinja {

struct DateTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

struct RenderOptions {
  DateTime now;                               // what strftime_now formats
  size_t max_output_bytes = size_t(64) << 20;  // also caps every string and list built
  int max_call_depth = 100;                   // nested macro calls (jinja2 stops near 100 too)
  uint64_t max_steps = 20'000'000;            // evaluated nodes (and bytes built / 16), against runaway loops
};

struct Frame {
  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string, Value>> vars;

  explicit Frame(std::shared_ptr<Frame> p = nullptr) : parent(std::move(p)) {}
  const Value* find(std::string_view name) const;
  void set(std::string_view name, Value v);
};
using FramePtr = std::shared_ptr<Frame>;

class MacroObject;
class LoopObject;

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options) : opt_(options) {}

  /// Renders tmpl with the variables of context (a dict).
  std::string render(const Template& tmpl, const Value& context);

  // --- used by filters, methods and objects ----------------------------------------
  const RenderOptions& options() const { return opt_; }
  /// Calls a callable the way the sandbox does.
  Value call(const Value& callee, Args& args);
  /// obj.name and obj[key] with jinja2's sandboxed lookup rules.
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  Value apply_filter(const std::string& name, const Value& input, Args& args);
  bool apply_test(const std::string& name, const Value& value, Args& args);
  /// Refuses a string or list that would pass the size limit.
  void check_size(size_t bytes) const;
  /// Counts building `bytes` of strings or lists against the step budget, so
  /// that quadratic concatenation cannot run away.
  void charge(size_t bytes);
  Value call_macro(MacroObject& macro, Args& args);
  /// Runs a recursive for loop again over `iterable` (loop(…) in its body).
  Value recurse_loop(LoopObject& loop, const Value& iterable);
  /// e evaluated as jinja2's optimizer would when compiling (no variables, no
  /// calls, slicing through the sandbox's getitem); nullopt when it cannot.
  std::optional<Value> fold(const Expr& e);
  /// Objects that can close a reference cycle (a macro stored in the frame it
  /// closes over, a namespace holding itself): released when the render ends.
  void track(const std::shared_ptr<Object>& obj) { tracked_.push_back(obj); }

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const Body& body, const FramePtr& frame);
  Flow exec(const Stmt& s, const FramePtr& frame);
  Flow exec_inner(const Stmt& s, const FramePtr& frame);
  void exec_for(const Stmt& s, const Value& iterable, const FramePtr& frame, int depth);
  Value eval(const Expr& e, const FramePtr& frame);
  Value eval_inner(const Expr& e, const FramePtr& frame);
  Value eval_call(const Expr& e, const FramePtr& frame, const Value* caller);
  void eval_args(const Expr& e, const FramePtr& frame, Args& args);
  Value eval_filter_chain(const Expr& e, const FramePtr& frame, const Value& input);
  Value lookup(std::string_view name, const FramePtr& frame);
  void assign(const Target& t, const Value& v, const FramePtr& frame);
  void emit(std::string_view s);
  std::string capture_body(const Body& body, const FramePtr& frame, Flow* flow = nullptr);
  void step();

  const RenderOptions& opt_;
  std::string* out_ = nullptr;
  int call_depth_ = 0;
  int eval_depth_ = 0;
  uint64_t steps_ = 0;
  std::vector<std::weak_ptr<Object>> tracked_;
  bool folding_ = false;
};

// Pieces defined in their own files.
Value binary_op(Interpreter& in, BinOp op, const Value& a, const Value& b);
Value unary_minus(const Value& v);
Value unary_plus(const Value& v);
Value slice_value(Interpreter& in, const Value& obj, const Value& start, const Value& stop, const Value& step);
/// The Python method `name` of a str, list, tuple or dict, bound to self; a
/// plain undefined if there is none; an unsafe undefined for mutating ones.
Value method_attr(const Value& self, const std::string& name);
Value call_method(Interpreter& in, const Value& self, const std::string& name, Args& args);
/// A global function (range, dict, namespace, raise_exception, strftime_now, …), or a plain undefined.
Value global_function(std::string_view name);
Value call_filter(Interpreter& in, const std::string& name, const Value& input, Args& args);
bool call_test(Interpreter& in, const std::string& name, const Value& value, Args& args);
/// Python's `fmt % args`; `markup`: Markup's, which escapes what it inserts.
std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args, bool markup = false);
/// Python's str.format as the sandbox runs it (escaping each field for Markup).
std::string str_format(Interpreter& in, const std::string& fmt, Args& args, bool markup = false);
std::string strftime_python(const std::string& fmt, const DateTime& t);

}  // namespace ember::jinja
