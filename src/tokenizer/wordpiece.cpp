// WordPiece as BERT does it: normalize (drop control characters, spaces around
// CJK ideographs, and for uncased vocabularies strip accents and lowercase),
// split at whitespace and punctuation, then cut each word into the longest
// vocabulary pieces from the left. A word that cannot be cut becomes [UNK].
#include <string>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace ember::tok {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581
constexpr size_t kMaxWordChars = 100;                // BERT's max_input_chars_per_word

bool is_cjk(uint32_t cp) {  // the ranges BERT's tokenizer treats as Chinese characters
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_punct(uint32_t cp) {  // all ASCII symbols count, as in BERT
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) ||
         (char_flags(cp) & kCharPunct);
}

bool is_space(uint32_t cp) { return char_flags(cp) & kCharSpace; }

// BERT normalization; whitespace comes out as ' '.
std::vector<uint32_t> normalize(const Tokenizer::Impl& v, std::string_view text) {
  std::vector<uint32_t> cleaned;
  cleaned.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = utf8_next(text, i);
    i += c.len;
    if (!c.valid || c.cp == 0 || c.cp == 0xFFFD) continue;
    const uint8_t flags = char_flags(c.cp);
    if (c.cp == '\t' || c.cp == '\n' || c.cp == '\r' || (flags & kCharSpace)) {
      cleaned.push_back(' ');
    } else if (flags & kCharOther) {
      continue;  // control, format, unassigned and private-use characters are dropped
    } else if (is_cjk(c.cp)) {
      cleaned.insert(cleaned.end(), {' ', c.cp, ' '});
    } else {
      cleaned.push_back(c.cp);
    }
  }
  if (!v.lowercase) return cleaned;
  std::vector<uint32_t> decomposed, out;
  decomposed.reserve(cleaned.size());
  for (uint32_t cp : cleaned) append_nfd(cp, decomposed);
  out.reserve(decomposed.size());
  for (uint32_t cp : decomposed) {
    if (char_flags(cp) & kCharMarkNonspacing) continue;  // accents
    append_lowercase(cp, out);
  }
  return out;
}

void encode_word(const Tokenizer::Impl& v, std::string_view word, size_t n_chars, std::vector<int32_t>& out) {
  const size_t mark = out.size();
  if (n_chars > kMaxWordChars) {
    if (v.unk >= 0) out.push_back(v.unk);
    return;
  }
  const std::string_view word_prefix = v.wordpiece_hashes ? std::string_view() : kSpace;
  const std::string_view cont_prefix = v.wordpiece_hashes ? std::string_view("##") : std::string_view();
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    const std::string_view prefix = start == 0 ? word_prefix : cont_prefix;
    // Character ends after start, longest first.
    std::vector<size_t> ends;
    for (size_t i = start; i < word.size() && i - start < v.max_token_len;) {
      i += utf8_next(word, i).len;
      ends.push_back(i);
    }
    int32_t found = -1;
    size_t found_end = 0;
    for (auto it = ends.rbegin(); it != ends.rend(); ++it) {
      candidate.assign(prefix);
      candidate.append(word.substr(start, *it - start));
      if (const int32_t* id = v.find(candidate)) {
        found = *id;
        found_end = *it;
        break;
      }
    }
    if (found < 0) {
      out.resize(mark);
      if (v.unk >= 0) out.push_back(v.unk);
      return;
    }
    out.push_back(found);
    start = found_end;
  }
}

}  // namespace

void encode_wordpiece(const Tokenizer::Impl& v, std::string_view text, std::vector<int32_t>& out) {
  const std::vector<uint32_t> cps = normalize(v, text);
  std::string word;
  size_t n_chars = 0;
  auto flush = [&] {
    if (!word.empty()) encode_word(v, word, n_chars, out);
    word.clear();
    n_chars = 0;
  };
  for (uint32_t cp : cps) {
    if (cp == ' ' || is_space(cp)) {
      flush();
    } else if (is_punct(cp)) {
      flush();
      append_utf8(word, cp);
      n_chars = 1;
      flush();
    } else {
      append_utf8(word, cp);
      ++n_chars;
    }
  }
  flush();
}

}  // namespace ember::tok
