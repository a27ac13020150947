// AVX-512 activation row quantizers (q8_0, q8_1, q8_K, f16, bf16),
// bit-identical to the scalar references in src/quant/ (see the AVX2 file for
// how roundf, nearbyint and the float -> int8 conversion are replicated).
// Nothing here needs VNNI; the avx512vnni build is the same code.

// GCC 12's AVX-512 intrinsics self-initialise their "undefined" vectors,
// which -W(maybe-)uninitialized reports (GCC PR105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <cstring>

#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"
#include "kernels/x86/quantize_x86.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace ember::kernels {
namespace {

using namespace quantize_x86;

__m512 load16(const float* p) { return _mm512_loadu_ps(p); }

// roundf on every lane (see round_half_away in the AVX2 file).
__m512 round_half_away(__m512 t) {
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(t), _mm512_set1_epi32(int(0x80000000u)));
  const __m512 half = _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_castps_si512(_mm512_set1_ps(kBelowHalf))));
  return _mm512_roundscale_ps(_mm512_add_ps(t, half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

__m512 abs16(__m512 v) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7FFFFFFF))); }

// max |x| of n floats (n a multiple of 16), NaNs skipped as std::max skips
// them (maxps returns its second operand when either is NaN).
float abs_max(const float* x, int n) {
  __m512 m = _mm512_setzero_ps();
  for (int j = 0; j < n; j += 16) m = _mm512_max_ps(abs16(load16(x + j)), m);
  const __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(m), _mm512_extractf32x8_ps(m, 1));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// int32 -> the int8 value of its low byte, sign-extended back to int32.
__m512i low_byte(__m512i v) { return _mm512_srai_epi32(_mm512_slli_epi32(v, 24), 24); }

// One 32-element block of q8_0/q8_1: writes qs, returns sum(qs) and the scale d.
int quantize_q8_block(const float* x, int8_t* qs, float* d_out) {
  const float amax = abs_max(x, 32);
  const float d = amax / 127;
  const float id = d ? 1.0f / d : 0.0f;
  const __m512 vid = _mm512_set1_ps(id);
  // The products are rounded before the add, as in roundf(x * id).
  const __m512 t0 = no_contract(_mm512_mul_ps(load16(x), vid));
  const __m512 t1 = no_contract(_mm512_mul_ps(load16(x + 16), vid));
  const __m512i q0 = _mm512_cvttps_epi32(round_half_away(t0));
  const __m512i q1 = _mm512_cvttps_epi32(round_half_away(t1));
  // vpmovdb truncates to the low byte, as the scalar conversion does.
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(q1));
  *d_out = d;
  return _mm512_reduce_add_epi32(_mm512_add_epi32(low_byte(q0), low_byte(q1)));
}

void quantize_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_0*>(vy);
  for (int64_t b = 0; b < n / QK8_0; ++b, x += QK8_0) {
    float d;
    quantize_q8_block(x, y[b].qs, &d);
    y[b].d = to_f16(d);
  }
}

void quantize_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_1*>(vy);
  for (int64_t b = 0; b < n / QK8_1; ++b, x += QK8_1) {
    float d;
    const int sum = quantize_q8_block(x, y[b].qs, &d);
    y[b].d = to_f16(d);
    y[b].s = to_f16(float(sum) * d);
  }
}

// The 16 sums of 16 bytes of a q8_K block's quants: sad_epu8 on the bytes
// offset to unsigned gives sums of 8 (2048 too large per 16), vpmovqw packs
// them, madd adds the pairs.
void q8_K_bsums(const int8_t* qs, int16_t* bsums) {
  const __m512i flip = _mm512_set1_epi8(int8_t(0x80)), zero = _mm512_setzero_si512();
  __m128i half_sums[4];  // 8 sums of 8 bytes each, groups 4i..4i+3
  for (int i = 0; i < 4; ++i) {
    const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(qs + 64 * i), flip);
    half_sums[i] = _mm512_cvtepi64_epi16(_mm512_sad_epu8(v, zero));
  }
  __m512i all = _mm512_castsi128_si512(half_sums[0]);
  all = _mm512_inserti32x4(all, half_sums[1], 1);
  all = _mm512_inserti32x4(all, half_sums[2], 2);
  all = _mm512_inserti32x4(all, half_sums[3], 3);
  const __m512i sums = _mm512_sub_epi32(_mm512_madd_epi16(all, _mm512_set1_epi16(1)), _mm512_set1_epi32(2048));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(bsums), _mm512_cvtepi32_epi16(sums));
}

void quantize_q8_K(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<block_q8_K*>(vy);
  for (int64_t b = 0; b < n / QK_K; ++b, x += QK_K) {
    const float amax = abs_max(x, QK_K);
    if (amax == 0) {
      std::memset(&y[b], 0, sizeof(block_q8_K));
      continue;
    }
    // max |x| maps to +-127 (see src/quant/q8_k.cpp)
    const float iscale = 127.0f / amax;
    const __m512 vs = _mm512_set1_ps(iscale);
    for (int j = 0; j < QK_K; j += 16) {
      // nearbyint: cvtps rounds in the current (to-even) mode; then the low byte
      const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(vs, load16(x + j)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + j), _mm512_cvtepi32_epi8(q));
    }
    q8_K_bsums(y[b].qs, y[b].bsums);
    const float d = 1 / iscale;
    std::memcpy(&y[b].d, &d, sizeof d);
  }
}

void quantize_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm512_cvtps_ph(load16(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = to_f16(x[i]);
}

// Round to nearest even on the bits; NaNs keep their top bits and turn quiet.
__m256i bf16_bits(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __mmask16 is_nan =
      _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(is_nan, rounded, quiet));
}

void quantize_bf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), bf16_bits(load16(x + i)));
  for (; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

}  // namespace

std::span<const QuantizeKernel> EMBER_AVX512_SET(quantize_kernels)() {
  static constexpr QuantizeKernel k[] = {
      {"quantize_row_f16" EMBER_AVX512_SUFFIX, DType::F16, EMBER_AVX512_ISA, quantize_f16},
      {"quantize_row_bf16" EMBER_AVX512_SUFFIX, DType::BF16, EMBER_AVX512_ISA, quantize_bf16},
      {"quantize_row_q8_0" EMBER_AVX512_SUFFIX, DType::Q8_0, EMBER_AVX512_ISA, quantize_q8_0},
      {"quantize_row_q8_1" EMBER_AVX512_SUFFIX, DType::Q8_1, EMBER_AVX512_ISA, quantize_q8_1},
      {"quantize_row_q8_K" EMBER_AVX512_SUFFIX, DType::Q8_K, EMBER_AVX512_ISA, quantize_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
