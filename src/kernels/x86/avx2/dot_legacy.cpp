// AVX2 dots of the legacy 32-element block types against q8_0 / q8_1: one
// block per 256-bit register, maddubs/madd integer products, the f16 scales
// of four blocks converted at once (see x86/legacy_blocks_avx2.h).
#include <immintrin.h>

#include "kernels/kernel_sets.h"
#include "kernels/x86/legacy_blocks_avx2.h"

namespace ember::kernels {
namespace {

template <class X, class Y>
float vec_dot(int64_t n, const void* vx, const void* vy) {
  return avx2_blocks::dot_blocks(n / 32, static_cast<const X*>(vx), static_cast<const Y*>(vy));
}

// --- one weight row against up to 4 activation rows (VecDot4Fn) -------------
// avx2_blocks::dot_blocks for each row, bit for bit (keep the two in step):
// the same integer ops, per-lane accumulators and float ops, with each weight
// block decoded once for all rows.

struct BlockWeights {
  __m256i u, v;  // q4_0/q5_0: quants and the offsets taken off; q8_0: |x| and x
};
inline BlockWeights block_weights(const block_q4_0& x) { return {avx2_blocks::unpack_nibbles(x.qs), _mm256_set1_epi8(8)}; }
inline BlockWeights block_weights(const block_q4_1& x) { return {avx2_blocks::unpack_nibbles(x.qs), _mm256_setzero_si256()}; }
inline BlockWeights block_weights(const block_q5_0& x) {
  return {avx2_blocks::unpack_nibbles(x.qs), _mm256_andnot_si256(avx2_blocks::fifth_bit_mask(x.qh), _mm256_set1_epi8(16))};
}
inline BlockWeights block_weights(const block_q5_1& x) {
  const __m256i high = _mm256_and_si256(avx2_blocks::fifth_bit_mask(x.qh), _mm256_set1_epi8(16));
  return {_mm256_or_si256(avx2_blocks::unpack_nibbles(x.qs), high), _mm256_setzero_si256()};
}
inline BlockWeights block_weights(const block_q8_0& x) {
  const __m256i v = avx2_blocks::load_256(x.qs);
  return {_mm256_sign_epi8(v, v), v};
}

// block_isum(x, y) from the decoded weights; the pointer only picks the type.
inline __m256i block_dot(const block_q4_0*, const BlockWeights& w, __m256i y) { return avx2_blocks::dot_diff(w.u, w.v, y); }
inline __m256i block_dot(const block_q4_1*, const BlockWeights& w, __m256i y) { return avx2_blocks::dot_unsigned(w.u, y); }
inline __m256i block_dot(const block_q5_0*, const BlockWeights& w, __m256i y) { return avx2_blocks::dot_diff(w.u, w.v, y); }
inline __m256i block_dot(const block_q5_1*, const BlockWeights& w, __m256i y) { return avx2_blocks::dot_unsigned(w.u, y); }
inline __m256i block_dot(const block_q8_0*, const BlockWeights& w, __m256i y) {
  return avx2_blocks::widen_pairs(_mm256_maddubs_epi16(w.u, _mm256_sign_epi8(y, w.v)));
}

template <class X, class Y, int N>
void dot_rows_n(int64_t n, const void* vx, const void* act, size_t stride, float* out) {
  constexpr bool kHasMin = avx2_blocks::kHasMin<X>;
  const auto* x = static_cast<const X*>(vx);
  const Y* y[N];
  for (int i = 0; i < N; ++i) y[i] = reinterpret_cast<const Y*>(static_cast<const uint8_t*>(act) + size_t(i) * stride);
  const int64_t nb = n / 32;
  __m256 acc[N][4], acc_min[N];
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < 4; ++k) acc[i][k] = _mm256_setzero_ps();
    acc_min[i] = _mm256_setzero_ps();
  }
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    const __m256 hx = avx2_blocks::head_pairs4(x + b);
    __m256 d[N];
    for (int i = 0; i < N; ++i) {
      d[i] = _mm256_mul_ps(hx, avx2_blocks::head_pairs4(y[i] + b));
      if constexpr (kHasMin) acc_min[i] = _mm256_add_ps(acc_min[i], d[i]);
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const BlockWeights w = block_weights(x[b + k]);
      for (int i = 0; i < N; ++i) {
        const __m256i s = block_dot(x, w, avx2_blocks::load_256(y[i][b + k].qs));
        acc[i][k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_permutevar8x32_ps(d[i], _mm256_set1_epi32(2 * k)), acc[i][k]);
      }
    }
  }
  float tail_min[N] = {};
  for (; b < nb; ++b) {
    const BlockWeights w = block_weights(x[b]);
    const float dx = _cvtsh_ss(x[b].d);
    for (int i = 0; i < N; ++i) {
      const Y& yb = y[i][b];
      const __m256i s = block_dot(x, w, avx2_blocks::load_256(yb.qs));
      acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(dx * _cvtsh_ss(yb.d)), acc[i][0]);
      if constexpr (kHasMin) tail_min[i] += _cvtsh_ss(x[b].m) * _cvtsh_ss(yb.s);
    }
  }
  for (int i = 0; i < N; ++i) {
    float total = avx2_blocks::hsum(_mm256_add_ps(_mm256_add_ps(acc[i][0], acc[i][1]), _mm256_add_ps(acc[i][2], acc[i][3])));
    if constexpr (kHasMin) total += avx2_blocks::hsum(_mm256_blend_ps(_mm256_setzero_ps(), acc_min[i], 0xAA)) + tail_min[i];
    out[i] = total;
  }
}

template <class X, class Y>
void dot_4x(int64_t n, const void* w, const void* act, size_t stride, int n_act, float* out) {
  switch (n_act) {
    case 1: out[0] = vec_dot<X, Y>(n, w, act); return;
    case 2: dot_rows_n<X, Y, 2>(n, w, act, stride, out); return;
    case 3: dot_rows_n<X, Y, 3>(n, w, act, stride, out); return;
    case 4: dot_rows_n<X, Y, 4>(n, w, act, stride, out); return;
    default: return;
  }
}

}  // namespace

std::span<const Dot4Kernel> dot4_kernels_legacy_avx2() {
  static constexpr Dot4Kernel k[] = {
      {"vec_dot_4x_q4_0_q8_0__avx2", DType::Q4_0, Isa::Avx2, dot_4x<block_q4_0, block_q8_0>},
      {"vec_dot_4x_q4_1_q8_1__avx2", DType::Q4_1, Isa::Avx2, dot_4x<block_q4_1, block_q8_1>},
      {"vec_dot_4x_q5_0_q8_0__avx2", DType::Q5_0, Isa::Avx2, dot_4x<block_q5_0, block_q8_0>},
      {"vec_dot_4x_q5_1_q8_1__avx2", DType::Q5_1, Isa::Avx2, dot_4x<block_q5_1, block_q8_1>},
      {"vec_dot_4x_q8_0_q8_0__avx2", DType::Q8_0, Isa::Avx2, dot_4x<block_q8_0, block_q8_0>},
  };
  return k;
}

std::span<const DotKernel> dot_kernels_legacy_avx2() {
  static constexpr DotKernel k[] = {
      {"vec_dot_q4_0_q8_0__avx2", DType::Q4_0, Isa::Avx2, vec_dot<block_q4_0, block_q8_0>},
      {"vec_dot_q4_1_q8_1__avx2", DType::Q4_1, Isa::Avx2, vec_dot<block_q4_1, block_q8_1>},
      {"vec_dot_q5_0_q8_0__avx2", DType::Q5_0, Isa::Avx2, vec_dot<block_q5_0, block_q8_0>},
      {"vec_dot_q5_1_q8_1__avx2", DType::Q5_1, Isa::Avx2, vec_dot<block_q5_1, block_q8_1>},
      {"vec_dot_q8_0_q8_0__avx2", DType::Q8_0, Isa::Avx2, vec_dot<block_q8_0, block_q8_0>},
  };
  return k;
}

}  // namespace ember::kernels
