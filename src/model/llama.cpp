// The llama family: llama (Llama 2/3, Mistral, SmolLM, TinyLlama), qwen2
// (q/k/v biases) and qwen3 (RMSNorm of each query/key head before RoPE).
//
//   x = embed(tokens)
//   for each layer:
//     h = rms_norm(x) * attn_norm
//     q, k, v = h Wq (+bq), h Wk (+bk), h Wv (+bv)      per head: [q_norm/k_norm], RoPE
//     x += attention(q, cached k, v) Wo
//     h = rms_norm(x) * ffn_norm
//     x += (silu(h Wgate) * (h Wup)) Wdown
//   logits = (rms_norm(x) * output_norm) Wout
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

}  // namespace

void forward_llama(ForwardContext& ctx, const Ubatch& ub, float* logits) {
  const Weights& W = ctx.w;
  const ModelConfig& c = W.config;
  Workspace& ws = ctx.ws;
  ThreadPool& pool = ctx.pool;
  const kernels::KernelTable& kt = ctx.kt;
  const kernels::FloatOps& ops = *kt.ops;

  const int64_t n_embd = c.n_embd, hd = c.head_dim, n_ff = c.n_ff;
  const int64_t n_q = c.n_head * hd, n_k = c.n_head_kv * hd, n_v = int64_t(c.n_head_kv) * c.head_dim_v;
  const int64_t n_o = int64_t(c.n_head) * c.head_dim_v;
  const bool neox = c.rope_type == RopeType::Neox;
  const float scale = 1.0f / std::sqrt(float(hd));
  float *x = ws.x.data(), *h = ws.h.data(), *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data();
  float *att = ws.att.data(), *fa = ws.ff_a.data(), *fb = ws.ff_b.data(), *cs = ws.rope_cs.data();

  int64_t m = ub.n_tokens;
  ws.out_rows.clear();
  for (int i = 0; i < ub.n_tokens; ++i)
    if (ub.want[i]) ws.out_rows.push_back(i);
  const int64_t n_out = int64_t(ws.out_rows.size());

  embed(W.tok_embd, pool, ub.token, int(m), x);
  if (c.rope_type != RopeType::None) rope_table(c, W.rope_freq_factors, ub.pos, int(m), cs);

  for (int il = 0; il < c.n_layer; ++il) {
    const LayerWeights& L = W.layers[size_t(il)];

    rms_norm_rows(ops, pool, x, h, m, n_embd, n_embd, L.attn_norm, c.norm_eps);
    const LinearTarget qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};
    linear_group(kt, pool, ws.mm, qkv, h, m);
    parallel_for(pool, m, std::max<int64_t>(1, m / (pool.size() * 4)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        float* qi = q + i * n_q;
        float* ki = k + i * n_k;
        if (L.q_norm.present())
          for (int hh = 0; hh < c.n_head; ++hh) ops.rms_norm(qi + hh * hd, qi + hh * hd, L.q_norm.weight.data(), hd, c.norm_eps);
        if (L.k_norm.present())
          for (int hh = 0; hh < c.n_head_kv; ++hh) ops.rms_norm(ki + hh * hd, ki + hh * hd, L.k_norm.weight.data(), hd, c.norm_eps);
        if (c.rope_type != RopeType::None) {
          ops.rope(qi, c.n_head, hd, c.n_rot, cs + i * c.n_rot, neox);
          ops.rope(ki, c.n_head_kv, hd, c.n_rot, cs + i * c.n_rot, neox);
        }
        kv_store(kt, ctx.kv, il, c, ub, int(i), ki, v + i * n_v);
      }
    });
    attention(kt, pool, ctx.kv, il, c, ub, q, att, scale, ws.attn);

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
    parallel_elements(pool, m * n_embd, [&](int64_t b, int64_t e) { ops.add(x + b, x + b, h + b, e - b); });

    rms_norm_rows(ops, pool, x, h, m, n_embd, n_embd, L.ffn_norm, c.norm_eps);
    const LinearTarget gate_up[] = {{&L.ffn_gate, fa}, {&L.ffn_up, fb}};
    linear_group(kt, pool, ws.mm, gate_up, h, m);
    parallel_elements(pool, m * n_ff, [&](int64_t b, int64_t e) { ops.swiglu(fa + b, fa + b, fb + b, e - b); });
    linear(kt, pool, ws.mm, L.ffn_down, fa, m, h);
    parallel_elements(pool, m * n_embd, [&](int64_t b, int64_t e) { ops.add(x + b, x + b, h + b, e - b); });
  }

  output_head(ctx, x, m, logits);
}

}  // namespace ember::model
