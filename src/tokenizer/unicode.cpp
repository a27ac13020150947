#include "tokenizer/unicode.h"

#include <algorithm>

namespace ember::tok {

namespace {

bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

// Sequence length announced by a lead byte, 0 for bytes that cannot start one.
uint32_t lead_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// The range of the second byte allowed after lead (this is what excludes
// overlong forms, surrogates and code points past U+10FFFF).
bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return is_cont(b);
  }
}

}  // namespace

Utf8Char utf8_next(std::string_view s, size_t i) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  const size_t avail = s.size() - i;
  const uint8_t b0 = p[0];
  const uint32_t len = lead_length(b0);
  if (len == 1) return {b0, 1, true};
  if (len == 0 || avail < len || !second_byte_ok(b0, p[1])) return {b0, 1, false};
  for (uint32_t k = 2; k < len; ++k) {
    if (!is_cont(p[k])) return {b0, 1, false};
  }
  uint32_t cp = b0 & (0x7F >> len);
  for (uint32_t k = 1; k < len; ++k) cp = (cp << 6) | (p[k] & 0x3F);
  return {cp, len, true};
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t utf8_incomplete_tail(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  for (size_t k = 1; k <= 3 && k <= n; ++k) {
    const uint8_t lead = p[n - k];
    if (is_cont(lead)) continue;  // keep looking back for the lead byte
    const uint32_t len = lead_length(lead);
    if (len <= k) return 0;  // ASCII, an invalid byte, or a complete sequence
    if (k >= 2 && !second_byte_ok(lead, p[n - k + 1])) return 0;
    return k;  // the bytes after lead are continuation bytes (checked by the loop)
  }
  return 0;
}

namespace {

// Bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF stand for themselves; the other
// 68 take U+0100.. in byte order.
struct ByteTables {
  uint16_t to_cp[256];
  int16_t from_cp[0x100 + 68];
};

constexpr ByteTables make_byte_tables() {
  ByteTables t{};
  for (auto& v : t.from_cp) v = -1;
  uint16_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t.to_cp[b] = printable ? static_cast<uint16_t>(b) : next++;
    t.from_cp[t.to_cp[b]] = static_cast<int16_t>(b);
  }
  return t;
}

constexpr ByteTables kByteTables = make_byte_tables();

}  // namespace

uint32_t byte_to_unicode(uint8_t b) noexcept { return kByteTables.to_cp[b]; }

int unicode_to_byte(uint32_t cp) noexcept {
  return cp < sizeof(kByteTables.from_cp) / sizeof(kByteTables.from_cp[0]) ? kByteTables.from_cp[cp] : -1;
}

uint8_t char_flags(uint32_t cp) noexcept {
  const CharRange* end = kCharRanges + kCharRangeCount;
  const CharRange* it = std::upper_bound(kCharRanges, end, cp, [](uint32_t v, const CharRange& r) { return v < r.first; });
  if (it == kCharRanges) return 0;
  --it;
  return cp <= it->last ? it->flags : 0;
}

void append_lowercase(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    return;
  }
  const CaseMapping* end = kLowercase + kLowercaseCount;
  const CaseMapping* it = std::lower_bound(kLowercase, end, cp, [](const CaseMapping& m, uint32_t v) { return m.cp < v; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  for (uint32_t c : it->to) {
    if (c == 0) break;
    out.push_back(c);
  }
}

void append_nfd(uint32_t cp, std::vector<uint32_t>& out) {
  // Hangul syllables decompose arithmetically (Unicode 3.12).
  constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr uint32_t kVCount = 21, kTCount = 28, kSCount = 11172;
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / (kVCount * kTCount));
    out.push_back(kVBase + (s % (kVCount * kTCount)) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp < 0xC0) {
    out.push_back(cp);
    return;
  }
  const Decomposition* end = kDecompositions + kDecompositionCount;
  const Decomposition* it =
      std::lower_bound(kDecompositions, end, cp, [](const Decomposition& d, uint32_t v) { return d.cp < v; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  for (uint32_t c : it->to) {
    if (c == 0) break;
    out.push_back(c);
  }
}

}  // namespace ember::tok
