// The public Tokenizer: special-token splitting, BOS/EOS, dispatch to the
// model's encoder, and decoding.
#include <algorithm>

#include "ember/error.h"
#include "ember/gguf.h"
#include "ember/tokenizer.h"
#include "tokenizer/vocab.h"

namespace ember {

namespace {

void check_id(const Tokenizer::Impl& v, int32_t id, const char* where) {
  if (id < 0 || id >= v.n_vocab()) {
    throw Error(ErrorKind::InvalidArgument, std::string("[tokenizer] ") + where + ": token id " + std::to_string(id) +
                                                " out of range (vocabulary of " + std::to_string(v.n_vocab()) + ")");
  }
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const gguf::File& file) { return Tokenizer(tok::load_vocab(file)); }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& v = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && v.add_bos) out.push_back(v.bos);

  bool after_special = true;  // SPM puts its space prefix at the start and after each special token
  for (const tok::Fragment& f : tok::split_special(v, text, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view s = text.substr(f.begin, f.end - f.begin);
    switch (v.model) {
      case TokenizerModel::Spm: tok::encode_spm(v, s, v.add_space_prefix && after_special, out); break;
      case TokenizerModel::Bpe: tok::encode_bpe(v, s, out); break;
      case TokenizerModel::WordPiece: tok::encode_wordpiece(v, s, out); break;
    }
    after_special = false;
  }

  if (add_special && v.model == TokenizerModel::WordPiece && v.add_sep) out.push_back(v.sep);
  if (add_special && v.add_eos) out.push_back(v.eos);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool remove_special) const {
  const Impl& v = *impl_;
  // The space the encoder put before the first word is not part of the text.
  bool strip_space = v.add_space_prefix || v.model == TokenizerModel::WordPiece;
  std::string out;
  for (int32_t id : ids) {
    check_id(v, id, "decode");
    if (remove_special && v.is_special_type(id)) continue;
    std::string_view p = v.piece[id];
    if (p.empty()) continue;
    if (strip_space && p.front() == ' ') p.remove_prefix(1);
    strip_space = false;
    out.append(p);
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  const Impl& v = *impl_;
  check_id(v, id, "token_to_piece");
  if (!special && v.is_special_type(id)) return {};
  return v.piece[id];
}

int32_t Tokenizer::n_vocab() const { return impl_->n_vocab(); }
TokenizerModel Tokenizer::model() const { return impl_->model; }
const std::string& Tokenizer::pre() const { return impl_->pre_name; }
int32_t Tokenizer::bos() const { return impl_->bos; }
int32_t Tokenizer::eos() const { return impl_->eos; }
int32_t Tokenizer::eot() const { return impl_->eot; }
int32_t Tokenizer::nl() const { return impl_->nl; }
int32_t Tokenizer::pad() const { return impl_->pad; }
int32_t Tokenizer::unk() const { return impl_->unk; }
int32_t Tokenizer::sep() const { return impl_->sep; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(impl_->eog.begin(), impl_->eog.end(), id); }

std::optional<int32_t> Tokenizer::find(std::string_view piece) const {
  if (const int32_t* id = impl_->find(piece)) return *id;
  return std::nullopt;
}

const std::string& Tokenizer::token_text(int32_t id) const {
  check_id(*impl_, id, "token_text");
  return impl_->text[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
  check_id(*impl_, id, "token_type");
  return impl_->type[id];
}

const std::vector<std::string>& Tokenizer::warnings() const { return impl_->warnings; }

}  // namespace ember
