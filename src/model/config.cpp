#include "model/config.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "ember/error.h"
#include "model/arch.h"

namespace ember::model {
namespace {

// Large enough for any real model, small enough that products of two stay far from overflow.
constexpr uint64_t kMaxDim = uint64_t(1) << 24;

class KeyReader {
 public:
  KeyReader(const gguf::File& f, std::string arch) : f_(f), arch_(std::move(arch)) {}

  std::string key(std::string_view suffix) const { return arch_ + "." + std::string(suffix); }

  int32_t required(std::string_view suffix) const {
    const std::string k = key(suffix);
    const auto v = f_.get_uint(k);
    if (!v) throw Error(ErrorKind::InvalidFile, "[model] " + f_.path() + ": key '" + k + "' missing");
    return checked(k, *v);
  }
  int32_t optional(std::string_view suffix, int32_t fallback) const {
    const std::string k = key(suffix);
    const auto v = f_.get_uint(k);
    return v ? checked(k, *v) : fallback;
  }
  float real(std::string_view suffix, float fallback) const {
    const std::string k = key(suffix);
    const auto v = f_.get_float(k);
    if (!v) return fallback;
    if (!std::isfinite(*v))
      throw Error(ErrorKind::InvalidFile, "[model] " + f_.path() + ": key '" + k + "' is not finite");
    return float(*v);
  }

 private:
  int32_t checked(const std::string& k, uint64_t v) const {
    if (v > kMaxDim)
      throw Error(ErrorKind::InvalidFile,
                  "[model] " + f_.path() + ": key '" + k + "' = " + std::to_string(v) + " is out of range");
    return int32_t(v);
  }
  const gguf::File& f_;
  std::string arch_;
};

int32_t vocab_size(const gguf::File& f, const KeyReader& keys) {
  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->is_array())
    return int32_t(std::min<uint64_t>(tokens->size(), kMaxDim));
  if (const int32_t n = keys.optional("vocab_size", 0); n > 0) return n;
  if (const gguf::TensorInfo* t = f.find_tensor("token_embd.weight"); t && t->shape.size() >= 2)
    return int32_t(std::min<int64_t>(t->shape[1], int64_t(kMaxDim)));
  return 0;
}

void fill_size_stats(const gguf::File& f, ModelConfig& c) {
  std::map<DType, uint64_t> bytes;
  for (const gguf::TensorInfo& t : f.tensors()) {
    c.n_params += t.n_elements;
    if (t.shape.size() >= 2) bytes[t.type] += t.n_bytes;
  }
  uint64_t best = 0;
  for (const auto& [type, n] : bytes)
    if (n > best) best = n, c.weight_type = type;
}

}  // namespace

ModelConfig read_config(const gguf::File& f, bool vocab_only) {
  ModelConfig c;
  const auto arch = f.get_string("general.architecture");
  if (!arch) throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": key 'general.architecture' missing");
  c.arch = *arch;
  c.name = f.get_string("general.name").value_or("");
  const KeyReader keys(f, c.arch);
  c.n_vocab = vocab_size(f, keys);
  fill_size_stats(f, c);
  if (vocab_only) return c;

  const ArchInfo* info = find_arch(c.arch);
  if (!info)
    throw Error(ErrorKind::Unsupported,
                "[model] architecture '" + c.arch + "' is not supported (supported: " + supported_archs() + ")");

  c.n_embd = keys.required("embedding_length");
  c.n_layer = keys.required("block_count");
  c.n_ff = keys.required("feed_forward_length");
  c.n_head = keys.required("attention.head_count");
  c.n_head_kv = keys.optional("attention.head_count_kv", c.n_head);
  c.n_ctx_train = keys.optional("context_length", 2048);
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_ff <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 ||
      c.n_head % c.n_head_kv != 0)
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": bad shape: " + std::to_string(c.n_layer) +
                                            " layers, n_embd " + std::to_string(c.n_embd) + ", n_ff " +
                                            std::to_string(c.n_ff) + ", " + std::to_string(c.n_head) + " heads, " +
                                            std::to_string(c.n_head_kv) + " KV heads");
  c.head_dim = keys.optional("attention.key_length", c.n_embd / c.n_head);
  c.head_dim_v = keys.optional("attention.value_length", c.head_dim);
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim_v <= 0)
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": bad head size " + std::to_string(c.head_dim) +
                                            " (keys) / " + std::to_string(c.head_dim_v) + " (values)");
  if (c.n_vocab <= 0) throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": vocabulary size unknown");

  c.rope_type = info->rope_type;
  c.n_rot = keys.optional("rope.dimension_count", c.head_dim);
  if (c.n_rot <= 0 || c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": key '" + keys.key("rope.dimension_count") +
                                            "' = " + std::to_string(c.n_rot) + " does not fit head size " +
                                            std::to_string(c.head_dim));
  c.rope_freq_base = keys.real("rope.freq_base", 10000.0f);
  if (!(c.rope_freq_base > 0))
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": key '" + keys.key("rope.freq_base") +
                                            "' must be positive");
  // Linear scaling stretches positions: freq_scale = 1 / factor.
  const std::string scaling = f.get_string(keys.key("rope.scaling.type")).value_or("");
  float factor = keys.real("rope.scaling.factor", 0.0f);
  if (factor == 0.0f) factor = keys.real("rope.scale_linear", 0.0f);
  if (!scaling.empty() && scaling != "none" && scaling != "linear")
    throw Error(ErrorKind::Unsupported, "[model] " + f.path() + ": rope scaling type '" + scaling +
                                            "' is not supported (supported: none, linear)");
  if (scaling != "none" && factor > 0.0f) c.rope_freq_scale = 1.0f / factor;
  if (factor < 0.0f)
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": negative rope scaling factor");
  c.norm_eps = keys.real("attention.layer_norm_rms_epsilon", 1e-5f);
  if (!(c.norm_eps >= 0.0f))
    throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": negative norm epsilon");
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;

  if (info->swa_period > 0) {
    // Local layers rotate with base 10000 and no scaling, as in llama.cpp.
    c.n_swa = keys.optional("attention.sliding_window", 0);
    c.swa_period = c.n_swa > 0 ? info->swa_period : 0;
  }
  if (c.arch == "gemma3") {
    // Gemma 3's query_pre_attn_scalar is the head size, except in the 27B
    // model (62 layers), where it is n_embd / n_head; no key carries it.
    const int32_t scalar = c.n_layer == 62 ? c.n_embd / c.n_head : c.head_dim;
    c.attn_scale = 1.0f / std::sqrt(float(scalar));
    c.final_logit_softcap = keys.real("final_logit_softcapping", 0.0f);
    if (c.final_logit_softcap < 0.0f)
      throw Error(ErrorKind::InvalidFile, "[model] " + f.path() + ": negative final logit soft-capping");
  }
  return c;
}

}  // namespace ember::model
