#include "chat/jinja/text.h"

#include <algorithm>
#include <stdexcept>

#include "chat/jinja/unicode.h"

namespace ember::jinja::text {

namespace {

constexpr char32_t kSigma = 0x3A3;

bool is_surrogate_escape(char32_t cp) { return cp >= 0xDC80 && cp <= 0xDCFF; }

// Python's final-sigma rule: capital sigma lowers to ς at the end of a word.
bool final_sigma(const std::u32string& s, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = s[--j];
    if (!uni::has(c, uni::kCaseIgnorable)) {
      found = true;
      break;
    }
  }
  if (!found || !uni::is_cased(c)) return false;
  for (j = i + 1; j < s.size(); ++j) {
    if (!uni::has(s[j], uni::kCaseIgnorable)) return !uni::is_cased(s[j]);
  }
  return true;
}

void append_lower(std::u32string& out, const std::u32string& s, size_t i) {
  if (s[i] == kSigma) {
    out.push_back(final_sigma(s, i) ? 0x3C2 : 0x3C3);
    return;
  }
  uni::append_case(out, s[i], uni::Case::Lower);
}

std::u32string chars_of(const std::optional<std::string>& chars) {
  return chars ? decode(*chars) : std::u32string();
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
  if (is_surrogate_escape(cp)) {
    out.push_back(static_cast<char>(cp - 0xDC00));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    size_t len = 0;
    char32_t cp = 0, min = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, cp = b & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      out.push_back(0xDC00 + b);
      ++i;
    }
  }
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool is_ascii(std::string_view s) noexcept {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

size_t length(std::string_view s) noexcept {
  if (is_ascii(s)) return s.size();
  return decode(s).size();
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::u32string u = decode(s), set = chars_of(chars);
  auto strip_it = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : uni::is_space(c);
  };
  size_t a = 0, b = u.size();
  if (left)
    while (a < b && strip_it(u[a])) ++a;
  if (right)
    while (b > a && strip_it(u[b - 1])) --b;
  return encode(std::u32string_view(u).substr(a, b - a));
}

std::vector<std::string> split(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    if (sep->empty()) throw std::invalid_argument("empty separator");
    size_t pos = 0;
    while (maxsplit-- > 0) {
      size_t at = s.find(*sep, pos);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, at - pos));
      pos = at + sep->size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  std::u32string u = decode(s);
  size_t i = 0, n = u.size();
  while (true) {
    while (i < n && uni::is_space(u[i])) ++i;
    if (i == n) break;
    if (maxsplit-- <= 0) {  // the remainder keeps its trailing whitespace
      out.push_back(encode(std::u32string_view(u).substr(i)));
      break;
    }
    size_t j = i;
    while (j < n && !uni::is_space(u[j])) ++j;
    out.push_back(encode(std::u32string_view(u).substr(i, j - i)));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) return split(s, sep, maxsplit);
  if (sep) {
    if (sep->empty()) throw std::invalid_argument("empty separator");
    size_t end = s.size();
    while (maxsplit-- > 0) {
      if (end < sep->size()) break;
      size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  std::u32string u = decode(s);
  size_t j = u.size();
  while (true) {
    while (j > 0 && uni::is_space(u[j - 1])) --j;
    if (j == 0) break;
    if (maxsplit-- <= 0) {  // the remainder keeps its leading whitespace
      out.push_back(encode(std::u32string_view(u).substr(0, j)));
      break;
    }
    size_t i = j;
    while (i > 0 && !uni::is_space(u[i - 1])) --i;
    out.push_back(encode(std::u32string_view(u).substr(i, j - i)));
    j = i;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::u32string u = decode(s);
  std::vector<std::string> out;
  size_t i = 0, n = u.size();
  while (i < n) {
    size_t j = i;
    while (j < n) {
      char32_t c = u[j];
      if (c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
          c == 0x2028 || c == 0x2029)
        break;
      ++j;
    }
    size_t eol = j;
    if (j < n) {
      eol = (u[j] == '\r' && j + 1 < n && u[j + 1] == '\n') ? j + 2 : j + 1;
    }
    out.push_back(encode(std::u32string_view(u).substr(i, (keepends ? eol : j) - i)));
    i = eol;
  }
  return out;
}

std::string upper(std::string_view s) {
  std::u32string u = decode(s), out;
  for (char32_t c : u) uni::append_case(out, c, uni::Case::Upper);
  return encode(out);
}

std::string lower(std::string_view s) {
  std::u32string u = decode(s), out;
  for (size_t i = 0; i < u.size(); ++i) append_lower(out, u, i);
  return encode(out);
}

std::string casefold(std::string_view s) {
  std::u32string u = decode(s), out;
  for (char32_t c : u) uni::append_case(out, c, uni::Case::Fold);
  return encode(out);
}

std::string title(std::string_view s) {
  std::u32string u = decode(s), out;
  bool previous_is_cased = false;
  for (size_t i = 0; i < u.size(); ++i) {
    if (previous_is_cased)
      append_lower(out, u, i);
    else
      uni::append_case(out, u[i], uni::Case::Title);
    previous_is_cased = uni::is_cased(u[i]);
  }
  return encode(out);
}

std::string capitalize(std::string_view s) {
  std::u32string u = decode(s), out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 0)
      uni::append_case(out, u[i], uni::Case::Title);
    else
      append_lower(out, u, i);
  }
  return encode(out);
}

std::string swapcase(std::string_view s) {
  std::u32string u = decode(s), out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (uni::has(u[i], uni::kUpper))
      append_lower(out, u, i);
    else if (uni::has(u[i], uni::kLower))
      uni::append_case(out, u[i], uni::Case::Upper);
    else
      out.push_back(u[i]);
  }
  return encode(out);
}

bool is(std::string_view s, Pred p) {
  std::u32string u = decode(s);
  switch (p) {
    case Pred::Printable:
      return std::all_of(u.begin(), u.end(), [](char32_t c) { return uni::has(c, uni::kPrintable); });
    case Pred::Ascii:
      return std::all_of(u.begin(), u.end(), [](char32_t c) { return c < 0x80; });
    case Pred::Identifier:
      if (u.empty() || !(u[0] == '_' || uni::has(u[0], uni::kIdStart))) return false;
      return std::all_of(u.begin() + 1, u.end(), [](char32_t c) { return uni::has(c, uni::kIdContinue); });
    case Pred::Upper:
    case Pred::Lower: {
      uint16_t want = p == Pred::Upper ? uni::kUpper : uni::kLower;
      uint16_t other = p == Pred::Upper ? (uni::kLower | uni::kTitle) : (uni::kUpper | uni::kTitle);
      bool cased = false;
      for (char32_t c : u) {
        if (uni::has(c, other)) return false;
        if (uni::has(c, want)) cased = true;
      }
      return cased;
    }
    case Pred::Title: {
      bool cased = false, previous_is_cased = false;
      for (char32_t c : u) {
        if (uni::has(c, uni::kUpper | uni::kTitle)) {
          if (previous_is_cased) return false;
          previous_is_cased = cased = true;
        } else if (uni::has(c, uni::kLower)) {
          if (!previous_is_cased) return false;
          previous_is_cased = cased = true;
        } else {
          previous_is_cased = false;
        }
      }
      return cased;
    }
    default:
      break;
  }
  if (u.empty()) return false;
  auto test = [p](char32_t c) {
    switch (p) {
      case Pred::Alpha: return uni::has(c, uni::kAlpha);
      case Pred::Alnum: return uni::is_alnum(c);
      case Pred::Decimal: return uni::has(c, uni::kDecimal);
      case Pred::Digit: return uni::has(c, uni::kDigit);
      case Pred::Numeric: return uni::has(c, uni::kNumeric);
      case Pred::Space: return uni::is_space(c);
      default: return false;
    }
  };
  return std::all_of(u.begin(), u.end(), test);
}

std::string pad(std::string_view s, int64_t width, char32_t fill, int align) {
  size_t n = length(s);
  if (width <= static_cast<int64_t>(n)) return std::string(s);
  size_t total = static_cast<size_t>(width) - n, left = 0;
  if (align > 0) {
    left = total;
  } else if (align == 0) {
    // CPython's centering puts the extra character on the left when both the
    // padding and the width are odd.
    left = total / 2 + (total & static_cast<size_t>(width) & 1);
  }
  std::string f;
  append_utf8(f, fill);
  std::string out;
  for (size_t i = 0; i < left; ++i) out += f;
  out += s;
  for (size_t i = left; i < total; ++i) out += f;
  return out;
}

std::string zfill(std::string_view s, int64_t width) {
  size_t n = length(s);
  if (width <= static_cast<int64_t>(n)) return std::string(s);
  size_t fill = static_cast<size_t>(width) - n;
  std::string out;
  size_t start = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    out.push_back(s[0]);
    start = 1;
  }
  out.append(fill, '0');
  out.append(s.substr(start));
  return out;
}

namespace {

// Python's slice-bound adjustment for str.find and friends.
void adjust_bounds(int64_t n, std::optional<int64_t>& start, std::optional<int64_t>& end, int64_t& a, int64_t& b) {
  a = start.value_or(0);
  b = end.value_or(n);
  if (a < 0) a = std::max<int64_t>(0, a + n);
  if (b < 0) b = std::max<int64_t>(0, b + n);
  if (b > n) b = n;
}

}  // namespace

int64_t find(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end,
             bool reverse) {
  std::u32string u = decode(s), t = decode(sub);
  int64_t n = static_cast<int64_t>(u.size()), a, b;
  adjust_bounds(n, start, end, a, b);
  int64_t m = static_cast<int64_t>(t.size());
  if (a > n || b - a < m) return -1;
  std::u32string_view hay = std::u32string_view(u).substr(static_cast<size_t>(a), static_cast<size_t>(b - a));
  size_t at = reverse ? hay.rfind(t) : hay.find(t);
  return at == std::u32string_view::npos ? -1 : a + static_cast<int64_t>(at);
}

int64_t count(std::string_view s, std::string_view sub, std::optional<int64_t> start, std::optional<int64_t> end) {
  std::u32string u = decode(s), t = decode(sub);
  int64_t n = static_cast<int64_t>(u.size()), a, b;
  adjust_bounds(n, start, end, a, b);
  if (a > n || b < a) return 0;
  if (t.empty()) return b - a + 1;
  std::u32string_view hay = std::u32string_view(u).substr(static_cast<size_t>(a), static_cast<size_t>(b - a));
  int64_t k = 0;
  for (size_t pos = hay.find(t); pos != std::u32string_view::npos; pos = hay.find(t, pos + t.size())) ++k;
  return k;
}

std::string replace(std::string_view s, std::string_view old, std::string_view with, int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement before every code point and at the end.
    std::u32string u = decode(s);
    size_t i = 0;
    for (; i < u.size() && count > 0; ++i, --count) {
      out += with;
      append_utf8(out, u[i]);
    }
    if (count > 0) out += with;
    out += encode(std::u32string_view(u).substr(i));
    return out;
  }
  size_t pos = 0;
  while (count-- > 0) {
    size_t at = s.find(old, pos);
    if (at == std::string_view::npos) break;
    out.append(s.substr(pos, at - pos));
    out.append(with);
    pos = at + old.size();
  }
  out.append(s.substr(pos));
  return out;
}

size_t replaced_size(std::string_view s, std::string_view old, std::string_view with, int64_t count) {
  if (count < 0) count = INT64_MAX;
  uint64_t hits = 0;
  if (old.empty()) {
    hits = std::min<uint64_t>(static_cast<uint64_t>(count), length(s) + 1);
  } else {
    for (size_t pos = s.find(old); pos != std::string_view::npos && hits < static_cast<uint64_t>(count);
         pos = s.find(old, pos + old.size()))
      ++hits;
  }
  long double size = static_cast<long double>(s.size()) + static_cast<long double>(hits) * with.size() -
                     static_cast<long double>(hits) * old.size();
  return size > static_cast<long double>(SIZE_MAX / 2) ? SIZE_MAX : static_cast<size_t>(size);
}

std::string repr(std::string_view s) {
  std::u32string u = decode(s);
  bool has_single = u.find(U'\'') != std::u32string::npos, has_double = u.find(U'"') != std::u32string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  static const char* hex = "0123456789abcdef";
  auto hex_escape = [&](char prefix, char32_t c, int digits) {
    out.push_back('\\');
    out.push_back(prefix);
    for (int k = digits - 1; k >= 0; --k) out.push_back(hex[(c >> (4 * k)) & 0xF]);
  };
  for (char32_t c : u) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      hex_escape('x', c, 2);
    } else if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else if (uni::has(c, uni::kPrintable)) {
      append_utf8(out, c);
    } else if (c <= 0xFF) {
      hex_escape('x', c, 2);
    } else if (c <= 0xFFFF) {
      hex_escape('u', c, 4);
    } else {
      hex_escape('U', c, 8);
    }
  }
  out.push_back(quote);
  return out;
}

std::string escape_html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

void adjust_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step, int64_t& first,
                  int64_t& last) {
  if (step == 0) throw std::invalid_argument("slice step cannot be zero");
  auto adjust = [&](std::optional<int64_t> v, bool is_start) {
    if (!v) return step < 0 ? (is_start ? n - 1 : -1) : (is_start ? 0 : n);
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= n) {
      x = step < 0 ? n - 1 : n;
    }
    return x;
  };
  first = adjust(start, true);
  last = adjust(stop, false);
}

std::vector<int64_t> slice_indexes(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step) {
  int64_t a, b;
  adjust_slice(n, start, stop, step, a, b);
  std::vector<int64_t> out;
  if (step > 0) {
    for (int64_t i = a; i < b; i += step) out.push_back(i);
  } else {
    for (int64_t i = a; i > b; i += step) out.push_back(i);
  }
  return out;
}

std::string slice(std::string_view s, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  if (is_ascii(s)) {
    std::string out;
    for (int64_t i : slice_indexes(static_cast<int64_t>(s.size()), start, stop, step))
      out.push_back(s[static_cast<size_t>(i)]);
    return out;
  }
  std::u32string u = decode(s), out;
  for (int64_t i : slice_indexes(static_cast<int64_t>(u.size()), start, stop, step))
    out.push_back(u[static_cast<size_t>(i)]);
  return encode(out);
}

}  // namespace ember::jinja::text
