#pragma once
// The tokenizer's data as loaded from tokenizer.ggml.* (Tokenizer::Impl) and
// the per-model encoders that work on it.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ember/tokenizer.h"
#include "tokenizer/pretokenize.h"

namespace ember {

namespace gguf {
class File;
}

namespace tok {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TokenIndex = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

/// A BPE merge: the pair (left id, right id) becomes `id`; lower rank merges first.
struct Merge {
  int32_t rank;
  int32_t id;
};

inline uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace tok

struct Tokenizer::Impl {
  TokenizerModel model = TokenizerModel::Spm;
  std::string source;  // the file path, for messages

  std::vector<std::string> text;  // tokenizer.ggml.tokens
  std::vector<float> score;       // tokenizer.ggml.scores (SPM merge priority)
  std::vector<TokenType> type;    // tokenizer.ggml.token_type (Normal when absent)
  std::vector<std::string> piece; // what each token decodes to (for control tokens: its text)
  tok::TokenIndex index;          // text -> id (the first id when a text repeats)

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1, mask = -1, nl = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_sep = false;            // WordPiece: [SEP] closes the input
  bool add_space_prefix = false;   // SPM: a space before text at the start and after special tokens
  bool remove_extra_whitespaces = false;
  bool spm_word_chunks = false;    // SPM: no mergeable token has "▁" after another character
  bool lowercase = false;          // WordPiece: uncased vocab (lowercase and strip accents)
  bool wordpiece_hashes = false;   // WordPiece: "##" marks continuations (else "▁" marks word starts)
  std::vector<int32_t> eog;        // sorted

  // Tokens matched in the text before the model runs, by first byte, longest first.
  std::array<std::vector<int32_t>, 256> specials_by_byte;

  // SPM: <0xXX> tokens; BPE: the token of each byte's printable stand-in. -1 if missing.
  std::array<int32_t, 256> byte_token{};

  // BPE
  std::string pre_name = "default";  // tokenizer.ggml.pre if known
  tok::PreTokenizer pre;
  std::unordered_map<uint64_t, tok::Merge> merges;

  size_t max_token_len = 0;
  std::vector<std::string> warnings;

  int32_t n_vocab() const { return static_cast<int32_t>(text.size()); }
  const int32_t* find(std::string_view s) const {
    auto it = index.find(s);
    return it == index.end() ? nullptr : &it->second;
  }
  bool is_special_type(int32_t id) const {
    const TokenType t = type[id];
    return t == TokenType::Control || t == TokenType::Unknown;
  }
};

namespace tok {

std::shared_ptr<Tokenizer::Impl> load_vocab(const gguf::File& file);

/// A stretch of the input: either plain text or a special token found in it.
struct Fragment {
  int32_t token;  // -1 for text
  size_t begin, end;
};
/// Splits text at the special tokens it contains (leftmost, then longest match).
/// parse_special=false matches only user-defined tokens.
std::vector<Fragment> split_special(const Tokenizer::Impl& v, std::string_view text, bool parse_special);

/// text is raw input; prefix_space puts a space before it (add_space_prefix at the start or after a special token).
void encode_spm(const Tokenizer::Impl& v, std::string_view text, bool prefix_space, std::vector<int32_t>& out);
void encode_bpe(const Tokenizer::Impl& v, std::string_view text, std::vector<int32_t>& out);
void encode_wordpiece(const Tokenizer::Impl& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace tok
}  // namespace ember
