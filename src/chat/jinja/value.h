#pragma once
// The values a template computes with, modelled on the Python objects jinja2
// hands around: None, bool, int, float, str (optionally Markup), list, tuple,
// dict (insertion-ordered, Python key equality), jinja2's Undefined, and
// objects (macros, the loop, namespaces, bound methods, generators). Lists and
// dicts are shared by reference, as in Python.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ember::jinja {

class Value;
class Object;
class DictData;
class Interpreter;

/// A Python exception raised while rendering: type ("TypeError",
/// "UndefinedError", …) and message; the interpreter adds the line.
struct JinjaError {
  std::string type;
  std::string message;
  int line = 0;
};
[[noreturn]] void raise(std::string type, std::string message);
/// Joins pieces into one string (and sidesteps GCC 12's false -Wrestrict
/// warning on "literal" + std::string).
std::string concat(std::initializer_list<std::string_view> parts);

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Object };

/// Python types that behave like one of the kinds but print or index
/// differently: Markup strings, dict views (lists), groupby's tuples.
enum class Tag : uint8_t { None, Markup, DictKeys, DictValues, DictItems, GroupTuple, Range };

struct ListData {
  std::vector<Value> items;
  int depth = 1;  // nesting of containers (and chained objects) below, see value_depth
  int64_t range_start = 0, range_stop = 0, range_step = 1;  // for Tag::Range
};

/// Containers may nest this deep; deeper raises RecursionError (Python's
/// repr, == and the destructor would recurse once per level).
constexpr int kMaxValueDepth = 512;

/// jinja2's Undefined: the message an operation on it raises.
struct UndefinedInfo {
  std::string message;
  bool security = false;  // the sandbox's "unsafe attribute" undefined raises SecurityError
};

class Value {
 public:
  Value() = default;  // a plain undefined
  static Value undefined(std::string message, bool security = false);
  /// The undefined jinja2 makes for a missing name.
  static Value undefined_name(std::string_view name);
  /// The undefined for a missing attribute or item of obj.
  static Value undefined_attr(const Value& obj, const Value& name);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value real(double d);
  static Value string(std::string s);
  static Value markup(std::string s);
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items = {});
  static Value dict();
  static Value object(std::shared_ptr<Object> o);

  Kind kind() const noexcept { return kind_; }
  bool is_undefined() const noexcept { return kind_ == Kind::Undefined; }
  bool is_none() const noexcept { return kind_ == Kind::None; }
  bool is_bool() const noexcept { return kind_ == Kind::Bool; }
  bool is_int() const noexcept { return kind_ == Kind::Int; }  // not bool
  bool is_float() const noexcept { return kind_ == Kind::Float; }
  /// int, float or bool (bool is an int in Python).
  bool is_number() const noexcept { return kind_ == Kind::Bool || kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_integral() const noexcept { return kind_ == Kind::Bool || kind_ == Kind::Int; }
  bool is_string() const noexcept { return kind_ == Kind::String; }
  bool is_markup() const noexcept { return kind_ == Kind::String && tag_ == Tag::Markup; }
  Tag tag() const noexcept { return tag_; }
  Value with_tag(Tag t) const {
    Value v = *this;
    v.tag_ = t;
    return v;
  }
  bool is_list() const noexcept { return kind_ == Kind::List; }
  /// A real list: not a dict view or a range.
  bool is_plain_list() const noexcept { return kind_ == Kind::List && tag_ == Tag::None; }
  bool is_range() const noexcept { return kind_ == Kind::List && tag_ == Tag::Range; }
  bool is_tuple() const noexcept { return kind_ == Kind::Tuple; }
  bool is_sequence_like() const noexcept { return kind_ == Kind::List || kind_ == Kind::Tuple; }
  bool is_dict() const noexcept { return kind_ == Kind::Dict; }
  bool is_object() const noexcept { return kind_ == Kind::Object; }

  bool as_bool() const noexcept { return b_; }
  /// int or bool as an integer.
  int64_t as_int() const noexcept { return kind_ == Kind::Bool ? (b_ ? 1 : 0) : i_; }
  /// Any number as a double.
  double as_double() const noexcept { return kind_ == Kind::Float ? f_ : static_cast<double>(as_int()); }
  const std::string& str() const noexcept { return *std::static_pointer_cast<const std::string>(ptr_); }
  std::vector<Value>& items() const noexcept { return std::static_pointer_cast<ListData>(ptr_)->items; }
  DictData& dict_data() const noexcept { return *std::static_pointer_cast<DictData>(ptr_); }
  Object& obj() const noexcept { return *std::static_pointer_cast<Object>(ptr_); }
  std::shared_ptr<Object> obj_ptr() const noexcept { return std::static_pointer_cast<Object>(ptr_); }
  const UndefinedInfo* undefined_info() const noexcept {
    return static_cast<const UndefinedInfo*>(ptr_.get());
  }
  /// Identity of the shared payload (Python's `is` for containers and objects).
  const void* identity() const noexcept { return ptr_.get(); }

  /// Raises the error an operation on this undefined raises.
  [[noreturn]] void fail_undefined() const;

 private:
  Kind kind_ = Kind::Undefined;
  Tag tag_ = Tag::None;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::shared_ptr<void> ptr_;
};

/// Python's dict: insertion order, keys compared as Python compares them
/// (1 == 1.0 == True), unhashable keys rejected.
class DictData {
 public:
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(const Value& key, Value value);
  void set(std::string_view key, Value value) { set(Value::string(std::string(key)), std::move(value)); }
  bool erase(const Value& key);
  size_t size() const noexcept { return entries_.size(); }
  const std::vector<std::pair<Value, Value>>& entries() const noexcept { return entries_; }
  int depth() const noexcept { return depth_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
  int depth_ = 1;
  std::unordered_map<std::string, size_t> index_;
};

/// Everything that is not a plain data value.
class Object : public std::enable_shared_from_this<Object> {
 public:
  virtual ~Object() = default;
  /// Python's type name ("Namespace", "Macro", "generator", …).
  virtual std::string type_name() const = 0;
  /// jinja2's object_type_repr: "jinja2.utils.Namespace object", "str object".
  virtual std::string type_repr() const { return type_name() + " object"; }
  /// The attribute, or a plain undefined when there is none.
  virtual Value get_attr(Interpreter& in, const std::string& name);
  virtual bool callable() const { return false; }
  struct Args;
  virtual Value call(Interpreter& in, Args& args);
  virtual std::string repr() const;
  /// Values produced by iterating (generators are consumed by it).
  virtual bool iterable() const { return false; }
  virtual std::vector<Value> iterate() { return {}; }
  /// For generators: the next item into out, false when exhausted.
  virtual bool next(Value& out) {
    (void)out;
    return false;
  }
  /// len(obj), or -1 when it has none.
  virtual int64_t len() const { return -1; }
  /// Drops the values this object holds, breaking reference cycles when a render ends.
  virtual void release() {}
  /// How deep the values this object holds nest (see value_depth).
  virtual int depth() const { return 1; }
};

struct Object::Args {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};
using Args = Object::Args;

// --- Python semantics ------------------------------------------------------------
/// bool(v).
bool truthy(const Value& v);
/// str(v): what {{ v }} prints.
std::string to_str(const Value& v);
/// repr(v): how v shows inside a printed list or dict.
std::string repr(const Value& v);
/// Python's repr of a float ("1.0", "1e+16", "0.30000000000000004").
std::string float_repr(double d);
/// Python type name: "int", "str", "NoneType", "list", …
std::string type_name(const Value& v);
/// jinja2's object_type_repr: "None", "dict object", "jinja2.utils.Namespace object".
std::string type_repr(const Value& v);
/// a == b.
bool equals(const Value& a, const Value& b);
enum class Order { Lt, Le, Gt, Ge };
/// a < b (<=, >, >=), raising TypeError for unordered types and
/// UndefinedError when either side is undefined.
bool ordered(const Value& a, const Value& b, Order op);
/// Python ordering for sort(): -1, 0, 1, raising TypeError when unordered.
int compare(const Value& a, const Value& b);
/// `needle in haystack`.
bool contains(const Value& haystack, const Value& needle);
/// len(v), raising TypeError when v has none.
int64_t length(const Value& v);
/// iter(v) materialized; raises TypeError for non-iterables.
std::vector<Value> iterate(const Value& v);
/// Key identity for dict lookups (raises TypeError for unhashable values).
std::string hash_key(const Value& v);
/// A copy with new lists and dicts all the way down.
Value deep_copy(const Value& v);
/// Python's range(start, stop, step) (step != 0): prints as range(…), indexes and iterates like a list.
Value range_value(int64_t start, int64_t stop, int64_t step);
const ListData& list_data(const Value& v);
/// 1 for scalars; 1 + the deepest item for containers and for objects that
/// hold values they chain to (generators, bound methods).
int value_depth(const Value& v);
/// Raises RecursionError when depth passes kMaxValueDepth.
void check_depth(int depth);

}  // namespace ember::jinja
