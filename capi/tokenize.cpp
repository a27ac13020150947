// ember_tokenize / ember_detokenize / ember_token_*: the model's tokenizer.
#include <span>
#include <string>
#include <vector>

#include "capi_internal.h"
#include "ember/tokenizer.h"

using namespace ember;
using namespace ember::capi;

namespace {

const Tokenizer& tokenizer_of(const ember_model* m, const char* fn) { return model_of(m, fn).tokenizer(); }

template <class F>
ember_status special_token(const ember_model* m, ember_token* out, const char* fn, F get) {
  return guard(fn, [&]() -> ember_status {
    const Tokenizer& tok = tokenizer_of(m, fn);
    require(out, fn, "out");
    *out = get(tok);
    return EMBER_OK;
  });
}

}  // namespace

extern "C" {

EMBER_API ember_status ember_tokenize(const ember_model* model, const char* text, size_t text_len, bool add_special,
                                      bool parse_special, ember_token* tokens, size_t max_tokens, size_t* out_n) {
  const char* fn = "ember_tokenize";
  return guard(fn, [&]() -> ember_status {
    const Tokenizer& tok = tokenizer_of(model, fn);
    if (text_len > 0) require(text, fn, "text");
    if (out_n) *out_n = 0;
    const std::vector<int32_t> ids = tok.encode(std::string_view(text ? text : "", text_len), add_special, parse_special);
    return write_tokens(ids, tokens, max_tokens, out_n, fn);
  });
}

EMBER_API ember_status ember_detokenize(const ember_model* model, const ember_token* tokens, size_t n,
                                        bool remove_special, char* buf, size_t buf_size, size_t* out_len) {
  const char* fn = "ember_detokenize";
  return guard(fn, [&]() -> ember_status {
    const Tokenizer& tok = tokenizer_of(model, fn);
    if (n > 0) require(tokens, fn, "tokens");
    if (out_len) *out_len = 0;
    const std::string text = tok.decode(std::span<const int32_t>(tokens, n), remove_special);
    return write_text(text, buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_token_to_piece(const ember_model* model, ember_token token, bool special, char* buf,
                                            size_t buf_size, size_t* out_len) {
  const char* fn = "ember_token_to_piece";
  return guard(fn, [&]() -> ember_status {
    const Tokenizer& tok = tokenizer_of(model, fn);
    if (out_len) *out_len = 0;
    return write_text(tok.token_to_piece(token, special), buf, buf_size, out_len, fn);
  });
}

EMBER_API ember_status ember_token_bos(const ember_model* model, ember_token* out) {
  return special_token(model, out, "ember_token_bos", [](const Tokenizer& t) { return t.bos(); });
}

EMBER_API ember_status ember_token_eos(const ember_model* model, ember_token* out) {
  return special_token(model, out, "ember_token_eos", [](const Tokenizer& t) { return t.eos(); });
}

EMBER_API ember_status ember_token_is_eog(const ember_model* model, ember_token token, bool* out) {
  const char* fn = "ember_token_is_eog";
  return guard(fn, [&]() -> ember_status {
    const Tokenizer& tok = tokenizer_of(model, fn);
    require(out, fn, "out");
    if (token < 0 || token >= tok.n_vocab())
      throw Error(ErrorKind::InvalidArgument, std::string("[") + fn + "] token id " + std::to_string(token) +
                                                  " is out of range (n_vocab " + std::to_string(tok.n_vocab()) + ")");
    *out = tok.is_eog(token);
    return EMBER_OK;
  });
}

}  // extern "C"
