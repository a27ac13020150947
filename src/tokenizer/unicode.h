#pragma once
// UTF-8 helpers, GPT-2's byte-to-unicode mapping and the few Unicode
// properties the WordPiece normalizer needs (see gen_unicode_data.py). The
// pre-tokenizer regexes get their Unicode classes from PCRE2 instead.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::tok {

/// One character of a byte string: a valid UTF-8 sequence, or a single byte that is not.
struct Utf8Char {
  uint32_t cp;   // the code point; for an invalid byte, the byte value
  uint32_t len;  // bytes consumed (1..4)
  bool valid;
};

/// Decodes the character at s[i] (i < s.size()). Overlong forms, surrogates
/// and values past U+10FFFF are invalid; each invalid byte stands alone.
Utf8Char utf8_next(std::string_view s, size_t i) noexcept;

void append_utf8(std::string& out, uint32_t cp);

/// Length of the tail of s that starts a valid UTF-8 sequence still missing
/// bytes (0 if s ends on a character boundary or with bytes that can never
/// complete).
size_t utf8_incomplete_tail(std::string_view s) noexcept;

/// GPT-2 byte-level BPE: every byte is shown as a printable code point
/// (printable Latin-1 bytes as themselves, the rest as U+0100 + n).
uint32_t byte_to_unicode(uint8_t b) noexcept;
/// The byte shown as cp, or -1 if cp is not one of the 256.
int unicode_to_byte(uint32_t cp) noexcept;

// --- data from gen_unicode_data.py -------------------------------------------
enum CharFlag : uint8_t {
  kCharSpace = 1,            // White_Space
  kCharOther = 2,            // general category C* (control, format, unassigned, private use)
  kCharPunct = 4,            // general category P*
  kCharMarkNonspacing = 8,   // general category Mn
};
struct CharRange {
  uint32_t first, last;
  uint8_t flags;
};
struct CaseMapping {
  uint32_t cp;
  uint32_t to[3];  // 0-terminated when shorter
};
struct Decomposition {
  uint32_t cp;
  uint32_t to[4];  // 0-terminated when shorter
};
extern const CharRange kCharRanges[];
extern const size_t kCharRangeCount;
extern const CaseMapping kLowercase[];
extern const size_t kLowercaseCount;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;

/// CharFlag bits of cp.
uint8_t char_flags(uint32_t cp) noexcept;
/// Appends the full lowercase mapping of cp (cp itself if it has none).
void append_lowercase(uint32_t cp, std::vector<uint32_t>& out);
/// Appends the canonical decomposition (NFD, without reordering of combining marks) of cp.
void append_nfd(uint32_t cp, std::vector<uint32_t>& out);

}  // namespace ember::tok
