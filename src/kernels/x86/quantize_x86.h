#pragma once
// Pieces shared by the AVX2 and AVX-512 activation quantizers.
// Include only from ISA files: everything here has internal linkage.
#include <immintrin.h>

#include <cstdint>

namespace ember::kernels {
namespace {
namespace quantize_x86 {

// The largest float below 0.5 (0.5 - 2^-25).
inline constexpr float kBelowHalf = 0.49999997f;

// GCC contracts an intrinsic multiply and a following add into an FMA even
// with -std=c++20; where the reference rounds the product first, the value
// goes through this empty asm, which the compiler cannot see through.
template <class V>
static inline V no_contract(V v) {
  __asm__("" : "+v"(v));
  return v;
}

// f32 -> f16 bits, round to nearest even (as ember::f32_to_f16).
static inline uint16_t to_f16(float f) { return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

static inline __m256i load_256i(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace quantize_x86
}  // namespace
}  // namespace ember::kernels
