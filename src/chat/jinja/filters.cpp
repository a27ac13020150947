// jinja2's built-in filters, with transformers' tojson (json.dumps with
// ensure_ascii=False). Each follows jinja2.filters: the same defaults, the
// same coercions (soft_str), generators where jinja2 returns generators.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <unordered_map>

#include "chat/jinja/json.h"
#include "chat/jinja/objects.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/text.h"
#include "chat/jinja/unicode.h"

namespace ember::jinja {

namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, Args&);

// markupsafe.soft_str: Markup stays Markup, anything else goes through str().
Value soft_str(const Value& v) { return v.is_string() ? v : Value::string(to_str(v)); }
Value same_kind(const Value& like, std::string s) {
  return like.is_markup() ? Value::markup(std::move(s)) : Value::string(std::move(s));
}

Value ignore_case(const Value& v) { return v.is_string() ? Value::string(text::lower(v.str())) : v; }

// make_attrgetter: "a.b.0" looks up a, then b, then index 0, with getitem rules.
std::vector<Value> attribute_parts(const Value& attribute) {
  std::vector<Value> parts;
  if (attribute.is_none()) return parts;
  if (attribute.is_string()) {
    for (const std::string& p : text::split(attribute.str(), std::string("."), -1)) {
      bool digits = !p.empty() && text::is(p, text::Pred::Digit) && text::is_ascii(p) && p.size() < 18;
      parts.push_back(digits ? Value::integer(std::stoll(p)) : Value::string(p));
    }
    return parts;
  }
  parts.push_back(attribute);
  return parts;
}

Value get_attribute(Interpreter& in, Value item, const std::vector<Value>& parts, const Value* default_value = nullptr) {
  for (const Value& part : parts) {
    item = in.getitem(item, part);
    if (default_value && !default_value->is_none() && item.is_undefined()) item = *default_value;
  }
  return item;
}

int64_t int_arg(const Value& v, const char* what) {
  if (v.is_integral()) return v.as_int();
  if (v.is_undefined()) v.fail_undefined();
  raise("TypeError", std::string("'") + type_name(v) + "' object cannot be interpreted as an integer (" + what + ")");
}

// Python's sorted(): stable; reverse keeps equal items in their order.
void sort_values(std::vector<Value>& items, const std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? ordered(keys[b], keys[a], Order::Lt) : ordered(keys[a], keys[b], Order::Lt);
  });
  std::vector<Value> out;
  out.reserve(items.size());
  for (size_t i : order) out.push_back(items[i]);
  items = std::move(out);
}

// Python's int(str, base) for the int filter.
bool parse_int(const std::string& s, int64_t base, int64_t& out) {
  std::string t = text::strip(s, std::nullopt, true, true);
  size_t i = 0;
  bool negative = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) negative = t[i++] == '-';
  auto prefix_base = [&](char c) { c = static_cast<char>(c | 0x20); return c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 0; };
  if (i + 1 < t.size() && t[i] == '0' && prefix_base(t[i + 1])) {
    int pb = prefix_base(t[i + 1]);
    if (base == 0 || base == pb) {
      base = pb;
      i += 2;
      if (i < t.size() && t[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36) return false;
  if (i >= t.size()) return false;
  unsigned __int128 v = 0;
  bool prev_digit = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= t.size()) return false;
      prev_digit = false;
      continue;
    }
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10 : 99;
    if (d >= base) return false;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > static_cast<unsigned __int128>(INT64_MAX) + 1) return false;
    prev_digit = true;
  }
  if (!prev_digit) return false;
  if (!negative && v > static_cast<unsigned __int128>(INT64_MAX)) return false;
  out = negative ? static_cast<int64_t>(0 - static_cast<uint64_t>(v)) : static_cast<int64_t>(v);
  return true;
}

// Python's float(str).
bool parse_float(const std::string& s, double& out) {
  std::string t = text::strip(s, std::nullopt, true, true), clean;
  if (t.empty()) return false;
  std::string lower = text::lower(t);
  std::string body = lower;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.erase(0, 1);
  }
  if (body == "inf" || body == "infinity") {
    out = negative ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    out = NAN;
    return true;
  }
  // Digits with single underscores between them, '.', exponent.
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      bool ok = i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
                std::isdigit(static_cast<unsigned char>(t[i + 1]));
      if (!ok) return false;
      continue;
    }
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return false;
    clean.push_back(c);
  }
  char* end = nullptr;
  out = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return false;
  // strtod accepts hex floats; Python does not.
  return clean.find_first_of("xX") == std::string::npos;
}

// Python's round(x, n) for floats: correctly rounded, ties to even.
double round_float(double x, int64_t n) {
  if (!std::isfinite(x)) return x;
  if (n > 308) return x;
  if (n < -308) return std::copysign(0.0, x);
  if (n >= 0) {
    // to_chars rounds the exact binary value, ties to even, as Python does.
    char buf[512];
    auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, static_cast<int>(n));
    double out = x;
    std::from_chars(buf, r.ptr, out);
    return out;
  }
  double p = std::pow(10.0, static_cast<double>(-n));
  double y = x / p;
  double r = std::nearbyint(y);
  return std::copysign(r * p, x);
}

Value do_round(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_round", args, {{"precision", Value::integer(0)}, {"method", Value::string("common")}});
  std::string method = a[1].is_string() ? a[1].str() : "";
  if (method != "common" && method != "ceil" && method != "floor")
    raise("FilterArgumentError", "method must be common, ceil or floor");
  int64_t precision = int_arg(a[0], "precision");
  if (method == "common") {
    if (v.is_integral()) {
      if (precision >= 0) return Value::integer(v.as_int());
      // round(int, -n): to a multiple of 10**n, ties to even.
      if (precision < -18) return Value::integer(0);
      int64_t p = 1;
      for (int64_t i = 0; i < -precision; ++i) p *= 10;
      int64_t x = v.as_int(), q = x / p, r = x % p;
      if (r < 0) r += p, --q;
      if (2 * r > p || (2 * r == p && (q & 1))) ++q;
      return Value::integer(q * p);
    }
    if (v.is_float()) return Value::real(round_float(v.as_double(), precision));
    raise("TypeError", "type " + type_name(v) + " doesn't define __round__ method");
  }
  if (v.is_undefined()) v.fail_undefined();
  if (!v.is_number()) raise("TypeError", "must be real number, not " + type_name(v));
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_double() * scale;
  double r = method == "ceil" ? std::ceil(x) : std::floor(x);
  return Value::real(r / scale);
}

Value do_tojson(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("tojson", args, {{"ensure_ascii", Value::boolean(false)}, {"indent", Value::none()},
                                      {"separators", Value::none()}, {"sort_keys", Value::boolean(false)}});
  JsonOptions o;
  o.ensure_ascii = truthy(a[0]);
  if (a[1].is_integral()) {
    o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(a[1].as_int(), 1000))), ' ');
  } else if (a[1].is_string()) {
    o.indent = a[1].str();
  } else if (!a[1].is_none()) {
    raise("TypeError", "indent must be an int, a str or None, not " + type_name(a[1]));
  }
  if (!a[2].is_none()) {
    std::vector<Value> seps = iterate(a[2]);
    if (seps.size() != 2 || !seps[0].is_string() || !seps[1].is_string())
      raise("ValueError", "separators must be a pair of strings");
    o.item_separator = seps[0].str();
    o.key_separator = seps[1].str();
  }
  o.sort_keys = truthy(a[3]);
  std::string out = to_json(v, o);
  in.charge(out.size());
  in.check_size(out.size());
  return Value::string(std::move(out));
}

Value do_indent(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_indent", args, {{"width", Value::integer(4)}, {"first", Value::boolean(false)},
                                         {"blank", Value::boolean(false)}});
  if (v.is_undefined()) v.fail_undefined();
  // s += "\n" extends a list (with the characters), then s.splitlines() fails.
  if (v.is_plain_list()) raise("AttributeError", "'list' object has no attribute 'splitlines'");
  if (!v.is_string()) raise("TypeError", "unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");
  std::string indention;
  if (a[0].is_string()) {
    indention = a[0].str();
  } else {
    int64_t w = int_arg(a[0], "width");
    if (w > 0) {
      in.check_size(static_cast<size_t>(w));
      indention.assign(static_cast<size_t>(w), ' ');
    }
  }
  std::vector<std::string> lines = text::splitlines(v.str() + "\n", false);
  std::string rv;
  if (truthy(a[2])) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
      in.check_size(rv.size());
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
      in.check_size(rv.size());
    }
  }
  if (truthy(a[1])) rv = indention + rv;
  in.charge(rv.size());
  return same_kind(v, std::move(rv));
}

Value do_join(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_join", args, {{"d", Value::string("")}, {"attribute", Value::none()}});
  std::vector<Value> items = iterate(v);
  std::vector<Value> parts = attribute_parts(a[1]);
  std::string sep = to_str(a[0]), out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += to_str(a[1].is_none() ? items[i] : get_attribute(in, items[i], parts));
    in.check_size(out.size());
  }
  in.charge(out.size());
  return Value::string(std::move(out));
}

Value do_default(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_default", args, {{"default_value", Value::string("")}, {"boolean", Value::boolean(false)}});
  if (v.is_undefined() || (truthy(a[1]) && !truthy(v))) return a[0];
  return v;
}

Value do_first(Interpreter&, const Value& v, Args& args) {
  bind_args("do_first", args, {});
  if (v.is_object() && v.obj().iterable()) {
    Value item;
    if (v.obj().next(item)) return item;
    return Value::undefined("No first item, sequence was empty.");
  }
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value do_last(Interpreter&, const Value& v, Args& args) {
  bind_args("do_last", args, {});
  if (v.is_object() && v.obj().iterable()) raise("TypeError", "'" + type_name(v) + "' object is not reversible");
  if (!(v.is_string() || v.is_list() || v.is_tuple() || v.is_dict() || v.is_undefined()))
    raise("TypeError", "'" + type_name(v) + "' object is not reversible");
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value do_length(Interpreter&, const Value& v, Args& args) {
  bind_args("len", args, {});
  return Value::integer(length(v));
}

Value do_list(Interpreter&, const Value& v, Args& args) {
  bind_args("sync_do_list", args, {});
  return Value::list(iterate(v));
}

Value do_items(Interpreter&, const Value& v, Args& args) {
  bind_args("do_items", args, {});
  struct State {
    bool started = false;
    std::vector<Value> items;
    size_t pos = 0;
  };
  auto st = std::make_shared<State>();
  return make_lazy_generator(
      [st, v](Value& out) {
        if (!st->started) {
          st->started = true;
          if (v.is_undefined()) return false;
          if (!v.is_dict()) raise("TypeError", "Can only get item pairs from a mapping.");
          for (const auto& [k, val] : v.dict_data().entries()) st->items.push_back(Value::tuple({k, val}));
        }
        if (st->pos >= st->items.size()) return false;
        out = st->items[st->pos++];
        return true;
      },
      "do_items", v);
}

Value do_dictsort(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_dictsort", args, {{"case_sensitive", Value::boolean(false)}, {"by", Value::string("key")},
                                           {"reverse", Value::boolean(false)}});
  int pos;
  if (a[1].is_string() && a[1].str() == "key")
    pos = 0;
  else if (a[1].is_string() && a[1].str() == "value")
    pos = 1;
  else
    raise("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  if (v.is_undefined()) v.fail_undefined();
  if (!v.is_dict()) raise("AttributeError", "'" + type_name(v) + "' object has no attribute 'items'");
  std::vector<Value> items, keys;
  for (const auto& [k, val] : v.dict_data().entries()) {
    items.push_back(Value::tuple({k, val}));
    Value key = pos == 0 ? k : val;
    keys.push_back(truthy(a[0]) ? key : ignore_case(key));
  }
  sort_values(items, keys, truthy(a[2]));
  return Value::list(std::move(items));
}

Value do_sort(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_sort", args, {{"reverse", Value::boolean(false)}, {"case_sensitive", Value::boolean(false)},
                                       {"attribute", Value::none()}});
  std::vector<Value> items = iterate(v), keys;
  // make_multi_attrgetter: comma-separated attributes give a list key.
  std::vector<std::vector<Value>> attrs;
  if (a[2].is_string()) {
    for (const std::string& part : text::split(a[2].str(), std::string(","), -1))
      attrs.push_back(attribute_parts(Value::string(part)));
  } else {
    attrs.push_back(attribute_parts(a[2]));
  }
  for (const Value& item : items) {
    std::vector<Value> key;
    for (const auto& parts : attrs) {
      Value k = get_attribute(in, item, parts);
      key.push_back(truthy(a[1]) ? k : ignore_case(k));
    }
    keys.push_back(Value::list(std::move(key)));
  }
  sort_values(items, keys, truthy(a[0]));
  return Value::list(std::move(items));
}

Value do_unique(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("sync_do_unique", args, {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  struct State {
    Puller source;
    std::vector<Value> parts;
    std::unordered_map<std::string, bool> seen;
  };
  auto st = std::make_shared<State>(State{Puller(v), attribute_parts(a[1]), {}});
  Interpreter* ip = &in;
  const bool case_sensitive = truthy(a[0]);
  return make_lazy_generator(
      [st, ip, case_sensitive](Value& out) {
        Value item;
        while (st->source.next(item)) {
          Value key = get_attribute(*ip, item, st->parts);
          if (!case_sensitive) key = ignore_case(key);
          if (!st->seen.emplace(hash_key(key), true).second) continue;
          out = std::move(item);
          return true;
        }
        return false;
      },
      "sync_do_unique", v);
}

Value min_or_max(Interpreter& in, const Value& v, Args& args, bool max) {
  auto a = bind_args(max ? "do_max" : "do_min", args,
                     {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  std::vector<Value> parts = attribute_parts(a[1]);
  auto key = [&](const Value& item) {
    Value k = get_attribute(in, item, parts);
    return truthy(a[0]) ? k : ignore_case(k);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (max ? ordered(best_key, k, Order::Lt) : ordered(k, best_key, Order::Lt)) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}
Value do_min(Interpreter& in, const Value& v, Args& args) { return min_or_max(in, v, args, false); }
Value do_max(Interpreter& in, const Value& v, Args& args) { return min_or_max(in, v, args, true); }

Value do_sum(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("sync_do_sum", args, {{"attribute", Value::none()}, {"start", Value::integer(0)}});
  std::vector<Value> parts = attribute_parts(a[0]);
  Value total = a[1];
  if (total.is_string()) raise("TypeError", "sum() can't sum strings [use ''.join(seq) instead]");
  for (const Value& item : iterate(v)) total = binary_op(in, BinOp::Add, total, a[0].is_none() ? item : get_attribute(in, item, parts));
  return total;
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Interpreter& in, const Value& v, Args& args, bool select, bool lookup_attr, const char* fn) {
  struct State {
    bool started = false;
    std::optional<Puller> source;
    std::vector<Value> parts;
    bool have_test = false;
    std::string test_name;
    Args test_args;
  };
  auto st = std::make_shared<State>();
  Interpreter* ip = &in;
  return make_lazy_generator(
      [st, ip, v, args, select, lookup_attr](Value& out) {
        if (!st->started) {
          // jinja2's select_or_reject: all of this runs on the first pull.
          st->started = true;
          if (!truthy(v)) return false;
          const std::vector<Value>& pos = args.positional;
          size_t off = 0;
          if (lookup_attr) {
            if (pos.empty()) raise("FilterArgumentError", "Missing parameter for attribute name");
            st->parts = attribute_parts(pos[0]);
            off = 1;
          }
          st->have_test = pos.size() > off;
          if (st->have_test) {
            st->test_name = to_str(pos[off]);
            st->test_args.positional.assign(pos.begin() + static_cast<std::ptrdiff_t>(off + 1), pos.end());
            st->test_args.keywords = args.keywords;
          }
          st->source.emplace(v);
        }
        if (!st->source) return false;
        Value item;
        while (st->source->next(item)) {
          Value x = lookup_attr ? get_attribute(*ip, item, st->parts) : item;
          bool ok;
          if (st->have_test) {
            if (!is_known_test(st->test_name)) raise("TemplateRuntimeError", "No test named '" + st->test_name + "'.");
            Args call_args = st->test_args;
            ok = ip->apply_test(st->test_name, x, call_args);
          } else {
            ok = truthy(x);
          }
          if (ok == select) {
            out = std::move(item);
            return true;
          }
        }
        return false;
      },
      fn, v, args);
}
Value do_select(Interpreter& in, const Value& v, Args& a) { return select_or_reject(in, v, a, true, false, "select_or_reject"); }
Value do_reject(Interpreter& in, const Value& v, Args& a) { return select_or_reject(in, v, a, false, false, "select_or_reject"); }
Value do_selectattr(Interpreter& in, const Value& v, Args& a) {
  return select_or_reject(in, v, a, true, true, "select_or_reject");
}
Value do_rejectattr(Interpreter& in, const Value& v, Args& a) {
  return select_or_reject(in, v, a, false, true, "select_or_reject");
}

Value do_map(Interpreter& in, const Value& v, Args& args) {
  struct State {
    bool started = false;
    std::optional<Puller> source;
    bool by_attribute = false;
    std::vector<Value> parts;
    Value default_value = Value::none();
    std::string filter;
    Args filter_args;
  };
  auto st = std::make_shared<State>();
  Interpreter* ip = &in;
  return make_lazy_generator(
      [st, ip, v, args](Value& out) {
        if (!st->started) {
          // jinja2's sync_do_map and prepare_map: all of this runs on the first pull.
          st->started = true;
          if (!truthy(v)) return false;
          bool has_attribute = false;
          for (const auto& kw : args.keywords) has_attribute = has_attribute || kw.first == "attribute";
          if (args.positional.empty() && has_attribute) {
            st->by_attribute = true;
            for (const auto& [k, val] : args.keywords) {
              if (k == "attribute") {
                st->parts = attribute_parts(val);
              } else if (k == "default") {
                st->default_value = val;
              } else {
                raise("FilterArgumentError", "Unexpected keyword argument '" + k + "'");
              }
            }
          } else {
            if (args.positional.empty()) raise("FilterArgumentError", "map requires a filter argument");
            st->filter = to_str(args.positional[0]);
            st->filter_args.positional.assign(args.positional.begin() + 1, args.positional.end());
            st->filter_args.keywords = args.keywords;
          }
          st->source.emplace(v);
        }
        if (!st->source) return false;
        Value item;
        if (!st->source->next(item)) return false;
        if (st->by_attribute) {
          out = get_attribute(*ip, item, st->parts, &st->default_value);
        } else {
          if (!is_known_filter(st->filter)) raise("TemplateRuntimeError", "No filter named '" + st->filter + "'.");
          Args call_args = st->filter_args;
          out = ip->apply_filter(st->filter, item, call_args);
        }
        return true;
      },
      "sync_do_map", v, args);
}

Value do_batch(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_batch", args, {{"linecount", Value(), true}, {"fill_with", Value::none()}});
  struct State {
    Puller source;
    std::vector<Value> tmp;
    bool finished = false;
  };
  auto st = std::make_shared<State>(State{Puller(v), {}, false});
  const Value linecount = a[0], fill = a[1];
  return make_lazy_generator(
      [st, linecount, fill](Value& out) {
        Value item;
        while (!st->finished && st->source.next(item)) {
          if (equals(Value::integer(static_cast<int64_t>(st->tmp.size())), linecount)) {
            out = Value::list(std::move(st->tmp));
            st->tmp.assign(1, item);
            return true;
          }
          st->tmp.push_back(item);
        }
        st->finished = true;
        if (st->tmp.empty()) return false;
        if (!fill.is_none() && ordered(Value::integer(static_cast<int64_t>(st->tmp.size())), linecount, Order::Lt)) {
          int64_t n = int_arg(linecount, "linecount");
          while (static_cast<int64_t>(st->tmp.size()) < n) st->tmp.push_back(fill);
        }
        out = Value::list(std::move(st->tmp));
        st->tmp.clear();
        return true;
      },
      "do_batch", v, args);
}

Value do_slice(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("sync_do_slice", args, {{"slices", Value(), true}, {"fill_with", Value::none()}});
  struct State {
    bool started = false;
    std::vector<Value> seq;
    int64_t slices = 0, per = 0, extra = 0, offset = 0, index = 0;
  };
  auto st = std::make_shared<State>();
  const Value slices_value = a[0], fill = a[1];
  return make_lazy_generator(
      [st, v, slices_value, fill](Value& out) {
        if (!st->started) {
          st->started = true;
          st->seq = iterate(v);
          st->slices = int_arg(slices_value, "slices");
          if (st->slices == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
          if (st->slices > 100000) raise("ValueError", "too many slices");
          const int64_t n = static_cast<int64_t>(st->seq.size());
          // Python's floor division and modulo, also for negative slice counts.
          st->per = n / st->slices - ((n % st->slices != 0) && ((n < 0) != (st->slices < 0)));
          st->extra = n - st->per * st->slices;
        }
        if (st->index >= st->slices) return false;
        const int64_t s = st->index++;
        int64_t start = st->offset + s * st->per;
        if (s < st->extra) ++st->offset;
        int64_t end = st->offset + (s + 1) * st->per;
        std::vector<Value> tmp;
        for (int64_t i : text::slice_indexes(static_cast<int64_t>(st->seq.size()), start, end, 1))
          tmp.push_back(st->seq[static_cast<size_t>(i)]);
        if (!fill.is_none() && s >= st->extra) tmp.push_back(fill);
        out = Value::list(std::move(tmp));
        return true;
      },
      "sync_do_slice", v, args);
}

Value do_groupby(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("sync_do_groupby", args, {{"attribute", Value(), true}, {"default", Value::none()},
                                                {"case_sensitive", Value::boolean(false)}});
  std::vector<Value> parts = attribute_parts(a[0]);
  bool cs = truthy(a[2]);
  std::vector<Value> items = iterate(v), keys;
  for (const Value& item : items) {
    Value k = get_attribute(in, item, parts, &a[1]);
    keys.push_back(cs ? k : ignore_case(k));
  }
  // Sort by key (stably), then group runs of equal keys.
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return ordered(keys[x], keys[y], Order::Lt); });
  std::vector<Value> out;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    std::vector<Value> group;
    while (j < order.size() && equals(keys[order[j]], keys[order[i]])) group.push_back(items[order[j++]]);
    Value grouper = cs ? keys[order[i]] : get_attribute(in, group[0], parts, &a[1]);
    out.push_back(Value::tuple({grouper, Value::list(std::move(group))}).with_tag(Tag::GroupTuple));
    i = j;
  }
  return Value::list(std::move(out));
}

Value do_int(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_int", args, {{"default", Value::integer(0)}, {"base", Value::integer(10)}});
  if (v.is_undefined()) v.fail_undefined();
  if (v.is_string()) {
    int64_t out;
    if (parse_int(v.str(), int_arg(a[1], "base"), out)) return Value::integer(out);
    double d;
    if (parse_float(v.str(), d) && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
    return a[0];
  }
  if (v.is_integral()) return Value::integer(v.as_int());
  if (v.is_float()) {
    double d = v.as_double();
    if (std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
    return a[0];
  }
  return a[0];
}

Value do_float(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_float", args, {{"default", Value::real(0.0)}});
  if (v.is_undefined()) v.fail_undefined();
  if (v.is_number()) return Value::real(v.as_double());
  if (v.is_string()) {
    double d;
    if (parse_float(v.str(), d)) return Value::real(d);
  }
  return a[0];
}

Value do_abs(Interpreter&, const Value& v, Args& args) {
  bind_args("abs", args, {});
  if (v.is_integral()) {
    if (v.as_int() == INT64_MIN) raise("OverflowError", "integer result does not fit in 64 bits");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_float()) return Value::real(std::fabs(v.as_double()));
  raise("TypeError", "bad operand type for abs(): '" + type_name(v) + "'");
}

Value do_attr(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_attr", args, {{"name", Value(), true}});
  if (!a[0].is_string()) raise("TypeError", "attribute name must be string, not '" + type_name(a[0]) + "'");
  const std::string& name = a[0].str();
  if (v.is_undefined()) v.fail_undefined();
  // Only real attributes, never items: {"x": 1}|attr("x") is undefined.
  bool exists = v.is_object() ? !in.getattr(v, name).is_undefined() : !method_attr(v, name).is_undefined() ||
                                                                          method_attr(v, name).undefined_info();
  if (!exists) return Value::undefined_attr(v, a[0]);
  return in.getattr(v, name);
}

Value do_string_case(const Value& v, Args& args, const char* fn, std::string (*f)(std::string_view)) {
  bind_args(fn, args, {});
  Value s = soft_str(v);
  return same_kind(s, f(s.str()));
}
Value do_upper(Interpreter&, const Value& v, Args& a) { return do_string_case(v, a, "do_upper", text::upper); }
Value do_lower(Interpreter&, const Value& v, Args& a) { return do_string_case(v, a, "do_lower", text::lower); }
Value do_capitalize(Interpreter&, const Value& v, Args& a) {
  return do_string_case(v, a, "do_capitalize", text::capitalize);
}

// jinja2's title: split before runs of [-\s({\[<], upper-case the first character of each piece.
Value do_title(Interpreter&, const Value& v, Args& args) {
  bind_args("do_title", args, {});
  Value s = soft_str(v);
  std::u32string u = text::decode(s.str());
  auto sep = [](char32_t c) { return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || uni::is_space(c); };
  std::string out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    bool is_sep = sep(u[i]);
    while (j < u.size() && sep(u[j]) == is_sep) ++j;
    std::u32string_view piece(u.data() + i, j - i);
    if (is_sep) {
      out += text::encode(piece);
    } else {
      out += text::upper(text::encode(piece.substr(0, 1))) + text::lower(text::encode(piece.substr(1)));
    }
    i = j;
  }
  return Value::string(std::move(out));  // "".join(...) of Markup pieces is a plain str
}

Value do_trim(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_trim", args, {{"chars", Value::none()}});
  Value s = soft_str(v);
  std::optional<std::string> chars;
  if (!a[0].is_none()) {
    if (!a[0].is_string()) raise("TypeError", "strip arg must be None or str");
    chars = a[0].str();
  }
  return same_kind(s, text::strip(s.str(), chars, true, true));
}

Value do_replace(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_replace", args, {{"old", Value(), true}, {"new", Value(), true}, {"count", Value::none()}});
  int64_t count = a[2].is_none() ? -1 : int_arg(a[2], "count");
  const std::string s = to_str(v), old = to_str(a[0]), with = to_str(a[1]);
  in.check_size(text::replaced_size(s, old, with, count));
  std::string out = text::replace(s, old, with, count);
  in.check_size(out.size());
  in.charge(out.size());
  return Value::string(std::move(out));
}

Value do_center(Interpreter& in, const Value& v, Args& args) {
  auto a = bind_args("do_center", args, {{"width", Value::integer(80)}});
  Value s = soft_str(v);
  int64_t width = int_arg(a[0], "width");
  in.check_size(static_cast<size_t>(std::max<int64_t>(0, width)));
  return same_kind(s, text::pad(s.str(), width, U' ', 0));
}

Value do_wordcount(Interpreter&, const Value& v, Args& args) {
  bind_args("do_wordcount", args, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : text::decode(to_str(v))) {
    bool w = uni::is_word(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::integer(n);
}

Value do_truncate(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_truncate", args, {{"length", Value::integer(255)}, {"killwords", Value::boolean(false)},
                                           {"end", Value::string("...")}, {"leeway", Value::none()}});
  int64_t len = int_arg(a[0], "length");
  int64_t leeway = a[3].is_none() ? 5 : int_arg(a[3], "leeway");
  std::string end = to_str(a[2]);
  int64_t end_len = static_cast<int64_t>(text::length(end));
  if (len < end_len) raise("AssertionError", "expected length >= " + std::to_string(end_len) + ", got " + std::to_string(len));
  if (leeway < 0) raise("AssertionError", "expected leeway >= 0, got " + std::to_string(leeway));
  if (length(v) <= len + leeway) return v;
  if (!v.is_string()) raise("TypeError", "ember's truncate handles strings only, not " + type_name(v));
  const std::string& s = v.str();
  std::string head = text::slice(s, std::nullopt, len - end_len, 1);
  if (truthy(a[1])) return Value::string(head + end);
  std::vector<std::string> parts = text::rsplit(head, std::string(" "), 1);
  return Value::string(parts[0] + end);
}

Value do_reverse(Interpreter&, const Value& v, Args& args) {
  bind_args("do_reverse", args, {});
  if (v.is_string()) return same_kind(v, text::slice(v.str(), std::nullopt, std::nullopt, -1));
  if (v.is_list() || v.is_tuple() || v.is_dict() || v.is_undefined()) {
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return make_generator(std::move(items), v.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
  }
  if (v.is_object() && v.obj().iterable()) {
    // reversed() refuses a generator; list(value) runs it, and its TypeError is reported as jinja2 does.
    std::vector<Value> items;
    try {
      items = iterate(v);
    } catch (const JinjaError& e) {
      if (e.type != "TypeError") throw;
      raise("FilterArgumentError", "argument must be iterable");
    }
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  raise("FilterArgumentError", "argument must be iterable");
}

Value do_string(Interpreter&, const Value& v, Args& args) {
  bind_args("soft_str", args, {});
  return soft_str(v);
}

Value do_safe(Interpreter&, const Value& v, Args& args) {
  bind_args("do_mark_safe", args, {});
  return Value::markup(to_str(v));
}

Value do_escape(Interpreter&, const Value& v, Args& args) {
  bind_args("escape", args, {});
  if (v.is_markup()) return v;
  return Value::markup(text::escape_html(to_str(v)));
}

Value do_forceescape(Interpreter&, const Value& v, Args& args) {
  bind_args("do_forceescape", args, {});
  return Value::markup(text::escape_html(to_str(v)));
}

Value do_format(Interpreter& in, const Value& v, Args& args) {
  if (!args.positional.empty() && !args.keywords.empty())
    raise("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
  Value params;
  if (!args.keywords.empty()) {
    params = Value::dict();
    for (auto& [k, val] : args.keywords) params.dict_data().set(k, val);
  } else {
    params = Value::tuple(args.positional);
  }
  Value s = soft_str(v);
  return same_kind(s, percent_format(in, s.str(), params, s.is_markup()));
}

Value do_filesizeformat(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_filesizeformat", args, {{"binary", Value::boolean(false)}});
  double bytes;
  if (v.is_undefined()) v.fail_undefined();
  if (v.is_number()) {
    bytes = v.as_double();
  } else if (!(v.is_string() && parse_float(v.str(), bytes))) {
    raise(v.is_string() ? "ValueError" : "TypeError", "could not convert to float: " + repr(v));
  }
  bool binary = truthy(a[0]);
  double base = binary ? 1024 : 1000;
  static const char* kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  static const char* kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  if (bytes == 1) return Value::string("1 Byte");
  if (bytes < base) return Value::string(std::to_string(static_cast<int64_t>(bytes)) + " Bytes");
  double unit = base;
  for (int i = 0; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    if (bytes < unit || i == 7) {
      char buf[400];
      auto r = std::to_chars(buf, buf + sizeof buf, base * bytes / unit, std::chars_format::fixed, 1);
      return Value::string(std::string(buf, r.ptr) + " " + (binary ? kBinary[i] : kDecimal[i]));
    }
  }
  return Value::string("");
}

// urllib.parse.quote with jinja2's url_quote conventions.
std::string url_quote(const std::string& s, bool for_qs) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-' || c == '~' || (!for_qs && c == '/');
    if (safe) {
      out.push_back(static_cast<char>(c));
    } else if (for_qs && c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

Value do_urlencode(Interpreter&, const Value& v, Args& args) {
  bind_args("do_urlencode", args, {});
  if (v.is_string() || !(v.is_list() || v.is_tuple() || v.is_dict())) return Value::string(url_quote(to_str(v), false));
  std::vector<Value> pairs;
  if (v.is_dict()) {
    for (const auto& [k, val] : v.dict_data().entries()) pairs.push_back(Value::tuple({k, val}));
  } else {
    pairs = v.items();
  }
  std::string out;
  for (const Value& p : pairs) {
    std::vector<Value> kv = iterate(p);
    if (kv.size() != 2) raise("ValueError", "too many values to unpack (expected 2)");
    if (!out.empty()) out += "&";
    out += url_quote(to_str(kv[0]), true) + "=" + url_quote(to_str(kv[1]), true);
  }
  return Value::string(out);
}

Value do_xmlattr(Interpreter&, const Value& v, Args& args) {
  auto a = bind_args("do_xmlattr", args, {{"autospace", Value::boolean(true)}});
  if (v.is_undefined()) v.fail_undefined();
  if (!v.is_dict()) raise("AttributeError", "'" + type_name(v) + "' object has no attribute 'items'");
  std::string rv;
  for (const auto& [k, val] : v.dict_data().entries()) {
    if (val.is_none() || val.is_undefined()) continue;
    std::string key = to_str(k);
    for (char32_t c : text::decode(key))
      if (uni::is_space(c) || c == '/' || c == '>' || c == '=')
        raise("ValueError", "Invalid character in attribute name: " + text::repr(key));
    if (!rv.empty()) rv += " ";
    rv += text::escape_html(key) + "=\"" + text::escape_html(to_str(val)) + "\"";
  }
  if (truthy(a[0]) && !rv.empty()) rv = " " + rv;
  return Value::string(rv);
}

Value unsupported(const char* name) {
  raise("TemplateError", std::string("the '") + name + "' filter is not supported by ember");
}
Value do_pprint(Interpreter&, const Value&, Args&) { return unsupported("pprint"); }
Value do_random(Interpreter&, const Value&, Args&) { return unsupported("random"); }
Value do_striptags(Interpreter&, const Value&, Args&) { return unsupported("striptags"); }
Value do_urlize(Interpreter&, const Value&, Args&) { return unsupported("urlize"); }
Value do_wordwrap(Interpreter&, const Value&, Args&) { return unsupported("wordwrap"); }

const std::unordered_map<std::string_view, FilterFn>& filter_table() {
  static const std::unordered_map<std::string_view, FilterFn> table = {
      {"abs", do_abs},           {"attr", do_attr},         {"batch", do_batch},
      {"capitalize", do_capitalize}, {"center", do_center}, {"count", do_length},
      {"d", do_default},         {"default", do_default},   {"dictsort", do_dictsort},
      {"e", do_escape},          {"escape", do_escape},     {"filesizeformat", do_filesizeformat},
      {"first", do_first},       {"float", do_float},       {"forceescape", do_forceescape},
      {"format", do_format},     {"groupby", do_groupby},   {"indent", do_indent},
      {"int", do_int},           {"join", do_join},         {"last", do_last},
      {"length", do_length},     {"list", do_list},         {"lower", do_lower},
      {"items", do_items},       {"map", do_map},           {"min", do_min},
      {"max", do_max},           {"pprint", do_pprint},     {"random", do_random},
      {"reject", do_reject},     {"rejectattr", do_rejectattr}, {"replace", do_replace},
      {"reverse", do_reverse},   {"round", do_round},       {"safe", do_safe},
      {"select", do_select},     {"selectattr", do_selectattr}, {"slice", do_slice},
      {"sort", do_sort},         {"string", do_string},     {"striptags", do_striptags},
      {"sum", do_sum},           {"title", do_title},       {"trim", do_trim},
      {"truncate", do_truncate}, {"unique", do_unique},     {"upper", do_upper},
      {"urlencode", do_urlencode}, {"urlize", do_urlize},   {"wordcount", do_wordcount},
      {"wordwrap", do_wordwrap}, {"xmlattr", do_xmlattr},   {"tojson", do_tojson},
  };
  return table;
}

}  // namespace

Value call_filter(Interpreter& in, const std::string& name, const Value& input, Args& args) {
  const auto& table = filter_table();
  auto it = table.find(name);
  if (it == table.end()) raise("TemplateRuntimeError", "No filter named '" + name + "' found.");
  return it->second(in, input, args);
}

}  // namespace ember::jinja
