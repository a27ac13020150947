// Scalar dots of iq4_nl with q8_0 and iq4_xs with q8_K: integer sums of
// codebook level times activation, scaled once per block (as ggml does).
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {

float vec_dot_iq4_nl_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_nl*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK4_NL; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK4_NL / 2; ++j) {
      sumi += kvalues_iq4nl[x[b].qs[j] & 0xF] * y[b].qs[j];
      sumi += kvalues_iq4nl[x[b].qs[j] >> 4] * y[b].qs[j + QK4_NL / 2];
    }
    sum += f16_to_f32(x[b].d) * f16_to_f32(y[b].d) * float(sumi);
  }
  return sum;
}

float vec_dot_iq4_xs_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK_K; ++b) {
    int sumi = 0;  // at most 8 * 32 * 32 * 127 * 128 in magnitude: fits
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const int ls = (((x[b].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x[b].scales_h >> (2 * ib)) & 3) << 4)) - 32;
      const uint8_t* qs = x[b].qs + 16 * ib;
      const int8_t* q8 = y[b].qs + 32 * ib;
      int s = 0;
      for (int j = 0; j < 16; ++j) s += kvalues_iq4nl[qs[j] & 0xF] * q8[j] + kvalues_iq4nl[qs[j] >> 4] * q8[j + 16];
      sumi += ls * s;
    }
    sum += f16_to_f32(x[b].d) * y[b].d * float(sumi);
  }
  return sum;
}

}  // namespace ember::ref
