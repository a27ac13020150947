#pragma once
// The tensors of a model as the forward pass uses them: matrices are
// zero-copy views of the mapped file; norm weights and biases (small) are
// kept as f32 copies whatever their stored type.
#include <cstdint>
#include <functional>
#include <vector>

#include "ember/gguf.h"
#include "ember/model.h"
#include "kernels/matmul.h"

namespace ember::model {

struct ArchInfo;

/// y = W x (+ b). W is [k inputs] x [n_rows outputs] as GGUF stores it (ne = {k, n_rows}).
struct Linear {
  kernels::WeightMatrix w{DType::F32, nullptr, 0, 0, 0};
  std::vector<float> bias;  // n_rows, or empty
  bool present() const noexcept { return w.data != nullptr; }
};

struct Norm {
  std::vector<float> weight;  // empty: absent
  bool present() const noexcept { return !weight.empty(); }
};

struct LayerWeights {
  Norm attn_norm;          // (n_embd)
  Linear wq, wk, wv;       // (n_embd) -> (n_head * head_dim), (n_head_kv * head_dim), (n_head_kv * head_dim_v)
  Norm q_norm, k_norm;     // (head_dim), qwen3, gemma3
  Norm attn_post_norm;     // (n_embd), gemma3: norm of the attention output before the residual add
  Norm ffn_post_norm;      // (n_embd), gemma3: norm of the feed-forward output before the residual add
  Linear wo;               // (n_head * head_dim_v) -> (n_embd)
  Norm ffn_norm;           // (n_embd)
  Linear ffn_gate, ffn_up; // (n_embd) -> (n_ff)
  Linear ffn_down;         // (n_ff) -> (n_embd)
};

/// Rows of token_embd.weight, dequantized one at a time.
struct Embedding {
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;
  int64_t n_embd = 0, n_vocab = 0;
  ToFloatFn to_float = nullptr;
};

struct Weights {
  ModelConfig config;
  const ArchInfo* arch = nullptr;
  Embedding tok_embd;              // (n_vocab, n_embd)
  std::vector<LayerWeights> layers;
  Norm output_norm;                // (n_embd)
  Linear output;                   // (n_embd) -> (n_vocab); token_embd when tied
  std::vector<float> rope_freq_factors;  // (n_rot / 2) divisors of the frequencies (llama 3.1+), or empty
};

/// Looks up and checks every tensor the architecture needs. progress(i, n)
/// is called after each layer; it returns false to cancel (then this throws).
Weights load_weights(const gguf::File& file, const ModelConfig& config, const ArchInfo& arch,
                     const std::function<bool(int done, int total)>& progress);

}  // namespace ember::model
