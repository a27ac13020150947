// q8_K: the activation type of the K-quants. The scale is set by the element
// of largest magnitude mapping to -128 (as ggml does), and bsums hold the
// 16-element sums the K-quant dots need for their mins.
#include <cmath>

#include "quant/blocks.h"
#include "quant/quant_ref.h"

namespace ember::ref {

void quantize_row_q8_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_K*>(vy);
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    float amax = 0, max = 0;
    for (int j = 0; j < QK_K; ++j)
      if (std::fabs(x[j]) > amax) { amax = std::fabs(x[j]); max = x[j]; }
    if (amax == 0) {
      y[b] = block_q8_K{};
      continue;
    }
    const float iscale = -128.0f / max;
    for (int j = 0; j < QK_K; ++j) {
      const int v = int(std::nearbyint(iscale * x[j]));
      y[b].qs[j] = int8_t(v > 127 ? 127 : v);
    }
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
