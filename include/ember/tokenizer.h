#pragma once
// Tokenizers built entirely from a GGUF file's tokenizer.ggml.* metadata:
//   model "llama" -> SentencePiece-style: score-ordered merges, byte fallback <0xXX>, "▁" for spaces
//   model "gpt2"  -> byte-level BPE: merge ranks, pre-tokenizer regexes chosen by tokenizer.ggml.pre
//   model "bert"  -> WordPiece: BERT normalization, longest-match-first pieces
// Control (token_type 3) and user-defined (4) tokens are matched in the text
// before the model runs: user-defined ones always, control ones only with
// parse_special.
//
// Thread safety: a Tokenizer is immutable after from_gguf() and may be used
// from any number of threads; copies share the same data. A StreamDecoder is
// used by one thread at a time.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember {

namespace gguf {
class File;
}

/// tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

enum class TokenizerModel {
  Spm,        // "llama"
  Bpe,        // "gpt2"
  WordPiece,  // "bert"
};

class Tokenizer {
 public:
  /// Builds the tokenizer from the file's metadata. Throws ember::Error naming
  /// the key for a missing, mistyped or inconsistent entry (arrays of other
  /// lengths than tokenizer.ggml.tokens, merges naming unknown tokens, special
  /// token ids out of range) and Unsupported for other tokenizer models.
  static Tokenizer from_gguf(const gguf::File& file);

  /// Token ids of text. add_special: BOS/EOS as the vocab asks (tokenizer.ggml.add_bos_token,
  /// add_eos_token; for WordPiece [CLS] ... [SEP]). parse_special: control tokens written in
  /// the text become their ids; otherwise they are tokenized as plain text. Any bytes are
  /// accepted (invalid UTF-8 goes through byte fallback or byte-level BPE).
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  /// Text of ids. The leading space the tokenizer adds (SentencePiece space prefix,
  /// WordPiece word starts) is removed from the first non-empty piece. remove_special:
  /// control and unknown tokens produce nothing. Throws ember::Error naming an id out of range.
  std::string decode(std::span<const int32_t> ids, bool remove_special = false) const;

  /// Raw bytes of one token (may be part of a UTF-8 character). special=false: control and
  /// unknown tokens give "". Throws ember::Error naming an id out of range.
  std::string token_to_piece(int32_t id, bool special = true) const;

  int32_t n_vocab() const;
  TokenizerModel model() const;
  /// The pre-tokenizer in use: tokenizer.ggml.pre ("llama-bpe", "smollm", ...) when ember knows
  /// it, otherwise "default"; for SPM and WordPiece always "default".
  const std::string& pre() const;

  // Special tokens; -1 if the vocab has none.
  int32_t bos() const;  // for WordPiece: [CLS]
  int32_t eos() const;
  int32_t eot() const;
  int32_t nl() const;
  int32_t pad() const;
  int32_t unk() const;
  int32_t sep() const;
  /// End of generation: EOS, EOT, EOM and tokens such as <|im_end|>, <|eot_id|>, <end_of_turn>,
  /// <|endoftext|>, <|end|> found by their text.
  bool is_eog(int32_t id) const;
  bool add_bos() const;
  bool add_eos() const;

  /// The id of the vocab entry whose text is exactly piece (token text as stored in the file).
  std::optional<int32_t> find(std::string_view piece) const;
  /// Token text as stored in the file; throws for ids out of range.
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;
  /// Notes from loading (e.g. an unknown pre-tokenizer replaced by the default).
  const std::vector<std::string>& warnings() const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

/// Incremental detokenization for streaming output: push() returns the text
/// that is complete so far and holds back the bytes of an unfinished UTF-8
/// character; flush() returns whatever is held. Bytes that can never become
/// valid UTF-8 are passed through rather than held. Unlike Tokenizer::decode,
/// no leading space is removed (a stream usually continues a prompt).
class StreamDecoder {
 public:
  /// special=false: control tokens produce nothing.
  explicit StreamDecoder(Tokenizer tokenizer, bool special = true);
  std::string push(int32_t id);
  std::string flush();
  void reset();

 private:
  Tokenizer tokenizer_;
  bool special_;
  std::string pending_;
};

}  // namespace ember
