// SentencePiece-style BPE: start from characters, repeatedly merge the
// adjacent pair whose joined text is the vocabulary entry with the highest
// score (leftmost on ties), then map what is left to tokens, falling back to
// <0xXX> byte tokens for characters the vocabulary lacks.
#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace ember::tok {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// Mirrors sentencepiece: merges may produce normal, user-defined and unused
// pieces, never control or byte tokens.
bool mergeable(TokenType t) {
  return t == TokenType::Normal || t == TokenType::UserDefined || t == TokenType::Unused || t == TokenType::Undefined;
}

struct Node {  // a piece of the text and, if it came from a merge, its two halves
  uint32_t begin, len;
  int32_t left, right;
};

struct Symbol {
  int32_t prev, next;
  uint32_t begin, len;  // len 0: merged into its left neighbour
  int32_t node;
};

struct Candidate {
  float score;
  int32_t left, right;
  uint32_t len;  // joined length when proposed; a mismatch later means it is stale
};

struct CandidateOrder {  // max-heap: highest score, then leftmost
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class Session {
 public:
  explicit Session(const Tokenizer::Impl& v) : v_(v) {}

  void run(std::string_view text, std::vector<int32_t>& out) {
    text_ = text;
    syms_.clear();
    nodes_.clear();
    heap_.clear();
    for (uint32_t i = 0; i < text_.size();) {
      const uint32_t len = utf8_next(text_, i).len;
      const auto idx = static_cast<int32_t>(syms_.size());
      nodes_.push_back({i, len, -1, -1});
      syms_.push_back({idx - 1, -1, i, len, idx});
      if (idx > 0) syms_[idx - 1].next = idx;
      i += len;
    }
    for (int32_t i = 1; i < static_cast<int32_t>(syms_.size()); ++i) propose(i - 1, i);

    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), CandidateOrder{});
      const Candidate c = heap_.back();
      heap_.pop_back();
      Symbol& l = syms_[c.left];
      Symbol& r = syms_[c.right];
      if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;
      nodes_.push_back({l.begin, c.len, l.node, r.node});
      l.node = static_cast<int32_t>(nodes_.size()) - 1;
      l.len = c.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) syms_[r.next].prev = c.left;
      propose(l.prev, c.left);
      propose(c.left, l.next);
    }

    for (int32_t i = syms_.empty() ? -1 : 0; i >= 0; i = syms_[i].next) emit(syms_[i].node, out);
  }

 private:
  void propose(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t len = syms_[left].len + syms_[right].len;
    const int32_t* id = v_.find(text_.substr(syms_[left].begin, len));
    if (!id || !mergeable(v_.type[*id])) return;
    heap_.push_back({v_.score[*id], left, right, len});
    std::push_heap(heap_.begin(), heap_.end(), CandidateOrder{});
  }

  void emit(int32_t node, std::vector<int32_t>& out) const {
    const Node& n = nodes_[node];
    const std::string_view s = text_.substr(n.begin, n.len);
    if (const int32_t* id = v_.find(s); id && mergeable(v_.type[*id])) {
      // An unused piece is only a step between merges: emit its halves instead.
      if (v_.type[*id] != TokenType::Unused || n.left < 0) {
        out.push_back(*id);
        return;
      }
    }
    if (n.left >= 0) {
      emit(n.left, out);
      emit(n.right, out);
      return;
    }
    // A character the vocabulary lacks: its bytes as <0xXX>, or one unknown token.
    const bool all_bytes = std::all_of(s.begin(), s.end(), [&](char c) { return v_.byte_token[static_cast<uint8_t>(c)] >= 0; });
    if (all_bytes) {
      for (char c : s) out.push_back(v_.byte_token[static_cast<uint8_t>(c)]);
    } else if (v_.unk >= 0) {
      out.push_back(v_.unk);
    }
  }

  const Tokenizer::Impl& v_;
  std::string_view text_;
  std::vector<Symbol> syms_;
  std::vector<Node> nodes_;
  std::vector<Candidate> heap_;
};

// sentencepiece's remove_extra_whitespaces: no leading or trailing spaces, runs of spaces become one.
std::string squeeze_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  for (char c : s) {
    if (c == ' ') {
      pending = !out.empty();
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

}  // namespace

void encode_spm(const Tokenizer::Impl& v, std::string_view text, bool prefix_space, std::vector<int32_t>& out) {
  std::string squeezed;
  if (v.remove_extra_whitespaces) {
    squeezed = squeeze_spaces(text);
    text = squeezed;
  }
  std::string escaped;
  escaped.reserve(text.size() + text.size() / 2 + 3);
  if (prefix_space) escaped.append(kSpace);
  for (char c : text) {
    if (c == ' ') escaped.append(kSpace);
    else escaped += c;
  }
  Session session(v);
  if (!v.spm_word_chunks) {
    if (!escaped.empty()) session.run(escaped, out);
    return;
  }
  // No token has a space after another character, so no merge crosses the
  // start of a word: words can be merged one at a time, which keeps the
  // candidate heap small (the result is the same).
  size_t begin = 0;
  for (size_t i = kSpace.size(); i + kSpace.size() <= escaped.size(); ++i) {
    const std::string_view here(escaped.data() + i, kSpace.size());
    if (here != kSpace) continue;
    if (std::string_view(escaped.data() + i - kSpace.size(), kSpace.size()) == kSpace) continue;
    session.run(std::string_view(escaped).substr(begin, i - begin), out);
    begin = i;
  }
  if (begin < escaped.size()) session.run(std::string_view(escaped).substr(begin), out);
}

}  // namespace ember::tok
