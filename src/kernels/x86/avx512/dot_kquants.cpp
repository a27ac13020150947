// AVX-512 dots of the K-quants against q8_K, 64 elements per 512-bit op.
// Quants are widened to unsigned bytes and multiplied with q8_K's bytes
// (maddubs: u8 x s8 -> pairs of i16), then sub-block scales are applied as
// i16 words (madd, or VNNI's dpwssd which also accumulates), so a super-block
// is summed exactly in i32 before its float scales. Offsets (q6_K's -32, q3_K's
// -4) and mins (q2_K, q4_K, q5_K) are folded in through q8_K's bsums.
// The float scales are applied and the super-blocks summed exactly as the
// scalar reference does (x86/exact_sum.h): the results are bit-identical to it.
#include <immintrin.h>

#include <cstddef>

#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"
#include "kernels/x86/exact_sum.h"
#include "kernels/x86/exact_sum4.h"
#include "quant/blocks.h"

// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation,
// which -Wuninitialized reports inside every inlined broadcast/insert/convert.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace ember::kernels {
namespace {

// The 16 i32 lanes of v folded to 8 (lane i + lane i + 8).
inline __m256i fold256(__m512i v) { return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
// 32 bytes into both halves of a zmm (a load-port broadcast, no shuffle).
inline __m512i load256x2(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

// acc + sum over each i32 lane of q (u8) * y (s8) * s (i16 words, the same
// scale in both words of a lane).
inline __m512i dot_scaled(__m512i acc, __m512i q, __m512i y, __m512i s) {
#if EMBER_AVX512_VNNI
  return _mm512_dpwssd_epi32(acc, _mm512_maddubs_epi16(q, y), s);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(q, y), s));
#endif
}

// --- q4_K, q5_K: 8 sub-blocks of 32, 6-bit scales and mins ------------------

// The 12 packed bytes as [sc0..3, m0..3, sc4..7, m4..7] in every 128-bit
// lane. Reads 16 bytes from `scales`; the block's quants follow, so that stays
// inside the block.
inline __m512i unpack_scales_k4(const uint8_t* scales) {
  const __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(scales)));
  // words w0, w1, w2: sc0..3 / m0..3 are the low 6 bits of w0 / w1; sc4..7 and
  // m4..7 take their low 4 bits from the nibbles of w2 and their top 2 bits
  // from bits 6-7 of w0 / w1.
  const __m512i a = _mm512_srlv_epi32(_mm512_shuffle_epi32(v, _MM_PERM_CCBA),
                                      _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0, 4)));
  const __m512i b = _mm512_srli_epi32(_mm512_shuffle_epi32(v, _MM_PERM_BAAA), 2);
  const __m512i ma = _mm512_broadcast_i32x4(_mm_setr_epi32(0x3F3F3F3F, 0x3F3F3F3F, 0x0F0F0F0F, 0x0F0F0F0F));
  const __m512i mb = _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0, 0x30303030, 0x30303030));
  return _mm512_or_si512(_mm512_and_si512(a, ma), _mm512_and_si512(b, mb));
}

constexpr int k4_sc(int j) { return j < 4 ? j : j + 4; }    // byte of scale j above
constexpr int k4_min(int j) { return j < 4 ? j + 4 : j + 8; }  // byte of min j above

// pshufb controls over the unpacked scales broadcast to every 128-bit lane.
struct K4Tables {
  // chunk c (64 elements): words of lanes 0-1 = scale 2c, lanes 2-3 = scale 2c+1
  alignas(64) uint8_t sc[4][64];
  // 16 words: min j twice (bsums 2j and 2j+1), for a 256-bit madd with bsums
  alignas(32) uint8_t min[32];
};
constexpr K4Tables make_k4_tables() {
  K4Tables t{};
  for (int c = 0; c < 4; ++c)
    for (int k = 0; k < 64; k += 2) {
      t.sc[c][k] = uint8_t(k4_sc(k < 32 ? 2 * c : 2 * c + 1));
      t.sc[c][k + 1] = 0x80;
    }
  for (int w = 0; w < 16; ++w) {
    t.min[2 * w] = uint8_t(k4_min(w / 2));
    t.min[2 * w + 1] = 0x80;
  }
  return t;
}
constexpr K4Tables kK4 = make_k4_tables();

// sum_j m_j * (bsums[2j] + bsums[2j+1]) as 8 i32 lanes.
inline __m256i k4_min_dot(__m512i r, const int16_t* bsums) {
  const __m256i ctl = _mm256_load_si256(reinterpret_cast<const __m256i*>(kK4.min));
  return _mm256_madd_epi16(load256(bsums), _mm256_shuffle_epi8(_mm512_castsi512_si256(r), ctl));
}

inline __m512i k4_scales(__m512i r, int c) {
  return _mm512_shuffle_epi8(r, _mm512_load_si512(kK4.sc[c]));
}

// 32 bytes of nibbles as 64 quants: low nibbles then high nibbles.
inline __m512i nibbles64(const uint8_t* q) {
  const __m512i qq = load256x2(q);
  return _mm512_and_si512(_mm512_mask_srli_epi16(qq, 0xFFFF0000u, qq, 4), _mm512_set1_epi8(0x0F));
}

float vec_dot_q4_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const auto block = [&](int64_t b) {
    const __m512i r = unpack_scales_k4(x[b].scales);
    const uint8_t* q = x[b].qs;
    const int8_t* q8 = y[b].qs;
    __m512i s01 = _mm512_setzero_si512(), s23 = _mm512_setzero_si512();
    s01 = dot_scaled(s01, nibbles64(q), load512(q8), k4_scales(r, 0));
    s23 = dot_scaled(s23, nibbles64(q + 64), load512(q8 + 128), k4_scales(r, 2));
    s01 = dot_scaled(s01, nibbles64(q + 32), load512(q8 + 64), k4_scales(r, 1));
    s23 = dot_scaled(s23, nibbles64(q + 96), load512(q8 + 192), k4_scales(r, 3));
    return exact_x86::MinSums{fold256(_mm512_add_epi32(s01, s23)), k4_min_dot(r, y[b].bsums)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

float vec_dot_q5_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m512i bit4 = _mm512_set1_epi8(0x10);
  const auto block = [&](int64_t b) {
    const __m512i r = unpack_scales_k4(x[b].scales);
    const __m512i qh = load256x2(x[b].qh);
    const uint8_t* q = x[b].qs;
    const int8_t* q8 = y[b].qs;
    __m512i sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      // Fifth bits of chunk c: bit 2c of qh for its low 32, bit 2c+1 for its high 32.
      const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi8(char(1 << (2 * c))),
                                             _mm256_set1_epi8(char(1 << (2 * c + 1))), 1);
      const __m512i lo4 = nibbles64(q + 32 * c);
      const __m512i v = _mm512_mask_add_epi8(lo4, _mm512_test_epi8_mask(qh, sel), lo4, bit4);
      sum[c & 1] = dot_scaled(sum[c & 1], v, load512(q8 + 64 * c), k4_scales(r, c));
    }
    return exact_x86::MinSums{fold256(_mm512_add_epi32(sum[0], sum[1])), k4_min_dot(r, y[b].bsums)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

// --- q2_K, q3_K, q6_K: 16 sub-blocks of 16, one per 128-bit lane ------------

// vpermw indices: entry k fills 128-bit lane j with word 4k + j.
struct LaneTables {
  alignas(64) uint16_t idx[4][32];
};
constexpr LaneTables make_lane_tables() {
  LaneTables t{};
  for (int k = 0; k < 4; ++k)
    for (int w = 0; w < 32; ++w) t.idx[k][w] = uint16_t(4 * k + w / 8);
  return t;
}
constexpr LaneTables kLane = make_lane_tables();

// Scales of sub-blocks 4k..4k+3 of the 16 i16 scales in s16, one per lane.
inline __m512i lane_scales(__m512i s16, int k) {
  return _mm512_permutexvar_epi16(_mm512_load_si512(kLane.idx[k]), s16);
}

// Shift counts of the 16-bit words: `lo` in the low 256 bits, `hi` above.
inline __m512i shift2(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi16(short(lo)), _mm256_set1_epi16(short(hi)), 1);
}

float vec_dot_q6_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m2 = _mm512_set1_epi8(0x30);
  // Words are shifted, then masked per byte to bits 4-5; the masked bits come
  // from the same byte for these shift counts.
  const __m512i shl_lo = shift2(4, 2);  // qh bits 0-1 | 2-3 -> 4-5
  const __m512i shr_hi = shift2(0, 2);  // qh bits 4-5 | 6-7 -> 4-5
  const auto block = [&](int64_t b) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    const __m512i s16 = _mm512_castsi256_si512(sc16);
    // The quants are stored as q + 32: start from -32 * sum_j sc_j * bsums_j.
    const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(load256(y[b].bsums), sc16), 5);
    __m512i sum0 = _mm512_castsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), off));
    __m512i sum1 = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      // Elements 0..63 of the half are ql's low nibbles with qh bits 0-3,
      // elements 64..127 its high nibbles with qh bits 4-7.
      const __m512i ql = load512(x[b].ql + 64 * h);
      const __m512i qh = load256x2(x[b].qh + 32 * h);
      const __m512i hb_lo = _mm512_and_si512(_mm512_sllv_epi16(qh, shl_lo), m2);
      const __m512i hb_hi = _mm512_and_si512(_mm512_srlv_epi16(qh, shr_hi), m2);
      // (a & 0x0F) | b
      const __m512i q_lo = _mm512_ternarylogic_epi32(ql, m4, hb_lo, 0xEA);
      const __m512i q_hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), m4, hb_hi, 0xEA);
      const int8_t* q8 = y[b].qs + 128 * h;
      sum0 = dot_scaled(sum0, q_lo, load512(q8), lane_scales(s16, 2 * h));
      sum1 = dot_scaled(sum1, q_hi, load512(q8 + 64), lane_scales(s16, 2 * h + 1));
    }
    return fold256(_mm512_add_epi32(sum0, sum1));
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

// The 16 six-bit scales of q3_K, minus 32, as signed bytes. The 12 bytes are
// read as 16 ending at the block's d (inside the block) and shifted down.
inline __m128i unpack_scales_q3(const block_q3_K& blk) {
  const __m128i v = _mm_srli_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(
      reinterpret_cast<const uint8_t*>(&blk) + offsetof(block_q3_K, scales) - 2)), 2);
  // words w0, w1, w2: low nibbles of w0/w1 are scales 0..7, high nibbles
  // 8..15; each byte of w2 holds the top 2 bits of four scales (j%4 = byte,
  // j/4 = bit pair).
  __m128i lo = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 1, 0));
  lo = _mm_and_si128(_mm_srlv_epi32(lo, _mm_setr_epi32(0, 0, 4, 4)), _mm_set1_epi8(0x0F));
  __m128i hi = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2));
  hi = _mm_srlv_epi32(_mm_sllv_epi32(hi, _mm_setr_epi32(4, 2, 0, 0)), _mm_setr_epi32(0, 0, 0, 2));
  hi = _mm_and_si128(hi, _mm_set1_epi8(0x30));
  return _mm_sub_epi8(_mm_or_si128(lo, hi), _mm_set1_epi8(32));
}

// Bit-pair shift counts for the four 64-element parts of a q2_K/q3_K block:
// part k reads qs[32 * (k / 2)] at bit pairs 2 * (k % 2) and 2 * (k % 2) + 1.
inline __m512i crumb_shift(int k) { return shift2(4 * (k & 1), 4 * (k & 1) + 2); }

float vec_dot_q3_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q3_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m512i m3 = _mm512_set1_epi8(3);
  const __m512i four = _mm512_set1_epi8(4);
  const auto block = [&](int64_t b) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(unpack_scales_q3(x[b]));
    const __m512i s16 = _mm512_castsi256_si512(sc16);
    // Quants are taken as low2 | hbit << 2 in 0..7, i.e. q + 4.
    const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(load256(y[b].bsums), sc16), 2);
    __m512i sum[2] = {_mm512_castsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), off)),
                      _mm512_setzero_si512()};
    const __m512i hm = load256x2(x[b].hmask);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      // hmask bit 2k marks the low 32 elements of part k, bit 2k+1 the high 32.
      const __m512i sel = _mm512_inserti64x4(_mm512_set1_epi8(char(1 << (2 * k))),
                                             _mm256_set1_epi8(char(1 << (2 * k + 1))), 1);
      const __m512i qs = load256x2(x[b].qs + 32 * (k / 2));
      const __m512i low = _mm512_and_si512(_mm512_srlv_epi16(qs, crumb_shift(k)), m3);
      const __m512i q = _mm512_mask_add_epi8(low, _mm512_test_epi8_mask(hm, sel), low, four);
      sum[k & 1] = dot_scaled(sum[k & 1], q, load512(y[b].qs + 64 * k), lane_scales(s16, k));
    }
    return fold256(_mm512_add_epi32(sum[0], sum[1]));
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

float vec_dot_q2_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q2_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m512i m3 = _mm512_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const auto block = [&](int64_t b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m512i s16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(packed, m4)));
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4));
    __m512i sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i qs = load256x2(x[b].qs + 32 * (k / 2));
      const __m512i q = _mm512_and_si512(_mm512_srlv_epi16(qs, crumb_shift(k)), m3);
      sum[k & 1] = dot_scaled(sum[k & 1], q, load512(y[b].qs + 64 * k), lane_scales(s16, k));
    }
    return exact_x86::MinSums{fold256(_mm512_add_epi32(sum[0], sum[1])), _mm256_madd_epi16(load256(y[b].bsums), mins)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

// --- one weight row against up to 4 activation rows (VecDot4Fn) -------------
// Each weight block is decoded once into registers and multiplied with every
// row's q8_K block by the same integer ops as the one-row dots above; the
// float side is exact_sum4.h's, so each result equals that dot's bit for bit.

template <int N>
void q4_K_rows(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  const exact_x86::ActRows<N> a(act, stride);
  const __m256i min_ctl = _mm256_load_si256(reinterpret_cast<const __m256i*>(kK4.min));
  const auto block = [&](int64_t b) {
    const __m512i r = unpack_scales_k4(x[b].scales);
    const uint8_t* q = x[b].qs;
    const __m512i q0 = nibbles64(q), q1 = nibbles64(q + 32), q2 = nibbles64(q + 64), q3 = nibbles64(q + 96);
    const __m512i s0 = k4_scales(r, 0), s1 = k4_scales(r, 1), s2 = k4_scales(r, 2), s3 = k4_scales(r, 3);
    const __m256i mins = _mm256_shuffle_epi8(_mm512_castsi512_si256(r), min_ctl);
    return [=](const block_q8_K& yb) {
      const int8_t* q8 = yb.qs;
      __m512i s01 = _mm512_setzero_si512(), s23 = _mm512_setzero_si512();
      s01 = dot_scaled(s01, q0, load512(q8), s0);
      s23 = dot_scaled(s23, q2, load512(q8 + 128), s2);
      s01 = dot_scaled(s01, q1, load512(q8 + 64), s1);
      s23 = dot_scaled(s23, q3, load512(q8 + 192), s3);
      return exact_x86::MinSums{fold256(_mm512_add_epi32(s01, s23)), _mm256_madd_epi16(load256(yb.bsums), mins)};
    };
  };
  exact_x86::sum_blocks_with_mins_rows(x, a, n / QK_K, block, out);
}

template <int N>
void q6_K_rows(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const exact_x86::ActRows<N> a(act, stride);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i m2 = _mm512_set1_epi8(0x30);
  const __m512i shl_lo = shift2(4, 2);
  const __m512i shr_hi = shift2(0, 2);
  const auto block = [&](int64_t b) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
    const __m512i s16 = _mm512_castsi256_si512(sc16);
    // Quants of half h: lo[h] (elements 0..63 of the half), hi[h] (64..127); see vec_dot_q6_K_q8_K.
    __m512i lo[2], hi[2];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load512(x[b].ql + 64 * h);
      const __m512i qh = load256x2(x[b].qh + 32 * h);
      lo[h] = _mm512_ternarylogic_epi32(ql, m4, _mm512_and_si512(_mm512_sllv_epi16(qh, shl_lo), m2), 0xEA);
      hi[h] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), m4, _mm512_and_si512(_mm512_srlv_epi16(qh, shr_hi), m2), 0xEA);
    }
    const __m512i l0 = lane_scales(s16, 0), l1 = lane_scales(s16, 1), l2 = lane_scales(s16, 2), l3 = lane_scales(s16, 3);
    const __m512i lo0 = lo[0], lo1 = lo[1], hi0 = hi[0], hi1 = hi[1];
    return [=](const block_q8_K& yb) {
      const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(load256(yb.bsums), sc16), 5);
      __m512i sum0 = _mm512_castsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), off));
      __m512i sum1 = _mm512_setzero_si512();
      const int8_t* q8 = yb.qs;
      sum0 = dot_scaled(sum0, lo0, load512(q8), l0);
      sum1 = dot_scaled(sum1, hi0, load512(q8 + 64), l1);
      sum0 = dot_scaled(sum0, lo1, load512(q8 + 128), l2);
      sum1 = dot_scaled(sum1, hi1, load512(q8 + 192), l3);
      return fold256(_mm512_add_epi32(sum0, sum1));
    };
  };
  exact_x86::sum_blocks_rows(x, a, n / QK_K, block, out);
}

// n_act 1 is the one-row dot itself.
template <VecDotFn Dot, void (*Rows2)(int64_t, const void*, const void*, size_t, float*),
          void (*Rows3)(int64_t, const void*, const void*, size_t, float*),
          void (*Rows4)(int64_t, const void*, const void*, size_t, float*)>
void dot_4x(int64_t n, const void* w, const void* act, size_t stride, int n_act, float* out) {
  switch (n_act) {
    case 1: out[0] = Dot(n, w, act); return;
    case 2: Rows2(n, w, act, stride, out); return;
    case 3: Rows3(n, w, act, stride, out); return;
    case 4: Rows4(n, w, act, stride, out); return;
    default: return;
  }
}

}  // namespace

std::span<const Dot4Kernel> EMBER_AVX512_SET(dot4_kernels_kquants)() {
  static constexpr Dot4Kernel k[] = {
      {"vec_dot_4x_q4_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q4_K, EMBER_AVX512_ISA,
       dot_4x<vec_dot_q4_K_q8_K, q4_K_rows<2>, q4_K_rows<3>, q4_K_rows<4>>},
      {"vec_dot_4x_q6_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q6_K, EMBER_AVX512_ISA,
       dot_4x<vec_dot_q6_K_q8_K, q6_K_rows<2>, q6_K_rows<3>, q6_K_rows<4>>},
  };
  return k;
}

std::span<const DotKernel> EMBER_AVX512_SET(dot_kernels_kquants)() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q2_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q2_K, EMBER_AVX512_ISA, vec_dot_q2_K_q8_K},
      {"vec_dot_q3_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q3_K, EMBER_AVX512_ISA, vec_dot_q3_K_q8_K},
      {"vec_dot_q4_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q4_K, EMBER_AVX512_ISA, vec_dot_q4_K_q8_K},
      {"vec_dot_q5_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q5_K, EMBER_AVX512_ISA, vec_dot_q5_K_q8_K},
      {"vec_dot_q6_K_q8_K" EMBER_AVX512_SUFFIX, DType::Q6_K, EMBER_AVX512_ISA, vec_dot_q6_K_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
