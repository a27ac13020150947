// Linear layers. A group of layers that read the same input (Q/K/V, gate/up)
// is run as one GEMV when decoding: the input is quantized once and a single
// pass over the pool covers the rows of all of them.
#include <algorithm>

#include "ember/error.h"
#include "model/blocks.h"
#include "model/forward.h"

namespace ember::model {
namespace {

void add_bias(const kernels::KernelTable& kt, const Linear& l, int64_t m, float* y) {
  if (l.bias.empty()) return;
  for (int64_t i = 0; i < m; ++i) kt.ops->add(y + i * l.w.n_rows, y + i * l.w.n_rows, l.bias.data(), l.w.n_rows);
}

}  // namespace

void linear(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch, const Linear& l,
            const float* x, int64_t m, float* y) {
  if (m == 1) {
    const LinearTarget one[] = {{&l, y}};
    linear_group(kt, pool, scratch, one, x, m);
    return;
  }
  kernels::matmul(kt, pool, l.w, x, m, y, scratch);
  add_bias(kt, l, m, y);
}

void linear_group(const kernels::KernelTable& kt, ThreadPool& pool, kernels::MatmulScratch& scratch,
                  std::span<const LinearTarget> targets, const float* x, int64_t m) {
  constexpr size_t kMax = 4;
  bool fused = m == 1 && targets.size() <= kMax;
  const DType act = type_traits(targets[0].l->w.type).vec_dot_type;
  for (const LinearTarget& t : targets)
    fused = fused && t.l->w.k == targets[0].l->w.k && type_traits(t.l->w.type).vec_dot_type == act;
  if (!fused) {
    for (const LinearTarget& t : targets) {
      kernels::matmul(kt, pool, t.l->w, x, m, t.y, scratch);
      add_bias(kt, *t.l, m, t.y);
    }
    return;
  }
  kernels::MatmulKernels kern[kMax];
  int64_t first_row[kMax + 1] = {0};
  for (size_t i = 0; i < targets.size(); ++i) {
    kern[i] = kernels::matmul_kernels(kt, targets[i].l->w.type);
    first_row[i + 1] = first_row[i] + targets[i].l->w.n_rows;
  }
  const int64_t k = targets[0].l->w.k, n_rows = first_row[targets.size()];
  const size_t act_row = size_t(*dtype_row_bytes(act, uint64_t(k)));
  if (scratch.act.size() < act_row) scratch.act.resize(act_row);
  const uint8_t* qx = scratch.act.data();
  kern[0].quantize(x, scratch.act.data(), k);

  // Contiguous runs of rows keep each thread's reads sequential; a run may
  // cross from one matrix into the next.
  const int64_t grain = std::max<int64_t>(16, n_rows / (pool.size() * 8));
  parallel_for(pool, n_rows, grain, [&](int64_t b, int64_t e) {
    for (size_t t = 0; t < targets.size(); ++t) {
      const int64_t lo = std::max(b, first_row[t]), hi = std::min(e, first_row[t + 1]);
      if (lo >= hi) continue;
      const kernels::WeightMatrix& w = targets[t].l->w;
      const auto* wd = static_cast<const uint8_t*>(w.data);
      float* y = targets[t].y - first_row[t];
      for (int64_t r = lo; r < hi; ++r) y[r] = kern[t].dot(k, wd + size_t(r - first_row[t]) * w.row_stride, qx);
    }
  });
  for (const LinearTarget& t : targets) add_bias(kt, *t.l, 1, t.y);
}

bool output_head(ForwardContext& ctx, const float* x, int64_t m, float* out) {
  const ModelConfig& c = ctx.w.config;
  const kernels::FloatOps& ops = *ctx.kt.ops;
  if (ctx.output == Output::Hidden) {
    rms_norm_rows(ops, ctx.pool, x, out, m, c.n_embd, c.n_embd, ctx.w.output_norm, c.norm_eps);
    return false;
  }
  float* h = ctx.ws.h.data();
  rms_norm_rows(ops, ctx.pool, x, h, m, c.n_embd, c.n_embd, ctx.w.output_norm, c.norm_eps);
  linear(ctx.kt, ctx.pool, ctx.ws.mm, ctx.w.output, h, m, out);
  return true;
}

}  // namespace ember::model
