#pragma once
// Matrix products of quantized weights with float activations:
//   y[i][r] = dot(W row r, x row i)   for r < n_rows, i < m
// The activations are quantized once to the weight type's activation type,
// then weight rows are split among the threads. m == 1 is the decode GEMV;
// m > 1 (a prompt chunk) is the GEMM, tiled so each weight tile is read from
// memory once and reused from cache for every activation row.
#include <cstdint>
#include <vector>

#include "ember/dtype.h"
#include "ember/thread_pool.h"
#include "kernels/kernels.h"

namespace ember::kernels {

/// Weights: n_rows rows of k elements of `type`, row_stride bytes apart.
struct WeightMatrix {
  DType type;
  const void* data;
  int64_t n_rows;
  int64_t k;
  size_t row_stride;
};

/// Scratch owned by the caller (a session), reused across calls.
struct MatmulScratch {
  std::vector<uint8_t> act;
};

/// The kernels one matmul uses; from a KernelTable or chosen by hand (benchmarks).
struct MatmulKernels {
  VecDotFn dot;
  FromFloatFn quantize;      // to type_traits(type).vec_dot_type
  VecDot4Fn dot4 = nullptr;  // the GEMM's, if any: must equal `dot` row for row, bit for bit
};

MatmulKernels matmul_kernels(const KernelTable& kt, DType type);

/// y (m x n_rows, row-major, y_stride floats apart) = x (m x k, x_stride floats apart) · Wᵀ.
/// Throws ember::Error on bad shapes or a type without kernels.
void matmul(const MatmulKernels& kern, ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t x_stride,
            int64_t m, float* y, int64_t y_stride, MatmulScratch& scratch);

inline void matmul(const KernelTable& kt, ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t m,
                   float* y, MatmulScratch& scratch) {
  matmul(matmul_kernels(kt, w.type), pool, w, x, w.k, m, y, w.n_rows, scratch);
}

}  // namespace ember::kernels
