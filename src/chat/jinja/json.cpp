#include "chat/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

using Json = nlohmann::ordered_json;

// nlohmann's parser recurses once per nesting level; values may nest kMaxValueDepth.
constexpr int kMaxJsonDepth = 500;

Value from_json(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return Value::none();
    case Json::value_t::boolean: return Value::boolean(j.get<bool>());
    case Json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      // Python keeps big integers exact; ember's are 64-bit.
      return u <= static_cast<uint64_t>(INT64_MAX) ? Value::integer(static_cast<int64_t>(u))
                                                   : Value::real(static_cast<double>(u));
    }
    case Json::value_t::number_float: return Value::real(j.get<double>());
    case Json::value_t::string: return Value::string(j.get<std::string>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(from_json(x));
      return Value::list(std::move(items));
    }
    case Json::value_t::object: {
      Value d = Value::dict();
      for (const auto& [k, v] : j.items()) d.dict_data().set(Value::string(k), from_json(v));
      return d;
    }
    default: return Value::none();
  }
}

void append_json_string(std::string& out, const std::string& s, bool ensure_ascii) {
  out.push_back('"');
  static const char* hex = "0123456789abcdef";
  auto u_escape = [&](uint32_t c) {
    out += "\\u";
    for (int k = 3; k >= 0; --k) out.push_back(hex[(c >> (4 * k)) & 0xF]);
  };
  auto simple = [&](unsigned char c) -> bool {
    switch (c) {
      case '"': out += "\\\""; return true;
      case '\\': out += "\\\\"; return true;
      case '\n': out += "\\n"; return true;
      case '\r': out += "\\r"; return true;
      case '\t': out += "\\t"; return true;
      case '\b': out += "\\b"; return true;
      case '\f': out += "\\f"; return true;
      default: return false;
    }
  };
  if (!ensure_ascii) {
    for (char ch : s) {
      unsigned char c = static_cast<unsigned char>(ch);
      if (simple(c)) continue;
      if (c < 0x20) {
        u_escape(c);
      } else {
        out.push_back(ch);
      }
    }
  } else {
    for (char32_t c : text::decode(s)) {
      if (c < 0x80 && simple(static_cast<unsigned char>(c))) continue;
      if (c >= 0x20 && c < 0x7F) {
        out.push_back(static_cast<char>(c));
      } else if (c < 0x10000) {
        u_escape(c);
      } else {
        uint32_t v = c - 0x10000;
        u_escape(0xD800 + (v >> 10));
        u_escape(0xDC00 + (v & 0x3FF));
      }
    }
  }
  out.push_back('"');
}

std::string float_json(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return float_repr(d);
}

class Writer {
 public:
  explicit Writer(const JsonOptions& o) : o_(o) {
    sep_ = o.item_separator ? *o.item_separator : o.indent ? "," : ", ";
  }

  void write(const Value& v, int level) {
    if (level > kMaxJsonDepth) raise("ValueError", "Circular reference detected");
    switch (v.kind()) {
      case Kind::None: out += "null"; return;
      case Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
      case Kind::Int: out += std::to_string(v.as_int()); return;
      case Kind::Float: out += float_json(v.as_double()); return;
      case Kind::String: append_json_string(out, v.str(), o_.ensure_ascii); return;
      case Kind::List:
      case Kind::Tuple:
        if (v.tag() != Tag::None && v.tag() != Tag::GroupTuple) break;
        write_array(v.items(), level);
        return;
      case Kind::Dict: write_object(v.dict_data(), level); return;
      default: break;
    }
    raise("TypeError", "Object of type " + type_name(v) + " is not JSON serializable");
  }

  std::string out;

 private:
  void newline(int level) {
    if (!o_.indent) return;
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += *o_.indent;
  }

  void write_array(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    newline(level + 1);
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) {
        out += sep_;
        newline(level + 1);
      }
      write(items[i], level + 1);
    }
    newline(level);
    out.push_back(']');
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::String: return k.str();
      case Kind::Float: return float_json(k.as_double());
      case Kind::Bool: return k.as_bool() ? "true" : "false";
      case Kind::Int: return std::to_string(k.as_int());
      case Kind::None: return "null";
      default: raise("TypeError", "keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void write_object(const DictData& d, int level) {
    if (d.size() == 0) {
      out += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : d.entries()) entries.push_back(&e);
    if (o_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return compare(a->first, b->first) < 0; });
    }
    out.push_back('{');
    newline(level + 1);
    bool first = true;
    for (const auto* e : entries) {
      if (!first) {
        out += sep_;
        newline(level + 1);
      }
      first = false;
      append_json_string(out, key_text(e->first), o_.ensure_ascii);
      out += o_.key_separator;
      write(e->second, level + 1);
    }
    newline(level);
    out.push_back('}');
  }

  const JsonOptions& o_;
  std::string sep_;
};

}  // namespace

Value parse_json(std::string_view text) {
  int depth = 0, max_depth = 0;
  // Reject deep nesting before nlohmann's recursive parser sees it.
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  if (max_depth > kMaxJsonDepth) throw std::invalid_argument("JSON nested more than 500 levels deep");
  try {
    return from_json(Json::parse(text.begin(), text.end()));
  } catch (const Json::exception& e) {
    throw std::invalid_argument(e.what());
  }
}

std::string to_json(const Value& v, const JsonOptions& options) {
  Writer w(options);
  w.write(v, 0);
  return std::move(w.out);
}

}  // namespace ember::jinja
