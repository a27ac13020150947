#pragma once
// What a forward pass needs from the session: the weights, the kernels, the
// pool, the KV cache and scratch buffers sized once (no allocation per token).
#include <cstdint>
#include <vector>

#include "ember/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/blocks.h"
#include "model/weights.h"
#include "session/kv_cache.h"

namespace ember::model {

struct Workspace {
  int n_batch = 0;                 // rows each buffer holds
  std::vector<float> x;            // residual stream (n_batch, n_embd)
  std::vector<float> h;            // normed input of a block (n_batch, max(n_embd, n_head * head_dim_v))
  std::vector<float> q, k, v;      // projections (n_batch, n_head * head_dim) ...
  std::vector<float> att;          // attention output (n_batch, n_head * head_dim_v)
  std::vector<float> ff_a, ff_b;   // feed-forward (n_batch, n_ff)
  std::vector<float> rope_cs;      // (n_batch, n_rot)
  std::vector<float> rope_cs_swa;  // (n_batch, n_rot) for local layers, when the model has them
  std::vector<int32_t> out_rows;   // tokens whose logits are kept
  kernels::MatmulScratch mm;
  AttentionScratch attn;

  void reserve(const ModelConfig& c, const KvCache& kv, int n_batch, int n_threads);
};

/// What a forward pass writes for each kept token.
enum class Output : uint8_t {
  Logits,  // n_vocab floats
  Hidden,  // n_embd floats: the last hidden state after the final norm (embeddings)
};

struct ForwardContext {
  const Weights& w;
  const kernels::KernelTable& kt;
  ThreadPool& pool;
  KvCache& kv;
  Workspace& ws;
  Output output = Output::Logits;
};

/// The end of every forward pass over its m kept rows x: the final norm
/// (output_norm) into out with Output::Hidden; otherwise into the workspace,
/// then the output matrix into out. Returns true when out holds logits.
bool output_head(ForwardContext& ctx, const float* x, int64_t m, float* out);

/// llama, qwen2, qwen3: pre-norm blocks of GQA attention (optional q/k/v biases,
/// optional per-head QK RMSNorm) and a SwiGLU feed-forward.
/// Writes the logits (n_vocab floats each; with Output::Hidden the normed
/// hidden states, n_embd floats each) of the tokens with want set, in order,
/// to `logits`. Every token's KV cell must already be marked used.
void forward_llama(ForwardContext& ctx, const Ubatch& ub, float* logits);

/// gemma3: scaled embeddings, QK-normed GQA attention with sliding-window
/// local layers, a GELU-gated feed-forward, each block's output normed
/// before its residual add. Same contract as forward_llama.
void forward_gemma3(ForwardContext& ctx, const Ubatch& ub, float* logits);

}  // namespace ember::model
