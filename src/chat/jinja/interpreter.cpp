#include "chat/jinja/interpreter.h"

#include "chat/jinja/objects.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

// Expressions nested deeper than this at run time (macro recursion included)
// stop with RecursionError, as Python would near its own limit; it also
// bounds the C++ stack a render uses.
constexpr int kMaxEvalDepth = 500;

struct DepthGuard {
  DepthGuard(int& d, int limit, const char* what) : d_(d) {
    if (++d_ > limit) {
      --d_;
      raise("RecursionError", std::string("maximum recursion depth exceeded") + what);
    }
  }
  ~DepthGuard() { --d_; }
  int& d_;
};

}  // namespace

// --- frames ----------------------------------------------------------------------------

const Value* Frame::find(std::string_view name) const {
  for (const Frame* f = this; f; f = f->parent.get()) {
    for (auto it = f->vars.rbegin(); it != f->vars.rend(); ++it)
      if (it->first == name) return &it->second;
  }
  return nullptr;
}

void Frame::set(std::string_view name, Value v) {
  for (auto& [k, val] : vars) {
    if (k == name) {
      val = std::move(v);
      return;
    }
  }
  vars.emplace_back(std::string(name), std::move(v));
}

// --- rendering -------------------------------------------------------------------------

namespace {

// Names the frame assigns before reading start undefined (see analyze_scopes).
FramePtr new_frame(const FramePtr& parent, const std::vector<std::string>& fresh) {
  auto f = std::make_shared<Frame>(parent);
  for (const std::string& name : fresh) f->set(name, Value::undefined_name(name));
  return f;
}

}  // namespace

std::string Interpreter::render(const Template& tmpl, const Value& context) {
  auto globals = std::make_shared<Frame>();
  if (context.is_dict()) {
    for (const auto& [k, v] : context.dict_data().entries())
      if (k.is_string()) globals->set(k.str(), v);
  }
  FramePtr root = new_frame(globals, tmpl.fresh);
  std::string out;
  out_ = &out;
  struct Cleanup {
    Interpreter& in;
    ~Cleanup() {
      in.out_ = nullptr;
      // Hold them all first: releasing one must not destroy another (and what
      // it holds, recursively) before that one is emptied too.
      std::vector<std::shared_ptr<Object>> alive;
      for (auto& w : in.tracked_)
        if (auto obj = w.lock()) alive.push_back(std::move(obj));
      in.tracked_.clear();
      for (auto& obj : alive) obj->release();
    }
  } cleanup{*this};
  exec_body(tmpl.body, root);
  return out;
}

void Interpreter::step() {
  if (++steps_ > opt_.max_steps)
    raise("TemplateError", "rendering took more than " + std::to_string(opt_.max_steps) + " steps");
}

void Interpreter::check_size(size_t bytes) const {
  if (bytes > opt_.max_output_bytes)
    raise("MemoryError", "output larger than " + std::to_string(opt_.max_output_bytes) + " bytes");
}

void Interpreter::charge(size_t bytes) {
  steps_ += bytes / 16;
  step();
}

void Interpreter::emit(std::string_view s) {
  check_size(out_->size() + s.size());
  charge(s.size());
  out_->append(s);
}

std::string Interpreter::capture_body(const Body& body, const FramePtr& frame, Flow* flow) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    Flow f = exec_body(body, frame);
    if (flow) *flow = f;
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return buf;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const FramePtr& frame) {
  for (const Stmt& s : body) {
    Flow f = exec(s, frame);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const FramePtr& frame) {
  step();
  try {
    return exec_inner(s, frame);
  } catch (JinjaError& e) {
    if (!e.line) e.line = s.line;
    throw;
  }
}

Interpreter::Flow Interpreter::exec_inner(const Stmt& s, const FramePtr& frame) {
  switch (s.kind) {
    case StmtKind::Text: emit(s.text); return Flow::Normal;
    case StmtKind::Output: emit(to_str(eval(*s.expr, frame))); return Flow::Normal;
    case StmtKind::If:
      for (const auto& [cond, body] : s.branches)
        if (truthy(eval(*cond, frame))) return exec_body(body, frame);
      return exec_body(s.else_body, frame);
    case StmtKind::For: exec_for(s, eval(*s.expr, frame), frame, 1); return Flow::Normal;
    case StmtKind::Set: assign(s.target, eval(*s.expr, frame), frame); return Flow::Normal;
    case StmtKind::SetBlock: {
      Flow flow = Flow::Normal;
      Value v = Value::string(capture_body(s.body, new_frame(frame, s.fresh), &flow));
      if (flow != Flow::Normal) return flow;  // a break inside leaves the block unfinished
      if (s.expr) v = eval_filter_chain(*s.expr, frame, v);
      assign(s.target, v, frame);
      return Flow::Normal;
    }
    case StmtKind::Macro: {
      auto macro = std::make_shared<MacroObject>(s.macro.get(), frame);
      track(macro);
      frame->set(s.target.name, Value::object(macro));
      return Flow::Normal;
    }
    case StmtKind::CallBlock: {
      auto caller_macro = std::make_shared<MacroObject>(s.macro.get(), frame);
      track(caller_macro);
      Value caller = Value::object(caller_macro);
      emit(to_str(eval_call(*s.expr, frame, &caller)));
      return Flow::Normal;
    }
    case StmtKind::FilterBlock: {
      Flow flow = Flow::Normal;
      Value v = Value::string(capture_body(s.body, new_frame(frame, s.fresh), &flow));
      if (flow != Flow::Normal) return flow;
      emit(to_str(eval_filter_chain(*s.expr, frame, v)));
      return Flow::Normal;
    }
    case StmtKind::With: {
      auto inner = new_frame(frame, s.fresh);
      std::vector<Value> values;
      for (const auto& v : s.values) values.push_back(eval(*v, frame));
      for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], values[i], inner);
      return exec_body(s.body, inner);
    }
    case StmtKind::Scope: {
      Flow f = exec_body(s.body, new_frame(frame, s.fresh));
      (void)f;
      return Flow::Normal;
    }
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
    case StmtKind::Fail: raise("TypeError", s.text);
  }
  return Flow::Normal;
}

void Interpreter::exec_for(const Stmt& s, const Value& iterable, const FramePtr& frame, int depth) {
  std::vector<Value> items = iterate(iterable);
  if (s.cond) {
    std::vector<Value> kept;
    for (Value& item : items) {
      auto test_frame = std::make_shared<Frame>(frame);
      assign(s.target, item, test_frame);
      if (truthy(eval(*s.cond, test_frame))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  auto loop = std::make_shared<LoopObject>(std::move(items), depth, &s, frame);
  Value loop_value = Value::object(loop);
  // jinja2 runs the else body unless some iteration reached the end of the
  // body: a loop left by break (or continued every time) runs it too.
  bool finished_one = false;
  while (loop->next_pos < loop->items.size()) {
    step();
    const size_t i = loop->next_pos++;
    loop->index0 = i;
    auto iter_frame = new_frame(frame, s.fresh);
    assign(s.target, loop->items[i], iter_frame);
    iter_frame->set("loop", loop_value);
    Flow f = exec_body(s.body, iter_frame);
    if (f == Flow::Normal) finished_one = true;
    if (f == Flow::Break) break;
  }
  if (!finished_one && !s.else_body.empty()) exec_body(s.else_body, new_frame(frame, s.fresh_else));
  // A loop stored away (in a namespace, or in itself through changed()) may close a cycle.
  loop_value = Value();
  if (loop.use_count() > 1) track(loop);
}

Value Interpreter::recurse_loop(LoopObject& loop, const Value& iterable) {
  std::string buf;
  std::string* saved = out_;
  out_ = &buf;
  try {
    DepthGuard g(call_depth_, opt_.max_call_depth, " in a recursive loop");
    exec_for(*loop.stmt, iterable, loop.frame, loop.depth + 1);
  } catch (...) {
    out_ = saved;
    throw;
  }
  out_ = saved;
  return Value::string(std::move(buf));
}

void Interpreter::assign(const Target& t, const Value& v, const FramePtr& frame) {
  switch (t.kind) {
    case Target::Kind::Name: frame->set(t.name, v); return;
    case Target::Kind::Tuple: {
      if (!(v.is_string() || v.is_sequence_like() || v.is_dict() || v.is_undefined() ||
            (v.is_object() && v.obj().iterable())))
        raise("TypeError", concat({"cannot unpack non-iterable ", type_name(v), " object"}));
      std::vector<Value> items = iterate(v);
      if (items.size() < t.items.size())
        raise("ValueError", "not enough values to unpack (expected " + std::to_string(t.items.size()) + ", got " +
                                std::to_string(items.size()) + ")");
      if (items.size() > t.items.size())
        raise("ValueError", "too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
      for (size_t i = 0; i < items.size(); ++i) assign(t.items[i], items[i], frame);
      return;
    }
    case Target::Kind::NsAttr: {
      Value ns = lookup(t.name, frame);
      auto* obj = ns.is_object() ? dynamic_cast<NamespaceObject*>(&ns.obj()) : nullptr;
      if (!obj) raise("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
      obj->attrs.set(t.attr, v);
      return;
    }
  }
}

// --- expressions -----------------------------------------------------------------------

namespace {

// jinja2's `self`: the template's blocks by name. Chat templates have no
// block to call, so every attribute is undefined.
class TemplateReference : public Object {
 public:
  std::string type_name() const override { return "TemplateReference"; }
  std::string type_repr() const override { return "jinja2.runtime.TemplateReference object"; }
  std::string repr() const override { return "<TemplateReference None>"; }
};

}  // namespace

Value Interpreter::lookup(std::string_view name, const FramePtr& frame) {
  if (const Value* v = frame->find(name)) return *v;
  Value g = global_function(name);
  if (!g.is_undefined()) return g;
  if (name == "self") return Value::object(std::make_shared<TemplateReference>());
  return Value::undefined_name(name);
}

std::optional<Value> Interpreter::fold(const Expr& e) {
  folding_ = true;
  try {
    Value v = eval(e, std::make_shared<Frame>());
    folding_ = false;
    return v;
  } catch (const JinjaError&) {
    folding_ = false;
    return std::nullopt;
  }
}

Value Interpreter::eval(const Expr& e, const FramePtr& frame) {
  step();
  DepthGuard g(eval_depth_, kMaxEvalDepth, "");
  try {
    return eval_inner(e, frame);
  } catch (JinjaError& err) {
    if (!err.line) err.line = e.line;
    throw;
  }
}

void Interpreter::eval_args(const Expr& e, const FramePtr& frame, Args& args) {
  for (const auto& a : e.args) args.positional.push_back(eval(*a, frame));
  if (e.dyn_args) {
    for (Value& v : iterate(eval(*e.dyn_args, frame))) args.positional.push_back(std::move(v));
  }
  for (const auto& [k, v] : e.kwargs) args.keywords.emplace_back(k, eval(*v, frame));
  if (e.dyn_kwargs) {
    Value d = eval(*e.dyn_kwargs, frame);
    if (!d.is_dict()) raise("TypeError", "argument after ** must be a mapping, not " + type_name(d));
    for (const auto& [k, v] : d.dict_data().entries()) {
      if (!k.is_string()) raise("TypeError", "keywords must be strings");
      args.keywords.emplace_back(k.str(), v);
    }
  }
}

Value Interpreter::eval_call(const Expr& e, const FramePtr& frame, const Value* caller) {
  Value callee = eval(*e.a, frame);
  Args args;
  eval_args(e, frame, args);
  if (caller) args.keywords.emplace_back("caller", *caller);
  return call(callee, args);
}

Value Interpreter::eval_filter_chain(const Expr& e, const FramePtr& frame, const Value& input) {
  // The chain's innermost filter has no input expression: it takes `input`.
  Value in = e.a ? eval_filter_chain(*e.a, frame, input) : input;
  Args args;
  eval_args(e, frame, args);
  if (e.soft && !is_known_filter(e.name)) raise("TemplateRuntimeError", "No filter named '" + e.name + "' found.");
  return apply_filter(e.name, in, args);
}

Value Interpreter::eval_inner(const Expr& e, const FramePtr& frame) {
  switch (e.kind) {
    case ExprKind::Const: return e.value.is_sequence_like() || e.value.is_dict() ? deep_copy(e.value) : e.value;
    case ExprKind::Name:
      if (folding_) raise("Impossible", "");
      return lookup(e.name, frame);
    case ExprKind::List:
    case ExprKind::Tuple: {
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a, frame));
      return e.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::Dict: {
      Value d = Value::dict();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i], frame);
        d.dict_data().set(k, eval(*e.args[i + 1], frame));
      }
      return d;
    }
    case ExprKind::Getattr: return getattr(eval(*e.a, frame), e.name);
    case ExprKind::Getitem: {
      Value obj = eval(*e.a, frame);
      if (e.b->kind == ExprKind::Slice) {
        const Expr& sl = *e.b;
        Value start = sl.a ? eval(*sl.a, frame) : Value::none();
        Value stop = sl.b ? eval(*sl.b, frame) : Value::none();
        Value stride = sl.c ? eval(*sl.c, frame) : Value::none();
        if (!folding_) return slice_value(*this, obj, start, stop, stride);
        // Folding goes through the sandbox's getitem, where a TypeError gives Undefined.
        try {
          return slice_value(*this, obj, start, stop, stride);
        } catch (const JinjaError& err) {
          if (err.type != "TypeError") throw;
          return Value::undefined(concat({type_repr(obj), " has no element slice(", repr(start), ", ", repr(stop), ", ",
                                          repr(stride), ")"}));
        }
      }
      return getitem(obj, eval(*e.b, frame));
    }
    case ExprKind::Slice: raise("TemplateError", "slices are only supported inside []");
    case ExprKind::Call:
      if (folding_) raise("Impossible", "");
      return eval_call(e, frame, nullptr);
    case ExprKind::Filter: {
      if (!e.a) raise("TemplateError", "filter without input");
      // Filters that take the context are never folded.
      if (folding_ && (e.name == "map" || e.name == "select" || e.name == "reject" || e.name == "selectattr" ||
                       e.name == "rejectattr" || e.name == "random" || !is_known_filter(e.name)))
        raise("Impossible", "");
      Value in = eval(*e.a, frame);
      Args args;
      eval_args(e, frame, args);
      if (e.soft && !is_known_filter(e.name)) raise("TemplateRuntimeError", "No filter named '" + e.name + "' found.");
      return apply_filter(e.name, in, args);
    }
    case ExprKind::Test: {
      Value v = eval(*e.a, frame);
      Args args;
      eval_args(e, frame, args);
      if (e.soft && !is_known_test(e.name)) raise("TemplateRuntimeError", "No test named '" + e.name + "' found.");
      return Value::boolean(apply_test(e.name, v, args));
    }
    case ExprKind::Neg: return unary_minus(eval(*e.a, frame));
    case ExprKind::Pos: return unary_plus(eval(*e.a, frame));
    case ExprKind::Not: return Value::boolean(!truthy(eval(*e.a, frame)));
    case ExprKind::And: {
      Value l = eval(*e.a, frame);
      return truthy(l) ? eval(*e.b, frame) : l;
    }
    case ExprKind::Or: {
      Value l = eval(*e.a, frame);
      return truthy(l) ? l : eval(*e.b, frame);
    }
    case ExprKind::Binary: {
      Value l = eval(*e.a, frame);
      Value r = eval(*e.b, frame);
      return binary_op(*this, e.op, l, r);
    }
    case ExprKind::Concat: {
      std::string s;
      for (const auto& a : e.args) {
        s += to_str(eval(*a, frame));
        check_size(s.size());
      }
      charge(s.size());
      return Value::string(std::move(s));
    }
    case ExprKind::Compare: {
      Value left = eval(*e.args[0], frame);
      for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
        Value right = eval(*e.args[i + 1], frame);
        bool ok = false;
        switch (e.cmp_ops[i]) {
          case CmpOp::Eq: ok = equals(left, right); break;
          case CmpOp::Ne: ok = !equals(left, right); break;
          case CmpOp::Lt: ok = ordered(left, right, Order::Lt); break;
          case CmpOp::Le: ok = ordered(left, right, Order::Le); break;
          case CmpOp::Gt: ok = ordered(left, right, Order::Gt); break;
          case CmpOp::Ge: ok = ordered(left, right, Order::Ge); break;
          case CmpOp::In: ok = contains(right, left); break;
          case CmpOp::NotIn: ok = !contains(right, left); break;
        }
        if (!ok) return Value::boolean(false);
        left = std::move(right);
      }
      return Value::boolean(true);
    }
    case ExprKind::CondExpr:
      if (truthy(eval(*e.b, frame))) return eval(*e.a, frame);
      if (e.c) return eval(*e.c, frame);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
  }
  return Value();
}

// --- calls -----------------------------------------------------------------------------

Value Interpreter::call(const Value& callee, Args& args) {
  if (callee.is_undefined()) callee.fail_undefined();
  if (callee.is_object() && callee.obj().callable()) return callee.obj().call(*this, args);
  raise("TypeError", "'" + type_name(callee) + "' object is not callable");
}

Value Interpreter::call_macro(MacroObject& macro, Args& args) {
  const MacroDef& def = *macro.def;
  DepthGuard g(call_depth_, opt_.max_call_depth, " (macro calls nested too deeply)");
  auto frame = new_frame(macro.closure, def.fresh);
  const size_t n = def.params.size();
  std::vector<std::pair<std::string, Value>> kwargs = args.keywords;
  auto pop_kwarg = [&](const std::string& name, Value& out) {
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
      if (it->first == name) {
        out = std::move(it->second);
        kwargs.erase(it);
        return true;
      }
    }
    return false;
  };
  // jinja2's Macro.__call__: positional first, then keywords for the rest.
  std::vector<Value> values;
  std::vector<bool> given;
  size_t npos = std::min(args.positional.size(), n);
  for (size_t i = 0; i < npos; ++i) {
    values.push_back(args.positional[i]);
    given.push_back(true);
  }
  bool found_caller = false;
  if (npos != n) {
    for (size_t i = npos; i < n; ++i) {
      Value v;
      bool ok = pop_kwarg(def.params[i], v);
      if (def.params[i] == "caller") found_caller = true;
      values.push_back(std::move(v));
      given.push_back(ok);
    }
  } else {
    found_caller = std::find(def.params.begin(), def.params.end(), "caller") != def.params.end();
  }
  Value caller_value;
  bool bind_caller = false;
  if (def.caller && !found_caller) {
    if (!pop_kwarg("caller", caller_value) || caller_value.is_none())
      caller_value = Value::undefined("No caller defined");
    bind_caller = true;
  }
  Value kwargs_value;
  if (def.catch_kwargs) {
    kwargs_value = Value::dict();
    for (auto& [k, v] : kwargs) kwargs_value.dict_data().set(k, v);
  } else if (!kwargs.empty()) {
    for (const auto& kv : kwargs)
      if (kv.first == "caller")
        raise("TypeError", "macro " + text::repr(def.name) +
                               " was invoked with two values for the special caller argument. This is most likely a bug.");
    raise("TypeError", "macro " + text::repr(def.name) + " takes no keyword argument " + text::repr(kwargs[0].first));
  }
  Value varargs_value;
  if (def.catch_varargs) {
    std::vector<Value> rest;
    for (size_t i = n; i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    varargs_value = Value::tuple(std::move(rest));
  } else if (args.positional.size() > n) {
    raise("TypeError", "macro " + text::repr(def.name) + " takes not more than " + std::to_string(n) + " argument(s)");
  }
  // Missing parameters take their defaults, evaluated in the macro's frame.
  const size_t first_default = n - def.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (!given[i]) {
      if (i >= first_default)
        values[i] = eval(*def.defaults[i - first_default], frame);
      else
        values[i] = Value::undefined("parameter " + text::repr(def.params[i]) + " was not provided");
    }
    frame->set(def.params[i], values[i]);
  }
  if (bind_caller) frame->set("caller", caller_value);
  if (def.catch_kwargs) frame->set("kwargs", kwargs_value);
  if (def.catch_varargs) frame->set("varargs", varargs_value);
  std::string out = capture_body(def.body, frame);
  return Value::string(std::move(out));
}

Value Interpreter::apply_filter(const std::string& name, const Value& input, Args& args) {
  return call_filter(*this, name, input, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& value, Args& args) {
  return call_test(*this, name, value, args);
}

// --- attribute and item lookup ---------------------------------------------------------

namespace {

Value unsafe_undefined(const Value& obj, const std::string& name) {
  return Value::undefined("access to attribute " + text::repr(name) + " of " + text::repr(type_name(obj)) +
                              " object is unsafe.",
                          true);
}

bool is_dunder(const std::string& name) {
  return name.size() >= 4 && name.compare(0, 2, "__") == 0 && name.compare(name.size() - 2, 2, "__") == 0;
}

}  // namespace

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  // Every Python object has dunder attributes (Undefined too), and the sandbox refuses them all.
  if (is_dunder(name)) return unsafe_undefined(obj, name);
  if (obj.is_undefined()) obj.fail_undefined();
  if (obj.is_object()) {
    Value v = obj.obj().get_attr(*this, name);
    if (!v.is_undefined() || v.undefined_info()) return v;
    return Value::undefined_attr(obj, Value::string(name));
  }
  if (obj.is_tuple() && obj.tag() == Tag::GroupTuple) {
    if (name == "grouper") return obj.items()[0];
    if (name == "list") return obj.items()[1];
  }
  Value m = method_attr(obj, name);
  if (!m.is_undefined() || m.undefined_info()) return m;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict_data().find(std::string_view(name))) return *v;
  }
  return Value::undefined_attr(obj, Value::string(name));
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Kind::Undefined: obj.fail_undefined();
    case Kind::Dict:
      if (key.kind() != Kind::List && key.kind() != Kind::Dict) {
        if (const Value* v = obj.dict_data().find(key)) return *v;
      }
      break;
    case Kind::List:
    case Kind::Tuple:
      if (obj.tag() == Tag::DictKeys || obj.tag() == Tag::DictValues || obj.tag() == Tag::DictItems) break;
      if (key.is_integral()) {
        int64_t n = static_cast<int64_t>(obj.items().size()), i = key.as_int();
        if (i < 0) i += n;
        if (i >= 0 && i < n) return obj.items()[static_cast<size_t>(i)];
      }
      break;
    case Kind::String:
      if (key.is_integral()) {
        const std::string& s = obj.str();
        int64_t i = key.as_int();
        if (text::is_ascii(s)) {
          int64_t n = static_cast<int64_t>(s.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) {
            std::string one(1, s[static_cast<size_t>(i)]);
            return obj.is_markup() ? Value::markup(std::move(one)) : Value::string(std::move(one));
          }
        } else {
          std::u32string u = text::decode(s);
          int64_t n = static_cast<int64_t>(u.size());
          if (i < 0) i += n;
          if (i >= 0 && i < n) {
            std::string one;
            text::append_utf8(one, u[static_cast<size_t>(i)]);
            return obj.is_markup() ? Value::markup(std::move(one)) : Value::string(std::move(one));
          }
        }
      }
      break;
    default: break;
  }
  // obj[key] failed: a string key falls back to the attribute.
  if (key.is_string()) {
    const std::string& name = key.str();
    if (obj.is_object()) {
      if (is_dunder(name)) return unsafe_undefined(obj, name);
      Value v = obj.obj().get_attr(*this, name);
      if (!v.is_undefined() || v.undefined_info()) return v;
    } else {
      if (is_dunder(name)) return unsafe_undefined(obj, name);
      Value m = method_attr(obj, name);
      if (!m.is_undefined() || m.undefined_info()) return m;
    }
  }
  return Value::undefined_attr(obj, key);
}

}  // namespace ember::jinja
