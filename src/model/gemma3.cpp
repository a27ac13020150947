// Gemma 3 (gemma3). The llama family's blocks with Gemma's differences:
// scaled embeddings, a norm on each block's output, a GELU gate, and local
// layers that attend to a sliding window and rotate with their own base.
// (The GGUF converter has folded Gemma's (1 + w) into the stored norm weights.)
//
//   x = embed(tokens) * sqrt(n_embd)
//   for each layer (local: all but every swa_period-th):
//     h = rms_norm(x) * attn_norm
//     q, k, v = h Wq, h Wk, h Wv                per head: q_norm/k_norm, NeoX RoPE
//                                               (local: base rope_freq_base_swa, unscaled)
//     x += rms_norm(attention(q, cached k, v) Wo) * post_attention_norm
//                                               (local: keys less than n_swa positions back)
//     h = rms_norm(x) * ffn_norm
//     x += rms_norm((gelu(h Wgate) * (h Wup)) Wdown) * post_ffw_norm
//   logits = (rms_norm(x) * output_norm) Wout   (Wout: token_embd when tied; soft-capped if set)
#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/forward.h"

namespace ember::model {
namespace {

// Element-wise work over n floats, in runs long enough to be worth a thread.
template <class F>
void parallel_elements(ThreadPool& pool, int64_t n, F&& fn) {
  constexpr int64_t kGrain = 16384;
  parallel_for(pool, n, std::max(kGrain, n / (pool.size() * 4)), fn);
}

bool is_local(const ModelConfig& c, int il) { return c.swa_period > 0 && il % c.swa_period != c.swa_period - 1; }

}  // namespace

void forward_gemma3(ForwardContext& ctx, const Ubatch& ub, float* logits) {
  const Weights& W = ctx.w;
  const ModelConfig& c = W.config;
  Workspace& ws = ctx.ws;
  ThreadPool& pool = ctx.pool;
  const kernels::KernelTable& kt = ctx.kt;
  const kernels::FloatOps& ops = *kt.ops;

  const int64_t n_embd = c.n_embd, hd = c.head_dim, n_ff = c.n_ff, n_vocab = c.n_vocab;
  const int64_t n_q = c.n_head * hd, n_k = c.n_head_kv * hd, n_v = int64_t(c.n_head_kv) * c.head_dim_v;
  const int64_t n_o = int64_t(c.n_head) * c.head_dim_v;
  const bool neox = c.rope_type == RopeType::Neox;
  const float scale = c.attn_scale > 0.0f ? c.attn_scale : 1.0f / std::sqrt(float(hd));
  float *x = ws.x.data(), *h = ws.h.data(), *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data();
  float *att = ws.att.data(), *fa = ws.ff_a.data(), *fb = ws.ff_b.data();
  float *cs_global = ws.rope_cs.data(), *cs_local = ws.rope_cs_swa.data();

  int64_t m = ub.n_tokens;
  ws.out_rows.clear();
  for (int i = 0; i < ub.n_tokens; ++i)
    if (ub.want[i]) ws.out_rows.push_back(i);
  const int64_t n_out = int64_t(ws.out_rows.size());

  embed(W.tok_embd, pool, ub.token, int(m), x);
  const float embd_scale = std::sqrt(float(n_embd));
  parallel_elements(pool, m * n_embd, [&](int64_t b, int64_t e) { ops.scale(x + b, x + b, embd_scale, e - b); });
  if (c.rope_type != RopeType::None) {
    rope_table(c, W.rope_freq_factors, ub.pos, int(m), cs_global);
    if (c.swa_period > 0) rope_table(c.n_rot, c.rope_freq_base_swa, 1.0f, W.rope_freq_factors, ub.pos, int(m), cs_local);
  }

  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& L = W.layers[size_t(il)];
    const bool local = is_local(c, il);
    const float* cs = local ? cs_local : cs_global;

    rms_norm_rows(ops, pool, x, h, m, n_embd, n_embd, L.attn_norm, c.norm_eps);
    const LinearTarget qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};
    linear_group(kt, pool, ws.mm, qkv, h, m);
    parallel_for(pool, m, std::max<int64_t>(1, m / (pool.size() * 4)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        float* qi = q + i * n_q;
        float* ki = k + i * n_k;
        for (int hh = 0; hh < c.n_head; ++hh) ops.rms_norm(qi + hh * hd, qi + hh * hd, L.q_norm.weight.data(), hd, c.norm_eps);
        for (int hh = 0; hh < c.n_head_kv; ++hh) ops.rms_norm(ki + hh * hd, ki + hh * hd, L.k_norm.weight.data(), hd, c.norm_eps);
        if (c.rope_type != RopeType::None) {
          ops.rope(qi, c.n_head, hd, c.n_rot, cs + i * c.n_rot, neox);
          ops.rope(ki, c.n_head_kv, hd, c.n_rot, cs + i * c.n_rot, neox);
        }
        kv_store(kt, ctx.kv, il, c, ub, int(i), ki, v + i * n_v);
      }
    });
    attention(kt, pool, ctx.kv, il, c, ub, q, att, scale, ws.attn, local ? c.n_swa : 0);

    if (il == c.n_layer - 1) {
      // Past the last attention only the rows whose logits are kept matter.
      if (n_out == 0) return;
      for (int64_t j = 0; j < n_out; ++j) {
        const int64_t src = ws.out_rows[size_t(j)];
        if (src == j) continue;
        std::memcpy(att + j * n_o, att + src * n_o, size_t(n_o) * sizeof(float));
        std::memcpy(x + j * n_embd, x + src * n_embd, size_t(n_embd) * sizeof(float));
      }
      m = n_out;
    }

    linear(kt, pool, ws.mm, L.wo, att, m, h);
    rms_norm_rows(ops, pool, h, h, m, n_embd, n_embd, L.attn_post_norm, c.norm_eps);
    parallel_elements(pool, m * n_embd, [&](int64_t b, int64_t e) { ops.add(x + b, x + b, h + b, e - b); });

    rms_norm_rows(ops, pool, x, h, m, n_embd, n_embd, L.ffn_norm, c.norm_eps);
    const LinearTarget gate_up[] = {{&L.ffn_gate, fa}, {&L.ffn_up, fb}};
    linear_group(kt, pool, ws.mm, gate_up, h, m);
    parallel_elements(pool, m * n_ff, [&](int64_t b, int64_t e) {
      ops.gelu(fa + b, fa + b, e - b);
      ops.mul(fa + b, fa + b, fb + b, e - b);
    });
    linear(kt, pool, ws.mm, L.ffn_down, fa, m, h);
    rms_norm_rows(ops, pool, h, h, m, n_embd, n_embd, L.ffn_post_norm, c.norm_eps);
    parallel_elements(pool, m * n_embd, [&](int64_t b, int64_t e) { ops.add(x + b, x + b, h + b, e - b); });
  }

  if (output_head(ctx, x, m, logits) && c.final_logit_softcap > 0.0f) {
    const float cap = c.final_logit_softcap;
    parallel_elements(pool, m * n_vocab, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) logits[i] = cap * std::tanh(logits[i] / cap);
    });
  }
}

}  // namespace ember::model
