// AVX2 dots of iq4_nl x q8_0 (x86/iq4_nl_256.h) and iq4_xs x q8_K.
//
// The 4-bit indices become codebook bytes with one vpshufb (the 16-entry table
// sits in each 128-bit lane). The signed x signed byte products go through
// vpmaddubsw as |y| * (kv with y's sign): the activation is the unsigned side,
// so even y = -128 is exact, and |kv| <= 127 keeps every pair sum < 2^15.
// The blocks' integer sums are scaled and added as the scalar references do
// (x86/exact_sum.h, x86/iq4_nl_256.h): the results are bit-identical to them.
#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/exact_sum.h"
#include "kernels/x86/iq4_nl_256.h"
#include "quant/blocks.h"

namespace ember::kernels {
namespace {

inline __m256i codebook() {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl)));
}

// a * b per byte, adjacent pairs summed into int16.
inline __m256i mul_i8_pairs(__m256i a, __m256i b) {
  return _mm256_maddubs_epi16(_mm256_abs_epi8(b), _mm256_sign_epi8(a, b));
}

// The 8 six-bit sub-block scales of an iq4_xs block, minus 32, as int16 in
// both 128-bit lanes (low nibbles from scales_l, two high bits each from scales_h).
inline __m256i iq4_xs_scales(const block_iq4_xs& blk) {
  uint32_t sl;
  __builtin_memcpy(&sl, blk.scales_l, 4);
  const __m128i v = _mm_cvtsi32_si128(int(sl));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_unpacklo_epi8(_mm_and_si128(v, m4), _mm_and_si128(_mm_srli_epi16(v, 4), m4));
  // Lane ib of (scales_h * 2^(14 - 2 ib)) holds bits 2ib, 2ib+1 at the top.
  const __m128i h = _mm_srli_epi16(
      _mm_mullo_epi16(_mm_set1_epi16(short(blk.scales_h)), _mm_setr_epi16(1 << 14, 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1)),
      14);
  const __m128i ls = _mm_sub_epi16(_mm_or_si128(_mm_cvtepu8_epi16(lo), _mm_slli_epi16(h, 4)), _mm_set1_epi16(32));
  return _mm256_broadcastsi128_si256(ls);
}

// Sub-blocks are taken in pairs: 32 index bytes hold the low-nibble halves of
// both in their low nibbles, so one register pairs sub-block ib (low lane)
// with ib + 1 (high lane), and the activations are loaded to match.
float vec_dot_iq4_xs_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i table = codebook();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  // Shuffle masks spreading scale pair (2k, 2k+1) over the two lanes as int16.
  const __m256i pick[4] = {
      _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3),
      _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7),
      _mm256_setr_epi8(8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11),
      _mm256_setr_epi8(12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14,
                       15, 14, 15, 14, 15),
  };
  const auto block = [&](int64_t b) {
    const __m256i scales = iq4_xs_scales(x[b]);
    const uint8_t* qs = x[b].qs;
    const int8_t* q8 = y[b].qs;
    __m256i sumi0 = _mm256_setzero_si256(), sumi1 = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k, qs += 32, q8 += 64) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
      const __m256i kv_lo = _mm256_shuffle_epi8(table, _mm256_and_si256(q, m4));
      const __m256i kv_hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
      const __m256i y_lo = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(q8 + 32), reinterpret_cast<const __m128i*>(q8));
      const __m256i y_hi = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(q8 + 48), reinterpret_cast<const __m128i*>(q8 + 16));
      const __m256i ls = _mm256_shuffle_epi8(scales, pick[k]);
      sumi0 = _mm256_add_epi32(sumi0, _mm256_madd_epi16(mul_i8_pairs(kv_lo, y_lo), ls));
      sumi1 = _mm256_add_epi32(sumi1, _mm256_madd_epi16(mul_i8_pairs(kv_hi, y_hi), ls));
    }
    return _mm256_add_epi32(sumi0, sumi1);
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

}  // namespace

std::span<const DotKernel> dot_kernels_iquants_avx2() {
  static constexpr DotKernel k[] = {
      {"vec_dot_iq4_nl_q8_0__avx2", DType::IQ4_NL, Isa::Avx2, x86_iq4::vec_dot_iq4_nl_q8_0_256},
      {"vec_dot_iq4_xs_q8_K__avx2", DType::IQ4_XS, Isa::Avx2, vec_dot_iq4_xs_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
