#pragma once
// A language model loaded from a GGUF file: its hyper-parameters and its
// weights (zero-copy views into the mapped file).
//
// Thread safety: a Model is immutable after load(); any number of Sessions on
// any threads may share it (hold it by std::shared_ptr<const Model>).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ember/dtype.h"
#include "ember/gguf.h"
#include "ember/tokenizer.h"

namespace ember {

namespace model {
struct Weights;  // src/model/weights.h: the forward pass's view of the tensors
}

struct ModelParams {
  /// Threads of the sessions that ask for the model's default (0: hardware threads, at most 8).
  int n_threads = 0;
  /// false: read the whole file into memory instead of mapping it.
  bool use_mmap = true;
  /// Only the hyper-parameters and the tokenizer: no weights are looked up, no session can run.
  bool vocab_only = false;
  /// Called with 0..1 while loading; returning false cancels the load (an ember::Error).
  std::function<bool(float progress)> on_progress;
};

/// How positions are rotated into queries and keys.
enum class RopeType : uint8_t {
  None,    // no rotary embedding (absolute position embeddings, e.g. BERT)
  Normal,  // adjacent pairs (2i, 2i+1): llama, whose converter permutes Q/K rows for this
  Neox,    // pairs (i, i + n_rot/2): qwen2, qwen3, gemma, phi3
};

/// Hyper-parameters, from the `<arch>.*` metadata keys.
struct ModelConfig {
  std::string arch;  // general.architecture: "llama", "qwen2", "qwen3", "gemma3"
  std::string name;  // general.name, if any
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;  // <arch>.context_length
  int32_t n_embd = 0;       // width of the residual stream
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;   // grouped-query attention: n_head / n_head_kv query heads share a KV head
  int32_t head_dim = 0;    // per-head size of queries and keys (<arch>.attention.key_length)
  int32_t head_dim_v = 0;  // per-head size of values (<arch>.attention.value_length)
  int32_t n_ff = 0;        // feed-forward width
  RopeType rope_type = RopeType::Normal;
  int32_t n_rot = 0;              // leading dims of each head that are rotated (<arch>.rope.dimension_count)
  float rope_freq_base = 10000;   // theta_i = pos * freq_scale * base^(-2i / n_rot)
  float rope_freq_scale = 1;      // linear position scaling: 1 / rope.scaling.factor
  // Sliding-window attention (gemma3): layer il is local when swa_period > 0
  // and il % swa_period != swa_period - 1; a local layer's query at position p
  // sees keys at p' with p - p' < n_swa, and rotates with rope_freq_base_swa
  // (no position scaling). Other layers see the whole context.
  int32_t n_swa = 0;              // <arch>.attention.sliding_window; 0: no local layers
  int32_t swa_period = 0;
  float rope_freq_base_swa = 10000;
  float attn_scale = 0;           // query-key scale; 0: 1 / sqrt(head_dim)
  float final_logit_softcap = 0;  // logits = c * tanh(logits / c) when > 0 (<arch>.final_logit_softcapping)
  float norm_eps = 1e-5f;         // <arch>.attention.layer_norm_rms_epsilon
  bool tied_embeddings = false;   // no output.weight: logits use token_embd.weight
  DType weight_type = DType::F32; // the type most of the weight bytes are in
  uint64_t n_params = 0;          // elements of all tensors
};

class Model {
 public:
  /// Maps the file, reads the hyper-parameters and checks every tensor the
  /// architecture needs (name, shape, type). Throws ember::Error naming the
  /// problem: an unsupported architecture, a missing or malformed tensor, a
  /// cancelled load.
  static std::shared_ptr<const Model> load(const std::string& path, const ModelParams& params = {});

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const noexcept;
  const ModelParams& params() const noexcept;
  const gguf::File& gguf() const noexcept;
  /// The tokenizer from the file's tokenizer.ggml.* keys; throws ember::Error
  /// if the file has none (tokenizer.ggml.model missing).
  const Tokenizer& tokenizer() const;
  bool has_tokenizer() const noexcept;
  /// tokenizer.chat_template, if the file has one.
  std::optional<std::string> chat_template() const;
  /// One line: name, architecture, size, weight type, shape.
  std::string description() const;
  /// Threads a session uses when it does not say (ModelParams::n_threads resolved).
  int default_n_threads() const noexcept;
  bool vocab_only() const noexcept;

  /// The weights as the forward pass sees them (library-internal; throws for vocab_only models).
  const model::Weights& weights() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember
