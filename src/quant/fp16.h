#pragma once
// static inline: the ISA-flagged kernel files may include this, and a shared
// inline definition could let the linker keep an AVX copy for baseline code.
// Portable IEEE half and bfloat16 conversions (no ISA extensions), used by
// the reference code. SIMD kernels use F16C/AVX-512 conversions instead.
#include <cstdint>
#include <cstring>

namespace ember {

static inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static inline float f32_from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

static inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));  // inf/nan
  if (exp == 0) {
    if (mant == 0) return f32_from_bits(sign);
    // subnormal: value = mant * 2^-24
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

/// Round-to-nearest-even, as F16C's _cvtss_sh(x, 0) does.
static inline uint16_t f32_to_f16(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t absx = x & 0x7FFFFFFFu;
  if (absx >= 0x7F800000u) return uint16_t(sign | 0x7C00 | (absx > 0x7F800000u ? 0x200 | ((absx >> 13) & 0x3FF) : 0));
  if (absx >= 0x477FF000u) return uint16_t(sign | 0x7C00);  // rounds to >= 65520: inf
  if (absx < 0x38800000u) {                                 // below the smallest normal half
    // subnormal half: value / 2^-24, rounded to nearest even
    const uint32_t e = absx >> 23;
    if (e < 102) return uint16_t(sign);  // below half of the smallest subnormal
    const uint32_t m = (absx & 0x7FFFFF) | 0x800000;
    const uint32_t shift = 126 - e;      // 14 + (113 - e)
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = ((absx >> 13) - (112u << 10));
  const uint32_t rem = absx & 0x1FFF;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return uint16_t(sign | r);
}

static inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

/// Round-to-nearest-even; NaNs stay quiet NaNs (as ggml does).
static inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((u >> 16) | 64);
  return uint16_t((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
}

}  // namespace ember
