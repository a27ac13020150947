// Reference quantize / dequantize of the 32-element block types.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quant_ref.h"

namespace ember::ref {
namespace {

// The element of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float amax = 0, max = 0;
  for (int j = 0; j < n; ++j)
    if (std::fabs(x[j]) > amax) { amax = std::fabs(x[j]); max = x[j]; }
  return max;
}

uint32_t load_qh(const uint8_t* qh) { uint32_t v; std::memcpy(&v, qh, 4); return v; }
void store_qh(uint8_t* qh, uint32_t v) { std::memcpy(qh, &v, 4); }

}  // namespace

// q4_0: symmetric, the extreme element maps to -8 so the full range is used.
void quantize_row_q4_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q4_0*>(vy);
  for (int64_t b = 0; b < n / QK4_0; ++b, x += QK4_0) {
    const float d = signed_absmax(x, QK4_0) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      const int q0 = std::min(15, int(int8_t(x[j] * id + 8.5f)));
      const int q1 = std::min(15, int(int8_t(x[j + QK4_0 / 2] * id + 8.5f)));
      y[b].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q4_0*>(vx);
  for (int64_t b = 0; b < n / QK4_0; ++b, y += QK4_0) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      y[j] = float((x[b].qs[j] & 0xF) - 8) * d;
      y[j + QK4_0 / 2] = float((x[b].qs[j] >> 4) - 8) * d;
    }
  }
}

// q4_1: affine over [min, max].
void quantize_row_q4_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q4_1*>(vy);
  for (int64_t b = 0; b < n / QK4_1; ++b, x += QK4_1) {
    const auto [mn, mx] = std::minmax_element(x, x + QK4_1);
    const float min = *mn, d = (*mx - min) / 15;
    const float id = d ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    y[b].m = f32_to_f16(min);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      const int q0 = std::min(15, int(int8_t((x[j] - min) * id + 0.5f)));
      const int q1 = std::min(15, int(int8_t((x[j + QK4_1 / 2] - min) * id + 0.5f)));
      y[b].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void dequantize_row_q4_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q4_1*>(vx);
  for (int64_t b = 0; b < n / QK4_1; ++b, y += QK4_1) {
    const float d = f16_to_f32(x[b].d), m = f16_to_f32(x[b].m);
    for (int j = 0; j < QK4_1 / 2; ++j) {
      y[j] = float(x[b].qs[j] & 0xF) * d + m;
      y[j + QK4_1 / 2] = float(x[b].qs[j] >> 4) * d + m;
    }
  }
}

// q5_0: as q4_0 with 5 bits; the fifth bits go to qh.
void quantize_row_q5_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q5_0*>(vy);
  for (int64_t b = 0; b < n / QK5_0; ++b, x += QK5_0) {
    const float d = signed_absmax(x, QK5_0) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int q0 = std::min(31, int(int8_t(x[j] * id + 16.5f)));
      const int q1 = std::min(31, int(int8_t(x[j + QK5_0 / 2] * id + 16.5f)));
      y[b].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t((q0 >> 4) & 1) << j;
      qh |= uint32_t((q1 >> 4) & 1) << (j + QK5_0 / 2);
    }
    store_qh(y[b].qh, qh);
  }
}

void dequantize_row_q5_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q5_0*>(vx);
  for (int64_t b = 0; b < n / QK5_0; ++b, y += QK5_0) {
    const float d = f16_to_f32(x[b].d);
    const uint32_t qh = load_qh(x[b].qh);
    for (int j = 0; j < QK5_0 / 2; ++j) {
      const int q0 = (x[b].qs[j] & 0xF) | int(((qh >> j) & 1) << 4);
      const int q1 = (x[b].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      y[j] = float(q0 - 16) * d;
      y[j + QK5_0 / 2] = float(q1 - 16) * d;
    }
  }
}

void quantize_row_q5_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q5_1*>(vy);
  for (int64_t b = 0; b < n / QK5_1; ++b, x += QK5_1) {
    const auto [mn, mx] = std::minmax_element(x, x + QK5_1);
    const float min = *mn, d = (*mx - min) / 31;
    const float id = d ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    y[b].m = f32_to_f16(min);
    uint32_t qh = 0;
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int q0 = std::min(31, int(uint8_t((x[j] - min) * id + 0.5f)));
      const int q1 = std::min(31, int(uint8_t((x[j + QK5_1 / 2] - min) * id + 0.5f)));
      y[b].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t((q0 >> 4) & 1) << j;
      qh |= uint32_t((q1 >> 4) & 1) << (j + QK5_1 / 2);
    }
    store_qh(y[b].qh, qh);
  }
}

void dequantize_row_q5_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q5_1*>(vx);
  for (int64_t b = 0; b < n / QK5_1; ++b, y += QK5_1) {
    const float d = f16_to_f32(x[b].d), m = f16_to_f32(x[b].m);
    const uint32_t qh = load_qh(x[b].qh);
    for (int j = 0; j < QK5_1 / 2; ++j) {
      const int q0 = (x[b].qs[j] & 0xF) | int(((qh >> j) & 1) << 4);
      const int q1 = (x[b].qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
      y[j] = float(q0) * d + m;
      y[j + QK5_1 / 2] = float(q1) * d + m;
    }
  }
}

// q8_0: symmetric, |x| max maps to 127; rounding half away from zero (roundf).
void quantize_row_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_0*>(vy);
  for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
    float amax = 0;
    for (int j = 0; j < QK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < QK8_0; ++j) y[b].qs[j] = int8_t(std::roundf(x[j] * id));
  }
}

void dequantize_row_q8_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q8_0*>(vx);
  for (int64_t b = 0; b < n / QK8_0; ++b, y += QK8_0) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < QK8_0; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

// q8_1: q8_0 plus s = d * sum(q), so q4_1/q5_1 dots can add min * s per block.
void quantize_row_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_1*>(vy);
  for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
    float amax = 0;
    for (int j = 0; j < QK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < QK8_1; ++j) {
      y[b].qs[j] = int8_t(std::roundf(x[j] * id));
      sum += y[b].qs[j];
    }
    y[b].d = f32_to_f16(d);
    y[b].s = f32_to_f16(float(sum) * d);
  }
}

void dequantize_row_q8_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const block_q8_1*>(vx);
  for (int64_t b = 0; b < n / QK8_1; ++b, y += QK8_1) {
    const float d = f16_to_f32(x[b].d);
    for (int j = 0; j < QK8_1; ++j) y[j] = float(x[b].qs[j]) * d;
  }
}

}  // namespace ember::ref
