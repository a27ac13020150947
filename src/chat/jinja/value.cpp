#include "chat/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "chat/jinja/text.h"

namespace ember::jinja {

void raise(std::string type, std::string message) { throw JinjaError{std::move(type), std::move(message), 0}; }

std::string concat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

// --- construction ------------------------------------------------------------------

Value Value::undefined(std::string message, bool security) {
  Value v;
  v.ptr_ = std::make_shared<UndefinedInfo>(UndefinedInfo{std::move(message), security});
  return v;
}

Value Value::undefined_name(std::string_view name) {
  return undefined(text::repr(name) + " is undefined");
}

Value Value::undefined_attr(const Value& obj, const Value& name) {
  // jinja2 quotes the type for attribute names but not for other keys.
  if (name.is_string()) return undefined(concat({"'", type_repr(obj), "' has no attribute ", repr(name)}));
  return undefined(concat({type_repr(obj), " has no element ", repr(name)}));
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Int;
  v.i_ = i;
  return v;
}

Value Value::real(double d) {
  Value v;
  v.kind_ = Kind::Float;
  v.f_ = d;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.tag_ = Tag::Markup;
  return v;
}

Value Value::list(std::vector<Value> items) {
  int depth = 0;
  for (const Value& item : items) depth = std::max(depth, value_depth(item));
  check_depth(depth + 1);
  Value v;
  v.kind_ = Kind::List;
  v.ptr_ = std::make_shared<ListData>(ListData{std::move(items), depth + 1});
  return v;
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.kind_ = Kind::Tuple;
  return v;
}

Value Value::dict() {
  Value v;
  v.kind_ = Kind::Dict;
  v.ptr_ = std::make_shared<DictData>();
  return v;
}

Value Value::object(std::shared_ptr<Object> o) {
  Value v;
  v.kind_ = Kind::Object;
  v.ptr_ = std::move(o);
  return v;
}

void Value::fail_undefined() const {
  const UndefinedInfo* info = undefined_info();
  if (!info) raise("UndefinedError", "an undefined value was used");
  raise(info->security ? "SecurityError" : "UndefinedError", info->message);
}

// --- dict ----------------------------------------------------------------------------

const Value* DictData::find(const Value& key) const {
  auto it = index_.find(hash_key(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictData::find(std::string_view key) const {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back('s');
  k.append(key);
  auto it = index_.find(k);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void DictData::set(const Value& key, Value value) {
  const int d = 1 + std::max(value_depth(key), value_depth(value));
  check_depth(d);
  depth_ = std::max(depth_, d);
  std::string k = hash_key(key);
  auto it = index_.find(k);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(std::move(k), entries_.size());
  entries_.emplace_back(key, std::move(value));
}

bool DictData::erase(const Value& key) {
  auto it = index_.find(hash_key(key));
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(hash_key(entries_[i].first), i);
  return true;
}

// --- objects -------------------------------------------------------------------------

Value Object::get_attr(Interpreter&, const std::string&) { return Value(); }

Value Object::call(Interpreter&, Args&) { raise("TypeError", concat({"'", type_name(), "' object is not callable"})); }

std::string Object::repr() const { return concat({"<", type_name(), " object>"}); }

// --- Python semantics --------------------------------------------------------------

bool truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return v.as_bool();
    case Kind::Int: return v.as_int() != 0;
    case Kind::Float: return v.as_double() != 0.0;
    case Kind::String: return !v.str().empty();
    case Kind::List:
    case Kind::Tuple: return !v.items().empty();
    case Kind::Dict: return v.dict_data().size() != 0;
    case Kind::Object: return true;
  }
  return false;
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));
  bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits.push_back(c);
  int exp = std::atoi(std::string(s.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = negative ? "-" : "";
  if (exp >= -5 + 1 && exp < 16) {
    if (exp >= 0) {
      size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out.append(digits, 0, int_len);
        out += '.';
        out.append(digits, int_len, std::string::npos);
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    }
    return out;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1, std::string::npos);
  }
  out += exp < 0 ? "e-" : "e+";
  int a = exp < 0 ? -exp : exp;
  if (a < 10) out += "0";
  out += std::to_string(a);
  return out;
}

namespace {

constexpr int kMaxReprDepth = 200;

std::string repr_at(const Value& v, int depth, bool top_str);

std::string container_repr(const Value& v, int depth) {
  if (depth > kMaxReprDepth) raise("RecursionError", "maximum recursion depth exceeded while getting the repr of an object");
  std::string out;
  switch (v.kind()) {
    case Kind::List:
    case Kind::Tuple: {
      const auto& items = v.items();
      out.push_back(v.is_list() ? '[' : '(');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ", ";
        out += repr_at(items[i], depth + 1, false);
      }
      if (v.is_tuple() && items.size() == 1) out += ",";
      out.push_back(v.is_list() ? ']' : ')');
      if (v.tag() == Tag::DictKeys || v.tag() == Tag::DictValues || v.tag() == Tag::DictItems)
        return concat({type_name(v), "(", out, ")"});
      if (v.is_range()) {
        const ListData& r = list_data(v);
        std::string s = concat({"range(", std::to_string(r.range_start), ", ", std::to_string(r.range_stop)});
        if (r.range_step != 1) s += concat({", ", std::to_string(r.range_step)});
        return s + ")";
      }
      return out;
    }
    case Kind::Dict: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, val] : v.dict_data().entries()) {
        if (!first) out += ", ";
        first = false;
        out += repr_at(k, depth + 1, false);
        out += ": ";
        out += repr_at(val, depth + 1, false);
      }
      return out + "}";
    }
    default: return "";
  }
}

std::string repr_at(const Value& v, int depth, bool top_str) {
  switch (v.kind()) {
    case Kind::Undefined: return top_str ? "" : "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return v.as_bool() ? "True" : "False";
    case Kind::Int: return std::to_string(v.as_int());
    case Kind::Float: return float_repr(v.as_double());
    case Kind::String:
      if (top_str) return v.str();
      return v.is_markup() ? "Markup(" + text::repr(v.str()) + ")" : text::repr(v.str());
    case Kind::List:
    case Kind::Tuple:
    case Kind::Dict: return container_repr(v, depth);
    case Kind::Object: return v.obj().repr();
  }
  return "";
}

int cmp_int_double(int64_t i, double d) {
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  double fl = std::floor(d);
  int64_t di = static_cast<int64_t>(fl);
  if (i < di) return -1;
  if (i > di) return 1;
  return fl == d ? 0 : -1;
}

// -2 when unordered (NaN involved).
int compare_numbers(const Value& a, const Value& b) {
  if (a.is_integral() && b.is_integral()) {
    int64_t x = a.as_int(), y = b.as_int();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_integral()) {
    double d = b.as_double();
    return std::isnan(d) ? -2 : cmp_int_double(a.as_int(), d);
  }
  if (b.is_integral()) {
    double d = a.as_double();
    return std::isnan(d) ? -2 : -cmp_int_double(b.as_int(), d);
  }
  double x = a.as_double(), y = b.as_double();
  if (std::isnan(x) || std::isnan(y)) return -2;
  return x < y ? -1 : x > y ? 1 : 0;
}

const char* order_symbol(Order op) {
  switch (op) {
    case Order::Lt: return "<";
    case Order::Le: return "<=";
    case Order::Gt: return ">";
    case Order::Ge: return ">=";
  }
  return "<";
}

bool apply_order(int c, Order op) {
  if (c == -2) return false;
  switch (op) {
    case Order::Lt: return c < 0;
    case Order::Le: return c <= 0;
    case Order::Gt: return c > 0;
    case Order::Ge: return c >= 0;
  }
  return false;
}

}  // namespace

std::string to_str(const Value& v) { return repr_at(v, 0, true); }
std::string repr(const Value& v) { return repr_at(v, 0, false); }

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return v.is_markup() ? "Markup" : "str";
    case Kind::List:
      switch (v.tag()) {
        case Tag::DictKeys: return "dict_keys";
        case Tag::DictValues: return "dict_values";
        case Tag::DictItems: return "dict_items";
        case Tag::Range: return "range";
        default: return "list";
      }
    case Kind::Tuple: return v.tag() == Tag::GroupTuple ? "_GroupTuple" : "tuple";
    case Kind::Dict: return "dict";
    case Kind::Object: return v.obj().type_name();
  }
  return "object";
}

std::string type_repr(const Value& v) {
  switch (v.kind()) {
    case Kind::None: return "None";
    case Kind::Undefined: return "jinja2.runtime.Undefined object";
    case Kind::String:
      if (v.is_markup()) return "markupsafe.Markup object";
      return "str object";
    case Kind::Object: return v.obj().type_repr();
    default: return type_name(v) + " object";
  }
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.str() == b.str();
    case Kind::List:
    case Kind::Tuple: {
      // A list never equals a range or a dict view.
      if (a.is_list() && (a.tag() == Tag::None) != (b.tag() == Tag::None)) return false;
      if (a.is_list() && a.tag() != b.tag()) return false;
      const auto &x = a.items(), &y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals(x[i], y[i])) return false;
      return true;
    }
    case Kind::Dict: {
      const DictData &x = a.dict_data(), &y = b.dict_data();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Kind::Object: return a.identity() == b.identity();
    default: return false;
  }
}

bool ordered(const Value& a, const Value& b, Order op) {
  if (a.is_undefined()) a.fail_undefined();
  if (b.is_undefined()) b.fail_undefined();
  if (a.is_number() && b.is_number()) return apply_order(compare_numbers(a, b), op);
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());
    return apply_order(c < 0 ? -1 : c > 0 ? 1 : 0, op);
  }
  if ((a.is_plain_list() && b.is_plain_list()) || (a.is_tuple() && b.is_tuple())) {
    const auto &x = a.items(), &y = b.items();
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i)
      if (!equals(x[i], y[i])) return ordered(x[i], y[i], op);
    return apply_order(x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0, op);
  }
  raise("TypeError", std::string("'") + order_symbol(op) + "' not supported between instances of '" + type_name(a) +
                         "' and '" + type_name(b) + "'");
}

int compare(const Value& a, const Value& b) {
  if (ordered(a, b, Order::Lt)) return -1;
  if (ordered(b, a, Order::Lt)) return 1;
  return 0;
}

bool contains(const Value& haystack, const Value& needle) {
  switch (haystack.kind()) {
    case Kind::String:
      if (!needle.is_string())
        raise("TypeError", "'in <string>' requires string as left operand, not " + type_name(needle));
      return haystack.str().find(needle.str()) != std::string::npos;
    case Kind::List:
    case Kind::Tuple:
      for (const Value& v : haystack.items())
        if (equals(v, needle)) return true;
      return false;
    case Kind::Dict: return haystack.dict_data().find(needle) != nullptr;
    case Kind::Undefined: return false;
    case Kind::Object:
      if (haystack.obj().iterable()) {
        // Pulls only up to the first match, as Python does with a generator.
        Value v;
        while (haystack.obj().next(v))
          if (equals(v, needle)) return true;
        return false;
      }
      break;
    default: break;
  }
  raise("TypeError", "argument of type '" + type_name(haystack) + "' is not iterable");
}

int64_t length(const Value& v) {
  switch (v.kind()) {
    case Kind::String: return static_cast<int64_t>(text::length(v.str()));
    case Kind::List:
    case Kind::Tuple: return static_cast<int64_t>(v.items().size());
    case Kind::Dict: return static_cast<int64_t>(v.dict_data().size());
    case Kind::Undefined: return 0;
    case Kind::Object:
      if (int64_t n = v.obj().len(); n >= 0) return n;
      break;
    default: break;
  }
  raise("TypeError", "object of type '" + type_name(v) + "' has no len()");
}

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::String: {
      std::vector<Value> out;
      const std::string& s = v.str();
      if (text::is_ascii(s)) {
        for (char c : s) out.push_back(Value::string(std::string(1, c)));
      } else {
        for (char32_t c : text::decode(s)) {
          std::string one;
          text::append_utf8(one, c);
          out.push_back(Value::string(std::move(one)));
        }
      }
      return out;
    }
    case Kind::List:
    case Kind::Tuple: return v.items();
    case Kind::Dict: {
      std::vector<Value> out;
      for (const auto& e : v.dict_data().entries()) out.push_back(e.first);
      return out;
    }
    case Kind::Undefined: return {};
    case Kind::Object:
      if (v.obj().iterable()) return v.obj().iterate();
      break;
    default: break;
  }
  raise("TypeError", concat({"'", type_name(v), "' object is not iterable"}));
}

int value_depth(const Value& v) {
  switch (v.kind()) {
    case Kind::List:
    case Kind::Tuple: return static_cast<const ListData*>(v.identity())->depth;
    case Kind::Dict: return v.dict_data().depth();
    case Kind::Object: return v.obj().depth();
    default: return 1;
  }
}

void check_depth(int depth) {
  if (depth > kMaxValueDepth)
    raise("RecursionError", "maximum recursion depth exceeded (values nested more than " +
                                std::to_string(kMaxValueDepth) + " levels)");
}

const ListData& list_data(const Value& v) { return *static_cast<const ListData*>(v.identity()); }

Value range_value(int64_t start, int64_t stop, int64_t step) {
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.push_back(Value::integer(i));
  Value v = Value::list(std::move(items)).with_tag(Tag::Range);
  auto& d = const_cast<ListData&>(list_data(v));
  d.range_start = start;
  d.range_stop = stop;
  d.range_step = step;
  return v;
}

Value deep_copy(const Value& v) {
  if (v.is_range()) return v;  // immutable
  if (v.is_sequence_like()) {
    std::vector<Value> items;
    items.reserve(v.items().size());
    for (const Value& x : v.items()) items.push_back(deep_copy(x));
    Value out = v.is_list() ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    return out.with_tag(v.tag());
  }
  if (v.is_dict()) {
    Value out = Value::dict();
    for (const auto& [k, x] : v.dict_data().entries()) out.dict_data().set(k, deep_copy(x));
    return out;
  }
  return v;
}

std::string hash_key(const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: return "U";
    case Kind::None: return "N";
    case Kind::Bool:
    case Kind::Int: return concat({"i", std::to_string(v.as_int())});
    case Kind::Float: {
      double d = v.as_double();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18)
        return concat({"i", std::to_string(static_cast<int64_t>(d))});
      return concat({"f", float_repr(d)});
    }
    case Kind::String: return concat({"s", v.str()});
    case Kind::Tuple: {
      std::string out = "t";
      for (const Value& item : v.items()) {
        std::string k = hash_key(item);
        out += std::to_string(k.size()) + ":" + k;
      }
      return out;
    }
    case Kind::Object: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "o%p", v.identity());
      return buf;
    }
    case Kind::List:
      if (v.is_range()) {  // ranges compare (and hash) as the sequences they are
        const ListData& r = list_data(v);
        size_t n = r.items.size();
        return concat({"r", std::to_string(n), ",", n ? std::to_string(r.range_start) : "", ",",
                       n > 1 ? std::to_string(r.range_step) : ""});
      }
      break;
    case Kind::Dict: break;
  }
  raise("TypeError", "unhashable type: '" + type_name(v) + "'");
}

}  // namespace ember::jinja
