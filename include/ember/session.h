#pragma once
// A Session runs a Model: it owns the KV cache, the scratch buffers and a
// thread pool, decodes batches of tokens and hands out their logits.
//
// Thread safety: one thread at a time per Session. Sessions sharing a Model
// may run on different threads at once.
#include <atomic>
#include <cstdint>
#include <string_view>
#include <memory>
#include <span>
#include <vector>

#include "ember/dtype.h"
#include "ember/generate.h"
#include "ember/model.h"

namespace ember {

struct SessionParams {
  /// Positions per sequence (0: min(n_ctx_train, 4096)). Each of the n_seq_max
  /// sequences has its own n_ctx positions in the KV cache.
  int n_ctx = 0;
  /// Tokens per forward pass; decode() splits larger batches.
  int n_batch = 512;
  /// 0: the model's default (ModelParams::n_threads).
  int n_threads = 0;
  /// Element type of the KV cache: F16, Q8_0 or Q4_0.
  DType kv_type = DType::F16;
  /// Independent sequences the KV cache holds (seq ids 0 .. n_seq_max-1).
  int n_seq_max = 1;
};

/// One token to decode, like an entry of llama_batch.
struct BatchEntry {
  int32_t token = 0;
  int32_t pos = 0;     // position in its sequence, 0 .. n_ctx-1
  int32_t seq_id = 0;  // 0 .. n_seq_max-1
  bool logits = false; // keep this entry's logits (see Session::logits)
};

struct Batch {
  std::vector<BatchEntry> entries;

  void add(int32_t token, int32_t pos, int32_t seq_id = 0, bool logits = false) {
    entries.push_back({token, pos, seq_id, logits});
  }
  void clear() noexcept { entries.clear(); }
  size_t size() const noexcept { return entries.size(); }
  bool empty() const noexcept { return entries.empty(); }

  /// tokens at positions pos0, pos0+1, ... of one sequence; logits for the last one only.
  static Batch from_tokens(std::span<const int32_t> tokens, int32_t pos0 = 0, int32_t seq_id = 0) {
    Batch b;
    b.entries.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i)
      b.add(tokens[i], pos0 + int32_t(i), seq_id, i + 1 == tokens.size());
    return b;
  }
};

class Session {
 public:
  /// Throws ember::Error for bad parameters (kv_type, n_ctx, n_seq_max ...) or a vocab_only model.
  explicit Session(std::shared_ptr<const Model> model, const SessionParams& params = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  const Model& model() const noexcept;
  /// The parameters in force, zeros resolved.
  const SessionParams& params() const noexcept;
  int n_ctx() const noexcept;
  int n_vocab() const noexcept;

  // --- low level --------------------------------------------------------------

  /// Runs the model over the batch, writing each entry's keys and values into
  /// the KV cache at (seq_id, pos); an entry attends to the cells of its
  /// sequence at positions <= its own. Throws ember::Error for an invalid
  /// token id, a position outside 0..n_ctx-1 or a bad seq id before anything
  /// changes, so the session stays usable.
  void decode(const Batch& batch);

  /// Entries of the last decode() that asked for logits.
  int n_outputs() const noexcept;
  /// Logits (n_vocab floats) of the i-th entry of the last decode() that asked
  /// for them; negative i counts from the end (-1: the last). Valid until the next decode().
  std::span<const float> logits(int i) const;

  /// Embedding of tokens: the last hidden state (after the model's final
  /// norm) averaged over the tokens, scaled to unit length when normalize is
  /// set; n_embd floats. Runs on sequence 0, which it empties before and
  /// after. Throws ember::Error for no tokens, more than n_ctx of them or an
  /// invalid id.
  std::vector<float> embed(std::span<const int32_t> tokens, bool normalize = true);

  /// Empties every sequence.
  void kv_clear();
  /// Drops positions [p0, p1) of seq (seq < 0: every sequence; p0 < 0: from 0; p1 < 0: to the end).
  void kv_remove(int seq, int p0 = -1, int p1 = -1);
  /// Drops every sequence but seq.
  void kv_keep_seq(int seq);
  /// Copies positions [p0, p1) of src into dst (p0 < 0: from 0; p1 < 0: to the end).
  void kv_copy(int src_seq, int dst_seq, int p0 = -1, int p1 = -1);
  /// Largest position held for seq, -1 if none.
  int kv_pos_max(int seq) const;
  /// Bytes of the KV cache (K and V, every layer and sequence).
  size_t kv_bytes() const noexcept;

  /// The token held at each position of seq (-1 where a position is empty).
  std::vector<int32_t> kv_tokens(int seq) const;

  // --- high level -------------------------------------------------------------

  /// Tokenizes the prompt, evaluates what the KV cache of sequence 0 does not
  /// already hold (the longest common prefix with the cached tokens is
  /// reused), then samples until end of generation, n_predict tokens, a stop
  /// string, a full context, on_piece returning false, or cancel(). Each piece
  /// of text reaches on_piece as whole UTF-8. Throws ember::Error for bad
  /// parameters or a prompt longer than the context; the session stays usable.
  GenerateResult generate(std::string_view prompt, const GenerateParams& params, const OnPiece& on_piece = {});
  /// Generation from a token list instead of text (no tokenization of the prompt).
  GenerateResult generate_tokens(std::span<const int32_t> prompt, const GenerateParams& params,
                                 const OnPiece& on_piece = {});
  /// Stops a running generate() at its next token; callable from any thread.
  void cancel() noexcept;

 private:
  std::atomic<bool>& cancel_flag() noexcept;
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ember
