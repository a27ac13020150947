// Scalar dots of the float types. Accumulate in double: these are oracles.
#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {

float vec_dot_f32_f32(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const float*>(x);
  const auto* b = static_cast<const float*>(y);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return float(s);
}

float vec_dot_f16_f16(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const uint16_t*>(x);
  const auto* b = static_cast<const uint16_t*>(y);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(f16_to_f32(a[i])) * double(f16_to_f32(b[i]));
  return float(s);
}

float vec_dot_bf16_bf16(int64_t n, const void* x, const void* y) {
  const auto* a = static_cast<const uint16_t*>(x);
  const auto* b = static_cast<const uint16_t*>(y);
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(bf16_to_f32(a[i])) * double(bf16_to_f32(b[i]));
  return float(s);
}

}  // namespace ember::ref
