#pragma once
// static inline: the ISA-flagged kernel files may include this, and a shared
// inline definition could let the linker keep an AVX copy for baseline code.
// Unpacking of the K-quant blocks into plain per-element quants and
// per-sub-block scales: one place that knows the bit layouts, used by the
// reference dequantizers and dots (and by tests of the SIMD kernels).
#include <cstdint>

#include "quant/blocks.h"

namespace ember {

// q2_K: element e sits in byte qs[32 * (e / 128) + e % 32] at bit 2 * ((e % 128) / 32).
static inline void unpack_q2_K(const block_q2_K& b, int8_t q[QK_K], int sc[16], int m[16]) {
  for (int e = 0; e < QK_K; ++e) q[e] = int8_t((b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
  for (int j = 0; j < 16; ++j) {
    sc[j] = b.scales[j] & 0xF;
    m[j] = b.scales[j] >> 4;
  }
}

// q3_K scale j (6 bits): low nibble from bytes 0..7 (low then high nibbles),
// top two bits from bytes 8..11, two bits per scale.
static inline int q3_K_scale(const uint8_t* s, int j) {
  const int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return lo | (hi << 4);
}

// q3_K: low two bits as q2_K; hmask[e % 32] bit (e / 32) set means no -4 offset.
// Returns q in -4..3 and the signed scales (stored value - 32).
static inline void unpack_q3_K(const block_q3_K& b, int8_t q[QK_K], int sc[16]) {
  for (int e = 0; e < QK_K; ++e) {
    const int lo = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
    const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
    q[e] = int8_t(lo - (hbit ? 0 : 4));
  }
  for (int j = 0; j < 16; ++j) sc[j] = q3_K_scale(b.scales, j) - 32;
}

// q4_K: per 64 elements 32 bytes, low nibbles the first 32, high nibbles the next.
static inline void unpack_q4_K(const block_q4_K& b, int8_t q[QK_K], int sc[8], int m[8]) {
  for (int e = 0; e < QK_K; ++e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    q[e] = int8_t(((e % 64) < 32 ? byte : byte >> 4) & 0xF);
  }
  for (int j = 0; j < 8; ++j) {
    uint8_t s, mm;
    get_scale_min_k4(j, b.scales, &s, &mm);
    sc[j] = s;
    m[j] = mm;
  }
}

// q5_K: as q4_K; the fifth bit of element e is bit (e / 32) of qh[e % 32].
static inline void unpack_q5_K(const block_q5_K& b, int8_t q[QK_K], int sc[8], int m[8]) {
  for (int e = 0; e < QK_K; ++e) {
    const uint8_t byte = b.qs[32 * (e / 64) + e % 32];
    const int lo = ((e % 64) < 32 ? byte : byte >> 4) & 0xF;
    const int hi = (b.qh[e % 32] >> (e / 32)) & 1;
    q[e] = int8_t(lo | (hi << 4));
  }
  for (int j = 0; j < 8; ++j) {
    uint8_t s, mm;
    get_scale_min_k4(j, b.scales, &s, &mm);
    sc[j] = s;
    m[j] = mm;
  }
}

// q6_K: per 128 elements, ql holds 64 bytes (quarter k of 32 elements in byte
// l + 32 * (k & 1), low nibble for k < 2) and qh 32 bytes (bits 2k, 2k+1 of byte l).
// Returns q in -32..31.
static inline void unpack_q6_K(const block_q6_K& b, int8_t q[QK_K], int sc[16]) {
  for (int e = 0; e < QK_K; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const uint8_t lbyte = b.ql[64 * h + 32 * (k & 1) + l];
    const int lo = (k < 2 ? lbyte : lbyte >> 4) & 0xF;
    const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
    q[e] = int8_t((lo | (hi << 4)) - 32);
  }
  for (int j = 0; j < 16; ++j) sc[j] = b.scales[j];
}

}  // namespace ember
