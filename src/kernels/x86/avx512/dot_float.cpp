// AVX-512 dots of the float types: xsimd 16-wide batches; f16 widens with
// vcvtph2ps; bf16 is the high half of an f32, reached with a shift or a mask. Nothing here
// needs VNNI; the avx512vnni build is the same code.

// GCC 12's AVX-512 intrinsics self-initialise their "undefined" vectors,
// which -W(maybe-)uninitialized reports (GCC PR105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"
#include "kernels/x86/dot_float_simd.h"

namespace ember::kernels {
namespace {

using Arch = xsimd::avx512bw;
using Batch = xsimd::batch<float, Arch>;

using Two = float_dot::Two<Batch>;

// Rows are loaded 32 bytes at a time (the second half merged in by a masked
// broadcast, which needs no shuffle port): GGUF aligns tensors to 32 bytes
// only, and on Zen 5 64-byte loads that split cache lines cut streaming from
// DRAM from ~39 to ~23 GB/s (bf16) and ~34 GB/s (f32).
__m512 load_16f(const float* p) {
  return _mm512_mask_broadcast_f32x8(_mm512_castps256_ps512(_mm256_loadu_ps(p)), 0xFF00, _mm256_loadu_ps(p + 8));
}
Two load_f32(const float* p) { return {Batch(load_16f(p)), Batch(load_16f(p + 16))}; }
Two load_f16(const uint16_t* p) {
  const auto* q = reinterpret_cast<const __m256i*>(p);
  return {Batch(_mm512_cvtph_ps(_mm256_loadu_si256(q))), Batch(_mm512_cvtph_ps(_mm256_loadu_si256(q + 1)))};
}
// 32 bf16: the even elements shifted into the high halves of the 32-bit
// lanes, the odd ones masked in place.
Two load_bf16(const uint16_t* p) {
  const auto* q = reinterpret_cast<const __m256i*>(p);
  const __m256i v0 = _mm256_loadu_si256(q), v1 = _mm256_loadu_si256(q + 1);
  const __m512i v = _mm512_mask_broadcast_i64x4(_mm512_castsi256_si512(v0), 0xF0, v1);
  return {Batch(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16))),
          Batch(_mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32(int(0xFFFF0000u)))))};
}

float dot_f32(int64_t n, const void* x, const void* y) {
  return float_dot::dot<Arch>(n, static_cast<const float*>(x), static_cast<const float*>(y), load_f32, float_dot::f32_at);
}
float dot_f16(int64_t n, const void* x, const void* y) {
  return float_dot::dot<Arch>(n, static_cast<const uint16_t*>(x), static_cast<const uint16_t*>(y), load_f16,
                              float_dot::f16_at);
}
float dot_bf16(int64_t n, const void* x, const void* y) {
  return float_dot::dot<Arch>(n, static_cast<const uint16_t*>(x), static_cast<const uint16_t*>(y), load_bf16,
                              float_dot::bf16_at);
}

}  // namespace

std::span<const DotKernel> EMBER_AVX512_SET(dot_kernels_float)() {
  static constexpr DotKernel k[] = {
      {"vec_dot_f32_f32" EMBER_AVX512_SUFFIX, DType::F32, EMBER_AVX512_ISA, dot_f32},
      {"vec_dot_f16_f16" EMBER_AVX512_SUFFIX, DType::F16, EMBER_AVX512_ISA, dot_f16},
      {"vec_dot_bf16_bf16" EMBER_AVX512_SUFFIX, DType::BF16, EMBER_AVX512_ISA, dot_bf16},
  };
  return k;
}

}  // namespace ember::kernels
