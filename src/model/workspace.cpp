#include <algorithm>

#include "model/forward.h"

namespace ember::model {

void Workspace::reserve(const ModelConfig& c, const KvCache& kv, int rows, int n_threads) {
  n_batch = rows;
  const size_t r = size_t(rows);
  const size_t n_q = size_t(c.n_head) * size_t(c.head_dim), n_k = size_t(c.n_head_kv) * size_t(c.head_dim);
  const size_t n_v = size_t(c.n_head_kv) * size_t(c.head_dim_v), n_o = size_t(c.n_head) * size_t(c.head_dim_v);
  x.resize(r * size_t(c.n_embd));
  h.resize(r * size_t(c.n_embd));
  q.resize(r * n_q);
  k.resize(r * n_k);
  v.resize(r * n_v);
  att.resize(r * n_o);
  ff_a.resize(r * size_t(c.n_ff));
  ff_b.resize(r * size_t(c.n_ff));
  rope_cs.resize(r * size_t(std::max(c.n_rot, 1)));
  rope_cs_swa.resize(c.n_swa > 0 ? r * size_t(std::max(c.n_rot, 1)) : 0);
  out_rows.reserve(r);
  attn.tile_start.reserve(r + 1);
  attn.reserve(c, kv, n_threads);
}

}  // namespace ember::model
