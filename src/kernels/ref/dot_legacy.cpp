// Scalar dots of the 32-element block types against q8_0 / q8_1.
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {
namespace {
uint32_t load_qh(const uint8_t* qh) { uint32_t v; std::memcpy(&v, qh, 4); return v; }
}  // namespace

float vec_dot_q4_0_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK4_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK4_0 / 2; ++j) {
      sumi += ((x[b].qs[j] & 0xF) - 8) * y[b].qs[j];
      sumi += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + QK4_0 / 2];
    }
    sum += float(sumi) * f16_to_f32(x[b].d) * f16_to_f32(y[b].d);
  }
  return sum;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_1*>(vx);
  const auto* y = static_cast<const block_q8_1*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK4_1; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK4_1 / 2; ++j) {
      sumi += (x[b].qs[j] & 0xF) * y[b].qs[j];
      sumi += (x[b].qs[j] >> 4) * y[b].qs[j + QK4_1 / 2];
    }
    sum += float(sumi) * f16_to_f32(x[b].d) * f16_to_f32(y[b].d) + f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
  }
  return sum;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK5_0; ++b) {
    const uint32_t qh = load_qh(x[b].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int q0 = ((x[b].qs[j] & 0xF) | int(((qh >> j) & 1) << 4)) - 16;
      const int q1 = ((x[b].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4)) - 16;
      sumi += q0 * y[b].qs[j] + q1 * y[b].qs[j + QK5_0 / 2];
    }
    sum += float(sumi) * f16_to_f32(x[b].d) * f16_to_f32(y[b].d);
  }
  return sum;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_1*>(vx);
  const auto* y = static_cast<const block_q8_1*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK5_1; ++b) {
    const uint32_t qh = load_qh(x[b].qh);
    int sumi = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int q0 = (x[b].qs[j] & 0xF) | int(((qh >> j) & 1) << 4);
      const int q1 = (x[b].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      sumi += q0 * y[b].qs[j] + q1 * y[b].qs[j + QK5_1 / 2];
    }
    sum += float(sumi) * f16_to_f32(x[b].d) * f16_to_f32(y[b].d) + f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q8_0*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  float sum = 0;
  for (int64_t b = 0; b < n / QK8_0; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += x[b].qs[j] * y[b].qs[j];
    sum += float(sumi) * f16_to_f32(x[b].d) * f16_to_f32(y[b].d);
  }
  return sum;
}

}  // namespace ember::ref
