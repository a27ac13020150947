#pragma once
// Byte-level BPE pre-tokenizers: the regex sequence each tokenizer.ggml.pre
// name stands for. Each regex splits the pieces left by the one before,
// keeping matches and the text between them, as Hugging Face's
// Sequence[Split(..., behavior="isolated")] does.
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"

namespace ember::tok {

struct PreTokenizer {
  std::string name;  // the canonical name of the regex set ("gpt2", "llama3", ...)
  std::vector<Regex> regexes;
  bool ignore_merges = false;  // a piece that is itself a token is taken whole (llama3, tekken)
  bool add_bos = false;        // default of tokenizer.ggml.add_bos_token for this family
};

/// Fills out with the pre-tokenizer a tokenizer.ggml.pre value names. Returns
/// false for an unknown name, in which case out is the default pre-tokenizer.
bool make_pre_tokenizer(std::string_view pre, PreTokenizer& out);

/// Splits text[span] into pre-tokenizer pieces, appended to out.
void pre_tokenize(const PreTokenizer& pre, std::string_view text, Span span, std::vector<Span>& out);

}  // namespace ember::tok
