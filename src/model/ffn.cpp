// Linear layers.
#include "model/blocks.h"

namespace ember::model {

void linear(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch, const Linear& l,
            const float* x, int64_t m, float* y) {
  kernels::matmul(kt, pool, l.w, x, m, y, scratch);
  if (l.bias.empty()) return;
  for (int64_t i = 0; i < m; ++i) kt.ops->add(y + i * l.w.n_rows, y + i * l.w.n_rows, l.bias.data(), l.w.n_rows);
}

}  // namespace ember::model
