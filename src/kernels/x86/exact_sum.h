#pragma once
// The float side of the x86 K-quant and iq4 dots, which must equal the
// scalar references bit for bit. Inside a super-block everything is exact
// integer arithmetic, so the SIMD kernels may sum it in any order; the float
// side they must do as the reference does: per super-block
//   sum += dy * d * float(isum)                              (q3_K, q6_K, iq4_xs)
//   sum += dy * d * float(isum) - dy * dmin * float(msum)    (q2_K, q4_K, q5_K)
// rounded after each operation, block after block from 0. Four super-blocks
// are finished together: one hadd tree reduces their integer lanes, one
// vector multiply applies their scales (lane k rounds exactly as block k's
// scalar product), and four scalar adds take them in order.
//
// Include only from ISA files built with -ffp-contract=off (CMakeLists.txt):
// a fused multiply-add would round differently. Everything here has internal
// linkage, so no AVX copy of it can be linked into baseline code.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace ember::kernels {
namespace {
namespace exact_x86 {

static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// Per 128-bit lane: [sum of a's four lanes, b's, c's, d's] (halves of the totals).
static inline __m256i hadd4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
  return _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
}

// sum + t[0] + t[1] + t[2] + t[3], rounded after each add.
static inline float add4_in_order(float sum, __m128 t) {
  sum += _mm_cvtss_f32(t);
  sum += _mm_cvtss_f32(_mm_movehdup_ps(t));
  sum += _mm_cvtss_f32(_mm_movehl_ps(t, t));
  sum += _mm_cvtss_f32(_mm_shuffle_ps(t, t, 3));
  return sum;
}

// [dy * d] of four consecutive blocks.
template <class Block>
static inline __m128 scales4(const Block* x, const block_q8_K* y) {
  const __m128i d = _mm_setr_epi16(short(x[0].d), short(x[1].d), short(x[2].d), short(x[3].d), 0, 0, 0, 0);
  return _mm_mul_ps(_mm_setr_ps(y[0].d, y[1].d, y[2].d, y[3].d), _mm_cvtph_ps(d));
}

// [dy * d | dy * dmin] of four consecutive blocks whose f16 d and dmin are
// adjacent (one 32-bit load each).
template <class Block>
static inline __m256 scales_mins4(const Block* x, const block_q8_K* y) {
  static_assert(offsetof(Block, dmin) == offsetof(Block, d) + 2);
  uint32_t w[4];
  for (int k = 0; k < 4; ++k) std::memcpy(&w[k], &x[k].d, 4);
  const __m128i dm = _mm_shuffle_epi8(_mm_setr_epi32(int(w[0]), int(w[1]), int(w[2]), int(w[3])),
                                      _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
  const __m128 dy = _mm_setr_ps(y[0].d, y[1].d, y[2].d, y[3].d);
  return _mm256_mul_ps(_mm256_set_m128(dy, dy), _mm256_cvtph_ps(dm));
}

// sum over the nb super-blocks of dy * d * isum, where block(b) returns block
// b's isum spread over 8 i32 lanes.
template <class Block, class BlockSums>
static inline float sum_blocks(const Block* x, const block_q8_K* y, int64_t nb, BlockSums block) {
  float sum = 0;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const __m256i s0 = block(b), s1 = block(b + 1), s2 = block(b + 2), s3 = block(b + 3);
    const __m256i h = hadd4_i32(s0, s1, s2, s3);
    const __m128i isum = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    sum = add4_in_order(sum, _mm_mul_ps(scales4(x + b, y + b), _mm_cvtepi32_ps(isum)));
  }
  for (; b < nb; ++b) sum += y[b].d * _cvtsh_ss(x[b].d) * float(hsum_i32(block(b)));
  return sum;
}

// A super-block's integer sums for the types with mins, 8 i32 lanes each.
struct MinSums {
  __m256i isum;  // sum_j sc_j * dot(q_j, y_j)
  __m256i msum;  // sum_j m_j * bsums_j
};

// sum over the nb super-blocks of dy * d * isum - dy * dmin * msum, where
// block(b) returns block b's MinSums.
template <class Block, class BlockSums>
static inline float sum_blocks_with_mins(const Block* x, const block_q8_K* y, int64_t nb, BlockSums block) {
  float sum = 0;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const MinSums s0 = block(b), s1 = block(b + 1), s2 = block(b + 2), s3 = block(b + 3);
    const __m256i hi = hadd4_i32(s0.isum, s1.isum, s2.isum, s3.isum);
    const __m256i hm = hadd4_i32(s0.msum, s1.msum, s2.msum, s3.msum);
    // [isum of blocks 0..3 | msum of blocks 0..3]
    const __m256i im = _mm256_add_epi32(_mm256_permute2x128_si256(hi, hm, 0x20), _mm256_permute2x128_si256(hi, hm, 0x31));
    const __m256 p = _mm256_mul_ps(scales_mins4(x + b, y + b), _mm256_cvtepi32_ps(im));
    sum = add4_in_order(sum, _mm_sub_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1)));
  }
  for (; b < nb; ++b) {
    const MinSums s = block(b);
    sum += y[b].d * _cvtsh_ss(x[b].d) * float(hsum_i32(s.isum)) - y[b].d * _cvtsh_ss(x[b].dmin) * float(hsum_i32(s.msum));
  }
  return sum;
}

}  // namespace exact_x86
}  // namespace
}  // namespace ember::kernels
