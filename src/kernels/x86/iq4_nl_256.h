#pragma once
// The iq4_nl x q8_0 dot on 256-bit registers, shared by the AVX2 and AVX-512
// kernel files (every function static inline: each ISA file gets its own copy,
// compiled with its own flags). With AVX512-VNNI in the flags the byte
// products go through vpdpbusd, otherwise vpmaddubsw + vpmaddwd.
//
// Per block: the 16 index bytes are broadcast to both lanes, the high lane is
// shifted right by 4 (no lane-crossing shuffle), and one vpshufb turns the 32
// nibbles into codebook levels in element order. The signed x signed product
// is |y| * (kv with y's sign): the activation is the unsigned side, so even
// y = -128 is exact, and |kv| <= 127 keeps vpmaddubsw pair sums below 2^15.
// Eight blocks' int32 partial sums are folded by vphaddd into [block 0..7],
// the eight scales d_x * d_y (two vcvtph2ps) apply with one multiply, and
// the eight products are added to the sum one block after another, as the
// scalar reference does: the result is bit-identical to it (x86/exact_sum.h).
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/exact_sum.h"
#include "quant/blocks.h"

namespace ember::kernels::x86_iq4 {

static inline __m256i nl_lookup32(const uint8_t* qs, __m256i table, __m256i lane_shift, __m256i m4) {
  const __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srlv_epi32(q, lane_shift), m4));
}

// Eight int32 partial sums of kv * y (32 bytes each).
static inline __m256i nl_dot32(__m256i kv, __m256i yv) {
  const __m256i ya = _mm256_abs_epi8(yv), kvs = _mm256_sign_epi8(kv, yv);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ya, kvs);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ya, kvs), _mm256_set1_epi16(1));
#endif
}

// Four f16 values `stride` bytes apart, packed into 64 bits.
static inline uint64_t nl_gather4_f16(const void* base, size_t stride) {
  const auto* p = static_cast<const uint8_t*>(base);
  uint16_t h[4];
  for (int i = 0; i < 4; ++i) __builtin_memcpy(&h[i], p + i * stride, 2);
  return uint64_t(h[0]) | uint64_t(h[1]) << 16 | uint64_t(h[2]) << 32 | uint64_t(h[3]) << 48;
}

static inline int nl_hsum_i32(__m256i v) {
  const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i s2 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
  return _mm_cvtsi128_si32(_mm_add_epi32(s2, _mm_shuffle_epi32(s2, 1)));
}

static inline float vec_dot_iq4_nl_q8_0_256(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_nl*>(vx);
  const auto* y = static_cast<const block_q8_0*>(vy);
  const int64_t nb = n / QK4_NL;
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl)));
  const __m256i lane_shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  float sum = 0;
  int64_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    __m256i p[8];
    for (int k = 0; k < 8; ++k) {
      const __m256i kv = nl_lookup32(x[b + k].qs, table, lane_shift, m4);
      p[k] = nl_dot32(kv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b + k].qs)));
    }
    // Each lane: [b0 b1 b2 b3] and [b4 b5 b6 b7] partial sums; then add the lanes.
    const __m256i s03 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    const __m256i s47 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(s03, s47, 0x20), _mm256_permute2x128_si256(s03, s47, 0x31));
    const __m128i xd = _mm_set_epi64x(int64_t(nl_gather4_f16(&x[b + 4].d, sizeof(block_iq4_nl))),
                                      int64_t(nl_gather4_f16(&x[b].d, sizeof(block_iq4_nl))));
    const __m128i yd = _mm_set_epi64x(int64_t(nl_gather4_f16(&y[b + 4].d, sizeof(block_q8_0))),
                                      int64_t(nl_gather4_f16(&y[b].d, sizeof(block_q8_0))));
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(xd), _mm256_cvtph_ps(yd));
    const __m256 t = _mm256_mul_ps(d, _mm256_cvtepi32_ps(sums));
    sum = exact_x86::add4_in_order(exact_x86::add4_in_order(sum, _mm256_castps256_ps128(t)), _mm256_extractf128_ps(t, 1));
  }
  for (; b < nb; ++b) {
    const __m256i kv = nl_lookup32(x[b].qs, table, lane_shift, m4);
    const int s = nl_hsum_i32(nl_dot32(kv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs))));
    sum += _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d) * float(s);
  }
  return sum;
}

}  // namespace ember::kernels::x86_iq4
