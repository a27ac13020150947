#pragma once
// Quantized blocks, bit-compatible with GGUF/ggml. Each is a plain struct with
// the exact byte layout of the file; the static_asserts pin that layout.
#include <cstdint>

#include "ember/dtype.h"

namespace ember {

using f16_bits = uint16_t;   // IEEE half, stored as raw bits
using bf16_bits = uint16_t;  // bfloat16, stored as raw bits

inline constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32;
inline constexpr int QK4_NL = 32;
inline constexpr int K_SCALE_SIZE = 12;  // packed 6-bit scales+mins of Q4_K/Q5_K

// x = d * (q - 8); q in the low nibbles for elements 0..15, high nibbles for 16..31.
struct block_q4_0 {
  f16_bits d;             // scale
  uint8_t qs[QK4_0 / 2];  // 4-bit quants
};
static_assert(sizeof(block_q4_0) == 18);

// x = d * q + m
struct block_q4_1 {
  f16_bits d;             // scale
  f16_bits m;             // min
  uint8_t qs[QK4_1 / 2];  // 4-bit quants, same nibble order as q4_0
};
static_assert(sizeof(block_q4_1) == 20);

// x = d * (q - 16); bit 4 of element j is bit j of qh.
struct block_q5_0 {
  f16_bits d;
  uint8_t qh[4];          // 5th bits, little-endian u32
  uint8_t qs[QK5_0 / 2];  // low 4 bits
};
static_assert(sizeof(block_q5_0) == 22);

// x = d * q + m
struct block_q5_1 {
  f16_bits d;
  f16_bits m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

// x = d * q
struct block_q8_0 {
  f16_bits d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

// Activation type for q4_1/q5_1: s = d * sum(qs) lets the dot fold in the min.
struct block_q8_1 {
  f16_bits d;
  f16_bits s;
  int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

// 16 sub-blocks of 16; x = d * sc * q - dmin * m with 4-bit sc and m.
struct block_q2_K {
  uint8_t scales[QK_K / 16];  // low nibble scale, high nibble min
  uint8_t qs[QK_K / 4];       // 2-bit quants
  f16_bits d;                 // super-block scale for the scales
  f16_bits dmin;              // super-block scale for the mins
};
static_assert(sizeof(block_q2_K) == 84);

// 16 sub-blocks of 16; x = d * (sc - 32) * (q - 4 * !hbit), 6-bit sc.
struct block_q3_K {
  uint8_t hmask[QK_K / 8];  // high bit of each quant
  uint8_t qs[QK_K / 4];     // low 2 bits
  uint8_t scales[12];       // 16 scales of 6 bits, packed
  f16_bits d;               // super-block scale
};
static_assert(sizeof(block_q3_K) == 110);

// 8 sub-blocks of 32; x = d * sc * q - dmin * m with 6-bit sc and m.
struct block_q4_K {
  f16_bits d;
  f16_bits dmin;
  uint8_t scales[K_SCALE_SIZE];  // 8 scales + 8 mins of 6 bits, packed
  uint8_t qs[QK_K / 2];          // 4-bit quants
};
static_assert(sizeof(block_q4_K) == 144);

// As q4_K with a fifth bit per quant.
struct block_q5_K {
  f16_bits d;
  f16_bits dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];  // 5th bits
  uint8_t qs[QK_K / 2];  // low 4 bits
};
static_assert(sizeof(block_q5_K) == 176);

// 16 sub-blocks of 16; x = d * sc * (q - 32), 8-bit signed sc.
struct block_q6_K {
  uint8_t ql[QK_K / 2];      // low 4 bits
  uint8_t qh[QK_K / 4];      // high 2 bits
  int8_t scales[QK_K / 16];  // sub-block scales
  f16_bits d;
};
static_assert(sizeof(block_q6_K) == 210);

// Activation type of the K-quants; bsums[i] = sum of qs[16i .. 16i+15].
struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

// Non-linear 4-bit: x = d * kvalues_iq4nl[q].
struct block_iq4_nl {
  f16_bits d;
  uint8_t qs[QK4_NL / 2];
};
static_assert(sizeof(block_iq4_nl) == 18);

// 8 sub-blocks of 32 with 6-bit scales (ls - 32); codebook as iq4_nl.
struct block_iq4_xs {
  f16_bits d;
  uint16_t scales_h;           // high 2 bits of the 8 scales
  uint8_t scales_l[QK_K / 64];  // low 4 bits, two per byte
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_iq4_xs) == 136);

/// The 16 levels of the iq4_nl/iq4_xs codebook (fixed by the format).
inline constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

/// Unpacks scale j and min j (6 bits each) of the q4_K/q5_K scale bytes.
static inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

}  // namespace ember
