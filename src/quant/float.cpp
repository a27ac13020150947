// f32 / f16 / bf16 rows: the "quantization" of the float types.
#include <cstring>

#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {

void quantize_row_f32(const float* x, void* y, int64_t n) { std::memcpy(y, x, size_t(n) * sizeof(float)); }
void dequantize_row_f32(const void* x, float* y, int64_t n) { std::memcpy(y, x, size_t(n) * sizeof(float)); }

void quantize_row_f16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16(x[i]);
}
void dequantize_row_f16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = f16_to_f32(in[i]);
}

void quantize_row_bf16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(x[i]);
}
void dequantize_row_bf16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const uint16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(in[i]);
}

}  // namespace ember::ref
