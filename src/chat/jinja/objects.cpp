#include "chat/jinja/objects.h"

#include <algorithm>

#include "chat/jinja/text.h"

namespace ember::jinja {

Value NamespaceObject::get_attr(Interpreter&, const std::string& name) {
  const Value* v = attrs.find(std::string_view(name));
  return v ? *v : Value();
}

std::string NamespaceObject::repr() const {
  std::string out = "<Namespace {";
  bool first = true;
  for (const auto& [k, v] : attrs.entries()) {
    if (!first) out += ", ";
    first = false;
    out += jinja::repr(k) + ": " + jinja::repr(v);
  }
  return out + "}>";
}

Value LoopObject::get_attr(Interpreter&, const std::string& name) {
  int64_t n = static_cast<int64_t>(items.size()), i = static_cast<int64_t>(index0);
  if (name == "index") return Value::integer(i + 1);
  if (name == "index0") return Value::integer(i);
  if (name == "revindex") return Value::integer(n - i);
  if (name == "revindex0") return Value::integer(n - i - 1);
  if (name == "first") return Value::boolean(i == 0);
  if (name == "last") return Value::boolean(i == n - 1);
  if (name == "length") return Value::integer(n);
  if (name == "depth") return Value::integer(depth);
  if (name == "depth0") return Value::integer(depth - 1);
  if (name == "previtem") return i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
  if (name == "nextitem") return i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
  auto self = std::static_pointer_cast<LoopObject>(shared_from_this());
  if (name == "cycle") {
    return make_function("cycle", [self](Interpreter&, Args& args) -> Value {
      if (!args.keywords.empty()) raise("TypeError", "cycle() got an unexpected keyword argument '" + args.keywords[0].first + "'");
      if (args.positional.empty()) raise("TypeError", "no items for cycling given");
      return args.positional[self->index0 % args.positional.size()];
    });
  }
  if (name == "changed") {
    return make_function("changed", [self](Interpreter&, Args& args) -> Value {
      Value now = Value::tuple(args.positional);
      if (self->has_changed_value && equals(self->last_changed_value, now)) return Value::boolean(false);
      self->has_changed_value = true;
      self->last_changed_value = now;
      return Value::boolean(true);
    });
  }
  return Value();
}

Value LoopObject::call(Interpreter& in, Args& args) {
  if (!stmt || !stmt->recursive) raise("TypeError", "The loop must have the 'recursive' marker to be called recursively.");
  if (args.positional.size() != 1 || !args.keywords.empty())
    raise("TypeError", "LoopContext.__call__() takes 2 positional arguments but " +
                           std::to_string(args.positional.size() + 1) + " were given");
  return in.recurse_loop(*this, args.positional[0]);
}

bool LoopObject::next(Value& out) {
  if (next_pos >= items.size()) return false;
  index0 = next_pos++;
  out = Value::tuple({items[index0], Value::object(shared_from_this())});
  return true;
}

std::vector<Value> LoopObject::iterate() {
  std::vector<Value> out;
  Value v;
  while (next(v)) out.push_back(std::move(v));
  return out;
}

std::string LoopObject::repr() const {
  return "<LoopContext " + std::to_string(index0 + 1) + "/" + std::to_string(items.size()) + ">";
}

std::string MacroObject::repr() const { return "<Macro " + text::repr(def->name) + ">"; }

Value MacroObject::get_attr(Interpreter&, const std::string& name) {
  if (name == "name") return Value::string(def->name);
  if (name == "arguments") {
    std::vector<Value> names;
    for (const auto& p : def->params) names.push_back(Value::string(p));
    return Value::tuple(std::move(names));
  }
  if (name == "catch_kwargs") return Value::boolean(def->catch_kwargs);
  if (name == "catch_varargs") return Value::boolean(def->catch_varargs);
  if (name == "caller") return Value::boolean(def->caller);
  return Value();
}

Value make_function(std::string name, FunctionObject::Fn fn) {
  return Value::object(std::make_shared<FunctionObject>(std::move(name), "builtin_function_or_method", std::move(fn)));
}

std::vector<Value> GeneratorObject::iterate() {
  std::vector<Value> out;
  Value v;
  while (next(v)) out.push_back(std::move(v));
  return out;
}

bool GeneratorObject::next(Value& out) {
  if (done_ || !next_) return false;
  try {
    if (next_(out)) return true;
  } catch (...) {
    // A generator that raised is finished, as in Python.
    done_ = true;
    next_ = nullptr;
    throw;
  }
  done_ = true;
  next_ = nullptr;
  return false;
}

bool Puller::next(Value& out) {
  if (v_.is_object() && v_.obj().iterable()) return v_.obj().next(out);
  if (!started_) {
    started_ = true;
    items_ = iterate(v_);
  }
  if (pos_ >= items_.size()) return false;
  out = items_[pos_++];
  return true;
}

Value make_generator(std::vector<Value> items, std::string func) {
  int depth = 0;
  for (const Value& v : items) depth = std::max(depth, value_depth(v));
  auto state = std::make_shared<std::pair<std::vector<Value>, size_t>>(std::move(items), 0);
  return Value::object(std::make_shared<GeneratorObject>(
      [state](Value& out) {
        if (state->second >= state->first.size()) return false;
        out = state->first[state->second++];
        return true;
      },
      std::move(func), depth + 1));
}

Value make_lazy_generator(GeneratorObject::Next next, std::string func, const Value& source, const Args& args) {
  int depth = value_depth(source);
  for (const Value& v : args.positional) depth = std::max(depth, value_depth(v));
  for (const auto& kv : args.keywords) depth = std::max(depth, value_depth(kv.second));
  return Value::object(std::make_shared<GeneratorObject>(std::move(next), std::move(func), depth + 1));
}

std::vector<Value> bind_args(const std::string& fn, Args& args, const std::vector<Param>& params) {
  if (args.positional.size() > params.size()) {
    raise("TypeError", fn + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
                           std::to_string(args.positional.size()) + " given)");
  }
  std::vector<Value> out(params.size());
  std::vector<bool> given(params.size(), false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    out[i] = args.positional[i];
    given[i] = true;
  }
  for (auto& [key, value] : args.keywords) {
    size_t i = 0;
    while (i < params.size() && key != params[i].name) ++i;
    if (i == params.size()) raise("TypeError", fn + "() got an unexpected keyword argument '" + key + "'");
    if (given[i]) raise("TypeError", fn + "() got multiple values for argument '" + key + "'");
    out[i] = value;
    given[i] = true;
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (given[i]) continue;
    if (params[i].required)
      raise("TypeError", fn + "() missing 1 required positional argument: '" + std::string(params[i].name) + "'");
    out[i] = params[i].default_value;
  }
  return out;
}

}  // namespace ember::jinja
