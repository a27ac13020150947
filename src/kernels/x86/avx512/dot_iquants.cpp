// AVX-512 dots of iq4_nl x q8_0 and iq4_xs x q8_K (built twice: with and
// without VNNI, see avx512_config.h).
//
// Indices become codebook bytes with vpshufb (the 16 levels sit in every
// 128-bit lane). The blocks' integer sums are scaled and added as the scalar
// references do (x86/exact_sum.h, x86/iq4_nl_256.h): the results are
// bit-identical to them.
// iq4_xs: four sub-blocks per 512-bit register. With VNNI the table holds
// level + 128 (unsigned), vpdpbusd multiplies it with the signed activations
// and 128 * ls * sum(y) comes off afterwards from the q8_K bsums: no sign
// juggling. Without VNNI the product is vpmaddubsw(|y|, kv with y's sign),
// exact even for y = -128 (|kv| <= 127 keeps pair sums < 2^15).
// iq4_nl: 18- and 34-byte blocks do not line up with 512-bit registers (the
// regrouping costs what the width saves; measured), so it runs on 256-bit
// registers (x86/iq4_nl_256.h, shared with AVX2), with vpdpbusd under VNNI.
// GCC 12's AVX-512 headers self-initialise "undefined" vectors, which
// -Wuninitialized reports through every inlined intrinsic (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"
#include "kernels/x86/exact_sum.h"
#include "kernels/x86/iq4_nl_256.h"
#include "quant/blocks.h"

namespace ember::kernels {
namespace {

inline __m512i codebook() {
  const __m128i kv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kvalues_iq4nl));
#if EMBER_AVX512_VNNI
  return _mm512_broadcast_i32x4(_mm_xor_si128(kv, _mm_set1_epi8(char(0x80))));  // level + 128
#else
  return _mm512_broadcast_i32x4(kv);
#endif
}

#if !EMBER_AVX512_VNNI
// a * b per byte, adjacent pairs summed into int16 (AVX-512 has no vpsignb).
inline __m512i mul_i8_pairs(__m512i a, __m512i b) {
  const __m512i a_signed = _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(b), _mm512_setzero_si512(), a);
  return _mm512_maddubs_epi16(_mm512_abs_epi8(b), a_signed);
}
#endif

// The 8 sub-block scales of an iq4_xs block minus 32, as signed bytes 0..7.
inline __m128i iq4_xs_scales(const block_iq4_xs& blk) {
  uint32_t sl;
  __builtin_memcpy(&sl, blk.scales_l, 4);
  const __m128i v = _mm_cvtsi32_si128(int(sl));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_unpacklo_epi8(_mm_and_si128(v, m4), _mm_and_si128(_mm_srli_epi16(v, 4), m4));
  const __m128i h = _mm_and_si128(_mm_srlv_epi16(_mm_set1_epi16(short(blk.scales_h)), _mm_setr_epi16(0, 2, 4, 6, 8, 10, 12, 14)),
                                  _mm_set1_epi16(3));
  const __m128i hi = _mm_slli_epi16(_mm_packus_epi16(h, h), 4);
  return _mm_sub_epi8(_mm_or_si128(lo, hi), _mm_set1_epi8(32));
}

// Four sub-blocks per register: their 64 index bytes give lane k = sub-block
// k's low-nibble half (and, shifted, its high half); the activations are
// regrouped to match (lane k of y_lo = elements 0..15 of sub-block k).
float vec_dot_iq4_xs_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_iq4_xs*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m512i table = codebook();
  const __m512i m4 = _mm512_set1_epi8(0x0F);
#if !EMBER_AVX512_VNNI
  // int16 lane indices: lane k of the result takes scale k (spread_lo) or 4 + k (spread_hi).
  const __m512i spread_lo = _mm512_cvtepu8_epi16(_mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                                  2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m512i spread_hi = _mm512_add_epi16(spread_lo, _mm512_set1_epi16(4));
#endif
  const auto block = [&](int64_t b) {
    const __m128i ls8 = iq4_xs_scales(x[b]);
    const uint8_t* qs = x[b].qs;
    const int8_t* q8 = y[b].qs;
#if EMBER_AVX512_VNNI
    // Sub-block k sums (level + 128) * y in lane k, 4 int32 each; scaled below.
    __m512i sum[2];
    for (int h = 0; h < 2; ++h, qs += 64, q8 += 128) {
      const __m512i q = _mm512_loadu_si512(qs);
      const __m512i kv_lo = _mm512_shuffle_epi8(table, _mm512_and_si512(q, m4));
      const __m512i kv_hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4));
      const __m512i y0 = _mm512_loadu_si512(q8), y1 = _mm512_loadu_si512(q8 + 64);
      const __m512i y_lo = _mm512_shuffle_i64x2(y0, y1, 0x88), y_hi = _mm512_shuffle_i64x2(y0, y1, 0xDD);
      sum[h] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), kv_lo, y_lo), kv_hi, y_hi);
    }
    const __m512i ls_a = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(ls8, _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3)));
    const __m512i ls_b = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(ls8, _mm_setr_epi8(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7)));
    __m512i sumi = _mm512_add_epi32(_mm512_mullo_epi32(sum[0], ls_a), _mm512_mullo_epi32(sum[1], ls_b));
    // Take off 128 * ls * sum(y) per sub-block; bsums hold y's 16-element sums.
    const __m256i ls_pairs = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(ls8, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7)));
    const __m256i bias = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].bsums)), ls_pairs), 7);
    sumi = _mm512_sub_epi32(sumi, _mm512_zextsi256_si512(bias));
#else
    // Sub-block k's scale as int16 over lane k; vpmaddwd applies it.
    const __m512i ls16 = _mm512_castsi128_si512(_mm_cvtepi8_epi16(ls8));
    const __m512i ls_half[2] = {_mm512_permutexvar_epi16(spread_lo, ls16), _mm512_permutexvar_epi16(spread_hi, ls16)};
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h, qs += 64, q8 += 128) {
      const __m512i q = _mm512_loadu_si512(qs);
      const __m512i kv_lo = _mm512_shuffle_epi8(table, _mm512_and_si512(q, m4));
      const __m512i kv_hi = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(q, 4), m4));
      const __m512i y0 = _mm512_loadu_si512(q8), y1 = _mm512_loadu_si512(q8 + 64);
      const __m512i y_lo = _mm512_shuffle_i64x2(y0, y1, 0x88), y_hi = _mm512_shuffle_i64x2(y0, y1, 0xDD);
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(mul_i8_pairs(kv_lo, y_lo), ls_half[h]));
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(mul_i8_pairs(kv_hi, y_hi), ls_half[h]));
    }
#endif
    return _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

}  // namespace

std::span<const DotKernel> EMBER_AVX512_SET(dot_kernels_iquants)() {
  static constexpr DotKernel k[] = {
      {"vec_dot_iq4_nl_q8_0" EMBER_AVX512_SUFFIX, DType::IQ4_NL, EMBER_AVX512_ISA, x86_iq4::vec_dot_iq4_nl_q8_0_256},
      {"vec_dot_iq4_xs_q8_K" EMBER_AVX512_SUFFIX, DType::IQ4_XS, EMBER_AVX512_ISA, vec_dot_iq4_xs_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
