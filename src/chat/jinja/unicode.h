#pragma once
// Character properties and case mappings as Python's str methods see them
// (tables generated from Python itself by gen_unicode_data.py), so that
// strip(), split(), upper(), title(), isalpha(), repr() … give jinja2's bytes.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ember::jinja::uni {

enum Prop : uint16_t {
  kSpace = 1 << 0,          // str.isspace
  kPrintable = 1 << 1,      // str.isprintable
  kAlpha = 1 << 2,          // str.isalpha
  kDecimal = 1 << 3,        // str.isdecimal
  kDigit = 1 << 4,          // str.isdigit
  kNumeric = 1 << 5,        // str.isnumeric
  kUpper = 1 << 6,          // str.isupper of the character alone
  kLower = 1 << 7,          // str.islower of the character alone
  kTitle = 1 << 8,          // titlecase letter (Lt)
  kCaseIgnorable = 1 << 9,  // skipped by the final-sigma rule
  kIdStart = 1 << 10,       // may start an identifier
  kIdContinue = 1 << 11,    // may continue an identifier
};

struct PropRange {
  uint32_t first, last;
  uint16_t props;
};
/// A mapping to one code point: cp -> cp + delta for cp = first, first + stride, … last.
struct CaseRun {
  uint32_t first, last;
  uint8_t stride;
  int32_t delta;
};
/// A mapping to two or three code points (0-terminated).
struct CaseSpecial {
  uint32_t cp;
  uint32_t to[3];
};

extern const PropRange kPropRanges[];
extern const size_t kPropRangeCount;
extern const CaseRun kUpperRuns[], kLowerRuns[], kTitleRuns[], kFoldRuns[];
extern const size_t kUpperRunCount, kLowerRunCount, kTitleRunCount, kFoldRunCount;
extern const CaseSpecial kUpperSpecial[], kLowerSpecial[], kTitleSpecial[], kFoldSpecial[];
extern const size_t kUpperSpecialCount, kLowerSpecialCount, kTitleSpecialCount, kFoldSpecialCount;

/// Prop bits of cp (0 for unassigned code points and cp > U+10FFFF).
uint16_t props(uint32_t cp) noexcept;
inline bool has(uint32_t cp, uint16_t p) noexcept { return (props(cp) & p) != 0; }
inline bool is_space(uint32_t cp) noexcept {
  return cp < 0x80 ? (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) : has(cp, kSpace);
}
inline bool is_cased(uint32_t cp) noexcept { return has(cp, kUpper | kLower | kTitle); }
inline bool is_alnum(uint32_t cp) noexcept { return has(cp, kAlpha | kDecimal | kDigit | kNumeric); }
/// Python's regex \w for str patterns.
inline bool is_word(uint32_t cp) noexcept { return cp == '_' || is_alnum(cp); }

enum class Case { Upper, Lower, Title, Fold };
/// Appends the full mapping of cp (cp itself when it has none); Lower
/// ignores the final-sigma context, which the caller handles.
void append_case(std::u32string& out, uint32_t cp, Case c);

}  // namespace ember::jinja::uni
