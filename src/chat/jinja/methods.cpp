// The Python methods templates call on str, list, tuple, dict and numbers
// (message.content.strip(), tool.get('x'), …), with the immutable sandbox's
// refusal of the methods that modify a list or dict.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "chat/jinja/objects.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

constexpr std::string_view kStrMethods[] = {
    "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
    "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
    "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans",
    "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit",
    "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "translate", "upper", "zfill"};
constexpr std::string_view kListMethods[] = {"append", "clear", "copy", "count", "extend", "index",
                                             "insert", "pop",   "remove", "reverse", "sort"};
constexpr std::string_view kListUnsafe[] = {"append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"};
constexpr std::string_view kTupleMethods[] = {"count", "index"};
constexpr std::string_view kDictMethods[] = {"clear", "copy", "fromkeys", "get", "items", "keys",
                                             "pop",   "popitem", "setdefault", "update", "values"};
constexpr std::string_view kDictUnsafe[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kIntMethods[] = {"bit_length", "conjugate"};
constexpr std::string_view kFloatMethods[] = {"is_integer", "conjugate"};

template <size_t N>
bool in(const std::string_view (&list)[N], std::string_view name) {
  return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

bool is_view(const Value& v) {
  return v.tag() == Tag::DictKeys || v.tag() == Tag::DictValues || v.tag() == Tag::DictItems;
}

const std::string& expect_str(const Value& v, const std::string& what) {
  if (!v.is_string()) {
    if (v.is_undefined()) v.fail_undefined();
    raise("TypeError", what + " must be str, not " + type_name(v));
  }
  return v.str();
}

int64_t expect_int(const Value& v, const std::string& what) {
  if (!v.is_integral()) {
    if (v.is_undefined()) v.fail_undefined();
    raise("TypeError", concat({"'", type_name(v), "' object cannot be interpreted as an integer"}));
  }
  return v.as_int();
}

std::optional<int64_t> opt_index(const Value& v) {
  if (v.is_none() || (v.is_undefined() && !v.undefined_info())) return std::nullopt;
  return expect_int(v, "");
}

std::optional<std::string> opt_str(const Value& v, const std::string& fn) {
  if (v.is_none()) return std::nullopt;
  if (!v.is_string()) {
    if (v.is_undefined()) v.fail_undefined();
    raise("TypeError", fn + " arg must be None or str");
  }
  return v.str();
}

void no_keywords(const std::string& fn, const Args& args) {
  if (!args.keywords.empty()) raise("TypeError", fn + "() takes no keyword arguments");
}

// startswith/endswith: prefix may be a tuple; start/end slice the string first.
Value starts_or_ends(const std::string& self, Args& args, bool ends) {
  const std::string fn = ends ? "endswith" : "startswith";
  no_keywords(fn, args);
  std::vector<Value> a = bind_args(fn, args, {{"prefix", Value(), true}, {"start", Value::none()}, {"end", Value::none()}});
  std::optional<int64_t> start = opt_index(a[1]), end = opt_index(a[2]);
  std::string s = (start || end) ? text::slice(self, start, end, 1) : self;
  if (start && *start > static_cast<int64_t>(text::length(self))) return Value::boolean(false);
  auto test = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return ends ? s.compare(s.size() - p.size(), p.size(), p) == 0 : s.compare(0, p.size(), p) == 0;
  };
  if (a[0].is_tuple()) {
    for (const Value& p : a[0].items()) {
      if (!p.is_string())
        raise("TypeError", "tuple for " + fn + " must only contain str, not " + type_name(p));
      if (test(p.str())) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  if (!a[0].is_string())
    raise("TypeError", fn + " first arg must be str or a tuple of str, not " + type_name(a[0]));
  return Value::boolean(test(a[0].str()));
}

std::string expandtabs(const std::string& s, int64_t tabsize) {
  std::u32string out;
  int64_t col = 0;
  for (char32_t c : text::decode(s)) {
    if (c == '\t') {
      if (tabsize > 0) {
        int64_t n = tabsize - col % tabsize;
        out.append(static_cast<size_t>(n), U' ');
        col += n;
      }
    } else {
      out.push_back(c);
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
  }
  return text::encode(out);
}

Value call_str_method(Interpreter& in, const Value& self_value, const std::string& name, Args& args) {
  const std::string& self = self_value.str();
  auto positional = [&](std::vector<Param> params) {
    no_keywords("str." + name, args);
    return bind_args(name, args, params);
  };
  const bool markup = self_value.is_markup();
  auto keep_markup = [&](std::string s) { return markup ? Value::markup(std::move(s)) : Value::string(std::move(s)); };
  // Markup's methods escape the strings they insert (markupsafe.Markup.escape).
  auto escaped = [&](const Value& v) { return markup && !v.is_markup() ? text::escape_html(to_str(v)) : to_str(v); };
  auto parts_list = [&](std::vector<std::string> parts) {
    std::vector<Value> out;
    for (auto& p : parts) out.push_back(keep_markup(std::move(p)));
    return Value::list(std::move(out));
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    auto a = positional({{"chars", Value::none()}});
    return keep_markup(text::strip(self, opt_str(a[0], name), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    auto a = bind_args(name, args, {{"sep", Value::none()}, {"maxsplit", Value::integer(-1)}});
    std::optional<std::string> sep;
    if (!a[0].is_none()) sep = expect_str(a[0], "sep");
    int64_t maxsplit = expect_int(a[1], "maxsplit");
    try {
      return parts_list(name == "split" ? text::split(self, sep, maxsplit) : text::rsplit(self, sep, maxsplit));
    } catch (const std::invalid_argument& e) {
      raise("ValueError", e.what());
    }
  }
  if (name == "splitlines") {
    auto a = bind_args(name, args, {{"keepends", Value::boolean(false)}});
    return parts_list(text::splitlines(self, truthy(a[0])));
  }
  if (name == "startswith" || name == "endswith") return starts_or_ends(self, args, name == "endswith");
  if (name == "upper") {
    positional({});
    return keep_markup(text::upper(self));
  }
  if (name == "lower") {
    positional({});
    return keep_markup(text::lower(self));
  }
  if (name == "title") {
    positional({});
    return keep_markup(text::title(self));
  }
  if (name == "capitalize") {
    positional({});
    return keep_markup(text::capitalize(self));
  }
  if (name == "swapcase") {
    positional({});
    return keep_markup(text::swapcase(self));
  }
  if (name == "casefold") {
    positional({});
    return keep_markup(text::casefold(self));
  }
  if (name == "replace") {
    auto a = positional({{"old", Value(), true}, {"new", Value(), true}, {"count", Value::integer(-1)}});
    const std::string& old = expect_str(a[0], "replace() argument 1");
    expect_str(a[1], "replace() argument 2");
    const std::string with = escaped(a[1]);
    const int64_t count = expect_int(a[2], "count");
    in.check_size(text::replaced_size(self, old, with, count));
    std::string out = text::replace(self, old, with, count);
    in.check_size(out.size());
    in.charge(out.size());
    return keep_markup(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    auto a = positional({{"sub", Value(), true}, {"start", Value::none()}, {"end", Value::none()}});
    const std::string& sub = expect_str(a[0], "must be str, not " + type_name(a[0]) + "; argument");
    std::optional<int64_t> start = opt_index(a[1]), end = opt_index(a[2]);
    if (name == "count") return Value::integer(text::count(self, sub, start, end));
    int64_t at = text::find(self, sub, start, end, name[0] == 'r');
    if (at < 0 && (name == "index" || name == "rindex")) raise("ValueError", "substring not found");
    return Value::integer(at);
  }
  if (name == "join") {
    auto a = positional({{"iterable", Value(), true}});
    std::string out;
    size_t i = 0;
    for (const Value& v : iterate(a[0])) {
      if (!v.is_string() && !markup)
        raise("TypeError", "sequence item " + std::to_string(i) + ": expected str instance, " + type_name(v) + " found");
      if (i++) out += self;
      out += escaped(v);
      in.check_size(out.size());
    }
    in.charge(out.size());
    return keep_markup(std::move(out));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    auto a = positional({{"width", Value(), true}, {"fillchar", Value::string(" ")}});
    int64_t width = expect_int(a[0], "width");
    expect_str(a[1], name + "() argument 2");
    std::u32string f = text::decode(escaped(a[1]));
    if (f.size() != 1) raise("TypeError", "The fill character must be exactly one character long");
    in.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    return keep_markup(text::pad(self, width, f[0], name == "ljust" ? -1 : name == "center" ? 0 : 1));
  }
  if (name == "zfill") {
    auto a = positional({{"width", Value(), true}});
    int64_t width = expect_int(a[0], "width");
    in.check_size(static_cast<size_t>(std::max<int64_t>(width, 0)));
    return keep_markup(text::zfill(self, width));
  }
  if (name == "partition" || name == "rpartition") {
    auto a = positional({{"sep", Value(), true}});
    const std::string& sep = expect_str(a[0], "must be str, not " + type_name(a[0]) + "; sep");
    if (sep.empty()) raise("ValueError", "empty separator");
    size_t at = name == "partition" ? self.find(sep) : self.rfind(sep);
    if (at == std::string::npos) {
      if (name == "partition") return Value::tuple({keep_markup(self), Value::string(""), Value::string("")});
      return Value::tuple({Value::string(""), Value::string(""), keep_markup(self)});
    }
    return Value::tuple({keep_markup(self.substr(0, at)), keep_markup(sep), keep_markup(self.substr(at + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    auto a = positional({{"affix", Value(), true}});
    const std::string& x = expect_str(a[0], name + "() argument");
    if (name == "removeprefix" && self.compare(0, x.size(), x) == 0 && self.size() >= x.size())
      return keep_markup(self.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && self.size() >= x.size() &&
        self.compare(self.size() - x.size(), x.size(), x) == 0)
      return keep_markup(self.substr(0, self.size() - x.size()));
    return keep_markup(self);
  }
  if (name == "expandtabs") {
    auto a = bind_args(name, args, {{"tabsize", Value::integer(8)}});
    std::string out = expandtabs(self, expect_int(a[0], "tabsize"));
    in.check_size(out.size());
    return keep_markup(std::move(out));
  }
  if (name == "format") return keep_markup(str_format(in, self, args, markup));
  if (name == "format_map") {
    auto a = positional({{"mapping", Value(), true}});
    if (!a[0].is_dict()) raise("TypeError", "'" + type_name(a[0]) + "' object is not a mapping");
    Args kw;
    for (const auto& [k, v] : a[0].dict_data().entries())
      if (k.is_string()) kw.keywords.emplace_back(k.str(), v);
    return keep_markup(str_format(in, self, kw, markup));
  }
  static const std::pair<const char*, text::Pred> kPreds[] = {
      {"isalnum", text::Pred::Alnum},     {"isalpha", text::Pred::Alpha},
      {"isascii", text::Pred::Ascii},     {"isdecimal", text::Pred::Decimal},
      {"isdigit", text::Pred::Digit},     {"isidentifier", text::Pred::Identifier},
      {"islower", text::Pred::Lower},     {"isnumeric", text::Pred::Numeric},
      {"isprintable", text::Pred::Printable}, {"isspace", text::Pred::Space},
      {"istitle", text::Pred::Title},     {"isupper", text::Pred::Upper}};
  for (const auto& [pname, pred] : kPreds) {
    if (name == pname) {
      positional({});
      return Value::boolean(text::is(self, pred));
    }
  }
  raise("TemplateError", "str." + name + "() is not supported by ember");
}

Value call_sequence_method(Interpreter&, const Value& self, const std::string& name, Args& args) {
  const std::string tn = type_name(self);
  no_keywords(tn + "." + name, args);
  const auto& items = self.items();
  if (name == "count") {
    auto a = bind_args(name, args, {{"value", Value(), true}});
    int64_t n = 0;
    for (const Value& v : items) n += equals(v, a[0]);
    return Value::integer(n);
  }
  if (name == "index") {
    auto a = bind_args(name, args, {{"value", Value(), true}, {"start", Value::integer(0)},
                                    {"stop", Value::integer(INT64_MAX)}});
    int64_t n = static_cast<int64_t>(items.size());
    int64_t start = expect_int(a[1], ""), stop = expect_int(a[2], "");
    if (start < 0) start = std::max<int64_t>(0, start + n);
    if (stop < 0) stop = std::max<int64_t>(0, stop + n);
    for (int64_t i = start; i < std::min(stop, n); ++i)
      if (equals(items[static_cast<size_t>(i)], a[0])) return Value::integer(i);
    if (self.is_tuple()) raise("ValueError", "tuple.index(x): x not in tuple");
    raise("ValueError", repr(a[0]) + " is not in list");
  }
  if (name == "copy" && self.is_plain_list()) {
    bind_args(name, args, {});
    return Value::list(items);
  }
  raise("TemplateError", tn + "." + name + "() is not supported by ember");
}

Value call_dict_method(Interpreter&, const Value& self, const std::string& name, Args& args) {
  no_keywords("dict." + name, args);
  const DictData& d = self.dict_data();
  auto view = [&](Tag tag) {
    std::vector<Value> out;
    for (const auto& [k, v] : d.entries()) {
      if (tag == Tag::DictKeys) out.push_back(k);
      else if (tag == Tag::DictValues) out.push_back(v);
      else out.push_back(Value::tuple({k, v}));
    }
    return Value::list(std::move(out)).with_tag(tag);
  };
  if (name == "items") {
    bind_args(name, args, {});
    return view(Tag::DictItems);
  }
  if (name == "keys") {
    bind_args(name, args, {});
    return view(Tag::DictKeys);
  }
  if (name == "values") {
    bind_args(name, args, {});
    return view(Tag::DictValues);
  }
  if (name == "get") {
    auto a = bind_args(name, args, {{"key", Value(), true}, {"default", Value::none()}});
    const Value* v = d.find(a[0]);
    return v ? *v : a[1];
  }
  if (name == "copy") {
    bind_args(name, args, {});
    Value out = Value::dict();
    for (const auto& [k, v] : d.entries()) out.dict_data().set(k, v);
    return out;
  }
  if (name == "fromkeys") {
    auto a = bind_args(name, args, {{"iterable", Value(), true}, {"value", Value::none()}});
    Value out = Value::dict();
    for (const Value& k : iterate(a[0])) out.dict_data().set(k, a[1]);
    return out;
  }
  raise("TemplateError", "dict." + name + "() is not supported by ember");
}

}  // namespace

Value method_attr(const Value& self, const std::string& name) {
  bool known = false, unsafe = false;
  Value attribute;  // data attributes of numbers
  switch (self.kind()) {
    case Kind::String: known = in(kStrMethods, name); break;
    case Kind::List:
      if (is_view(self)) break;
      if (self.is_range()) {
        const ListData& r = list_data(self);
        if (name == "start") return Value::integer(r.range_start);
        if (name == "stop") return Value::integer(r.range_stop);
        if (name == "step") return Value::integer(r.range_step);
        known = in(kTupleMethods, name);
        break;
      }
      known = in(kListMethods, name);
      unsafe = in(kListUnsafe, name);
      break;
    case Kind::Tuple: known = in(kTupleMethods, name); break;
    case Kind::Dict:
      known = in(kDictMethods, name);
      unsafe = in(kDictUnsafe, name);
      break;
    case Kind::Bool:
    case Kind::Int:
      if (name == "real" || name == "numerator") return Value::integer(self.as_int());
      if (name == "imag") return Value::integer(0);
      if (name == "denominator") return Value::integer(1);
      known = in(kIntMethods, name);
      break;
    case Kind::Float:
      if (name == "real") return self;
      if (name == "imag") return Value::real(0.0);
      known = in(kFloatMethods, name);
      break;
    default: break;
  }
  if (!known) return Value();
  if (unsafe)
    return Value::undefined("access to attribute '" + name + "' of '" + type_name(self) + "' object is unsafe.", true);
  return Value::object(std::make_shared<FunctionObject>(
      name, "builtin_function_or_method",
      [self, name](Interpreter& in, Args& args) { return call_method(in, self, name, args); },
      "<built-in method " + name + " of " + type_name(self) + " object>", 1 + value_depth(self)));
}

Value call_method(Interpreter& in, const Value& self, const std::string& name, Args& args) {
  switch (self.kind()) {
    case Kind::String: return call_str_method(in, self, name, args);
    case Kind::List:
    case Kind::Tuple: return call_sequence_method(in, self, name, args);
    case Kind::Dict: return call_dict_method(in, self, name, args);
    case Kind::Bool:
    case Kind::Int:
      no_keywords(name, args);
      bind_args(name, args, {});
      if (name == "bit_length") {
        uint64_t v = static_cast<uint64_t>(self.as_int() < 0 ? -(self.as_int() + 1) + 1 : self.as_int());
        int64_t n = 0;
        while (v) ++n, v >>= 1;
        return Value::integer(n);
      }
      return Value::integer(self.as_int());
    case Kind::Float:
      no_keywords(name, args);
      bind_args(name, args, {});
      if (name == "is_integer") {
        double d = self.as_double();
        return Value::boolean(std::isfinite(d) && d == static_cast<double>(static_cast<long double>(std::floor(d))));
      }
      return self;
    default: break;
  }
  raise("AttributeError", "'" + type_name(self) + "' object has no attribute '" + name + "'");
}

}  // namespace ember::jinja
