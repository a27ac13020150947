#pragma once
// The shared building blocks of the forward passes: embedding lookup, norms,
// linear layers, RoPE tables, KV-cache attention, the gated feed-forward.
// Each works on m rows (tokens) at once and spreads its work over the pool.
#include <cstdint>
#include <vector>

#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/weights.h"
#include "session/kv_cache.h"

namespace ember::model {

/// x[i] = row token[i] of the embedding table, dequantized.
void embed(const Embedding& e, ThreadPool& pool, const int32_t* token, int m, float* x);

/// y[i] = rms_norm(x[i]) * weight, rows of n floats `stride` apart.
void rms_norm_rows(const kernels::FloatOps& ops, ThreadPool& pool, const float* x, float* y, int64_t m, int64_t n,
                   int64_t stride, const Norm& norm, float eps);

/// y (m x n_rows) = x (m x k) · Wᵀ + b.
void linear(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch, const Linear& l,
            const float* x, int64_t m, float* y);

/// cos/sin of each rotated pair for each position: m rows of n_rot floats
/// (cos, sin interleaved), the table FloatOps::rope takes.
void rope_table(const ModelConfig& c, const std::vector<float>& freq_factors, const int32_t* pos, int m, float* cs);

/// Per-thread scratch of attention(), sized once for the session.
struct AttentionScratch {
  struct PerThread {
    std::vector<float> scores;  // tile * heads_per_item * n_ctx
    std::vector<uint8_t> q;     // tile * heads_per_item quantized query rows
    std::vector<float> v;       // one dequantized value row
    std::vector<uint16_t> p16;  // one row of probabilities as f16 (transposed values)
  };
  std::vector<PerThread> threads;
  std::vector<int32_t> tile_start;  // first token of each work tile, then n_tokens
  int tile = 1;                     // tokens per work tile

  void reserve(const ModelConfig& c, const KvCache& kv, int n_threads);
};

/// The tokens of one forward pass.
struct Ubatch {
  int n_tokens = 0;
  const int32_t* token = nullptr;
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;
  const uint8_t* want = nullptr;  // nonzero: keep this token's logits
};

/// out[i][h] = softmax(q[i][h] · K[seq_i]ᵀ * scale over cells <= pos_i) · V[seq_i],
/// for each token i and head h; query head h reads KV head h / (n_head / n_head_kv).
/// q rows hold n_head * head_dim floats; out rows n_head * head_dim_v.
void attention(const kernels::KernelTable& kt, ThreadPool& pool, const KvCache& kv, int layer, const ModelConfig& c,
               const Ubatch& ub, const float* q, float* out, float scale, AttentionScratch& scratch);

/// Writes token i's key and value rows (n_head_kv heads each) into cell (seq_i, pos_i) of layer.
void kv_store(const kernels::KernelTable& kt, KvCache& kv, int layer, const ModelConfig& c, const Ubatch& ub, int i,
              const float* k, const float* v);

}  // namespace ember::model
