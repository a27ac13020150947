// Streaming detokenization that holds back an unfinished UTF-8 character.
#include "ember/tokenizer.h"
#include "tokenizer/unicode.h"

namespace ember {

StreamDecoder::StreamDecoder(Tokenizer tokenizer, bool special) : tokenizer_(std::move(tokenizer)), special_(special) {}

std::string StreamDecoder::push(int32_t id) {
  pending_ += tokenizer_.token_to_piece(id, special_);
  const size_t hold = tok::utf8_incomplete_tail(pending_);
  std::string ready = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string StreamDecoder::flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

void StreamDecoder::reset() { pending_.clear(); }

}  // namespace ember
