#include "kernels/matmul.h"

#include <algorithm>
#include <string>

#include "ember/error.h"

namespace ember::kernels {

MatmulKernels matmul_kernels(const KernelTable& kt, DType type) {
  const TypeTraits& tr = type_traits(type);
  const auto t = static_cast<uint32_t>(type), a = static_cast<uint32_t>(tr.vec_dot_type);
  MatmulKernels k{kt.vec_dot[t], kt.quantize[a], kt.vec_dot_4x[t]};
  if (!k.quantize && tr.vec_dot_type == DType::F32) k.quantize = tr.from_float;  // f32 copy
  if (!k.dot || !k.quantize)
    throw Error(ErrorKind::Unsupported, std::string("[matmul] no kernels for weight type ") + tr.name);
  return k;
}

void matmul(const MatmulKernels& kern, ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t x_stride,
            int64_t m, float* y, int64_t y_stride, MatmulScratch& scratch) {
  const TypeTraits& tr = type_traits(w.type);
  const TypeTraits& act = type_traits(tr.vec_dot_type);
  if (w.k <= 0 || w.n_rows <= 0 || m <= 0 || w.k % tr.block_size != 0 || w.k % act.block_size != 0)
    throw Error(ErrorKind::InvalidArgument, std::string("[matmul] bad shape: ") + std::to_string(w.n_rows) + " x " +
                                                std::to_string(w.k) + " " + tr.name + " weights, " + std::to_string(m) +
                                                " activation rows");
  const size_t act_row = size_t(w.k / act.block_size) * act.type_size;
  if (scratch.act.size() < act_row * size_t(m)) scratch.act.resize(act_row * size_t(m));
  uint8_t* qx = scratch.act.data();

  pool.parallel_for(m, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) kern.quantize(x + i * x_stride, qx + size_t(i) * act_row, w.k);
  });

  const auto* wdata = static_cast<const uint8_t*>(w.data);
  if (m == 1) {
    // GEMV: contiguous row ranges keep each thread's reads sequential.
    const int64_t grain = std::max<int64_t>(16, w.n_rows / (pool.size() * 8));
    pool.parallel_for(w.n_rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) y[r] = kern.dot(w.k, wdata + size_t(r) * w.row_stride, qx);
    });
    return;
  }
  // GEMM: a tile of weight rows stays in L2 while every activation row passes over it.
  const int64_t tile = std::clamp<int64_t>(int64_t(256 * 1024 / std::max<size_t>(w.row_stride, 1)), 4, 64);
  constexpr int64_t kActBlock = 64;
  pool.parallel_for(w.n_rows, tile, [&](int64_t b, int64_t e) {
    for (int64_t i0 = 0; i0 < m; i0 += kActBlock) {
      const int64_t i1 = std::min(m, i0 + kActBlock);
      if (kern.dot4) {
        // Each weight block decoded once for kDot4Rows activation rows, which
        // stay in L1 while the tile's weight rows pass.
        for (int64_t i = i0; i < i1; i += kDot4Rows) {
          const int na = int(std::min<int64_t>(kDot4Rows, i1 - i));
          const uint8_t* xa = qx + size_t(i) * act_row;
          for (int64_t r = b; r < e; ++r) {
            float out[kDot4Rows];
            kern.dot4(w.k, wdata + size_t(r) * w.row_stride, xa, act_row, na, out);
            for (int j = 0; j < na; ++j) y[(i + j) * y_stride + r] = out[j];
          }
        }
        continue;
      }
      for (int64_t r = b; r < e; ++r) {
        const uint8_t* wr = wdata + size_t(r) * w.row_stride;
        for (int64_t i = i0; i < i1; ++i) y[i * y_stride + r] = kern.dot(w.k, wr, qx + size_t(i) * act_row);
      }
    }
  });
}

}  // namespace ember::kernels
