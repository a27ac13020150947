// Embedding lookup and row-wise norms.
#include <algorithm>

#include "model/blocks.h"

namespace ember::model {

void embed(const Embedding& e, ThreadPool& pool, const int32_t* token, int m, float* x) {
  parallel_for(pool, m, std::max(1, m / (pool.size() * 4)), [&](int64_t b, int64_t end) {
    for (int64_t i = b; i < end; ++i)
      e.to_float(e.data + size_t(token[i]) * e.row_bytes, x + i * e.n_embd, e.n_embd);
  });
}

void rms_norm_rows(const kernels::FloatOps& ops, ThreadPool& pool, const float* x, float* y, int64_t m, int64_t n,
                   int64_t stride, const Norm& norm, float eps) {
  const float* w = norm.present() ? norm.weight.data() : nullptr;
  // Rows are short: give each thread a run of them, not one each.
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(m / pool.size(), 16384 / std::max<int64_t>(n, 1)));
  parallel_for(pool, m, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) ops.rms_norm(y + i * stride, x + i * stride, w, n, eps);
  });
}

}  // namespace ember::model
