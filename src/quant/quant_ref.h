#pragma once
// Scalar reference quantize / dequantize / dot for every supported type.
// These are the oracles: every SIMD kernel is tested against them.
// n is always a multiple of the type's block size.
#include <cstdint>

namespace ember::ref {

#define EMBER_DECLARE_QUANT(t)                                  \
  void quantize_row_##t(const float* x, void* y, int64_t n);    \
  void dequantize_row_##t(const void* x, float* y, int64_t n)

// float types (src/quant/float.cpp)
EMBER_DECLARE_QUANT(f32);
EMBER_DECLARE_QUANT(f16);
EMBER_DECLARE_QUANT(bf16);
// legacy 32-element blocks (src/quant/legacy.cpp)
EMBER_DECLARE_QUANT(q4_0);
EMBER_DECLARE_QUANT(q4_1);
EMBER_DECLARE_QUANT(q5_0);
EMBER_DECLARE_QUANT(q5_1);
EMBER_DECLARE_QUANT(q8_0);
EMBER_DECLARE_QUANT(q8_1);
// K-quants (src/quant/kquants.cpp)
EMBER_DECLARE_QUANT(q2_K);
EMBER_DECLARE_QUANT(q3_K);
EMBER_DECLARE_QUANT(q4_K);
EMBER_DECLARE_QUANT(q5_K);
EMBER_DECLARE_QUANT(q6_K);
EMBER_DECLARE_QUANT(q8_K);
// non-linear (src/quant/iq4.cpp)
EMBER_DECLARE_QUANT(iq4_nl);
EMBER_DECLARE_QUANT(iq4_xs);
#undef EMBER_DECLARE_QUANT

// Dot products of a weight row with an activation row (src/kernels/ref/dot_*.cpp).
float vec_dot_f32_f32(int64_t n, const void* x, const void* y);
float vec_dot_f16_f16(int64_t n, const void* x, const void* y);
float vec_dot_bf16_bf16(int64_t n, const void* x, const void* y);
float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q2_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q3_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q4_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q5_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_q6_K_q8_K(int64_t n, const void* x, const void* y);
float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_iq4_xs_q8_K(int64_t n, const void* x, const void* y);

}  // namespace ember::ref
