#pragma once
// Embeddings for /v1/embeddings: the mean over an input's tokens of the
// model's last hidden state (after the output norm), L2-normalized, from a
// one-sequence Session of its own (Session::embed), so embedding requests
// never touch the generation sequences' KV cache.
//
// Thread safety: one thread at a time (the scheduler thread).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ember/model.h"
#include "ember/session.h"

namespace ember::server {

class Embedder {
 public:
  /// n_ctx: the longest input accepted; n_threads: the forward pass's pool.
  Embedder(std::shared_ptr<const Model> model, int n_ctx, int n_batch, int n_threads)
      : session_(std::move(model), SessionParams{.n_ctx = n_ctx, .n_batch = n_batch, .n_threads = n_threads}) {}

  /// n_embd floats. Throws ember::Error for an empty input, one longer than n_ctx or a bad token id.
  std::vector<float> embed(std::span<const int32_t> tokens) { return session_.embed(tokens, true); }
  int n_ctx() const noexcept { return session_.n_ctx(); }

 private:
  Session session_;
};

}  // namespace ember::server
