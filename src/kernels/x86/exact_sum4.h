#pragma once
// The float side of the 4-activation-row K-quant dots (VecDot4Fn): one weight
// row against up to four q8_K rows, each result bit-identical to the one-row
// dot (x86/exact_sum.h). A super-block's integer sums are exact, so how they
// are reduced does not matter; the float side keeps the rows in the lanes of
// one vector, and lane i rounds every product and sum exactly as row i's
// scalar chain does: sum += dy * d * isum [- dy * dmin * msum], block after
// block from 0.
//
// Include only from ISA files built with -ffp-contract=off, after
// exact_sum.h. Everything here has internal linkage.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/exact_sum.h"
#include "quant/blocks.h"

namespace ember::kernels {
namespace {
namespace exact_x86 {

// [total of a, b, c, d] from four 8-lane i32 vectors.
static inline __m128i hsum4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i h = hadd4_i32(a, b, c, d);
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// The N activation rows, `stride` bytes apart.
template <int N>
struct ActRows {
  const block_q8_K* y[N];
  ActRows(const void* act, size_t stride) {
    for (int i = 0; i < N; ++i) y[i] = reinterpret_cast<const block_q8_K*>(static_cast<const uint8_t*>(act) + size_t(i) * stride);
  }
  // [dy of block b in each row, 0 past N]
  __m128 dy(int64_t b) const {
    alignas(16) float t[4] = {};
    for (int i = 0; i < N; ++i) t[i] = y[i][b].d;
    return _mm_load_ps(t);
  }
};

template <int N>
static inline void store_rows(__m128 sum, float* out) {
  alignas(16) float t[4];
  _mm_store_ps(t, sum);
  for (int i = 0; i < N; ++i) out[i] = t[i];
}

// out[i] = sum over the nb super-blocks of dy_i * d * isum_i, as sum_blocks.
// block(b) decodes weight block b once and returns f(yb), the 8-lane isum of
// block b against activation block yb.
template <int N, class Block, class BlockRows>
static inline void sum_blocks_rows(const Block* x, const ActRows<N>& a, int64_t nb, BlockRows block, float* out) {
  __m128 sum = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const auto row = block(b);
    __m256i s[4];
    for (int i = 0; i < N; ++i) s[i] = row(a.y[i][b]);
    for (int i = N; i < 4; ++i) s[i] = _mm256_setzero_si256();
    const __m128 isum = _mm_cvtepi32_ps(hsum4_i32(s[0], s[1], s[2], s[3]));
    sum = _mm_add_ps(sum, _mm_mul_ps(_mm_mul_ps(a.dy(b), _mm_set1_ps(_cvtsh_ss(x[b].d))), isum));
  }
  store_rows<N>(sum, out);
}

// As sum_blocks_rows with mins (sum_blocks_with_mins): f(yb) returns MinSums.
template <int N, class Block, class BlockRows>
static inline void sum_blocks_with_mins_rows(const Block* x, const ActRows<N>& a, int64_t nb, BlockRows block,
                                             float* out) {
  __m128 sum = _mm_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const auto row = block(b);
    MinSums s[4];
    for (int i = 0; i < N; ++i) s[i] = row(a.y[i][b]);
    for (int i = N; i < 4; ++i) s[i] = MinSums{_mm256_setzero_si256(), _mm256_setzero_si256()};
    const __m256i hi = hadd4_i32(s[0].isum, s[1].isum, s[2].isum, s[3].isum);
    const __m256i hm = hadd4_i32(s[0].msum, s[1].msum, s[2].msum, s[3].msum);
    // [isum of rows 0..3 | msum of rows 0..3]
    const __m256i im = _mm256_add_epi32(_mm256_permute2x128_si256(hi, hm, 0x20), _mm256_permute2x128_si256(hi, hm, 0x31));
    const __m128 dy = a.dy(b);
    const __m256 dd = _mm256_set_m128(_mm_set1_ps(_cvtsh_ss(x[b].dmin)), _mm_set1_ps(_cvtsh_ss(x[b].d)));
    const __m256 p = _mm256_mul_ps(_mm256_mul_ps(_mm256_set_m128(dy, dy), dd), _mm256_cvtepi32_ps(im));
    sum = _mm_add_ps(sum, _mm_sub_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1)));
  }
  store_rows<N>(sum, out);
}

}  // namespace exact_x86
}  // namespace
}  // namespace ember::kernels
