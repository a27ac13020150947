// Python's two string formatting mini-languages: `fmt % args` (the format
// filter and the % operator) and str.format (as jinja2's sandbox runs it).
// Numbers are formatted with std::to_chars, which ignores the C locale.
#include <charconv>
#include <cmath>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/text.h"

namespace ember::jinja {

namespace {

std::string chars(double d, std::chars_format f, int precision) {
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof buf, d, f, precision);
  if (r.ec != std::errc()) raise("ValueError", "number too large to format");
  return std::string(buf, r.ptr);
}

// d formatted as printf's %e/%f/%g (and Python's) would: no sign for the
// magnitude; `alt` keeps the decimal point and trailing zeros.
std::string format_float(double d, char type, int precision, bool alt) {
  bool upper = type == 'E' || type == 'F' || type == 'G';
  std::string s;
  if (std::isnan(d)) {
    s = "nan";
  } else if (std::isinf(d)) {
    s = "inf";
  } else {
    switch (type) {
      case 'e':
      case 'E':
        s = chars(d, std::chars_format::scientific, precision);
        if (alt && precision == 0) s.insert(s.find('e'), ".");
        break;
      case 'f':
      case 'F':
        s = chars(d, std::chars_format::fixed, precision);
        if (alt && precision == 0) s += ".";
        break;
      default: {  // g
        int p = precision == 0 ? 1 : precision;
        if (!alt) {
          s = chars(d, std::chars_format::general, p);
        } else {
          // %#g keeps trailing zeros: choose the style as %g does, then format.
          std::string e = chars(d, std::chars_format::scientific, p - 1);
          int exp = std::atoi(e.c_str() + e.find('e') + 1);
          if (exp < -4 || exp >= p) {
            s = e;
            if (p == 1) s.insert(s.find('e'), ".");
          } else {
            s = chars(d, std::chars_format::fixed, p - 1 - exp);
            if (s.find('.') == std::string::npos) s += ".";
          }
        }
      }
    }
  }
  if (!s.empty() && s[0] == '-') s.erase(0, 1);
  if (upper) s = text::upper(s);
  return s;
}

std::string group_digits(const std::string& digits, char sep, size_t every) {
  std::string out;
  size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i && (n - i) % every == 0) out.push_back(sep);
    out.push_back(digits[i]);
  }
  return out;
}

std::string to_base(uint64_t v, int base, bool upper) {
  if (v == 0) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string s;
  while (v) {
    s.insert(s.begin(), digits[v % static_cast<uint64_t>(base)]);
    v /= static_cast<uint64_t>(base);
  }
  return s;
}

uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v); }

// ascii(): repr with non-ASCII characters escaped.
std::string ascii_repr(const Value& v) {
  std::string r = repr(v), out;
  for (char32_t c : text::decode(r)) {
    char buf[16];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      if (c <= 0xFF)
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      else if (c <= 0xFFFF)
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      else
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

// --- fmt % args ---------------------------------------------------------------------

std::string percent_one(Interpreter& in, char conv, const Value& v, const std::string& flags, int width,
                        int precision) {
  bool left = flags.find('-') != std::string::npos, zero = flags.find('0') != std::string::npos,
       plus = flags.find('+') != std::string::npos, space = flags.find(' ') != std::string::npos,
       alt = flags.find('#') != std::string::npos;
  auto pad = [&](std::string body, std::string sign_prefix, bool numeric) {
    std::string s = sign_prefix + body;
    int64_t len = static_cast<int64_t>(text::length(s));
    if (len >= width) return s;
    size_t fill = static_cast<size_t>(width - len);
    if (left) return s + std::string(fill, ' ');
    if (zero && numeric) return sign_prefix + std::string(fill, '0') + body;
    return std::string(fill, ' ') + s;
  };
  auto sign_of = [&](bool negative) { return std::string(negative ? "-" : plus ? "+" : space ? " " : ""); };
  switch (conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = conv == 's' ? to_str(v) : conv == 'r' ? repr(v) : ascii_repr(v);
      if (precision >= 0) s = text::slice(s, std::nullopt, precision, 1);
      return pad(s, "", false);
    }
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X': {
      int64_t n;
      if (v.is_integral()) {
        n = v.as_int();
      } else if (v.is_float() && (conv == 'd' || conv == 'i' || conv == 'u')) {
        double d = v.as_double();
        if (!std::isfinite(d)) raise(std::isnan(d) ? "ValueError" : "OverflowError", "cannot convert float " + float_repr(d) + " to integer");
        if (std::fabs(d) >= 9.2e18) raise("OverflowError", "integer too large for ember's 64-bit integers");
        n = static_cast<int64_t>(d);
      } else {
        if (v.is_undefined()) v.fail_undefined();
        raise("TypeError", std::string("%") + conv + " format: " +
                               (conv == 'd' || conv == 'i' || conv == 'u' ? "a real number" : "an integer") +
                               " is required, not " + type_name(v));
      }
      std::string digits = conv == 'o' ? to_base(magnitude(n), 8, false)
                         : conv == 'x' || conv == 'X' ? to_base(magnitude(n), 16, conv == 'X')
                                                      : std::to_string(magnitude(n));
      if (precision >= 0 && static_cast<int>(digits.size()) < precision)
        digits.insert(0, static_cast<size_t>(precision) - digits.size(), '0');
      std::string prefix = sign_of(n < 0);
      if (alt && conv == 'o') prefix += "0o";
      if (alt && (conv == 'x' || conv == 'X')) prefix += conv == 'x' ? "0x" : "0X";
      return pad(digits, prefix, true);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (!v.is_number()) {
        if (v.is_undefined()) v.fail_undefined();
        raise("TypeError", "must be real number, not " + type_name(v));
      }
      double d = v.as_double();
      std::string body = format_float(d, conv, precision < 0 ? 6 : precision, alt);
      bool numeric = std::isfinite(d);
      return pad(body, sign_of(std::signbit(d) && !std::isnan(d)), numeric);
    }
    case 'c': {
      std::string s;
      if (v.is_integral()) {
        if (v.as_int() < 0 || v.as_int() > 0x10FFFF) raise("OverflowError", "%c arg not in range(0x110000)");
        text::append_utf8(s, static_cast<char32_t>(v.as_int()));
      } else if (v.is_string() && text::length(v.str()) == 1) {
        s = v.str();
      } else {
        raise("TypeError", "%c requires int or char");
      }
      return pad(s, "", false);
    }
    default: break;
  }
  (void)in;
  raise("ValueError", std::string("unsupported format character '") + conv + "'");
}

}  // namespace

std::string percent_format(Interpreter& in, const std::string& fmt, const Value& args, bool markup) {
  std::vector<Value> positional;
  bool single = !args.is_tuple();
  if (single)
    positional.push_back(args);
  else
    positional = args.items();
  const bool mapping = args.is_dict();
  // CPython treats any non-tuple, non-str argument with __getitem__ as a mapping:
  // leaving it unused is no error.
  const bool mapping_like = mapping || args.is_list() || args.is_undefined();
  size_t next = 0;
  bool used_mapping = false;
  auto next_arg = [&]() -> Value {
    if (next >= positional.size()) raise("TypeError", "not enough arguments for format string");
    return positional[next++];
  };
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out.push_back(fmt[i]);
      continue;
    }
    if (++i >= fmt.size()) raise("ValueError", "incomplete format");
    if (fmt[i] == '%') {
      out.push_back('%');
      continue;
    }
    Value key_value;
    bool have_key = false;
    if (fmt[i] == '(') {
      if (!mapping_like) raise("TypeError", "format requires a mapping");
      if (!mapping) raise("TypeError", type_name(args) + " indices must be integers or slices, not str");
      int depth = 1;
      size_t start = ++i;
      while (i < fmt.size() && depth) {
        if (fmt[i] == '(') ++depth;
        if (fmt[i] == ')') --depth;
        if (depth) ++i;
      }
      if (depth) raise("ValueError", "incomplete format key");
      std::string key = fmt.substr(start, i - start);
      ++i;
      const Value* v = args.dict_data().find(std::string_view(key));
      if (!v) raise("KeyError", text::repr(key));
      key_value = *v;
      have_key = used_mapping = true;
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) flags.push_back(fmt[i++]);
    auto read_num = [&](int& outv) {
      if (i < fmt.size() && fmt[i] == '*') {
        Value w = next_arg();
        if (!w.is_integral()) raise("TypeError", "* wants int");
        outv = static_cast<int>(w.as_int());
        ++i;
        return;
      }
      int64_t v = 0;
      bool any = false;
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        v = v * 10 + (fmt[i++] - '0');
        if (v > 100000) raise("ValueError", "width too big");
        any = true;
      }
      if (any) outv = static_cast<int>(v);
    };
    int width = -1, precision = -1;
    read_num(width);
    if (width < -1) {
      flags.push_back('-');
      width = -width;
    }
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = 0;
      read_num(precision);
    }
    while (i < fmt.size() && (fmt[i] == 'h' || fmt[i] == 'l' || fmt[i] == 'L')) ++i;
    if (i >= fmt.size()) raise("ValueError", "incomplete format");
    char conv = fmt[i];
    Value v = have_key ? key_value : next_arg();
    if (markup && (conv == 's' || conv == 'r' || conv == 'a')) {
      // markupsafe's _MarkupEscapeHelper: str() and repr() come out escaped.
      std::string t = conv == 's' ? to_str(v) : conv == 'r' ? repr(v) : ascii_repr(v);
      if (!(conv == 's' && v.is_markup())) t = text::escape_html(t);
      out += percent_one(in, 's', Value::string(std::move(t)), flags, width, precision);
    } else {
      out += percent_one(in, conv, v, flags, width, precision);
    }
    in.check_size(out.size());
  }
  if (!used_mapping && next < positional.size() && !mapping_like)
    raise("TypeError", "not all arguments converted during string formatting");
  return out;
}

// --- str.format ---------------------------------------------------------------------

namespace {

struct Spec {
  char32_t fill = ' ';
  char align = 0;
  char sign = 0;
  bool alt = false, zero = false;
  int64_t width = -1;
  char grouping = 0;
  int precision = -1;
  char type = 0;
};

Spec parse_spec(const std::string& s) {
  Spec sp;
  std::u32string u = text::decode(s);
  size_t i = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '=' || c == '^'; };
  if (u.size() >= 2 && is_align(u[1])) {
    sp.fill = u[0];
    sp.align = static_cast<char>(u[1]);
    i = 2;
  } else if (!u.empty() && is_align(u[0])) {
    sp.align = static_cast<char>(u[0]);
    i = 1;
  }
  if (i < u.size() && (u[i] == '+' || u[i] == '-' || u[i] == ' ')) sp.sign = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == 'z') ++i;
  if (i < u.size() && u[i] == '#') sp.alt = true, ++i;
  if (i < u.size() && u[i] == '0') {
    sp.zero = true;
    if (!sp.align) sp.fill = '0', sp.align = '=';
    ++i;
  }
  int64_t w = 0;
  bool any = false;
  while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
    w = w * 10 + (u[i++] - '0');
    if (w > 100000) raise("ValueError", "Too many decimal digits in format string");
    any = true;
  }
  if (any) sp.width = w;
  if (i < u.size() && (u[i] == ',' || u[i] == '_')) sp.grouping = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '.') {
    ++i;
    int64_t p = 0;
    any = false;
    while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
      p = p * 10 + (u[i++] - '0');
      if (p > 100000) raise("ValueError", "Too many decimal digits in format string");
      any = true;
    }
    if (!any) raise("ValueError", "Format specifier missing precision");
    sp.precision = static_cast<int>(p);
  }
  if (i < u.size()) sp.type = static_cast<char>(u[i++]);
  if (i < u.size()) raise("ValueError", "Invalid format specifier '" + s + "' for object");
  return sp;
}

std::string align_text(const std::string& body, const std::string& sign_prefix, const Spec& sp, char default_align) {
  char align = sp.align ? sp.align : default_align;
  std::string s = sign_prefix + body;
  int64_t len = static_cast<int64_t>(text::length(s));
  if (sp.width <= len) return s;
  size_t fill = static_cast<size_t>(sp.width - len);
  std::string f;
  text::append_utf8(f, sp.fill);
  auto rep = [&](size_t n) {
    std::string r;
    for (size_t k = 0; k < n; ++k) r += f;
    return r;
  };
  switch (align) {
    case '<': return s + rep(fill);
    case '^': return rep(fill / 2) + s + rep(fill - fill / 2);
    case '=': return sign_prefix + rep(fill) + body;
    default: return rep(fill) + s;
  }
}

std::string format_value(const Value& v, const std::string& spec_text) {
  if (spec_text.empty()) return to_str(v);
  // object.__format__ takes no spec (Undefined has no __format__ of its own).
  if (!v.is_string() && !v.is_number())
    raise("TypeError", "unsupported format string passed to " + type_name(v) + ".__format__");
  Spec sp = parse_spec(spec_text);
  auto sign_of = [&](bool negative) { return std::string(negative ? "-" : sp.sign == '+' ? "+" : sp.sign == ' ' ? " " : ""); };
  if (v.is_string()) {
    if (sp.type && sp.type != 's') raise("ValueError", std::string("Unknown format code '") + sp.type + "' for object of type 'str'");
    if (sp.sign) raise("ValueError", "Sign not allowed in string format specifier");
    if (sp.align == '=') raise("ValueError", "'=' alignment not allowed in string format specifier");
    std::string s = v.str();
    if (sp.precision >= 0) s = text::slice(s, std::nullopt, sp.precision, 1);
    return align_text(s, "", sp, '<');
  }
  if (v.is_integral() && std::string_view("eEfFgG%").find(sp.type) == std::string_view::npos) {
    int64_t n = v.as_int();
    if (sp.precision >= 0) raise("ValueError", "Precision not allowed in integer format specifier");
    std::string digits, prefix = sign_of(n < 0);
    switch (sp.type) {
      case 0:
      case 'd':
      case 'n': digits = std::to_string(magnitude(n)); break;
      case 'b': digits = to_base(magnitude(n), 2, false); if (sp.alt) prefix += "0b"; break;
      case 'o': digits = to_base(magnitude(n), 8, false); if (sp.alt) prefix += "0o"; break;
      case 'x': digits = to_base(magnitude(n), 16, false); if (sp.alt) prefix += "0x"; break;
      case 'X': digits = to_base(magnitude(n), 16, true); if (sp.alt) prefix += "0X"; break;
      case 'c': {
        if (n < 0 || n > 0x10FFFF) raise("OverflowError", "%c arg not in range(0x110000)");
        std::string s;
        text::append_utf8(s, static_cast<char32_t>(n));
        return align_text(s, "", sp, '<');
      }
      default: raise("ValueError", std::string("Unknown format code '") + sp.type + "' for object of type 'int'");
    }
    if (sp.grouping) digits = group_digits(digits, sp.grouping, sp.type == 'b' || sp.type == 'o' || sp.type == 'x' || sp.type == 'X' ? 4 : 3);
    return align_text(digits, prefix, sp, '>');
  }
  if (v.is_number()) {
    double d = v.as_double();
    std::string body;
    char type = sp.type;
    if (type == '%') {
      body = format_float(d * 100, 'f', sp.precision < 0 ? 6 : sp.precision, sp.alt) + "%";
    } else if (type == 0 || type == 'n') {
      if (sp.precision < 0) {
        body = float_repr(std::fabs(d));
      } else {
        // Like 'g', but a fixed-point result keeps one decimal.
        body = format_float(d, 'g', sp.precision, sp.alt);
        if (std::isfinite(d) && body.find_first_of(".e") == std::string::npos) body += ".0";
      }
    } else if (std::string_view("eEfFgG").find(type) != std::string_view::npos) {
      body = format_float(d, type, sp.precision < 0 ? 6 : sp.precision, sp.alt);
    } else {
      raise("ValueError", std::string("Unknown format code '") + type + "' for object of type 'float'");
    }
    if (sp.grouping && std::isfinite(d)) {
      size_t end = body.find_first_of(".e%");
      if (end == std::string::npos) end = body.size();
      body = group_digits(body.substr(0, end), sp.grouping, 3) + body.substr(end);
    }
    return align_text(body, sign_of(std::signbit(d) && !std::isnan(d)), sp, '>');
  }
  if (v.is_undefined()) v.fail_undefined();
  raise("TypeError", "unsupported format string passed to " + type_name(v) + ".__format__");
}

}  // namespace

std::string str_format(Interpreter& in, const std::string& fmt, Args& args, bool markup) {
  std::string out;
  size_t auto_index = 0;
  bool manual = false, automatic = false;
  // Resolves a field name ("0", "name", "0.attr", "x[key]") to its value.
  auto field_value = [&](const std::string& field) -> Value {
    size_t end = field.find_first_of(".[");
    std::string first = field.substr(0, end);
    Value v;
    if (first.empty()) {
      if (manual) raise("ValueError", "cannot switch from manual field specification to automatic field numbering");
      automatic = true;
      size_t idx = auto_index++;
      if (idx >= args.positional.size())
        raise("IndexError", "Replacement index " + std::to_string(idx) + " out of range for positional args tuple");
      v = args.positional[idx];
    } else if (first.find_first_not_of("0123456789") == std::string::npos) {
      if (automatic) raise("ValueError", "cannot switch from automatic field numbering to manual field specification");
      manual = true;
      size_t idx = std::stoul(first.size() > 9 ? "999999999" : first);
      if (idx >= args.positional.size())
        raise("IndexError", "Replacement index " + std::to_string(idx) + " out of range for positional args tuple");
      v = args.positional[idx];
    } else {
      bool found = false;
      for (const auto& [k, val] : args.keywords)
        if (k == first) v = val, found = true;
      if (!found) raise("KeyError", text::repr(first));
    }
    size_t pos = end;
    while (pos != std::string::npos && pos < field.size()) {
      if (field[pos] == '.') {
        size_t next = field.find_first_of(".[", pos + 1);
        std::string attr = field.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        if (attr.empty()) raise("ValueError", "Empty attribute in format string");
        v = in.getattr(v, attr);
        pos = next;
      } else {
        size_t close = field.find(']', pos);
        if (close == std::string::npos) raise("ValueError", "Missing ']' in format string");
        std::string key = field.substr(pos + 1, close - pos - 1);
        if (key.empty()) raise("ValueError", "Empty attribute in format string");
        Value k = key.find_first_not_of("0123456789") == std::string::npos && key.size() < 18
                      ? Value::integer(std::stoll(key))
                      : Value::string(key);
        v = in.getitem(v, k);
        pos = close + 1;
        if (pos < field.size() && field[pos] != '.' && field[pos] != '[')
          raise("ValueError", "Only '.' or '[' may follow ']' in format field specifier");
      }
    }
    return v;
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out.push_back('}');
        ++i;
        continue;
      }
      raise("ValueError", "Single '}' encountered in format string");
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    // Find the matching '}' (the spec may hold one level of nested fields).
    size_t depth = 1, j = i + 1;
    while (j < fmt.size() && depth) {
      if (fmt[j] == '{') ++depth;
      if (fmt[j] == '}') --depth;
      if (depth) ++j;
    }
    if (depth) raise("ValueError", i + 1 == fmt.size() ? "Single '{' encountered in format string" : "expected '}' before end of string");
    std::string body = fmt.substr(i + 1, j - i - 1);
    i = j;
    size_t bang = std::string::npos, colon = std::string::npos;
    for (size_t k = 0, bracket = 0; k < body.size(); ++k) {
      if (body[k] == '[') bracket = 1;
      if (body[k] == ']') bracket = 0;
      if (bracket) continue;
      if (body[k] == '!' && bang == std::string::npos && colon == std::string::npos) bang = k;
      if (body[k] == ':' && colon == std::string::npos) {
        colon = k;
        break;
      }
    }
    std::string field = body.substr(0, std::min(bang, colon));
    std::string conversion = bang == std::string::npos ? "" : body.substr(bang + 1, (colon == std::string::npos ? body.size() : colon) - bang - 1);
    std::string spec = colon == std::string::npos ? "" : body.substr(colon + 1);
    if (spec.find('{') != std::string::npos) {
      Args nested_args = args;
      spec = str_format(in, spec, nested_args, false);
    }
    Value v = field_value(field);
    if (!conversion.empty()) {
      if (conversion == "r")
        v = Value::string(repr(v));
      else if (conversion == "s")
        v = Value::string(to_str(v));
      else if (conversion == "a")
        v = Value::string(ascii_repr(v));
      else
        raise("ValueError", "Unknown conversion specifier " + conversion);
    }
    if (markup && v.is_markup()) {
      if (!spec.empty()) raise("ValueError", "Unsupported format specification for Markup.");
      out += v.str();
    } else {
      std::string field_text = format_value(v, spec);
      out += markup ? text::escape_html(field_text) : field_text;
    }
    in.check_size(out.size());
  }
  return out;
}

}  // namespace ember::jinja
