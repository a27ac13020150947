// Loading tokenizer.ggml.* into Tokenizer::Impl, with every array length,
// token id and merge checked against the vocabulary.
#include <algorithm>
#include <limits>

#include "ember/error.h"
#include "ember/gguf.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace ember::tok {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

class Loader {
 public:
  explicit Loader(const gguf::File& f) : f_(f) {}

  [[noreturn]] void fail(std::string_view key, const std::string& msg, ErrorKind kind = ErrorKind::InvalidFile) const {
    throw Error(kind, "[tokenizer] " + f_.path() + ": key '" + std::string(key) + "': " + msg);
  }

  // Runs a gguf accessor, re-raising its type errors with the key named.
  template <class F>
  auto keyed(std::string_view key, F&& fn) const {
    try {
      return fn();
    } catch (const Error& e) {
      fail(key, e.what());
    }
  }

  std::optional<std::string> str(std::string_view key) const { return keyed(key, [&] { return f_.get_string(key); }); }
  std::optional<bool> boolean(std::string_view key) const { return keyed(key, [&] { return f_.get_bool(key); }); }
  const gguf::Value* array(std::string_view key) const { return keyed(key, [&] { return f_.get_array(key); }); }

  // A token id key, checked against the vocabulary size.
  std::optional<int32_t> token_id(std::string_view key, size_t n_vocab) const {
    const gguf::Value* v = f_.find(key);
    if (!v) return std::nullopt;
    const auto id = v->as_int();
    if (!id) fail(key, std::string("expected an integer token id, found ") + gguf::value_type_name(v->type()));
    if (*id < 0 || static_cast<uint64_t>(*id) >= n_vocab) {
      fail(key, "token id " + std::to_string(*id) + " out of range (vocabulary of " + std::to_string(n_vocab) + ")");
    }
    return static_cast<int32_t>(*id);
  }

  const gguf::File& file() const { return f_; }

 private:
  const gguf::File& f_;
};

bool parse_byte_token(std::string_view s, uint8_t& byte) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return false;
  int v = 0;
  for (char c : s.substr(3, 2)) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return false;
  }
  byte = static_cast<uint8_t>(v);
  return true;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// Byte-level BPE token text back to bytes: each code point stands for one byte.
std::string byte_level_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = utf8_next(s, i);
    const int b = c.valid ? unicode_to_byte(c.cp) : -1;
    if (b >= 0) out += static_cast<char>(b);
    else out.append(s.substr(i, c.len));  // not a byte stand-in: keep it as written
    i += c.len;
  }
  return out;
}

// Tokens that end generation, found by their text (the convention llama.cpp follows
// until GGUF files list them).
constexpr const char* kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                     "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr const char* kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
                                     "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>",
                                     "<|end_of_text|>", "<end_of_utterance>"};

}  // namespace

std::shared_ptr<Tokenizer::Impl> load_vocab(const gguf::File& file) {
  Loader ld(file);
  auto v = std::make_shared<Tokenizer::Impl>();
  v->source = file.path();

  // --- model ---
  const auto model = ld.str("tokenizer.ggml.model");
  if (!model) ld.fail("tokenizer.ggml.model", "missing (the file has no tokenizer)");
  if (*model == "llama") v->model = TokenizerModel::Spm;
  else if (*model == "gpt2") v->model = TokenizerModel::Bpe;
  else if (*model == "bert") v->model = TokenizerModel::WordPiece;
  else ld.fail("tokenizer.ggml.model", "tokenizer model '" + *model + "' is not supported", ErrorKind::Unsupported);

  // --- tokens, scores, types ---
  const gguf::Value* tokens = ld.array("tokenizer.ggml.tokens");
  if (!tokens) ld.fail("tokenizer.ggml.tokens", "missing");
  const auto strings = ld.keyed("tokenizer.ggml.tokens", [&] { return tokens->strings(); });
  const size_t n = strings.size();
  if (n == 0) ld.fail("tokenizer.ggml.tokens", "empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) ld.fail("tokenizer.ggml.tokens", "too many tokens");
  v->text.assign(strings.begin(), strings.end());

  auto check_len = [&](std::string_view key, size_t len) {
    if (len != n) {
      ld.fail(key, std::to_string(len) + " entries, but tokenizer.ggml.tokens has " + std::to_string(n));
    }
  };

  if (const gguf::Value* scores = ld.array("tokenizer.ggml.scores")) {
    check_len("tokenizer.ggml.scores", scores->size());
    const auto values = ld.keyed("tokenizer.ggml.scores", [&] { return scores->to_floats(); });
    v->score.assign(values.begin(), values.end());
  } else if (v->model == TokenizerModel::Spm) {
    ld.fail("tokenizer.ggml.scores", "missing (a SentencePiece vocabulary needs its scores)");
  } else {
    v->score.assign(n, 0.0f);
  }

  v->type.assign(n, TokenType::Normal);
  if (const gguf::Value* types = ld.array("tokenizer.ggml.token_type")) {
    check_len("tokenizer.ggml.token_type", types->size());
    const auto values = ld.keyed("tokenizer.ggml.token_type", [&] { return types->to_ints(); });
    for (size_t i = 0; i < n; ++i) {
      if (values[i] < 0 || values[i] > static_cast<int64_t>(TokenType::Byte)) {
        ld.fail("tokenizer.ggml.token_type",
                "token " + std::to_string(i) + " has unknown type " + std::to_string(values[i]));
      }
      v->type[i] = values[i] == 0 ? TokenType::Normal : static_cast<TokenType>(values[i]);
    }
  } else if (v->model == TokenizerModel::Spm) {
    // Without types, byte tokens can still be told by their text.
    uint8_t b = 0;
    for (size_t i = 0; i < n; ++i) {
      if (parse_byte_token(v->text[i], b)) v->type[i] = TokenType::Byte;
    }
  }

  v->index.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    v->index.emplace(v->text[i], static_cast<int32_t>(i));  // keeps the first id of a repeated text
    v->max_token_len = std::max(v->max_token_len, v->text[i].size());
  }
  auto find_text = [&](std::string_view s) -> int32_t {
    const int32_t* id = v->find(s);
    return id ? *id : -1;
  };

  // --- byte tokens ---
  v->byte_token.fill(-1);
  if (v->model == TokenizerModel::Spm) {
    for (size_t i = 0; i < n; ++i) {
      uint8_t b = 0;
      if (v->type[i] != TokenType::Byte) continue;
      if (!parse_byte_token(v->text[i], b)) {
        v->type[i] = TokenType::Normal;
        v->warnings.push_back("token " + std::to_string(i) + " '" + v->text[i] +
                              "' is typed as a byte but is not <0xXX>; treated as a normal token");
        continue;
      }
      if (v->byte_token[b] < 0) v->byte_token[b] = static_cast<int32_t>(i);
    }
  } else if (v->model == TokenizerModel::Bpe) {
    for (int b = 0; b < 256; ++b) {
      std::string s;
      append_utf8(s, byte_to_unicode(static_cast<uint8_t>(b)));
      v->byte_token[b] = find_text(s);
    }
  }

  // --- pre-tokenizer and merges (BPE) ---
  if (const auto pre = ld.str("tokenizer.ggml.pre")) v->pre_name = *pre;
  if (v->model == TokenizerModel::Bpe) {
    if (!tok::make_pre_tokenizer(v->pre_name, v->pre)) {
      v->warnings.push_back("unknown pre-tokenizer '" + v->pre_name + "' (tokenizer.ggml.pre); using the default");
      v->pre_name = "default";
    }
    const char* key = "tokenizer.ggml.merges";
    const gguf::Value* merges = ld.array(key);
    if (!merges) ld.fail(key, "missing (a BPE vocabulary needs its merges)");
    const auto lines = ld.keyed(key, [&] { return merges->strings(); });
    if (lines.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) ld.fail(key, "too many merges");
    v->merges.reserve(lines.size());
    std::string joined;
    for (size_t r = 0; r < lines.size(); ++r) {
      const std::string& m = lines[r];
      auto bad = [&](const char* what) { ld.fail(key, "merge " + std::to_string(r) + " '" + m + "' " + what); };
      // Tokens cannot hold a space (byte-level BPE writes it as 'Ġ'), but one may start with it.
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) bad("is not two tokens separated by a space");
      const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
      const int32_t a = find_text(left), b = find_text(right);
      if (a < 0 || b < 0) bad("names a token that is not in the vocabulary");
      joined.assign(left).append(right);
      const int32_t c = find_text(joined);
      if (c < 0) bad("makes a token that is not in the vocabulary");
      v->merges.emplace(pair_key(a, b), Merge{static_cast<int32_t>(r), c});  // the first (lowest rank) wins
    }
  } else {
    v->pre_name = "default";
  }

  // --- special tokens and flags ---
  auto id_or = [&](const char* key, int32_t fallback) { return ld.token_id(key, n).value_or(fallback); };
  switch (v->model) {
    case TokenizerModel::Spm:
      v->bos = id_or("tokenizer.ggml.bos_token_id", find_text("<s>"));
      v->eos = id_or("tokenizer.ggml.eos_token_id", find_text("</s>"));
      v->unk = id_or("tokenizer.ggml.unknown_token_id", find_text("<unk>"));
      v->add_bos = true;
      v->add_space_prefix = true;
      break;
    case TokenizerModel::Bpe:
      v->bos = id_or("tokenizer.ggml.bos_token_id", -1);
      v->eos = id_or("tokenizer.ggml.eos_token_id", -1);
      v->unk = id_or("tokenizer.ggml.unknown_token_id", -1);
      v->add_bos = v->pre.add_bos;
      break;
    case TokenizerModel::WordPiece: {
      const int32_t cls = id_or("tokenizer.ggml.cls_token_id", find_text("[CLS]"));
      v->bos = id_or("tokenizer.ggml.bos_token_id", cls);
      v->eos = id_or("tokenizer.ggml.eos_token_id", -1);
      v->unk = id_or("tokenizer.ggml.unknown_token_id", find_text("[UNK]"));
      v->add_bos = true;
      v->add_sep = true;
      break;
    }
  }
  v->eot = id_or("tokenizer.ggml.eot_token_id", -1);
  v->eom = id_or("tokenizer.ggml.eom_token_id", -1);
  v->sep = id_or("tokenizer.ggml.seperator_token_id", v->model == TokenizerModel::WordPiece ? find_text("[SEP]") : -1);
  v->pad = id_or("tokenizer.ggml.padding_token_id", -1);
  v->mask = id_or("tokenizer.ggml.mask_token_id", -1);
  if (v->model == TokenizerModel::WordPiece) {
    // Without [CLS]/[SEP] there is nothing to wrap the input in.
    v->add_bos = v->add_bos && v->bos >= 0;
    v->add_sep = v->add_sep && v->sep >= 0;
  }

  if (const auto b = ld.boolean("tokenizer.ggml.add_bos_token")) v->add_bos = *b;
  if (const auto b = ld.boolean("tokenizer.ggml.add_eos_token")) v->add_eos = *b;
  if (const auto b = ld.boolean("tokenizer.ggml.add_sep_token")) v->add_sep = *b;
  if (const auto b = ld.boolean("tokenizer.ggml.add_space_prefix")) v->add_space_prefix = *b && v->model == TokenizerModel::Spm;
  if (const auto b = ld.boolean("tokenizer.ggml.remove_extra_whitespaces")) v->remove_extra_whitespaces = *b;
  if (v->add_bos && v->bos < 0) {
    v->warnings.push_back("add_bos_token is set but the vocabulary has no BOS token; none is added");
    v->add_bos = false;
  }
  if (v->add_eos && v->eos < 0) {
    v->warnings.push_back("add_eos_token is set but the vocabulary has no EOS token; none is added");
    v->add_eos = false;
  }

  if (v->eot < 0) {
    for (const char* t : kEotTexts) {
      if (const int32_t id = find_text(t); id >= 0) {
        v->eot = id;
        break;
      }
    }
  }
  // Tokens found by their text are control tokens even where the file says
  // otherwise, so that plain text never produces them.
  for (const char* t : kEogTexts) {
    if (const int32_t id = find_text(t); id >= 0) {
      v->eog.push_back(id);
      if (v->type[id] == TokenType::Normal) v->type[id] = TokenType::Control;
    }
  }
  for (int32_t id : {v->eos, v->eot, v->eom}) {
    if (id >= 0) v->eog.push_back(id);
  }
  std::sort(v->eog.begin(), v->eog.end());
  v->eog.erase(std::unique(v->eog.begin(), v->eog.end()), v->eog.end());

  // --- SPM: can words be merged one at a time? ---
  if (v->model == TokenizerModel::Spm) {
    v->spm_word_chunks = true;
    for (size_t i = 0; i < n && v->spm_word_chunks; ++i) {
      const TokenType t = v->type[i];
      if (t != TokenType::Normal && t != TokenType::UserDefined && t != TokenType::Unused) continue;
      std::string_view s = v->text[i];
      while (s.starts_with(kSpace)) s.remove_prefix(kSpace.size());
      if (s.find(kSpace) != std::string_view::npos) v->spm_word_chunks = false;
    }
  }

  // --- WordPiece conventions ---
  if (v->model == TokenizerModel::WordPiece) {
    size_t hashes = 0, spaces = 0, upper = 0;
    for (size_t i = 0; i < n; ++i) {
      const std::string& t = v->text[i];
      if (t.starts_with("##")) ++hashes;
      if (t.starts_with(kSpace)) ++spaces;
      if (v->type[i] == TokenType::Normal && std::any_of(t.begin(), t.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        ++upper;
      }
    }
    v->wordpiece_hashes = hashes > spaces;
    // GGUF has no key for BERT's do_lower_case: an uncased vocab has (almost) no capitals.
    v->lowercase = upper * 100 < n;
  }

  // --- what each token decodes to ---
  v->piece.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& t = v->text[i];
    std::string& p = v->piece[i];
    switch (v->type[i]) {
      case TokenType::Control:
      case TokenType::Unknown:
        // WordPiece joins words with spaces, and [CLS], [UNK], ... are words.
        p = v->model == TokenizerModel::WordPiece ? " " + t : t;
        break;
      case TokenType::UserDefined:
        p = t;  // user-defined tokens are matched in raw text, so their text is raw too
        break;
      case TokenType::Byte: {
        uint8_t b = 0;
        parse_byte_token(t, b);
        p.assign(1, static_cast<char>(b));
        break;
      }
      default:
        if (v->model == TokenizerModel::Spm) {
          p = replace_all(t, kSpace, " ");
        } else if (v->model == TokenizerModel::Bpe) {
          p = byte_level_decode(t);
        } else if (v->wordpiece_hashes) {
          p = t.starts_with("##") ? t.substr(2) : " " + t;
        } else {
          p = replace_all(t, kSpace, " ");
        }
    }
  }

  // --- newline ---
  if (v->model == TokenizerModel::Spm) {
    v->nl = find_text("\n");
    if (v->nl < 0) v->nl = v->byte_token['\n'];
  } else if (v->model == TokenizerModel::Bpe) {
    v->nl = v->byte_token['\n'];
  }

  // --- tokens matched before the model runs ---
  for (size_t i = 0; i < n; ++i) {
    const TokenType t = v->type[i];
    if ((t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) && !v->text[i].empty()) {
      v->specials_by_byte[static_cast<uint8_t>(v->text[i][0])].push_back(static_cast<int32_t>(i));
    }
  }
  for (auto& list : v->specials_by_byte) {
    std::stable_sort(list.begin(), list.end(),
                     [&](int32_t a, int32_t b) { return v->text[a].size() > v->text[b].size(); });
  }
  return v;
}

}  // namespace ember::tok
