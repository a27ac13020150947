// jinja2's tests (`x is defined`, `x is divisibleby 3`, …).
#include <unordered_map>

#include "chat/jinja/objects.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

using TestFn = bool (*)(Interpreter&, const Value&, Args&);

void no_args(const char* fn, Args& args) { bind_args(fn, args, {}); }

Value one_arg(const char* fn, const char* param, Args& args) {
  return bind_args(fn, args, {{param, Value(), true}})[0];
}

bool test_defined(Interpreter&, const Value& v, Args& a) {
  no_args("test_defined", a);
  return !v.is_undefined();
}
bool test_undefined(Interpreter&, const Value& v, Args& a) {
  no_args("test_undefined", a);
  return v.is_undefined();
}
bool test_none(Interpreter&, const Value& v, Args& a) {
  no_args("test_none", a);
  return v.is_none();
}
bool test_boolean(Interpreter&, const Value& v, Args& a) {
  no_args("test_boolean", a);
  return v.is_bool();
}
bool test_false(Interpreter&, const Value& v, Args& a) {
  no_args("test_false", a);
  return v.is_bool() && !v.as_bool();
}
bool test_true(Interpreter&, const Value& v, Args& a) {
  no_args("test_true", a);
  return v.is_bool() && v.as_bool();
}
bool test_integer(Interpreter&, const Value& v, Args& a) {
  no_args("test_integer", a);
  return v.is_int();
}
bool test_float(Interpreter&, const Value& v, Args& a) {
  no_args("test_float", a);
  return v.is_float();
}
bool test_number(Interpreter&, const Value& v, Args& a) {
  no_args("test_number", a);
  return v.is_number();
}
bool test_string(Interpreter&, const Value& v, Args& a) {
  no_args("test_string", a);
  return v.is_string();
}
bool test_mapping(Interpreter&, const Value& v, Args& a) {
  no_args("test_mapping", a);
  return v.is_dict();
}
bool test_escaped(Interpreter&, const Value& v, Args& a) {
  no_args("test_escaped", a);
  return v.is_markup();
}

bool test_lower(Interpreter&, const Value& v, Args& a) {
  no_args("test_lower", a);
  return text::is(to_str(v), text::Pred::Lower);
}
bool test_upper(Interpreter&, const Value& v, Args& a) {
  no_args("test_upper", a);
  return text::is(to_str(v), text::Pred::Upper);
}

bool is_view(const Value& v) {
  return v.tag() == Tag::DictKeys || v.tag() == Tag::DictValues || v.tag() == Tag::DictItems;
}

// iter(value) works: strings, containers, Undefined, generators, the loop.
bool test_iterable(Interpreter&, const Value& v, Args& a) {
  no_args("test_iterable", a);
  switch (v.kind()) {
    case Kind::String:
    case Kind::List:
    case Kind::Tuple:
    case Kind::Dict:
    case Kind::Undefined: return true;
    case Kind::Object: return v.obj().iterable() || dynamic_cast<LoopObject*>(&v.obj()) != nullptr;
    default: return false;
  }
}

// len(value) and value.__getitem__ both exist.
bool test_sequence(Interpreter&, const Value& v, Args& a) {
  no_args("test_sequence", a);
  switch (v.kind()) {
    case Kind::String:
    case Kind::Tuple:
    case Kind::Dict:
    case Kind::Undefined: return true;
    case Kind::List: return !is_view(v);
    default: return false;
  }
}

bool test_callable(Interpreter&, const Value& v, Args& a) {
  no_args("callable", a);
  // Undefined defines __call__ (to raise), so Python calls it callable.
  return v.is_undefined() || (v.is_object() && v.obj().callable());
}

bool test_sameas(Interpreter&, const Value& v, Args& a) {
  Value other = one_arg("test_sameas", "other", a);
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Kind::None: return true;
    case Kind::Bool: return v.as_bool() == other.as_bool();
    case Kind::Int:
    case Kind::Float:
    case Kind::String: return equals(v, other);
    default: return v.identity() == other.identity();
  }
}

bool test_in(Interpreter&, const Value& v, Args& a) { return contains(one_arg("test_in", "seq", a), v); }

bool test_eq(Interpreter&, const Value& v, Args& a) { return equals(v, one_arg("eq", "b", a)); }
bool test_ne(Interpreter&, const Value& v, Args& a) { return !equals(v, one_arg("ne", "b", a)); }
bool test_lt(Interpreter&, const Value& v, Args& a) { return ordered(v, one_arg("lt", "b", a), Order::Lt); }
bool test_le(Interpreter&, const Value& v, Args& a) { return ordered(v, one_arg("le", "b", a), Order::Le); }
bool test_gt(Interpreter&, const Value& v, Args& a) { return ordered(v, one_arg("gt", "b", a), Order::Gt); }
bool test_ge(Interpreter&, const Value& v, Args& a) { return ordered(v, one_arg("ge", "b", a), Order::Ge); }

bool test_odd(Interpreter& in, const Value& v, Args& a) {
  no_args("test_odd", a);
  return equals(binary_op(in, BinOp::Mod, v, Value::integer(2)), Value::integer(1));
}
bool test_even(Interpreter& in, const Value& v, Args& a) {
  no_args("test_even", a);
  return equals(binary_op(in, BinOp::Mod, v, Value::integer(2)), Value::integer(0));
}
bool test_divisibleby(Interpreter& in, const Value& v, Args& a) {
  Value num = one_arg("test_divisibleby", "num", a);
  return equals(binary_op(in, BinOp::Mod, v, num), Value::integer(0));
}

bool test_filter(Interpreter&, const Value& v, Args& a) {
  no_args("test_filter", a);
  return v.is_string() && is_known_filter(v.str());
}
bool test_test(Interpreter&, const Value& v, Args& a) {
  no_args("test_test", a);
  return v.is_string() && is_known_test(v.str());
}

const std::unordered_map<std::string_view, TestFn>& test_table() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"odd", test_odd},         {"even", test_even},       {"divisibleby", test_divisibleby},
      {"defined", test_defined}, {"undefined", test_undefined}, {"filter", test_filter},
      {"test", test_test},       {"none", test_none},       {"boolean", test_boolean},
      {"false", test_false},     {"true", test_true},       {"integer", test_integer},
      {"float", test_float},     {"lower", test_lower},     {"upper", test_upper},
      {"string", test_string},   {"mapping", test_mapping}, {"number", test_number},
      {"sequence", test_sequence}, {"iterable", test_iterable}, {"callable", test_callable},
      {"sameas", test_sameas},   {"escaped", test_escaped}, {"in", test_in},
      {"==", test_eq},           {"eq", test_eq},           {"equalto", test_eq},
      {"!=", test_ne},           {"ne", test_ne},           {">", test_gt},
      {"gt", test_gt},           {"greaterthan", test_gt},  {"ge", test_ge},
      {">=", test_ge},           {"<", test_lt},            {"lt", test_lt},
      {"lessthan", test_lt},     {"<=", test_le},           {"le", test_le},
  };
  return table;
}

}  // namespace

bool call_test(Interpreter& in, const std::string& name, const Value& value, Args& args) {
  const auto& table = test_table();
  auto it = table.find(name);
  if (it == table.end()) raise("TemplateRuntimeError", "No test named '" + name + "' found.");
  return it->second(in, value, args);
}

}  // namespace ember::jinja
