#include "model/weights.h"

#include <string>

#include "ember/error.h"
#include "model/arch.h"

namespace ember::model {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class Loader {
 public:
  explicit Loader(const gguf::File& f) : f_(f) {}

  const gguf::TensorInfo* find(const std::string& name, Need need) const {
    if (need == Need::No) return nullptr;
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t && need == Need::Required) throw Error(ErrorKind::InvalidFile, "[model] tensor '" + name + "' missing");
    return t;
  }

  /// Trailing dimensions of 1 are ignored, as ggml does.
  static void check_shape(const gguf::TensorInfo& t, const std::vector<int64_t>& want) {
    std::vector<int64_t> have = t.shape;
    while (have.size() > want.size() && have.back() == 1) have.pop_back();
    if (have != want)
      throw Error(ErrorKind::InvalidFile,
                  "[model] tensor '" + t.name + "' has shape " + shape_text(t.shape) + ", expected " + shape_text(want));
  }

  static std::vector<float> to_f32(const gguf::TensorInfo& t) {
    const TypeTraits& tr = type_traits(t.type);
    if (!tr.to_float)
      throw Error(ErrorKind::Unsupported,
                  "[model] tensor '" + t.name + "' has type " + tr.name + ", which ember cannot read");
    std::vector<float> v(t.n_elements);
    tr.to_float(t.data, v.data(), int64_t(t.n_elements));
    return v;
  }

  /// `base`.weight as a (k -> n_rows) matrix and, if the architecture has one, `base`.bias.
  Linear linear(const std::string& base, int64_t k, int64_t n_rows, Need need = Need::Required,
                Need bias = Need::No) const {
    Linear l;
    const gguf::TensorInfo* t = find(base + ".weight", need);
    if (!t) return l;
    l.w = matrix(*t, k, n_rows);
    if (const gguf::TensorInfo* b = find(base + ".bias", bias)) {
      check_shape(*b, {n_rows});
      l.bias = to_f32(*b);
    }
    return l;
  }

  static kernels::WeightMatrix matrix(const gguf::TensorInfo& t, int64_t k, int64_t n_rows) {
    check_shape(t, {k, n_rows});
    const TypeTraits& tr = type_traits(t.type);
    const kernels::KernelTable& scalar = kernels::kernel_table(kernels::Isa::Scalar);
    const TypeTraits* act = tr.vec_dot ? &type_traits(tr.vec_dot_type) : nullptr;
    if (!tr.vec_dot || !scalar.vec_dot[uint32_t(t.type)] || k % tr.block_size != 0 || k % act->block_size != 0)
      throw Error(ErrorKind::Unsupported,
                  "[model] tensor '" + t.name + "' has type " + tr.name + ", which ember cannot compute with");
    const auto row = dtype_row_bytes(t.type, uint64_t(k));
    return {t.type, t.data, n_rows, k, size_t(*row)};
  }

  Norm norm(const std::string& name, int64_t n, Need need = Need::Required) const {
    Norm nm;
    if (const gguf::TensorInfo* t = find(name, need)) {
      check_shape(*t, {n});
      nm.weight = to_f32(*t);
    }
    return nm;
  }

 private:
  const gguf::File& f_;
};

}  // namespace

Weights load_weights(const gguf::File& f, const ModelConfig& c, const ArchInfo& arch,
                     const std::function<bool(int, int)>& progress) {
  const Loader ld(f);
  Weights w;
  w.config = c;
  w.arch = &arch;

  const gguf::TensorInfo* emb = ld.find("token_embd.weight", Need::Required);
  Loader::check_shape(*emb, {c.n_embd, c.n_vocab});
  const TypeTraits& etr = type_traits(emb->type);
  if (!etr.to_float)
    throw Error(ErrorKind::Unsupported,
                std::string("[model] tensor 'token_embd.weight' has type ") + etr.name + ", which ember cannot read");
  w.tok_embd = {emb->type, emb->data, size_t(*dtype_row_bytes(emb->type, uint64_t(c.n_embd))), c.n_embd, c.n_vocab,
                etr.to_float};

  const int64_t n_q = int64_t(c.n_head) * c.head_dim, n_k = int64_t(c.n_head_kv) * c.head_dim;
  const int64_t n_v = int64_t(c.n_head_kv) * c.head_dim_v, n_o = int64_t(c.n_head) * c.head_dim_v;
  w.layers.resize(size_t(c.n_layer));
  for (int il = 0; il < c.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerWeights& L = w.layers[size_t(il)];
    L.attn_norm = ld.norm(p + "attn_norm.weight", c.n_embd);
    L.wq = ld.linear(p + "attn_q", c.n_embd, n_q, Need::Required, arch.qkv_bias);
    L.wk = ld.linear(p + "attn_k", c.n_embd, n_k, Need::Required, arch.qkv_bias);
    L.wv = ld.linear(p + "attn_v", c.n_embd, n_v, Need::Required, arch.qkv_bias);
    L.q_norm = ld.norm(p + "attn_q_norm.weight", c.head_dim, arch.qk_norm);
    L.k_norm = ld.norm(p + "attn_k_norm.weight", c.head_dim, arch.qk_norm);
    L.wo = ld.linear(p + "attn_output", n_o, c.n_embd);
    L.attn_post_norm = ld.norm(p + "post_attention_norm.weight", c.n_embd, arch.post_norms);
    L.ffn_post_norm = ld.norm(p + "post_ffw_norm.weight", c.n_embd, arch.post_norms);
    L.ffn_norm = ld.norm(p + "ffn_norm.weight", c.n_embd);
    L.ffn_gate = ld.linear(p + "ffn_gate", c.n_embd, c.n_ff);
    L.ffn_up = ld.linear(p + "ffn_up", c.n_embd, c.n_ff);
    L.ffn_down = ld.linear(p + "ffn_down", c.n_ff, c.n_embd);
    if (progress && !progress(il + 1, c.n_layer))
      throw Error(ErrorKind::Cancelled, "[model] " + f.path() + ": loading cancelled by on_progress");
  }

  w.output_norm = ld.norm("output_norm.weight", c.n_embd);
  if (const gguf::TensorInfo* out = ld.find("output.weight", Need::Optional))
    w.output.w = Loader::matrix(*out, c.n_embd, c.n_vocab);
  else
    w.output.w = Loader::matrix(*emb, c.n_embd, c.n_vocab);  // tied embeddings
  if (const gguf::TensorInfo* ff = ld.find("rope_freqs.weight", Need::Optional)) {
    Loader::check_shape(*ff, {c.n_rot / 2});
    w.rope_freq_factors = Loader::to_f32(*ff);
  }
  return w;
}

}  // namespace ember::model
