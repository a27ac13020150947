#include "chat/jinja/unicode.h"

#include <algorithm>

namespace ember::jinja::uni {

uint16_t props(uint32_t cp) noexcept {
  const PropRange* end = kPropRanges + kPropRangeCount;
  const PropRange* it = std::upper_bound(kPropRanges, end, cp, [](uint32_t c, const PropRange& r) { return c < r.first; });
  if (it == kPropRanges) return 0;
  --it;
  return cp <= it->last ? it->props : 0;
}

void append_case(std::u32string& out, uint32_t cp, Case c) {
  const CaseSpecial* special = nullptr;
  size_t special_count = 0;
  const CaseRun* runs = nullptr;
  size_t run_count = 0;
  switch (c) {
    case Case::Upper: special = kUpperSpecial, special_count = kUpperSpecialCount, runs = kUpperRuns, run_count = kUpperRunCount; break;
    case Case::Lower: special = kLowerSpecial, special_count = kLowerSpecialCount, runs = kLowerRuns, run_count = kLowerRunCount; break;
    case Case::Title: special = kTitleSpecial, special_count = kTitleSpecialCount, runs = kTitleRuns, run_count = kTitleRunCount; break;
    case Case::Fold: special = kFoldSpecial, special_count = kFoldSpecialCount, runs = kFoldRuns, run_count = kFoldRunCount; break;
  }
  if (cp < 0x80 && c != Case::Fold) {
    bool upper = cp >= 'A' && cp <= 'Z', lower = cp >= 'a' && cp <= 'z';
    if (c == Case::Lower && upper) cp += 32;
    if (c != Case::Lower && lower) cp -= 32;
    out.push_back(cp);
    return;
  }
  // Both tables are sorted by code point.
  const CaseSpecial* s_end = special + special_count;
  const CaseSpecial* s = std::lower_bound(special, s_end, cp, [](const CaseSpecial& e, uint32_t v) { return e.cp < v; });
  if (s != s_end && s->cp == cp) {
    for (uint32_t t : s->to)
      if (t) out.push_back(t);
    return;
  }
  const CaseRun* r_end = runs + run_count;
  const CaseRun* r = std::upper_bound(runs, r_end, cp, [](uint32_t v, const CaseRun& e) { return v < e.first; });
  if (r != runs) {
    --r;
    if (cp <= r->last && (cp - r->first) % r->stride == 0) {
      out.push_back(static_cast<uint32_t>(static_cast<int64_t>(cp) + r->delta));
      return;
    }
  }
  out.push_back(cp);
}

}  // namespace ember::jinja::uni
