#pragma once
// The legacy quant dots with one 32-element block per 256-bit register: the
// integer dot of a weight block with a q8 block as 8 int32 partial sums, and
// the loop that scales and adds them, four blocks (and one F16C conversion of
// their scales) a step. Used by x86/avx2/dot_legacy.cpp, and by the AVX-512
// kernels for the blocks left over after their 8-block steps.
//
// Include only from ISA files: everything here has internal linkage (an
// inline function emitted with ISA flags must not be shared with baseline
// code), and needs AVX2+FMA+F16C.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/prefetch_x86.h"
#include "quant/blocks.h"

namespace ember::kernels {
namespace {
namespace avx2_blocks {

static inline uint32_t load_u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }

static inline __m256i load_256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 bytes of nibbles -> 32 bytes in element order (low nibbles, then high):
// the bytes in both 128-bit lanes, the high lane's dwords shifted right by 4.
static inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i shifted = _mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0F));
}

// Byte j = 0xFF where bit j of the little-endian u32 at qh is set, else 0.
static inline __m256i fifth_bit_mask(const uint8_t* qh) {
  // Byte j takes byte j/8 of the word; pshufb stays within 128-bit lanes,
  // which is fine since the word is in both lanes.
  const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(int(load_u32(qh))), spread);
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

// Pairwise int16 sums -> int32 (8 lanes).
static inline __m256i widen_pairs(__m256i s16) { return _mm256_madd_epi16(s16, _mm256_set1_epi16(1)); }

// sum (u - v) * y for unsigned u, v (< 32) and signed y, as 8 int32 partial
// sums. maddubs cannot saturate here: |u*y + u'*y'| <= 2*31*128.
static inline __m256i dot_diff(__m256i u, __m256i v, __m256i y) {
  return widen_pairs(_mm256_sub_epi16(_mm256_maddubs_epi16(u, y), _mm256_maddubs_epi16(v, y)));
}

static inline __m256i dot_unsigned(__m256i u, __m256i y) { return widen_pairs(_mm256_maddubs_epi16(u, y)); }

// Signed x signed via |x| * (y with x's sign). Exact unless y holds -128, which
// the q8 quantizers never produce (they map max |x| to 127).
static inline __m256i dot_signed(__m256i x, __m256i y) {
  return widen_pairs(_mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)));
}

// Integer block sums of each weight type against its activation block.
static inline __m256i block_isum(const block_q4_0& x, const block_q8_0& y) {
  return dot_diff(unpack_nibbles(x.qs), _mm256_set1_epi8(8), load_256(y.qs));
}
static inline __m256i block_isum(const block_q4_1& x, const block_q8_1& y) {
  return dot_unsigned(unpack_nibbles(x.qs), load_256(y.qs));
}
// q5_0: q - 16 = nibble - (16 where the fifth bit is clear).
static inline __m256i block_isum(const block_q5_0& x, const block_q8_0& y) {
  const __m256i minus = _mm256_andnot_si256(fifth_bit_mask(x.qh), _mm256_set1_epi8(16));
  return dot_diff(unpack_nibbles(x.qs), minus, load_256(y.qs));
}
static inline __m256i block_isum(const block_q5_1& x, const block_q8_1& y) {
  const __m256i high = _mm256_and_si256(fifth_bit_mask(x.qh), _mm256_set1_epi8(16));
  return dot_unsigned(_mm256_or_si256(unpack_nibbles(x.qs), high), load_256(y.qs));
}
static inline __m256i block_isum(const block_q8_0& x, const block_q8_0& y) {
  return dot_signed(load_256(x.qs), load_256(y.qs));
}

// Weight types with a min (q4_1, q5_1) add m * s per block.
template <class X>
inline constexpr bool kHasMin = false;
template <>
inline constexpr bool kHasMin<block_q4_1> = true;
template <>
inline constexpr bool kHasMin<block_q5_1> = true;

// The first two f16 fields (d and m, or d and s) of 4 blocks as floats
// [d0 f0 d1 f1 d2 f2 d3 f3], from one 32-bit load per block. For types with
// one f16 field the odd lanes hold quant bytes read as f16 and are never used.
template <class B>
static inline __m256 head_pairs4(const B* b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b);
  constexpr size_t s = sizeof(B);
  const __m128i w = _mm_setr_epi32(int(load_u32(p)), int(load_u32(p + s)), int(load_u32(p + 2 * s)),
                                   int(load_u32(p + 3 * s)));
  return _mm256_cvtph_ps(w);
}

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// sum over nb blocks of d_x * d_y * isum (+ m_x * s_y), four blocks a step.
template <class X, class Y>
static inline float dot_blocks(int64_t nb, const X* x, const Y* y) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  __m256 acc_min = _mm256_setzero_ps();  // odd lanes sum m * s
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    prefetch_ahead<4 * int(sizeof(X))>(x + b);
    const __m256 d = _mm256_mul_ps(head_pairs4(x + b), head_pairs4(y + b));  // even lanes dx*dy
    if constexpr (kHasMin<X>) acc_min = _mm256_add_ps(acc_min, d);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m256 scale = _mm256_permutevar8x32_ps(d, _mm256_set1_epi32(2 * i));
      acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_isum(x[b + i], y[b + i])), scale, acc[i]);
    }
  }
  float tail_min = 0;
  for (; b < nb; ++b) {
    const float dx = _cvtsh_ss(x[b].d), dy = _cvtsh_ss(y[b].d);
    acc[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(block_isum(x[b], y[b])), _mm256_set1_ps(dx * dy), acc[0]);
    if constexpr (kHasMin<X>) tail_min += _cvtsh_ss(x[b].m) * _cvtsh_ss(y[b].s);
  }
  float total = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  if constexpr (kHasMin<X>) {
    const __m256 odd = _mm256_blend_ps(_mm256_setzero_ps(), acc_min, 0xAA);
    total += hsum(odd) + tail_min;
  }
  return total;
}

}  // namespace avx2_blocks
}  // namespace
}  // namespace ember::kernels
