#pragma once
// The shared building blocks of the forward passes: embedding lookup, norms,
// linear layers, RoPE tables, KV-cache attention, the gated feed-forward.
// Each works on m rows (tokens) at once and spreads its work over the pool.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/weights.h"
#include "session/kv_cache.h"

namespace ember::model {

/// Like ThreadPool::parallel_for (chunks of `grain` handed out dynamically),
/// but the std::function given to the pool holds a single pointer, so a
/// decode step never allocates for it.
template <class F>
void parallel_for(ThreadPool& pool, int64_t n, int64_t grain, const F& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks == 1 || pool.size() == 1) {
    fn(int64_t(0), n);
    return;
  }
  struct Job {
    const F& fn;
    int64_t n, grain, chunks;
    std::atomic<int64_t> next{0};
  } job{fn, n, grain, chunks};
  Job* j = &job;
  pool.run([j](int, int) {
    for (int64_t c = j->next.fetch_add(1, std::memory_order_relaxed); c < j->chunks;
         c = j->next.fetch_add(1, std::memory_order_relaxed))
      j->fn(c * j->grain, std::min(j->n, (c + 1) * j->grain));
  });
}

/// x[i] = row token[i] of the embedding table, dequantized.
void embed(const Embedding& e, ThreadPool& pool, const int32_t* token, int m, float* x);

/// y[i] = rms_norm(x[i]) * weight, rows of n floats `stride` apart.
void rms_norm_rows(const kernels::FloatOps& ops, ThreadPool& pool, const float* x, float* y, int64_t m, int64_t n,
                   int64_t stride, const Norm& norm, float eps);

/// y (m x n_rows) = x (m x k) · Wᵀ + b.
void linear(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch, const Linear& l,
            const float* x, int64_t m, float* y);

struct LinearTarget {
  const Linear* l;
  float* y;  // m x l->w.n_rows
};
/// linear() of each target on the same x; fused into one pass when m == 1
/// and the layers share an activation type (at most 4 targets fused).
void linear_group(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch,
                  std::span<const LinearTarget> targets, const float* x, int64_t m);

/// cos/sin of each rotated pair for each position: m rows of n_rot floats
/// (cos, sin interleaved), the table FloatOps::rope takes.
void rope_table(const ModelConfig& c, const std::vector<float>& freq_factors, const int32_t* pos, int m, float* cs);
/// The same with an explicit frequency base and position scale (local layers).
void rope_table(int n_rot, float freq_base, float freq_scale, const std::vector<float>& freq_factors,
                const int32_t* pos, int m, float* cs);

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
  // Decoding a few tokens over a long context splits the cells into chunks;
  // each chunk's output, max score and softmax sum wait here to be combined.
  std::vector<float> partial;  // kMaxChunkedTokens * n_head * max_chunks * (head_dim_v + 2)
  int max_chunks = 1;

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
/// window > 0 (sliding-window layers): token i sees only cells p with pos_i - p < window.
void attention(const kernels::KernelTable& kt, ThreadPool& pool, const KvCache& kv, int layer, const ModelConfig& c,
               const Ubatch& ub, const float* q, float* out, float scale, AttentionScratch& scratch,
               int window = 0);

/// Writes token i's key and value rows (n_head_kv heads each) into cell (seq_i, pos_i) of layer.
void kv_store(const kernels::KernelTable& kt, KvCache& kv, int layer, const ModelConfig& c, const Ubatch& ub, int i,
              const float* k, const float* v);

}  // namespace ember::model
