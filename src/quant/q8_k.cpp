// q8_K: the activation type of the K-quants. Symmetric: the element of
// largest magnitude maps to +-127, as ggml's CPU kernels quantize activations
// (its portable reference maps it to -128 instead; the shared test vectors'
// dot.T values are reproduced only by the +-127 form). bsums hold the
// 16-element sums the K-quant dots need for their mins.
#include <cmath>

#include "quant/blocks.h"
#include "quant/quant_ref.h"

namespace ember::ref {

void quantize_row_q8_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_K*>(vy);
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    float amax = 0;
    for (int j = 0; j < QK_K; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    if (amax == 0) {
      y[b] = block_q8_K{};
      continue;
    }
    const float iscale = 127.0f / amax;
    for (int j = 0; j < QK_K; ++j) y[b].qs[j] = int8_t(std::nearbyint(iscale * x[j]));
    for (int j = 0; j < QK_K / 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += y[b].qs[16 * j + i];
      y[b].bsums[j] = int16_t(sum);
    }
    y[b].d = 1 / iscale;
  }
}

void dequantize_row_q8_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q8_K*>(vx);
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K)
    for (int j = 0; j < QK_K; ++j) y[j] = x[b].d * float(x[b].qs[j]);
}

}  // namespace ember::ref
