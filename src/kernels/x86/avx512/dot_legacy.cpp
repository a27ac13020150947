// AVX-512 dots of the legacy 32-element block types against q8_0 / q8_1.
//
// Eight blocks a step: two blocks per 512-bit register, integer products with
// vpdpbusd (VNNI build) or maddubs/madd, and the int32 partial sums scaled per
// lane, so there is one horizontal sum per row, not per block. The eight f16
// scales of a step are picked out of 64-byte loads with a word permute and
// converted at once, instead of one F16C conversion per block. Blocks left
// over after the 8-block steps take the 256-bit per-block path.

// GCC 12's AVX-512 cast intrinsics self-initialise their "undefined" upper
// halves, which -W(maybe-)uninitialized reports (GCC PR105593). Set before
// any include so the pragma covers the intrinsic headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/avx512_config.h"
#include "kernels/x86/legacy_blocks_avx2.h"
#include "kernels/x86/prefetch_x86.h"

namespace ember::kernels {
namespace {

constexpr int kStep = 8;  // blocks per step

// Where the f16 fields of 8 consecutive blocks sit in 64-byte loads. Output
// word f*8 + k is field f (word `first_word + f` of the block) of block k.
// Loads come in pairs (128 bytes, one vpermt2w each) and never leave the 8
// blocks: the last pair is moved back to end at the 8th block's end.
template <int Stride, int FirstWord, int Fields>
struct FieldGather {
  static constexpr int kBytes = kStep * Stride;
  static constexpr int kPairs = (kBytes + 127) / 128;
  static_assert(kBytes >= 128 && Stride % 2 == 0);

  struct Plan {
    int start[kPairs] = {};
    uint32_t mask[kPairs] = {};
    alignas(64) uint16_t idx[kPairs][32] = {};
  };

  static constexpr Plan make_plan() {
    Plan p{};
    for (int i = 0; i < kPairs; ++i) p.start[i] = i * 128 + 128 <= kBytes ? i * 128 : kBytes - 128;
    for (int f = 0; f < Fields; ++f)
      for (int k = 0; k < kStep; ++k) {
        const int byte = k * Stride + 2 * (FirstWord + f), out = f * 8 + k;
        for (int i = 0; i < kPairs; ++i)
          if (byte >= p.start[i] && byte + 2 <= p.start[i] + 128) {
            p.mask[i] |= 1u << out;
            p.idx[i][out] = uint16_t((byte - p.start[i]) / 2);
            break;
          }
      }
    return p;
  }
  static constexpr Plan kPlan = make_plan();

  static __m512i load(const void* base) {
    const auto* p = static_cast<const uint8_t*>(base);
    __m512i r = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int i = 0; i < kPairs; ++i) {
      if (kPlan.mask[i] == 0) continue;
      const __m512i a = _mm512_loadu_si512(p + kPlan.start[i]);
      const __m512i b = _mm512_loadu_si512(p + kPlan.start[i] + 64);
      const __m512i idx = _mm512_load_si512(kPlan.idx[i]);
      r = _mm512_or_si512(r, _mm512_maskz_permutex2var_epi16(kPlan.mask[i], a, idx, b));
    }
    return r;
  }
};

// Two blocks' quants (16 bytes each) -> 64 bytes: [b0 low nibbles, b0 high,
// b1 low, b1 high], matching two q8 blocks' qs in element order.
inline __m512i unpack_nibbles2(const uint8_t* qs0, const uint8_t* qs1) {
  const __m256i a = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs0)));
  const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs1)));
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
  // 16-bit lanes of the odd 128-bit quarters shift by 4: their bytes get the high nibbles.
  const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0,
                                          0x0004000400040004, 0x0004000400040004);
  return _mm512_and_si512(_mm512_srlv_epi16(both, shift), _mm512_set1_epi8(0x0F));
}

inline __m512i load_2x256(const int8_t* a, const int8_t* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}

// The fifth bits of two q5 blocks as a byte mask over the 64 elements.
inline __mmask64 fifth_bits2(const uint8_t* qh0, const uint8_t* qh1) {
  return _cvtu64_mask64(uint64_t(avx2_blocks::load_u32(qh0)) | (uint64_t(avx2_blocks::load_u32(qh1)) << 32));
}

// Products of unsigned u and signed y bytes, summed in fours -> 16 int32.
inline __m512i dot_u8s8(__m512i u, __m512i y) {
#if EMBER_AVX512_VNNI
  return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, y);
#else
  return _mm512_madd_epi16(_mm512_maddubs_epi16(u, y), _mm512_set1_epi16(1));
#endif
}

// sum (u - off) * y: the offset is taken off in the integers. Without VNNI
// maddubs cannot saturate: |u*y + u'*y'| <= 2*31*128, |off*(y+y')| <= 2*16*128.
inline __m512i dot_offset(__m512i u, __m512i y, int8_t off) {
#if EMBER_AVX512_VNNI
  return _mm512_sub_epi32(dot_u8s8(u, y), dot_u8s8(_mm512_set1_epi8(off), y));
#else
  const __m512i d = _mm512_sub_epi16(_mm512_maddubs_epi16(u, y), _mm512_maddubs_epi16(_mm512_set1_epi8(off), y));
  return _mm512_madd_epi16(d, _mm512_set1_epi16(1));
#endif
}

// A pair of blocks' quants, decoded once for any number of activation rows.
struct PairQuants {
  __m512i q;         // unsigned bytes (q8_0: see below)
  __mmask64 neg = 0;  // q8_0 without VNNI: the negative weights
};

// Blocks a and b (b may be a again); pair_quants(x) = pair_quants(x, x + 1).
inline PairQuants pair_quants(const block_q4_0* a, const block_q4_0* b) { return {unpack_nibbles2(a->qs, b->qs)}; }
inline PairQuants pair_quants(const block_q4_1* a, const block_q4_1* b) { return {unpack_nibbles2(a->qs, b->qs)}; }
template <class X>
inline PairQuants pair_quants_q5(const X* a, const X* b) {
  const __m512i u = unpack_nibbles2(a->qs, b->qs);
  return {_mm512_mask_add_epi8(u, fifth_bits2(a->qh, b->qh), u, _mm512_set1_epi8(0x10))};
}
inline PairQuants pair_quants(const block_q5_0* a, const block_q5_0* b) { return pair_quants_q5(a, b); }
inline PairQuants pair_quants(const block_q5_1* a, const block_q5_1* b) { return pair_quants_q5(a, b); }
// q8_0 is signed x signed.
#if EMBER_AVX512_VNNI
// (x + 128) * y - 128 * y: exact for every byte value.
inline PairQuants pair_quants(const block_q8_0* a, const block_q8_0* b) {
  return {_mm512_xor_si512(load_2x256(a->qs, b->qs), _mm512_set1_epi8(int8_t(0x80)))};
}
#else
// |x| * (y with x's sign); exact unless y holds -128, which the q8
// quantizers never produce (they map max |x| to 127).
inline PairQuants pair_quants(const block_q8_0* a, const block_q8_0* b) {
  const __m512i v = load_2x256(a->qs, b->qs);
  return {_mm512_abs_epi8(v), _mm512_movepi8_mask(v)};
}
#endif

// Integer sums of a pair of blocks (8 int32 lanes each) against the pair of
// activation blocks whose quants are y; the pointer only picks the type.
inline __m512i pair_dot(const block_q4_0*, const PairQuants& q, __m512i y) { return dot_offset(q.q, y, 8); }
inline __m512i pair_dot(const block_q4_1*, const PairQuants& q, __m512i y) { return dot_u8s8(q.q, y); }
inline __m512i pair_dot(const block_q5_0*, const PairQuants& q, __m512i y) { return dot_offset(q.q, y, 16); }
inline __m512i pair_dot(const block_q5_1*, const PairQuants& q, __m512i y) { return dot_u8s8(q.q, y); }
inline __m512i pair_dot(const block_q8_0*, const PairQuants& q, __m512i y) {
#if EMBER_AVX512_VNNI
  return _mm512_sub_epi32(dot_u8s8(q.q, y), dot_u8s8(_mm512_set1_epi8(int8_t(0x80)), y));
#else
  const __m512i sy = _mm512_mask_sub_epi8(y, q.neg, _mm512_setzero_si512(), y);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(q.q, sy), _mm512_set1_epi16(1));
#endif
}

// The N-row kernels decode a pair once for all rows. With VNNI the offset
// types take it off on the weight side, so a row costs one dpbusd: sum w * y =
// corr + sum (y + 128) * w with w = q - offset (signed), corr = -128 * sum w
// per lane; the lanes are the same exact sums pair_dot gives.
struct RowWeights {
  PairQuants q;
  __m512i w, corr;
};
template <class X>
inline constexpr int kOffset = 0;  // 0: no signed form (pair_dot per row)
template <>
inline constexpr int kOffset<block_q4_0> = 8;
template <>
inline constexpr int kOffset<block_q5_0> = 16;
template <>
inline constexpr int kOffset<block_q8_0> = -1;  // already signed

template <class X>
inline RowWeights row_weights(const X* a, const X* b) {
  RowWeights r{pair_quants(a, b), _mm512_setzero_si512(), _mm512_setzero_si512()};
#if EMBER_AVX512_VNNI
  if constexpr (kOffset<X> != 0) {
    r.w = kOffset<X> > 0 ? _mm512_sub_epi8(r.q.q, _mm512_set1_epi8(int8_t(kOffset<X>)))
                         : _mm512_xor_si512(r.q.q, _mm512_set1_epi8(int8_t(0x80)));  // q8_0: undo pair_quants' bias
    r.corr = _mm512_sub_epi32(_mm512_setzero_si512(), dot_u8s8(_mm512_set1_epi8(int8_t(0x80)), r.w));
  }
#endif
  return r;
}

template <class X>
inline __m512i row_dot(const X* x, const RowWeights& r, __m512i y) {
#if EMBER_AVX512_VNNI
  if constexpr (kOffset<X> != 0)
    return _mm512_dpbusd_epi32(r.corr, _mm512_xor_si512(y, _mm512_set1_epi8(int8_t(0x80))), r.w);
#endif
  return pair_dot(x, r.q, y);
}

template <class Y>
inline __m512i pair_act(const Y* a, const Y* b) { return load_2x256(a->qs, b->qs); }

// Integer sums of blocks b and b+1 (8 int32 lanes each).
template <class X, class Y>
inline __m512i pair_isum(const X* x, const Y* y) { return pair_dot(x, pair_quants(x, x + 1), pair_act(y, y + 1)); }

// Lane permutes that spread scale k (of 8) over the 8 lanes of its block.
alignas(64) constexpr int32_t kSpread[4][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
    {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5},
    {6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
};

template <class X, class Y>
float dot_rows(int64_t n, const void* vx, const void* vy) {
  constexpr bool kHasMin = avx2_blocks::kHasMin<X>;
  constexpr int kFields = kHasMin ? 2 : 1;  // d, and m (x) / s (y)
  using GatherX = FieldGather<int(sizeof(X)), 0, kFields>;
  using GatherY = FieldGather<int(sizeof(Y)), 0, kFields>;
  const auto* x = static_cast<const X*>(vx);
  const auto* y = static_cast<const Y*>(vy);
  const int64_t nb = n / 32;

  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 acc_min = _mm512_setzero_ps();  // high 8 lanes sum m * s
  int64_t b = 0;
  for (; b + kStep <= nb; b += kStep) {
    prefetch_ahead<kStep * int(sizeof(X))>(x + b);
    __m512 d;  // low 8 lanes: dx * dy of the 8 blocks
    if constexpr (kHasMin) {
      const __m512 fx = _mm512_cvtph_ps(_mm512_castsi512_si256(GatherX::load(x + b)));  // [d x8, m x8]
      const __m512 fy = _mm512_cvtph_ps(_mm512_castsi512_si256(GatherY::load(y + b)));  // [d x8, s x8]
      d = _mm512_mul_ps(fx, fy);
      acc_min = _mm512_add_ps(acc_min, d);
    } else {
      const __m256 fx = _mm256_cvtph_ps(_mm512_castsi512_si128(GatherX::load(x + b)));
      const __m256 fy = _mm256_cvtph_ps(_mm512_castsi512_si128(GatherY::load(y + b)));
      d = _mm512_castps256_ps512(_mm256_mul_ps(fx, fy));
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m512 scale = _mm512_permutexvar_ps(_mm512_load_si512(kSpread[i]), d);
      const __m512i s = pair_isum(x + b + 2 * i, y + b + 2 * i);
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc[i]);
    }
  }
  const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
  float total = avx2_blocks::hsum(_mm256_add_ps(_mm512_castps512_ps256(sum), _mm512_extractf32x8_ps(sum, 1)));
  if constexpr (kHasMin) total += avx2_blocks::hsum(_mm512_extractf32x8_ps(acc_min, 1));
  if (b < nb) total += avx2_blocks::dot_blocks(nb - b, x + b, y + b);
  return total;
}

// avx2_blocks::dot_blocks(nb, x, y[i] + b0) for each of the N rows, bit for
// bit, with the weights of each pair of blocks decoded once: the same per-lane
// accumulators, scales and order of float ops (keep the two in step). A pair's
// 512-bit integer sums hold block 2p's lanes in the low half and block 2p+1's
// in the high half, lane for lane the exact sums dot_blocks' block_isum gives.
template <class X, class Y, int N>
void tail_rows(int64_t nb, const X* x, const Y* const* y, int64_t b0, float* out) {
  constexpr bool kHasMin = avx2_blocks::kHasMin<X>;
  __m256 acc[N][4], acc_min[N];
  for (int i = 0; i < N; ++i) {
    for (int p = 0; p < 4; ++p) acc[i][p] = _mm256_setzero_ps();
    acc_min[i] = _mm256_setzero_ps();
  }
  int64_t b = 0;
  if (nb >= 4) {
    const __m256 hx = avx2_blocks::head_pairs4(x);
    __m256 d[N];
    for (int i = 0; i < N; ++i) {
      d[i] = _mm256_mul_ps(hx, avx2_blocks::head_pairs4(y[i] + b0));
      if constexpr (kHasMin) acc_min[i] = _mm256_add_ps(acc_min[i], d[i]);
    }
#pragma GCC unroll 2
    for (int p = 0; p < 2; ++p) {
      const RowWeights q = row_weights(x + 2 * p, x + 2 * p + 1);
      for (int i = 0; i < N; ++i) {
        const __m512i s = row_dot(x, q, pair_act(y[i] + b0 + 2 * p, y[i] + b0 + 2 * p + 1));
        const __m256 s0 = _mm256_cvtepi32_ps(_mm512_castsi512_si256(s));
        const __m256 s1 = _mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(s, 1));
        acc[i][2 * p] = _mm256_fmadd_ps(s0, _mm256_permutevar8x32_ps(d[i], _mm256_set1_epi32(4 * p)), acc[i][2 * p]);
        acc[i][2 * p + 1] = _mm256_fmadd_ps(s1, _mm256_permutevar8x32_ps(d[i], _mm256_set1_epi32(4 * p + 2)), acc[i][2 * p + 1]);
      }
    }
    b = 4;
  }
  // The last 0..3 blocks go into acc[0] one after the other, decoded in twos
  // (the last one with itself).
  float tail_min[N] = {};
  for (; b < nb; b += 2) {
    const int64_t b1 = b + 1 < nb ? b + 1 : b;
    const RowWeights q = row_weights(x + b, x + b1);
    const float dx0 = _cvtsh_ss(x[b].d), dx1 = _cvtsh_ss(x[b1].d);
    for (int i = 0; i < N; ++i) {
      const Y& y0 = y[i][b0 + b];
      const Y& y1 = y[i][b0 + b1];
      const __m512i s = row_dot(x, q, pair_act(&y0, &y1));
      acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm512_castsi512_si256(s)), _mm256_set1_ps(dx0 * _cvtsh_ss(y0.d)), acc[i][0]);
      if constexpr (kHasMin) tail_min[i] += _cvtsh_ss(x[b].m) * _cvtsh_ss(y0.s);
      if (b1 == b) continue;
      acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm512_extracti64x4_epi64(s, 1)), _mm256_set1_ps(dx1 * _cvtsh_ss(y1.d)), acc[i][0]);
      if constexpr (kHasMin) tail_min[i] += _cvtsh_ss(x[b1].m) * _cvtsh_ss(y1.s);
    }
  }
  for (int i = 0; i < N; ++i) {
    float total = avx2_blocks::hsum(_mm256_add_ps(_mm256_add_ps(acc[i][0], acc[i][1]), _mm256_add_ps(acc[i][2], acc[i][3])));
    if constexpr (kHasMin) total += avx2_blocks::hsum(_mm256_blend_ps(_mm256_setzero_ps(), acc_min[i], 0xAA)) + tail_min[i];
    out[i] = total;
  }
}

// One weight row against N (2..4) activation rows: dot_rows for each row, bit
// for bit (the same per-lane accumulators and float ops), with each pair of
// weight blocks and the weight scales decoded once per step for all rows.
template <class X, class Y, int N>
void dot_rows_n(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  constexpr bool kHasMin = avx2_blocks::kHasMin<X>;
  constexpr int kFields = kHasMin ? 2 : 1;
  using GatherX = FieldGather<int(sizeof(X)), 0, kFields>;
  using GatherY = FieldGather<int(sizeof(Y)), 0, kFields>;
  const auto* x = static_cast<const X*>(vx);
  const Y* y[N];
  for (int i = 0; i < N; ++i) y[i] = reinterpret_cast<const Y*>(static_cast<const uint8_t*>(act) + size_t(i) * stride);
  const int64_t nb = n / 32;

  __m512 acc[N][4], acc_min[N];
  for (int i = 0; i < N; ++i) {
    for (int p = 0; p < 4; ++p) acc[i][p] = _mm512_setzero_ps();
    acc_min[i] = _mm512_setzero_ps();
  }
  int64_t b = 0;
  for (; b + kStep <= nb; b += kStep) {
    __m512 d[N];
    if constexpr (kHasMin) {
      const __m512 fx = _mm512_cvtph_ps(_mm512_castsi512_si256(GatherX::load(x + b)));
      for (int i = 0; i < N; ++i) {
        d[i] = _mm512_mul_ps(fx, _mm512_cvtph_ps(_mm512_castsi512_si256(GatherY::load(y[i] + b))));
        acc_min[i] = _mm512_add_ps(acc_min[i], d[i]);
      }
    } else {
      const __m256 fx = _mm256_cvtph_ps(_mm512_castsi512_si128(GatherX::load(x + b)));
      for (int i = 0; i < N; ++i)
        d[i] = _mm512_castps256_ps512(_mm256_mul_ps(fx, _mm256_cvtph_ps(_mm512_castsi512_si128(GatherY::load(y[i] + b)))));
    }
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      const RowWeights q = row_weights(x + b + 2 * p, x + b + 2 * p + 1);
      const __m512i spread = _mm512_load_si512(kSpread[p]);
      for (int i = 0; i < N; ++i) {
        const __m512i s = row_dot(x, q, pair_act(y[i] + b + 2 * p, y[i] + b + 2 * p + 1));
        acc[i][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_permutexvar_ps(spread, d[i]), acc[i][p]);
      }
    }
  }
  float tail[N] = {};
  if (b < nb) tail_rows<X, Y, N>(nb - b, x + b, y, b, tail);
  for (int i = 0; i < N; ++i) {
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]), _mm512_add_ps(acc[i][2], acc[i][3]));
    float total = avx2_blocks::hsum(_mm256_add_ps(_mm512_castps512_ps256(sum), _mm512_extractf32x8_ps(sum, 1)));
    if constexpr (kHasMin) total += avx2_blocks::hsum(_mm512_extractf32x8_ps(acc_min[i], 1));
    if (b < nb) total += tail[i];
    out[i] = total;
  }
}

template <class X, class Y>
void dot_4x(int64_t n, const void* w, const void* act, size_t stride, int n_act, float* out) {
  switch (n_act) {
    case 1: out[0] = dot_rows<X, Y>(n, w, act); return;
    case 2: dot_rows_n<X, Y, 2>(n, w, act, stride, out); return;
    case 3: dot_rows_n<X, Y, 3>(n, w, act, stride, out); return;
    case 4: dot_rows_n<X, Y, 4>(n, w, act, stride, out); return;
    default: return;
  }
}

}  // namespace

std::span<const Dot4Kernel> EMBER_AVX512_SET(dot4_kernels_legacy)() {
  static constexpr Dot4Kernel k[] = {
      {"vec_dot_4x_q4_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q4_0, EMBER_AVX512_ISA, dot_4x<block_q4_0, block_q8_0>},
      {"vec_dot_4x_q4_1_q8_1" EMBER_AVX512_SUFFIX, DType::Q4_1, EMBER_AVX512_ISA, dot_4x<block_q4_1, block_q8_1>},
      {"vec_dot_4x_q5_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q5_0, EMBER_AVX512_ISA, dot_4x<block_q5_0, block_q8_0>},
      {"vec_dot_4x_q5_1_q8_1" EMBER_AVX512_SUFFIX, DType::Q5_1, EMBER_AVX512_ISA, dot_4x<block_q5_1, block_q8_1>},
      {"vec_dot_4x_q8_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q8_0, EMBER_AVX512_ISA, dot_4x<block_q8_0, block_q8_0>},
  };
  return k;
}

std::span<const DotKernel> EMBER_AVX512_SET(dot_kernels_legacy)() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q4_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q4_0, EMBER_AVX512_ISA, dot_rows<block_q4_0, block_q8_0>},
      {"vec_dot_q4_1_q8_1" EMBER_AVX512_SUFFIX, DType::Q4_1, EMBER_AVX512_ISA, dot_rows<block_q4_1, block_q8_1>},
      {"vec_dot_q5_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q5_0, EMBER_AVX512_ISA, dot_rows<block_q5_0, block_q8_0>},
      {"vec_dot_q5_1_q8_1" EMBER_AVX512_SUFFIX, DType::Q5_1, EMBER_AVX512_ISA, dot_rows<block_q5_1, block_q8_1>},
      {"vec_dot_q8_0_q8_0" EMBER_AVX512_SUFFIX, DType::Q8_0, EMBER_AVX512_ISA, dot_rows<block_q8_0, block_q8_0>},
  };
  return k;
}

}  // namespace ember::kernels
