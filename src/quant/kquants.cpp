// Reference quantize / dequantize of the K-quants (256-element super-blocks).
// Dequantization multiplies in the same order as ggml's reference so that the
// floats agree bit for bit: (d * sc) * q - (dmin * m).
#include <cmath>

#include "ember/error.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/kquant_util.h"
#include "quant/quant_ref.h"

namespace ember::ref {

void dequantize_row_q2_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q2_K*>(vx);
  int8_t q[QK_K];
  int sc[16], m[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q2_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q3_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q3_K*>(vx);
  int8_t q[QK_K];
  int sc[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q3_K(x[b], q, sc);
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]);
    }
  }
}

void dequantize_row_q4_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  int8_t q[QK_K];
  int sc[8], m[8];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q4_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 32 * j; i < 32 * j + 32; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q5_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q5_K*>(vx);
  int8_t q[QK_K];
  int sc[8], m[8];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q5_K(x[b], q, sc, m);
    const float d = f16_to_f32(x[b].d), dmin = f16_to_f32(x[b].dmin);
    for (int j = 0; j < 8; ++j) {
      const float dl = d * float(sc[j]), ml = dmin * float(m[j]);
      for (int i = 32 * j; i < 32 * j + 32; ++i) y[i] = dl * float(q[i]) - ml;
    }
  }
}

void dequantize_row_q6_K(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  int8_t q[QK_K];
  int sc[16];
  for (int64_t b = 0; b < n / QK_K; ++b, y += QK_K) {
    unpack_q6_K(x[b], q, sc);
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < 16; ++j) {
      const float dl = d * float(sc[j]);
      for (int i = 16 * j; i < 16 * j + 16; ++i) y[i] = dl * float(q[i]);
    }
  }
}

void quantize_row_q2_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q2_K: not implemented"); }
void quantize_row_q3_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q3_K: not implemented"); }
void quantize_row_q4_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q4_K: not implemented"); }
void quantize_row_q5_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q5_K: not implemented"); }
void quantize_row_q6_K(const float*, void*, int64_t) { throw Error(ErrorKind::Unsupported, "[quant] q6_K: not implemented"); }

}  // namespace ember::ref
