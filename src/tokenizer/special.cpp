// Finding special and user-defined tokens in the input before the model runs.
#include <cstring>

#include "tokenizer/vocab.h"

namespace ember::tok {

std::vector<Fragment> split_special(const Tokenizer::Impl& v, std::string_view text, bool parse_special) {
  std::vector<Fragment> out;
  size_t text_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    int32_t hit = -1;
    for (int32_t id : v.specials_by_byte[static_cast<uint8_t>(text[i])]) {  // longest first
      if (!parse_special && v.type[id] != TokenType::UserDefined) continue;
      const std::string& t = v.text[id];
      if (t.size() <= text.size() - i && std::memcmp(text.data() + i, t.data(), t.size()) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    if (i > text_start) out.push_back({-1, text_start, i});
    out.push_back({hit, i, i + v.text[hit].size()});
    i += v.text[hit].size();
    text_start = i;
  }
  if (text_start < text.size()) out.push_back({-1, text_start, text.size()});
  return out;
}

}  // namespace ember::tok
