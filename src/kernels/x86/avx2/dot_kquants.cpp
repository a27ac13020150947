// AVX2 dots of the K-quants against q8_K. Each kernel widens the quants to
// unsigned bytes, multiplies them with the q8_K bytes by maddubs (u8 x s8 ->
// pairs of i16) and applies the sub-block scales with madd (i16 x i16 -> i32),
// so a super-block is summed exactly in integers before its float scales.
// Offsets (q6_K's -32, q3_K's -4) and mins (q2_K, q4_K, q5_K) are folded in
// through q8_K's bsums instead of being applied per element.
// The float scales are applied and the super-blocks summed exactly as the
// scalar reference does (x86/exact_sum.h): the results are bit-identical to it.
#include <immintrin.h>

#include <cstddef>

#include "kernels/kernel_sets.h"
#include "kernels/x86/exact_sum.h"
#include "kernels/x86/exact_sum4.h"
#include "quant/blocks.h"

namespace ember::kernels {
namespace {

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Shuffle controls that fill every 16-bit word with one byte of the 128-bit
// lane (zero-extended): kPickWord[i] picks byte i in both lanes.
struct PickTable {
  alignas(32) uint8_t ctl[16][32];
};
constexpr PickTable make_pick_table() {
  PickTable t{};
  for (int i = 0; i < 16; ++i)
    for (int k = 0; k < 32; k += 2) {
      t.ctl[i][k] = uint8_t(i);
      t.ctl[i][k + 1] = 0x80;
    }
  return t;
}
constexpr PickTable kPickByte = make_pick_table();

// Controls that broadcast one i16 word per 128-bit lane: entry g puts word
// 2g in the low lane and word 2g+1 in the high lane.
struct PairTable {
  alignas(32) uint8_t ctl[4][32];
};
constexpr PairTable make_pair_table() {
  PairTable t{};
  for (int g = 0; g < 4; ++g)
    for (int k = 0; k < 32; k += 2) {
      const int w = k < 16 ? 2 * g : 2 * g + 1;
      t.ctl[g][k] = uint8_t(2 * w);
      t.ctl[g][k + 1] = uint8_t(2 * w + 1);
    }
  return t;
}
constexpr PairTable kPairWord = make_pair_table();

inline __m256i ctl(const uint8_t* c) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(c)); }

// The 12 packed bytes of q4_K/q5_K as [sc0..3, m0..3, sc4..7, m4..7]. Reads 16
// bytes from `scales`; the block's quants follow, so that stays inside it.
inline __m128i unpack_scales_k4(const uint8_t* scales) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales));
  // words w0, w1, w2: sc0..3 / m0..3 are the low 6 bits of w0 / w1; sc4..7 and
  // m4..7 take their low 4 bits from the nibbles of w2 and their top 2 bits
  // from bits 6-7 of w0 / w1.
  __m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 1, 0));
  a = _mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4));
  a = _mm_and_si128(a, _mm_setr_epi32(0x3F3F3F3F, 0x3F3F3F3F, 0x0F0F0F0F, 0x0F0F0F0F));
  __m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 0, 0));
  b = _mm_and_si128(_mm_srli_epi32(b, 2), _mm_setr_epi32(0, 0, 0x30303030, 0x30303030));
  return _mm_or_si128(a, b);
}

// Byte of scale j / min j in unpack_scales_k4's result.
constexpr int k4_sc(int j) { return j < 4 ? j : j + 4; }
constexpr int k4_min(int j) { return j < 4 ? j + 4 : j + 8; }

// Shared by q4_K and q5_K: the min term  sum_j m_j * (bsums[2j] + bsums[2j+1])
// as 8 i32 lanes, with r = the unpacked scales in both 128-bit lanes.
inline __m256i k4_min_dot(__m256i r, const int16_t* bsums) {
  const __m256i ctl = _mm256_setr_epi8(
      k4_min(0), -1, k4_min(0), -1, k4_min(1), -1, k4_min(1), -1, k4_min(2), -1, k4_min(2), -1,
      k4_min(3), -1, k4_min(3), -1, k4_min(4), -1, k4_min(4), -1, k4_min(5), -1, k4_min(5), -1,
      k4_min(6), -1, k4_min(6), -1, k4_min(7), -1, k4_min(7), -1);
  return _mm256_madd_epi16(load256(bsums), _mm256_shuffle_epi8(r, ctl));
}

float vec_dot_q4_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const auto block = [&](int64_t b) {
    const __m256i r = _mm256_broadcastsi128_si256(unpack_scales_k4(x[b].scales));
    const uint8_t* q = x[b].qs;
    const int8_t* q8 = y[b].qs;
    __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c, q += 32, q8 += 64) {
      // 64 elements: low nibbles are sub-block 2c, high nibbles 2c+1.
      const __m256i qq = load256(q);
      const __m256i lo = _mm256_and_si256(qq, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(qq, 4), m4);
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(q8)), _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c)]))));
      sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(q8 + 32)), _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c + 1)]))));
    }
    return exact_x86::MinSums{_mm256_add_epi32(sum0, sum1), k4_min_dot(r, y[b].bsums)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

float vec_dot_q5_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q5_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i bit4 = _mm256_set1_epi8(0x10);
  const auto block = [&](int64_t b) {
    const __m256i r = _mm256_broadcastsi128_si256(unpack_scales_k4(x[b].scales));
    const uint8_t* q = x[b].qs;
    const int8_t* q8 = y[b].qs;
    // Bit 0 of each byte of h is the fifth bit of chunk c's low half, bit 1 of
    // its high half; shifting by 2 per chunk stays within bytes for c < 4.
    __m256i h = load256(x[b].qh);
    __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c, q += 32, q8 += 64) {
      const __m256i qq = load256(q);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(qq, m4),
                                         _mm256_and_si256(_mm256_slli_epi16(h, 4), bit4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qq, 4), m4),
                                         _mm256_and_si256(_mm256_slli_epi16(h, 3), bit4));
      h = _mm256_srli_epi16(h, 2);
      sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, load256(q8)), _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c)]))));
      sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, load256(q8 + 32)), _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c + 1)]))));
    }
    return exact_x86::MinSums{_mm256_add_epi32(sum0, sum1), k4_min_dot(r, y[b].bsums)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

// For the 16-element sub-block types: `s` holds 8 scales as i16 in both lanes;
// group g (32 elements = sub-blocks 2g, 2g+1) gets scale 2g in the low lane
// and 2g+1 in the high lane.
inline __m256i pair_scales(__m256i s, int g) { return _mm256_shuffle_epi8(s, ctl(kPairWord.ctl[g])); }

// Broadcast of the i16 scales 8h..8h+7 (from 16 signed bytes) to both lanes.
inline __m256i half_scales(__m128i sc8, int h) {
  const __m128i part = h == 0 ? sc8 : _mm_unpackhi_epi64(sc8, sc8);
  return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(part));
}

float vec_dot_q6_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x30);
  const auto block = [&](int64_t b) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    // The quants are stored as q + 32: subtract 32 * sum_j sc_j * bsums_j.
    __m256i isum = _mm256_slli_epi32(
        _mm256_madd_epi16(load256(y[b].bsums), _mm256_cvtepi8_epi16(sc8)), 5);
    isum = _mm256_sub_epi32(_mm256_setzero_si256(), isum);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const int8_t* q8 = y[b].qs + 128 * h;
      const __m256i l0 = load256(ql), l1 = load256(ql + 32);
      const __m256i qh = load256(x[b].qh + 32 * h);
      const __m256i s = half_scales(sc8, h);
      // Group g of 32 elements: a nibble of ql and bits 2g, 2g+1 of qh.
      const __m256i g0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2));
      const __m256i g1 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2));
      const __m256i g2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2));
      const __m256i g3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(g0, load256(q8)), pair_scales(s, 0));
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(g1, load256(q8 + 32)), pair_scales(s, 1));
      const __m256i p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(g2, load256(q8 + 64)), pair_scales(s, 2));
      const __m256i p3 = _mm256_madd_epi16(_mm256_maddubs_epi16(g3, load256(q8 + 96)), pair_scales(s, 3));
      isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(p0, p1), _mm256_add_epi32(p2, p3)));
    }
    return isum;
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

// The 16 six-bit scales of q3_K, minus 32, as signed bytes. The 12 bytes are
// read as 16 ending at the block's d (which is inside the block) and shifted.
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

float vec_dot_q3_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q3_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i bit2 = _mm256_set1_epi8(4);
  const auto block = [&](int64_t b) {
    const __m128i sc8 = unpack_scales_q3(x[b]);
    // Quants are taken as low2 | hbit << 2 in 0..7, i.e. q + 4.
    __m256i isum = _mm256_slli_epi32(
        _mm256_madd_epi16(load256(y[b].bsums), _mm256_cvtepi8_epi16(sc8)), 2);
    isum = _mm256_sub_epi32(_mm256_setzero_si256(), isum);
    // hmask bit m (m = 4h + g) is the high bit of 32-group m.
    const __m256i hm = load256(x[b].hmask);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load256(x[b].qs + 32 * h);
      const int8_t* q8 = y[b].qs + 128 * h;
      const __m256i s = half_scales(sc8, h);
      __m256i p[4];
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * g), m3);
        // Bit m moved to bit 2; the masked bit comes from the same byte.
        const int m = 4 * h + g;
        const __m256i hb = m < 2 ? _mm256_slli_epi16(hm, 2 - m) : _mm256_srli_epi16(hm, m - 2);
        const __m256i q = _mm256_or_si256(low, _mm256_and_si256(hb, bit2));
        p[g] = _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8 + 32 * g)), pair_scales(s, g));
      }
      isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])));
    }
    return isum;
  };
  return exact_x86::sum_blocks(x, y, n / QK_K, block);
}

float vec_dot_q2_K_q8_K(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const block_q2_K*>(vx);
  const auto* y = static_cast<const block_q8_K*>(vy);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  const auto block = [&](int64_t b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m128i sc8 = _mm_and_si128(packed, m4);
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4));
    __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i qs = load256(x[b].qs + 32 * h);
      const int8_t* q8 = y[b].qs + 128 * h;
      const __m256i s = half_scales(sc8, h);
      __m256i p[4];
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(qs, 2 * g), m3);
        p[g] = _mm256_madd_epi16(_mm256_maddubs_epi16(q, load256(q8 + 32 * g)), pair_scales(s, g));
      }
      isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])));
    }
    return exact_x86::MinSums{isum, _mm256_madd_epi16(load256(y[b].bsums), mins)};
  };
  return exact_x86::sum_blocks_with_mins(x, y, n / QK_K, block);
}

// --- one weight row against up to 4 activation rows (VecDot4Fn) -------------
// Each weight block is decoded once (into registers or a spill slot that is
// read as a memory operand) and multiplied with every row's q8_K block by the
// same integer ops as the one-row dots; the float side is exact_sum4.h's, so
// each result equals the one-row dot's bit for bit.

template <int N>
void q4_K_rows(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  const auto* x = static_cast<const block_q4_K*>(vx);
  const exact_x86::ActRows<N> a(act, stride);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const auto block = [&](int64_t b) {
    const __m256i r = _mm256_broadcastsi128_si256(unpack_scales_k4(x[b].scales));
    // Chunk c: quants of sub-blocks 2c (lo) and 2c+1 (hi), and their scales.
    __m256i lo[4], hi[4], slo[4], shi[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m256i qq = load256(x[b].qs + 32 * c);
      lo[c] = _mm256_and_si256(qq, m4);
      hi[c] = _mm256_and_si256(_mm256_srli_epi16(qq, 4), m4);
      slo[c] = _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c)]));
      shi[c] = _mm256_shuffle_epi8(r, ctl(kPickByte.ctl[k4_sc(2 * c + 1)]));
    }
    return [=](const block_q8_K& yb) {
      const int8_t* q8 = yb.qs;
      __m256i sum0 = _mm256_setzero_si256(), sum1 = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        sum0 = _mm256_add_epi32(sum0, _mm256_madd_epi16(_mm256_maddubs_epi16(lo[c], load256(q8 + 64 * c)), slo[c]));
        sum1 = _mm256_add_epi32(sum1, _mm256_madd_epi16(_mm256_maddubs_epi16(hi[c], load256(q8 + 64 * c + 32)), shi[c]));
      }
      return exact_x86::MinSums{_mm256_add_epi32(sum0, sum1), k4_min_dot(r, yb.bsums)};
    };
  };
  exact_x86::sum_blocks_with_mins_rows(x, a, n / QK_K, block, out);
}

template <int N>
void q6_K_rows(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  const auto* x = static_cast<const block_q6_K*>(vx);
  const exact_x86::ActRows<N> a(act, stride);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m2 = _mm256_set1_epi8(0x30);
  const auto block = [&](int64_t b) {
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
    // Group g of half h (32 elements): quants g8[4h + g], scales s8[4h + g]; see vec_dot_q6_K_q8_K.
    __m256i g8[8], s8[8];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = x[b].ql + 64 * h;
      const __m256i l0 = load256(ql), l1 = load256(ql + 32);
      const __m256i qh = load256(x[b].qh + 32 * h);
      const __m256i s = half_scales(sc8, h);
      g8[4 * h] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2));
      g8[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2));
      g8[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2));
      g8[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                      _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) s8[4 * h + g] = pair_scales(s, g);
    }
    return [=](const block_q8_K& yb) {
      __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(load256(yb.bsums), sc16), 5));
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k)
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(g8[k], load256(yb.qs + 32 * k)), s8[k]));
      return isum;
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

std::span<const Dot4Kernel> dot4_kernels_kquants_avx2() {
  static constexpr Dot4Kernel k[] = {
      {"vec_dot_4x_q4_K_q8_K__avx2", DType::Q4_K, Isa::Avx2, dot_4x<vec_dot_q4_K_q8_K, q4_K_rows<2>, q4_K_rows<3>, q4_K_rows<4>>},
      {"vec_dot_4x_q6_K_q8_K__avx2", DType::Q6_K, Isa::Avx2, dot_4x<vec_dot_q6_K_q8_K, q6_K_rows<2>, q6_K_rows<3>, q6_K_rows<4>>},
  };
  return k;
}

std::span<const DotKernel> dot_kernels_kquants_avx2() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q2_K_q8_K__avx2", DType::Q2_K, Isa::Avx2, vec_dot_q2_K_q8_K},
      {"vec_dot_q3_K_q8_K__avx2", DType::Q3_K, Isa::Avx2, vec_dot_q3_K_q8_K},
      {"vec_dot_q4_K_q8_K__avx2", DType::Q4_K, Isa::Avx2, vec_dot_q4_K_q8_K},
      {"vec_dot_q5_K_q8_K__avx2", DType::Q5_K, Isa::Avx2, vec_dot_q5_K_q8_K},
      {"vec_dot_q6_K_q8_K__avx2", DType::Q6_K, Isa::Avx2, vec_dot_q6_K_q8_K},
  };
  return k;
}

}  // namespace ember::kernels
