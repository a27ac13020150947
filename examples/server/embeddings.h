#pragma once
// Embeddings for /v1/embeddings: the mean over an input's tokens of the
// model's last hidden state (after the output norm), L2-normalized.
//
// The Session has no embeddings API yet, so this runs the model's own forward
// pass (src/model) on a private one-sequence KV cache, with the output
// projection swapped for an identity matrix: the "logits" it writes are then
// the normed hidden states. Replace with Session::embeddings once it exists.
//
// Thread safety: one thread at a time (the scheduler thread).
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ember/model.h"

namespace ember::server {

class Embedder {
 public:
  /// n_ctx: the longest input accepted; n_threads: the forward pass's pool.
  Embedder(std::shared_ptr<const Model> model, int n_ctx, int n_batch, int n_threads);
  ~Embedder();
  Embedder(const Embedder&) = delete;
  Embedder& operator=(const Embedder&) = delete;

  /// n_embd floats. Throws ember::Error for an empty input or one longer than n_ctx.
  std::vector<float> embed(std::span<const int32_t> tokens);
  int n_ctx() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::server
