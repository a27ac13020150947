// AVX2+FMA dots of the float types: xsimd 8-wide batches; f16 widens with
// F16C; bf16 is the high half of an f32, reached with a shift or a mask.
#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/dot_float_simd.h"

namespace ember::kernels {
namespace {

using Arch = xsimd::fma3<xsimd::avx2>;
using Batch = xsimd::batch<float, Arch>;

using Two = float_dot::Two<Batch>;

Two load_f32(const float* p) { return {Batch::load_unaligned(p), Batch::load_unaligned(p + 8)}; }
Two load_f16(const uint16_t* p) {
  const auto* q = reinterpret_cast<const __m128i*>(p);
  return {Batch(_mm256_cvtph_ps(_mm_loadu_si128(q))), Batch(_mm256_cvtph_ps(_mm_loadu_si128(q + 1)))};
}
// 16 bf16: the even elements shifted into the high halves of the 32-bit
// lanes, the odd ones masked in place. No shuffles.
Two load_bf16(const uint16_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return {Batch(_mm256_castsi256_ps(_mm256_slli_epi32(v, 16))),
          Batch(_mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(int(0xFFFF0000u)))))};
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

std::span<const DotKernel> dot_kernels_float_avx2() {
  static constexpr DotKernel k[] = {
      {"vec_dot_f32_f32__avx2", DType::F32, Isa::Avx2, dot_f32},
      {"vec_dot_f16_f16__avx2", DType::F16, Isa::Avx2, dot_f16},
      {"vec_dot_bf16_bf16__avx2", DType::BF16, Isa::Avx2, dot_bf16},
  };
  return k;
}

}  // namespace ember::kernels
