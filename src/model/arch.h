#pragma once
// Per-architecture description: which optional tensors a family has, how it
// rotates positions, and which forward pass runs it. Adding a family is a new
// entry here plus (if its graph differs) a forward file over the shared blocks.
#include <string>
#include <string_view>

#include "ember/model.h"

namespace ember::model {

struct Weights;
struct ForwardContext;
struct Ubatch;

/// How a tensor family is required by an architecture.
enum class Need : uint8_t { No, Optional, Required };

using ForwardFn = void (*)(ForwardContext& ctx, const Ubatch& ub, float* logits);

struct ArchInfo {
  std::string_view name;  // general.architecture
  RopeType rope_type;
  Need qkv_bias;  // blk.N.attn_{q,k,v}.bias
  Need qk_norm;   // blk.N.attn_{q,k}_norm.weight: RMSNorm of each query/key head before RoPE
  ForwardFn forward;
  Need post_norms = Need::No;  // blk.N.post_attention_norm / post_ffw_norm: RMSNorm of each block's output
  int swa_period = 0;          // > 0: local (sliding-window) layers, all but every swa_period-th (ModelConfig)
};

/// The entry for general.architecture, or nullptr.
const ArchInfo* find_arch(std::string_view name) noexcept;
/// "llama, qwen2, qwen3, gemma3"
std::string supported_archs();

}  // namespace ember::model
