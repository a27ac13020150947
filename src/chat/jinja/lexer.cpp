#include "chat/jinja/lexer.h"

#include <cerrno>
#include <cstdlib>

#include "chat/jinja/text.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value.h"

namespace ember::jinja {

namespace {

[[noreturn]] void syntax_error(int line, std::string message) {
  throw JinjaError{"TemplateSyntaxError", std::move(message), line};
}

// The code point starting at s[pos] and its length in bytes (invalid bytes
// stand alone, as U+DC80 + byte).
std::pair<char32_t, size_t> cp_at(std::string_view s, size_t pos) {
  unsigned char b = static_cast<unsigned char>(s[pos]);
  if (b < 0x80) return {b, 1};
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  std::u32string u = text::decode(s.substr(pos, std::min(len, s.size() - pos)));
  if (u.size() == 1) return {u[0], len};
  return {u[0], 1};
}

size_t space_len(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  auto [cp, len] = cp_at(s, pos);
  return uni::is_space(cp) ? len : 0;
}

size_t skip_spaces(std::string_view s, size_t pos) {
  while (size_t n = space_len(s, pos)) pos += n;
  return pos;
}

// Python's str.rstrip(): the length of s without trailing whitespace.
size_t rstrip_len(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    auto [cp, len] = cp_at(s, start);
    if (start + len != end) {  // a stray continuation byte: not whitespace
      break;
    }
    if (!uni::is_space(cp)) break;
    end = start;
  }
  return end;
}

bool all_space(std::string_view s) {
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t n = space_len(s, pos);
    if (!n) return false;
    pos += n;
  }
  return true;
}

int count_newlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool starts_with(std::string_view s, size_t pos, std::string_view what) {
  return s.substr(pos, what.size()) == what;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// jinja2 decodes string literals with Python's "unicode-escape" codec after
// turning non-ASCII characters into backslash escapes; this does the same.
std::string decode_string_literal(std::string_view body, int line) {
  std::string ascii;
  for (char32_t cp : text::decode(body)) {
    char buf[16];
    if (cp < 0x80) {
      ascii.push_back(static_cast<char>(cp));
      continue;
    }
    if (cp <= 0xFF)
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
    else if (cp <= 0xFFFF)
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    else
      std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
    ascii += buf;
  }
  std::u32string out;
  for (size_t i = 0; i < ascii.size(); ++i) {
    char c = ascii[i];
    if (c != '\\') {
      out.push_back(static_cast<unsigned char>(c));
      continue;
    }
    if (++i >= ascii.size()) syntax_error(line, "\\ at end of string");
    c = ascii[i];
    switch (c) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back(7); break;
      case 'b': out.push_back(8); break;
      case 'f': out.push_back(12); break;
      case 'n': out.push_back(10); break;
      case 'r': out.push_back(13); break;
      case 't': out.push_back(9); break;
      case 'v': out.push_back(11); break;
      case 'x':
      case 'u':
      case 'U': {
        int digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        char32_t v = 0;
        for (int k = 0; k < digits; ++k) {
          int h = i + 1 < ascii.size() ? hex_value(ascii[i + 1]) : -1;
          if (h < 0) {
            syntax_error(line, c == 'x' ? "truncated \\xXX escape"
                               : c == 'u' ? "truncated \\uXXXX escape"
                                          : "truncated \\UXXXXXXXX escape");
          }
          v = v * 16 + static_cast<char32_t>(h);
          ++i;
        }
        if (v > 0x10FFFF) syntax_error(line, "illegal Unicode character");
        out.push_back(v);
        break;
      }
      case 'N': syntax_error(line, "\\N{...} escapes are not supported");
      default:
        if (c >= '0' && c <= '7') {
          char32_t v = static_cast<char32_t>(c - '0');
          for (int k = 0; k < 2 && i + 1 < ascii.size() && ascii[i + 1] >= '0' && ascii[i + 1] <= '7'; ++k)
            v = v * 8 + static_cast<char32_t>(ascii[++i] - '0');
          out.push_back(v);
        } else {
          out.push_back('\\');
          out.push_back(static_cast<unsigned char>(c));
        }
    }
  }
  return text::encode(out);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// (\d+_)*\d+ at pos: the end, or pos when absent.
size_t match_digits(std::string_view s, size_t pos) {
  size_t p = pos;
  if (p >= s.size() || !is_digit(s[p])) return pos;
  while (true) {
    while (p < s.size() && is_digit(s[p])) ++p;
    if (p + 1 < s.size() && s[p] == '_' && is_digit(s[p + 1])) {
      ++p;
      continue;
    }
    return p;
  }
}

// jinja2's float_re at pos; returns the end or pos.
size_t match_float(std::string_view s, size_t pos) {
  if (pos > 0 && s[pos - 1] == '.') return pos;
  size_t p = match_digits(s, pos);
  if (p == pos) return pos;
  auto exponent = [&](size_t q) -> size_t {
    if (q < s.size() && (s[q] == 'e' || s[q] == 'E')) {
      size_t r = q + 1;
      if (r < s.size() && (s[r] == '+' || s[r] == '-')) ++r;
      size_t e = match_digits(s, r);
      if (e != r) return e;
    }
    return 0;
  };
  size_t frac_end = 0;
  if (p < s.size() && s[p] == '.') {
    size_t f = match_digits(s, p + 1);
    if (f != p + 1) frac_end = f;
  }
  if (frac_end) {
    if (size_t e = exponent(frac_end)) return e;
    return frac_end;
  }
  if (size_t e = exponent(p)) return e;
  return pos;
}

// jinja2's integer_re at pos; returns the end or pos.
size_t match_integer(std::string_view s, size_t pos, int& base) {
  auto run = [&](size_t p, auto ok) -> size_t {  // (_?[class])+ starting at p
    size_t q = p;
    while (true) {
      size_t r = q;
      if (r < s.size() && s[r] == '_') ++r;
      if (r < s.size() && ok(s[r])) {
        q = r + 1;
      } else {
        return q;
      }
    }
  };
  if (pos + 1 < s.size() && s[pos] == '0') {
    char p = static_cast<char>(s[pos + 1] | 0x20);
    if (p == 'b' || p == 'o' || p == 'x') {
      auto ok = [p](char c) {
        if (p == 'b') return c == '0' || c == '1';
        if (p == 'o') return c >= '0' && c <= '7';
        return hex_value(c) >= 0;
      };
      size_t e = run(pos + 2, ok);
      if (e != pos + 2) {
        base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
        return e;
      }
    }
  }
  base = 10;
  if (pos >= s.size()) return pos;
  if (s[pos] >= '1' && s[pos] <= '9') return run(pos + 1, is_digit);
  if (s[pos] == '0') return run(pos + 1, [](char c) { return c == '0'; });
  return pos;
}

// Operators, longest first as jinja2 sorts them.
constexpr std::string_view kOperators[] = {"**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                           "]",  "(",  ")",  "{",  "}",  ">",  "<", "=", ".", ":", "|", ",", ";"};

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& options) : s_(std::move(source)), opt_(options) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) lex_root();
    push(Tok::Eof, "");
    return std::move(out_);
  }

 private:
  void push(Tok type, std::string text) { out_.push_back(Token{type, std::move(text), line_, 0, 0}); }

  // Data up to the next tag, then the tag.
  void lex_root() {
    std::string_view s = s_;
    size_t i = pos_;
    char kind = 0;
    for (; i + 1 < s.size(); ++i) {
      if (s[i] == '{' && (s[i + 1] == '{' || s[i + 1] == '%' || s[i + 1] == '#')) {
        kind = s[i + 1];
        break;
      }
    }
    if (!kind) {
      std::string_view rest = s.substr(pos_);
      push(Tok::Data, std::string(rest));
      line_ += count_newlines(rest);
      pos_ = s.size();
      return;
    }
    std::string_view data = s.substr(pos_, i - pos_);
    size_t after = i + 2;
    char sign = 0;
    if (after < s.size() && (s[after] == '-' || s[after] == '+')) sign = s[after++];

    // {% raw %} is recognized before an ordinary block tag.
    size_t raw_end = 0;
    if (kind == '%') {
      size_t p = skip_spaces(s, after);
      if (starts_with(s, p, "raw")) {
        p = skip_spaces(s, p + 3);
        if (starts_with(s, p, "-%}")) {
          raw_end = skip_spaces(s, p + 3);
        } else if (starts_with(s, p, "%}")) {
          raw_end = p + 2;
        }
      }
    }

    int stripped_newlines = 0;
    if (sign == '-') {
      size_t keep = rstrip_len(data);
      stripped_newlines = count_newlines(data.substr(keep));
      data = data.substr(0, keep);
    } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
      size_t nl = data.rfind('\n');
      size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && all_space(data.substr(l_pos))) data = data.substr(0, l_pos);
    }
    if (!data.empty()) push(Tok::Data, std::string(data));
    line_ += count_newlines(data) + stripped_newlines;

    if (raw_end) {
      line_starting_ = s[raw_end - 1] == '\n';
      line_ += count_newlines(s.substr(i, raw_end - i));
      pos_ = raw_end;
      lex_raw();
      return;
    }
    line_starting_ = false;
    pos_ = after;
    if (kind == '#') {
      lex_comment();
    } else {
      lex_tag(kind == '{');
    }
  }

  void lex_comment() {
    std::string_view s = s_;
    int start_line = line_;
    for (size_t p = pos_; p < s.size(); ++p) {
      size_t end = 0;
      if (starts_with(s, p, "+#}")) {
        end = p + 3;
      } else if (starts_with(s, p, "-#}")) {
        end = skip_spaces(s, p + 3);
      } else if (starts_with(s, p, "#}")) {
        end = p + 2;
        if (opt_.trim_blocks && end < s.size() && s[end] == '\n') ++end;
      }
      if (end) {
        line_ += count_newlines(s.substr(pos_, end - pos_));
        line_starting_ = s[end - 1] == '\n';
        pos_ = end;
        return;
      }
    }
    syntax_error(start_line, "Missing end of comment tag");
  }

  void lex_raw() {
    std::string_view s = s_;
    for (size_t p = pos_; p + 1 < s.size(); ++p) {
      if (s[p] != '{' || s[p + 1] != '%') continue;
      size_t q = p + 2;
      char sign = 0;
      if (q < s.size() && (s[q] == '-' || s[q] == '+')) sign = s[q++];
      q = skip_spaces(s, q);
      if (!starts_with(s, q, "endraw")) continue;
      q = skip_spaces(s, q + 6);
      size_t end = 0;
      if (starts_with(s, q, "+%}")) {
        end = q + 3;
      } else if (starts_with(s, q, "-%}")) {
        end = skip_spaces(s, q + 3);
      } else if (starts_with(s, q, "%}")) {
        end = q + 2;
        if (opt_.trim_blocks && end < s.size() && s[end] == '\n') ++end;
      } else {
        continue;
      }
      std::string_view data = s.substr(pos_, p - pos_);
      int stripped_newlines = 0;
      if (sign == '-') {
        size_t keep = rstrip_len(data);
        stripped_newlines = count_newlines(data.substr(keep));
        data = data.substr(0, keep);
      } else if (sign != '+' && opt_.lstrip_blocks) {
        size_t nl = data.rfind('\n');
        size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting_) && all_space(data.substr(l_pos))) data = data.substr(0, l_pos);
      }
      if (!data.empty()) push(Tok::Data, std::string(data));
      line_ += count_newlines(data) + stripped_newlines;
      line_ += count_newlines(s.substr(p, end - p));
      line_starting_ = s[end - 1] == '\n';
      pos_ = end;
      return;
    }
    syntax_error(line_, "Missing end of raw directive");
  }

  // The inside of {{ … }} or {% … %}, up to and including the closing delimiter.
  void lex_tag(bool variable) {
    push(variable ? Tok::VarBegin : Tok::BlockBegin, "");
    std::string_view s = s_;
    std::vector<char> balance;
    while (pos_ < s.size()) {
      if (balance.empty()) {
        size_t end = 0;
        if (variable) {
          if (starts_with(s, pos_, "-}}")) {
            end = skip_spaces(s, pos_ + 3);
          } else if (starts_with(s, pos_, "}}")) {
            end = pos_ + 2;
          }
        } else {
          if (starts_with(s, pos_, "+%}")) {
            end = pos_ + 3;
          } else if (starts_with(s, pos_, "-%}")) {
            end = skip_spaces(s, pos_ + 3);
          } else if (starts_with(s, pos_, "%}")) {
            end = pos_ + 2;
            if (opt_.trim_blocks && end < s.size() && s[end] == '\n') ++end;
          }
        }
        if (end) {
          push(variable ? Tok::VarEnd : Tok::BlockEnd, "");
          line_ += count_newlines(s.substr(pos_, end - pos_));
          line_starting_ = s[end - 1] == '\n';
          pos_ = end;
          return;
        }
      }
      if (size_t p = skip_spaces(s, pos_); p != pos_) {
        line_ += count_newlines(s.substr(pos_, p - pos_));
        pos_ = p;
        continue;
      }
      if (size_t e = match_float(s, pos_); e != pos_) {
        std::string digits;
        for (char c : s.substr(pos_, e - pos_))
          if (c != '_') digits.push_back(c);
        push(Tok::Float, std::string(s.substr(pos_, e - pos_)));
        out_.back().float_value = std::strtod(digits.c_str(), nullptr);
        pos_ = e;
        continue;
      }
      int base = 10;
      if (size_t e = match_integer(s, pos_, base); e != pos_) {
        std::string digits;
        for (char c : s.substr(pos_ + (base == 10 ? 0 : 2), e - pos_ - (base == 10 ? 0 : 2)))
          if (c != '_') digits.push_back(c);
        errno = 0;
        unsigned long long v = std::strtoull(digits.c_str(), nullptr, base);
        if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
          syntax_error(line_, "integer literal " + std::string(s.substr(pos_, e - pos_)) + " is too large (ember's integers are 64-bit)");
        push(Tok::Integer, std::string(s.substr(pos_, e - pos_)));
        out_.back().int_value = static_cast<int64_t>(v);
        pos_ = e;
        continue;
      }
      if (size_t e = match_name(pos_); e != pos_) {
        std::string name(s.substr(pos_, e - pos_));
        if (!text::is(name, text::Pred::Identifier)) syntax_error(line_, "Invalid character in identifier");
        push(Tok::Name, std::move(name));
        pos_ = e;
        continue;
      }
      if (s[pos_] == '\'' || s[pos_] == '"') {
        char q = s[pos_];
        size_t p = pos_ + 1;
        while (p < s.size() && s[p] != q) p += s[p] == '\\' && p + 1 < s.size() ? 2 : 1;
        if (p >= s.size()) syntax_error(line_, std::string("unexpected char ") + text::repr(std::string(1, q)) + " at " + std::to_string(pos_));
        std::string_view body = s.substr(pos_ + 1, p - pos_ - 1);
        push(Tok::String, decode_string_literal(body, line_));
        line_ += count_newlines(body);
        pos_ = p + 1;
        continue;
      }
      bool matched = false;
      for (std::string_view op : kOperators) {
        if (!starts_with(s, pos_, op)) continue;
        if (op == "{" || op == "(" || op == "[") {
          balance.push_back(op == "{" ? '}' : op == "(" ? ')' : ']');
        } else if (op == "}" || op == ")" || op == "]") {
          if (balance.empty()) syntax_error(line_, "unexpected '" + std::string(op) + "'");
          char expected = balance.back();
          balance.pop_back();
          if (expected != op[0])
            syntax_error(line_, "unexpected '" + std::string(op) + "', expected '" + std::string(1, expected) + "'");
        }
        push(Tok::Op, std::string(op));
        pos_ += op.size();
        matched = true;
        break;
      }
      if (!matched) {
        auto [cp, len] = cp_at(s, pos_);
        std::string ch;
        text::append_utf8(ch, cp);
        syntax_error(line_, "unexpected char " + text::repr(ch) + " at " + std::to_string(pos_));
      }
    }
    // The source ended inside the tag: the parser reports it.
  }

  size_t match_name(size_t pos) const {
    std::string_view s = s_;
    size_t p = pos;
    while (p < s.size()) {
      auto [cp, len] = cp_at(s, p);
      if (!(cp == '_' || uni::has(cp, uni::kIdContinue))) break;
      p += len;
    }
    return p;
  }

  std::string s_;
  LexOptions opt_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;
};

// jinja2 turns \r\n and \r into \n and drops one trailing newline.
std::string normalize_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(normalize_newlines(source), options).run();
}

}  // namespace ember::jinja
