// AVX2 activation row quantizers (q8_0, q8_1, q8_K, f16, bf16), bit-identical
// to the scalar references in src/quant/: the same float operations in the
// same order, roundf and nearbyint replicated exactly, and float -> int8 as
// x86 converts (to int32, then the low byte). The last matters only for NaN
// or infinite products (inputs with NaN/inf, or scales that overflow), where
// the references' conversion is undefined C++ and compiles to just that.
#include <immintrin.h>

#include <cstring>

#include "kernels/kernel_sets.h"
#include "kernels/x86/quantize_x86.h"
#include "quant/blocks.h"
#include "quant/fp16.h"

namespace ember::kernels {
namespace {

using namespace quantize_x86;

__m256 load8(const float* p) { return _mm256_loadu_ps(p); }

// roundf on every lane: rounding half away from zero. Adding the largest
// float below 0.5 with the sign of t, then truncating, is exact for every
// float (ties land on the next integer because the sum rounds to even);
// checked against roundf over all 2^32 bit patterns.
__m256 round_half_away(__m256 t) {
  const __m256 half = _mm256_or_ps(_mm256_and_ps(t, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(kBelowHalf));
  return _mm256_round_ps(_mm256_add_ps(t, half), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}

// int32 -> the int8 value of its low byte, sign-extended back to int32.
__m256i low_byte(__m256i v) { return _mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24); }

// Four vectors of int32 already in [-128, 127] -> 32 bytes in order.
__m256i pack_bytes(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ab, cd), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// max |x| of n floats (n a multiple of 8), NaNs skipped as std::max skips them
// (maxps returns its second operand when either is NaN).
float abs_max(const float* x, int n) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 m = _mm256_setzero_ps();
  for (int j = 0; j < n; j += 8) m = _mm256_max_ps(_mm256_and_ps(load8(x + j), abs_mask), m);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// One 32-element block of q8_0/q8_1: writes qs, returns sum(qs) and the scale d.
int quantize_q8_block(const float* x, int8_t* qs, float* d_out) {
  const float amax = abs_max(x, 32);
  const float d = amax / 127;
  const float id = d ? 1.0f / d : 0.0f;
  const __m256 vid = _mm256_set1_ps(id);
  __m256i q[4];
  for (int i = 0; i < 4; ++i) {
    // The product is rounded before the add, as in roundf(x * id).
    const __m256 t = no_contract(_mm256_mul_ps(load8(x + 8 * i), vid));
    q[i] = low_byte(_mm256_cvttps_epi32(round_half_away(t)));
  }
  const __m256i bytes = pack_bytes(q[0], q[1], q[2], q[3]);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), bytes);
  *d_out = d;
  const __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
  return _mm_cvtsi128_si32(h);
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

// The 16 sums of 16 bytes of a q8_K block's quants, from sad_epu8 on the
// bytes offset to unsigned (each sum is then 2048 too large).
void q8_K_bsums(const int8_t* qs, int16_t* bsums) {
  const __m256i flip = _mm256_set1_epi8(int8_t(0x80)), zero = _mm256_setzero_si256(), ones = _mm256_set1_epi16(1);
  __m256i quads[4];  // int32 halves of group sums, see below
  for (int i = 0; i < 4; ++i) {
    // Two loads of 32 bytes: groups 4i..4i+3. sad gives u64 sums of 8 bytes:
    // [g(4i) lo, g(4i) hi | g(4i+1) lo, g(4i+1) hi] for the first load.
    const __m256i s0 = _mm256_sad_epu8(_mm256_xor_si256(load_256i(qs + 64 * i), flip), zero);
    const __m256i s1 = _mm256_sad_epu8(_mm256_xor_si256(load_256i(qs + 64 * i + 32), flip), zero);
    // u64 -> u16 lanes (values < 2^12), then pairs of 8-byte sums add up.
    quads[i] = _mm256_madd_epi16(_mm256_packus_epi32(s0, s1), ones);
    // quads[i] per 128-bit lane: [lo+0, hi+0, lo+0, hi+0] of groups
    // (4i, 4i+2) in the low lane and (4i+1, 4i+3) in the high lane.
  }
  // hadd pairs up lo+hi: lane 0 -> groups 0,2,4,6 / 8,10,12,14; lane 1 -> the odd ones.
  const __m256i a = _mm256_hadd_epi32(quads[0], quads[1]);
  const __m256i b = _mm256_hadd_epi32(quads[2], quads[3]);
  const __m256i bias = _mm256_set1_epi32(2048);
  const __m256i p = _mm256_packs_epi32(_mm256_sub_epi32(a, bias), _mm256_sub_epi32(b, bias));
  const __m128i even = _mm256_castsi256_si128(p), odd = _mm256_extracti128_si256(p, 1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums), _mm_unpacklo_epi16(even, odd));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums + 8), _mm_unpackhi_epi16(even, odd));
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
    const __m256 vs = _mm256_set1_ps(iscale);
    for (int j = 0; j < QK_K; j += 32) {
      __m256i q[4];
      for (int i = 0; i < 4; ++i)  // nearbyint: cvtps rounds in the current (to-even) mode
        q[i] = low_byte(_mm256_cvtps_epi32(_mm256_mul_ps(vs, load8(x + j + 8 * i))));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j), pack_bytes(q[0], q[1], q[2], q[3]));
    }
    q8_K_bsums(y[b].qs, y[b].bsums);
    const float d = 1 / iscale;
    std::memcpy(&y[b].d, &d, sizeof d);
  }
}

void quantize_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(load8(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = to_f16(x[i]);
}

// Round to nearest even on the bits; NaNs keep their top bits and turn quiet.
__m256i bf16_bits(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i is_nan =
      _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)), _mm256_set1_epi32(0x7F800000));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
  return _mm256_blendv_epi8(rounded, quiet, is_nan);
}

void quantize_bf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i p = _mm256_packus_epi32(bf16_bits(load8(x + i)), bf16_bits(load8(x + i + 8)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm256_permute4x64_epi64(p, 0xD8));
  }
  for (; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

}  // namespace

std::span<const QuantizeKernel> quantize_kernels_avx2() {
  static constexpr QuantizeKernel k[] = {
      {"quantize_row_f16__avx2", DType::F16, Isa::Avx2, quantize_f16},
      {"quantize_row_bf16__avx2", DType::BF16, Isa::Avx2, quantize_bf16},
      {"quantize_row_q8_0__avx2", DType::Q8_0, Isa::Avx2, quantize_q8_0},
      {"quantize_row_q8_1__avx2", DType::Q8_1, Isa::Avx2, quantize_q8_1},
      {"quantize_row_q8_K__avx2", DType::Q8_K, Isa::Avx2, quantize_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
