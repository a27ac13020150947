// Byte-level BPE: the text is cut into pieces by the pre-tokenizer regexes;
// each piece starts as one symbol per byte (the token of the byte's
// printable stand-in) and the adjacent pair with the lowest merge rank is
// merged until no pair has a merge.
#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace ember::tok {

namespace {

struct Symbol {
  int32_t id;  // -1: a byte with no token (it stays, so no merge reaches across it)
  int32_t prev, next;
  bool alive;
};

struct Candidate {
  int32_t rank;
  int32_t left, right;
  int32_t left_id, right_id;  // the pair when proposed; a mismatch later means it is stale
  int32_t merged;
};

struct CandidateOrder {  // min-heap on rank, then leftmost
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class Session {
 public:
  explicit Session(const Tokenizer::Impl& v) : v_(v) {}

  void piece(std::string_view s, std::vector<int32_t>& out) {
    if (v_.pre.ignore_merges) {
      std::string mapped;
      for (char c : s) append_utf8(mapped, byte_to_unicode(static_cast<uint8_t>(c)));
      if (const int32_t* id = v_.find(mapped)) {
        out.push_back(*id);
        return;
      }
    }
    syms_.clear();
    heap_.clear();
    const auto n = static_cast<int32_t>(s.size());
    for (int32_t i = 0; i < n; ++i) {
      syms_.push_back({v_.byte_token[static_cast<uint8_t>(s[i])], i - 1, i + 1 < n ? i + 1 : -1, true});
    }
    for (int32_t i = 1; i < n; ++i) propose(i - 1, i);

    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), CandidateOrder{});
      const Candidate c = heap_.back();
      heap_.pop_back();
      Symbol& l = syms_[c.left];
      Symbol& r = syms_[c.right];
      if (!l.alive || !r.alive || l.next != c.right || l.id != c.left_id || r.id != c.right_id) continue;
      l.id = c.merged;
      r.alive = false;
      l.next = r.next;
      if (r.next >= 0) syms_[r.next].prev = c.left;
      propose(l.prev, c.left);
      propose(c.left, l.next);
    }

    // A byte without a token is dropped, as llama.cpp does (Hugging Face's byte-level
    // BPE has no unknown token either; some vocabs' "unknown" id is <|endoftext|>).
    for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = syms_[i].next) {
      if (syms_[i].id >= 0) out.push_back(syms_[i].id);
    }
  }

 private:
  void propose(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t a = syms_[left].id, b = syms_[right].id;
    if (a < 0 || b < 0) return;
    const auto it = v_.merges.find(pair_key(a, b));
    if (it == v_.merges.end()) return;
    heap_.push_back({it->second.rank, left, right, a, b, it->second.id});
    std::push_heap(heap_.begin(), heap_.end(), CandidateOrder{});
  }

  const Tokenizer::Impl& v_;
  std::vector<Symbol> syms_;
  std::vector<Candidate> heap_;
};

}  // namespace

void encode_bpe(const Tokenizer::Impl& v, std::string_view text, std::vector<int32_t>& out) {
  std::vector<Span> pieces;
  pre_tokenize(v.pre, text, {0, text.size()}, pieces);
  Session session(v);
  for (const Span& p : pieces) session.piece(text.substr(p.begin, p.end - p.begin), out);
}

}  // namespace ember::tok
